"""The simulated light EV: duty cycle, traction current, power cuts, charging, faults."""

from __future__ import annotations

import itertools
import random

import pytest

from firmware_sim.pack import BatteryPack, PackSpec
from firmware_sim.route import Route
from firmware_sim.vehicle import FAULT_NAMES, DutyCycle, Vehicle

LONG_RIDE = DutyCycle(
    ride_min_s=3600.0, ride_max_s=3600.0, red_light_every_s=0.0, start_riding=True
)


def make_vehicle(duty: DutyCycle, seed: int = 1, **kwargs) -> Vehicle:
    pack = BatteryPack(PackSpec(seed=seed))
    return Vehicle(pack, Route.load(), random.Random(seed), duty, **kwargs)


def run(vehicle: Vehicle, seconds: int) -> list[tuple[str, float, float]]:
    trace = []
    for _ in range(seconds):
        vehicle.step(1.0)
        trace.append((vehicle.state, vehicle.speed_kmh, vehicle.pack.current_a))
    return trace


def test_rides_and_parks_on_the_duty_cycle():
    duty = DutyCycle.short()
    vehicle = make_vehicle(duty)
    trace = run(vehicle, 900)
    runs = [(state, len(list(group))) for state, group in itertools.groupby(s for s, _, _ in trace)]
    rides = [length for state, length in runs[1:-1] if state == "riding"]
    parks = [length for state, length in runs[1:-1] if state == "parked"]
    assert len(rides) >= 5 and len(parks) >= 5
    # a ride lasts its drawn time plus the braking to a stop at its end
    assert all(duty.ride_min_s <= length <= duty.ride_max_s + 20 for length in rides)
    assert all(duty.park_min_s - 1 <= length <= duty.park_max_s + 1 for length in parks)
    assert all(speed == 0.0 for state, speed, _ in trace if state == "parked")
    assert vehicle.odometer_m > 1000.0


def test_riding_draws_discharge_current_at_city_speeds():
    vehicle = make_vehicle(LONG_RIDE)
    trace = run(vehicle, 300)
    currents = [current for _, _, current in trace]
    speeds = [speed for _, speed, _ in trace]
    assert sum(currents) / len(currents) < -1.0
    assert min(currents) < -10.0  # pulling away
    assert 15.0 < max(speeds) <= 45.0
    assert vehicle.motor_rpm > 0 and vehicle.phase_current_a >= 0
    assert vehicle.pack.soc_percent < BatteryPack(PackSpec(seed=1)).soc_percent


def test_braking_at_the_end_of_a_ride_is_seen_and_may_regenerate():
    duty = DutyCycle.short(cruise_min_kmh=28.0, cruise_max_kmh=30.0)
    vehicle = make_vehicle(duty)
    braking, currents = False, []
    for _ in range(600):
        vehicle.step(1.0)
        braking |= vehicle.brake_active
        currents.append(vehicle.pack.current_a)
    assert braking
    assert max(currents) > 0.0  # regenerative braking charged a little


def test_cutting_discharge_stops_the_vehicle_until_power_returns():
    vehicle = make_vehicle(LONG_RIDE)
    run(vehicle, 60)
    assert vehicle.speed_kmh > 10.0
    vehicle.pack.set_mosfets(discharge=False)
    trace = run(vehicle, 30)
    assert vehicle.speed_kmh == 0.0
    assert all(current >= 0.0 for _, _, current in trace)  # nothing drawn, maybe regen
    assert vehicle.faults["under_voltage"] and vehicle.bus_voltage_v == 0.0
    stopped_at = vehicle.odometer_m
    run(vehicle, 30)
    assert vehicle.odometer_m == stopped_at
    vehicle.pack.set_mosfets(discharge=True)
    run(vehicle, 30)
    assert vehicle.state == "riding" and vehicle.speed_kmh > 5.0
    assert not vehicle.faults["under_voltage"]


def test_a_parked_vehicle_without_power_cannot_ride_off():
    vehicle = make_vehicle(DutyCycle.short())
    vehicle.pack.set_mosfets(discharge=False)
    trace = run(vehicle, 200)
    assert {state for state, _, _ in trace} == {"parked"}
    assert vehicle.odometer_m == 0.0
    vehicle.pack.set_mosfets(discharge=True)
    trace = run(vehicle, 10)
    assert trace[0][0] == "riding"  # its park had long ended: it leaves at once


def test_a_protection_trip_also_stops_it():
    vehicle = make_vehicle(LONG_RIDE)
    run(vehicle, 60)
    vehicle.pack.inject_over_temperature(70.0)
    run(vehicle, 30)
    assert "discharge_over_temperature" in vehicle.pack.protection
    assert vehicle.speed_kmh == 0.0


def test_parks_at_a_swap_station_charge_the_pack():
    vehicle = make_vehicle(DutyCycle.short(charge_probability=1.0, charge_current_a=12.0))
    trace = run(vehicle, 200)
    charging = [current for state, _, current in trace if state == "charging"]
    assert charging and all(current == 12.0 for current in charging)
    first_ride = next(index for index, (state, _, _) in enumerate(trace) if state == "riding")
    assert {state for state, _, _ in trace[first_ride:]} == {"riding", "charging"}


def test_charging_stops_at_the_target_soc():
    duty = DutyCycle.short(
        charge_probability=1.0,
        charge_current_a=30.0,
        charge_until_soc_percent=82.0,
        park_min_s=900.0,
        park_max_s=900.0,
        start_riding=True,
    )
    vehicle = make_vehicle(duty)
    trace = run(vehicle, 900)
    assert "charging" in {state for state, _, _ in trace}
    assert trace[-1][0] == "parked" and trace[-1][2] == 0.0
    assert vehicle.pack.soc_percent >= 82.0


def test_position_follows_the_route():
    vehicle = make_vehicle(LONG_RIDE, start_distance_m=100.0)
    start = vehicle.position
    run(vehicle, 120)
    assert vehicle.distance_m == pytest.approx(100.0 + vehicle.odometer_m)
    lat, lon, heading = vehicle.position
    assert (lat, lon) != start[:2]
    assert 0.0 <= heading < 360.0


def test_a_stalled_motor_raises_the_fault_and_goes_nowhere():
    vehicle = make_vehicle(LONG_RIDE)
    vehicle.inject_motor_stall()
    run(vehicle, 5)
    assert vehicle.faults["motor_stalled"]
    assert vehicle.speed_kmh == 0.0 and vehicle.odometer_m == 0.0
    vehicle.inject_motor_stall(False)
    run(vehicle, 20)
    assert not vehicle.faults["motor_stalled"] and vehicle.speed_kmh > 5.0
    assert set(vehicle.faults) == set(FAULT_NAMES)


def test_a_hot_controller_cuts_out():
    vehicle = make_vehicle(LONG_RIDE, ambient_c=90.0)
    run(vehicle, 10)
    assert vehicle.faults["controller_over_temperature"]
    assert vehicle.controller_temperature_c >= 85.0 and vehicle.speed_kmh == 0.0


def test_same_seed_same_ride():
    def ride(seed: int) -> tuple[float, float]:
        vehicle = make_vehicle(DutyCycle(), seed=seed)
        run(vehicle, 1800)
        return vehicle.odometer_m, vehicle.pack.soc_percent

    assert ride(5) == ride(5)
    assert ride(5) != ride(6)


def test_step_refuses_a_negative_time():
    with pytest.raises(ValueError, match="dt_s"):
        make_vehicle(DutyCycle()).step(-0.5)
