"""A light electric vehicle (e-bike or e-scooter class) riding its route on a duty cycle.

The rider alternates rides and parks. Riding, the target speed is a cruise speed with slow
wobble, red lights now and then, and a stop at the end; the hub motor delivers the force
to follow it within its torque, power and speed limits, and that force becomes a current
asked of the pack through the controller's losses. The pack decides what really flows: if
it will not discharge (MOSFET off or a protection), the motor gets nothing, the rider
brakes to a stop and cannot ride off again until the power comes back. Braking above
walking pace feeds a little regenerative current back, if the pack accepts charge.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from firmware_sim.pack import BatteryPack
from firmware_sim.route import Route

GRAVITY_M_S2 = 9.81
RIDING, PARKED, CHARGING = "riding", "parked", "charging"
FAULT_NAMES = ("over_current", "under_voltage", "controller_over_temperature", "motor_stalled")


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    """The machine and its rider: mass, motor, controller and their thermal paths."""

    mass_kg: float = 120.0  # vehicle plus rider
    max_motor_power_w: float = 1500.0
    max_speed_kmh: float = 45.0
    wheel_diameter_m: float = 0.42
    rolling_resistance: float = 0.012
    drag_area_m2: float = 0.55  # drag coefficient times frontal area, upright rider
    air_density_kg_m3: float = 1.2
    drivetrain_efficiency: float = 0.9  # iron, friction and switching; copper loss apart
    torque_constant_nm_per_a: float = 1.0
    max_phase_current_a: float = 45.0
    motor_resistance_ohm: float = 0.1
    controller_resistance_ohm: float = 0.02
    controller_idle_w: float = 8.0  # controller, lights, display while riding
    max_acceleration_m_s2: float = 1.5
    brake_deceleration_m_s2: float = 2.0
    powerless_brake_deceleration_m_s2: float = 1.0  # the rider brakes when the motor dies
    regen_max_power_w: float = 250.0
    regen_efficiency: float = 0.6
    regen_min_speed_kmh: float = 7.0
    controller_cutoff_v: float = 42.0  # under-voltage fault below this bus voltage
    controller_max_temperature_c: float = 85.0
    controller_heat_capacity_j_per_k: float = 500.0
    controller_cooling_w_per_k: float = 1.5
    motor_heat_capacity_j_per_k: float = 3500.0
    motor_cooling_w_per_k: float = 3.0


@dataclass(frozen=True, slots=True)
class DutyCycle:
    """How the vehicle is used: ride and park durations, speeds, red lights, charging."""

    ride_min_s: float = 300.0
    ride_max_s: float = 1200.0
    park_min_s: float = 120.0
    park_max_s: float = 1800.0
    cruise_min_kmh: float = 18.0
    cruise_max_kmh: float = 30.0
    red_light_every_s: float = 240.0  # mean riding time between red lights; 0: none
    red_light_min_s: float = 10.0
    red_light_max_s: float = 45.0
    charge_probability: float = 0.0  # chance that a park is at a swap station's charger
    charge_current_a: float = 10.0
    charge_until_soc_percent: float = 95.0
    start_riding: bool = False

    @classmethod
    def short(cls, **overrides: float | bool) -> DutyCycle:
        """Rides of 30-60 s and parks of 10-20 s, no red lights: for tests and demos."""
        values: dict[str, float | bool] = {
            "ride_min_s": 30.0,
            "ride_max_s": 60.0,
            "park_min_s": 10.0,
            "park_max_s": 20.0,
            "red_light_every_s": 0.0,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


class Vehicle:
    """One vehicle with its pack on its route; advance it with ``step()``."""

    def __init__(
        self,
        pack: BatteryPack,
        route: Route,
        rng: random.Random | None = None,
        duty: DutyCycle | None = None,
        spec: VehicleSpec | None = None,
        start_distance_m: float | None = None,
        ambient_c: float = 28.0,
    ) -> None:
        self.pack, self.route = pack, route
        self.rng = rng if rng is not None else random.Random(0)
        self.duty = duty if duty is not None else DutyCycle()
        self.spec = spec if spec is not None else VehicleSpec()
        self.ambient_c = ambient_c
        if start_distance_m is None:
            start_distance_m = self.rng.uniform(0, route.length_m)
        self._start_m = start_distance_m
        self.odometer_m = 0.0
        self.elapsed_s = 0.0
        self._speed_m_s = 0.0
        self._phase_left_s = 0.0
        self._stopping = False
        self._cruise_kmh = self.duty.cruise_min_kmh
        self._wobble_kmh = 0.0
        self._red_light_left_s = 0.0
        self._throttle_percent = 0.0
        self._phase_current_a = 0.0
        self._brake_active = False
        self._electric_power_w = 0.0
        self._controller_c = self._motor_c = ambient_c
        self._stall_injected = False
        self._stalled_s = 0.0
        self._current_limited_s = 0.0
        self._faults = dict.fromkeys(FAULT_NAMES, False)
        self._state = PARKED
        if self.duty.start_riding and pack.discharge_mos_on:
            self._begin_ride()
        else:
            self._begin_park(allow_charging=False)
        self._update_faults(0.0)

    # -- simulation ------------------------------------------------------------------
    def step(self, dt_s: float) -> None:
        """Advance ``dt_s`` seconds: duty cycle, motor, pack, movement, heat, faults."""
        if not dt_s >= 0 or not math.isfinite(dt_s):
            raise ValueError(f"vehicle step: dt_s must be a finite number >= 0, got {dt_s}")
        if dt_s == 0:
            return
        self.elapsed_s += dt_s
        self._advance_duty(dt_s)
        if self._state == RIDING:
            self._ride(dt_s)
        else:
            demand = self.duty.charge_current_a if self._state == CHARGING else 0.0
            self.pack.step(dt_s, demand, self.ambient_c)
            self._throttle_percent = self._phase_current_a = self._electric_power_w = 0.0
            self._brake_active = False
        self._heat(dt_s)
        self._update_faults(dt_s)

    def inject_motor_stall(self, active: bool = True) -> None:
        """Jam the wheel (a locked rotor): the motor pulls current but cannot turn."""
        self._stall_injected = active
        if not active:
            self._stalled_s = 0.0

    def _advance_duty(self, dt_s: float) -> None:
        self._phase_left_s -= dt_s
        if self._state == RIDING:
            if self._phase_left_s <= 0:
                self._stopping = True
            if self._stopping and self._speed_m_s == 0:
                self._begin_park(allow_charging=True)
            return
        if self._state == CHARGING and self.pack.soc_percent >= self.duty.charge_until_soc_percent:
            self._state = PARKED
        # a vehicle without power stays parked and tries again every step
        if self._phase_left_s <= 0 and self.pack.discharge_mos_on:
            self._begin_ride()

    def _begin_ride(self) -> None:
        duty = self.duty
        self._state = RIDING
        self._stopping = False
        self._phase_left_s = self.rng.uniform(duty.ride_min_s, duty.ride_max_s)
        self._cruise_kmh = self.rng.uniform(duty.cruise_min_kmh, duty.cruise_max_kmh)

    def _begin_park(self, allow_charging: bool) -> None:
        duty = self.duty
        charging = allow_charging and self.rng.random() < duty.charge_probability
        self._state = CHARGING if charging else PARKED
        self._phase_left_s = self.rng.uniform(duty.park_min_s, duty.park_max_s)
        self._red_light_left_s = 0.0

    def _target_speed_m_s(self, dt_s: float) -> float:
        duty, rng = self.duty, self.rng
        keep = math.exp(-dt_s / 20.0)
        fresh = 2.5 * math.sqrt(1 - keep * keep) * rng.gauss(0, 1)
        self._wobble_kmh = self._wobble_kmh * keep + fresh
        every = duty.red_light_every_s
        if self._red_light_left_s > 0:
            self._red_light_left_s -= dt_s
        elif every > 0 and rng.random() < 1 - math.exp(-dt_s / every):
            self._red_light_left_s = rng.uniform(duty.red_light_min_s, duty.red_light_max_s)
        if self._stopping or self._red_light_left_s > 0:
            return 0.0
        return min(self.spec.max_speed_kmh, max(5.0, self._cruise_kmh + self._wobble_kmh)) / 3.6

    def _ride(self, dt_s: float) -> None:
        spec, pack = self.spec, self.pack
        speed = self._speed_m_s
        radius = spec.wheel_diameter_m / 2
        resistance = self._resistance_n(speed)
        target = self._target_speed_m_s(dt_s)
        wanted_accel = min(
            spec.max_acceleration_m_s2,
            max(-spec.brake_deceleration_m_s2, (target - speed) / max(2.0, dt_s)),
        )
        wanted = spec.mass_kg * wanted_accel + resistance  # force at the tyre; < 0 is braking
        if target == 0:
            wanted = min(wanted, 0.0)  # stopping: never throttle against rolling resistance
        max_force = spec.max_phase_current_a * spec.torque_constant_nm_per_a / radius
        drive = regen = friction = 0.0
        demand = 0.0
        if wanted > 0:
            self._throttle_percent = min(100.0, 100 * wanted / max_force)
            drive = min(wanted, max_force, spec.max_motor_power_w / max(speed, 0.5))
            if speed >= spec.max_speed_kmh / 3.6:
                drive = min(drive, resistance)
            if self._faults["controller_over_temperature"] or self._faults["motor_stalled"]:
                drive = 0.0  # the controller has cut out
            phase_current = drive * radius / spec.torque_constant_nm_per_a
            moving = 0.0 if self._stall_injected else speed
            power = (
                drive * moving / spec.drivetrain_efficiency
                + phase_current**2 * (spec.motor_resistance_ohm + spec.controller_resistance_ohm)
                + spec.controller_idle_w
            )
            demand = -power / max(pack.pack_voltage_v, 1.0)
        else:
            self._throttle_percent = 0.0
            if speed * 3.6 >= spec.regen_min_speed_kmh:
                regen = min(-wanted, spec.regen_max_power_w / speed)
                demand = regen * speed * spec.regen_efficiency / max(pack.pack_voltage_v, 1.0)
            friction = -wanted - regen
        pack.step(dt_s, demand, self.ambient_c)
        delivered = pack.current_a / demand if demand else 0.0
        if wanted > 0 and delivered <= 0:
            drive = 0.0  # no power from the pack: brake gently to a stop
            self._throttle_percent = 0.0
            friction = spec.mass_kg * spec.powerless_brake_deceleration_m_s2
        if regen and delivered <= 0:
            friction, regen = friction + regen, 0.0  # pack refuses charge: all friction
        self._phase_current_a = (drive + regen) * radius / spec.torque_constant_nm_per_a
        self._electric_power_w = -pack.current_a * pack.pack_voltage_v
        self._brake_active = friction > 0 or regen > 0
        if self._stall_injected:
            new_speed = 0.0
        else:
            net = drive - regen - friction - resistance
            new_speed = max(0.0, speed + net / spec.mass_kg * dt_s)
        self.odometer_m += (speed + new_speed) / 2 * dt_s
        self._speed_m_s = new_speed

    def _resistance_n(self, speed_m_s: float) -> float:
        spec = self.spec
        if speed_m_s <= 0:
            return 0.0
        rolling = spec.mass_kg * GRAVITY_M_S2 * spec.rolling_resistance
        return rolling + 0.5 * spec.air_density_kg_m3 * spec.drag_area_m2 * speed_m_s**2

    def _heat(self, dt_s: float) -> None:
        spec, current = self.spec, self._phase_current_a
        airflow = self._speed_m_s  # riding cools both
        self._controller_c = _first_order(
            self._controller_c,
            self.ambient_c,
            current**2 * spec.controller_resistance_ohm + 0.02 * max(0.0, self._electric_power_w),
            spec.controller_cooling_w_per_k + 0.3 * airflow,
            spec.controller_heat_capacity_j_per_k,
            dt_s,
        )
        self._motor_c = _first_order(
            self._motor_c,
            self.ambient_c,
            current**2 * spec.motor_resistance_ohm,
            spec.motor_cooling_w_per_k + 0.5 * airflow,
            spec.motor_heat_capacity_j_per_k,
            dt_s,
        )

    def _update_faults(self, dt_s: float) -> None:
        spec, faults = self.spec, self._faults
        faults["under_voltage"] = self.bus_voltage_v < spec.controller_cutoff_v
        limit = spec.controller_max_temperature_c
        faults["controller_over_temperature"] = self._controller_c >= (
            limit - 10 if faults["controller_over_temperature"] else limit
        )
        at_limit = self._phase_current_a >= 0.98 * spec.max_phase_current_a
        self._current_limited_s = self._current_limited_s + dt_s if at_limit else 0.0
        faults["over_current"] = self._current_limited_s >= 2.0
        straining = self._stall_injected and self._state == RIDING and not self._stopping
        self._stalled_s = self._stalled_s + dt_s if straining else 0.0
        faults["motor_stalled"] = self._stalled_s >= 2.0

    # -- read-outs -----------------------------------------------------------------------
    @property
    def state(self) -> str:
        """ "riding", "parked" or "charging"."""
        return self._state

    @property
    def speed_kmh(self) -> float:
        return self._speed_m_s * 3.6

    @property
    def motor_rpm(self) -> float:
        """Hub motor: the wheel's revolutions per minute."""
        return self._speed_m_s / (math.pi * self.spec.wheel_diameter_m) * 60

    @property
    def throttle_percent(self) -> float:
        return self._throttle_percent

    @property
    def phase_current_a(self) -> float:
        return self._phase_current_a

    @property
    def bus_voltage_v(self) -> float:
        """What the controller sees: the pack voltage, or nothing when it will not discharge."""
        return self.pack.pack_voltage_v if self.pack.discharge_mos_on else 0.0

    @property
    def controller_temperature_c(self) -> float:
        return self._controller_c

    @property
    def motor_temperature_c(self) -> float:
        return self._motor_c

    @property
    def brake_active(self) -> bool:
        return self._brake_active

    @property
    def distance_m(self) -> float:
        """Where the vehicle is along its route, metres from the route's start (wraps)."""
        return (self._start_m + self.odometer_m) % self.route.length_m

    @property
    def position(self) -> tuple[float, float, float]:
        """True (lat, lon, heading_deg) on the route."""
        return self.route.position_at(self.distance_m)

    @property
    def faults(self) -> dict[str, bool]:
        """Controller fault bits by name (a copy)."""
        return dict(self._faults)


def _first_order(
    temperature: float,
    ambient: float,
    heat_w: float,
    conductance: float,
    capacity: float,
    dt_s: float,
) -> float:
    equilibrium = ambient + heat_w / conductance
    return equilibrium + (temperature - equilibrium) * math.exp(-dt_s * conductance / capacity)
