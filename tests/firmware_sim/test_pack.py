"""The simulated battery pack: cells, coulomb counting, heat, BMS protection, faults."""

from __future__ import annotations

import datetime
import itertools
import random

import pytest

from firmware_sim.chemistry import CHEMISTRIES, LFP, NMC, OcvCurve, get_chemistry
from firmware_sim.pack import (
    CHARGE_BLOCKING,
    DISCHARGE_BLOCKING,
    NTC_OPEN_CIRCUIT_C,
    PROTECTION_NAMES,
    BatteryPack,
    PackSpec,
)
from protocols import jbd


def settle(pack: BatteryPack, seconds: float = 5.0, demand_a: float = 0.0) -> None:
    for _ in range(int(seconds)):
        pack.step(1.0, demand_a)


# -- chemistry -----------------------------------------------------------------------------
@pytest.mark.parametrize("chemistry", CHEMISTRIES.values(), ids=CHEMISTRIES.keys())
def test_ocv_curve_is_monotonic_and_inverts(chemistry):
    low, high = chemistry.ocv.soc_range
    socs = [low + (high - low) * i / 500 for i in range(501)]
    volts = [chemistry.ocv.voltage(soc) for soc in socs]
    assert all(b > a for a, b in itertools.pairwise(volts))
    for soc in (1.0, 12.5, 50.0, 77.0, 99.5):
        assert chemistry.ocv.soc(chemistry.ocv.voltage(soc)) == pytest.approx(soc, abs=1e-9)


def test_lfp_has_a_flat_plateau_and_steep_ends():
    plateau = [LFP.ocv.voltage(soc) for soc in range(10, 91)]
    assert min(plateau) >= 3.19 and max(plateau) <= 3.35
    assert LFP.ocv.voltage(0) == pytest.approx(2.5)
    assert 3.55 <= LFP.ocv.voltage(100) <= 3.65
    knee = LFP.ocv.voltage(5) - LFP.ocv.voltage(0)
    assert knee > 10 * (LFP.ocv.voltage(55) - LFP.ocv.voltage(50))


def test_nmc_slopes_from_three_to_four_point_two_volts():
    assert NMC.ocv.voltage(0) == pytest.approx(3.0)
    assert 4.15 <= NMC.ocv.voltage(100) <= 4.2
    assert NMC.ocv.voltage(60) - NMC.ocv.voltage(40) > 0.08  # no plateau


def test_ocv_curve_rejects_points_that_do_not_rise():
    with pytest.raises(ValueError, match="must rise"):
        OcvCurve(((0.0, 3.0), (50.0, 3.3), (40.0, 3.4)))


def test_unknown_chemistry_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="LFP, NMC"):
        get_chemistry("LTO")
    with pytest.raises(ValueError, match="unknown chemistry"):
        PackSpec(chemistry="lead-acid")


# -- charge and discharge ------------------------------------------------------------------
def test_soc_follows_coulomb_counting():
    pack = BatteryPack(PackSpec(initial_soc_percent=70.0, seed=4))
    cells_before, remaining_before = pack.cell_soc_percent, pack.remaining_ah
    soc_before = pack.soc_percent
    for _ in range(360):
        pack.step(10.0, -15.0)  # one hour at 15 A: 15 Ah out
    assert pack.current_a == -15.0
    assert remaining_before - pack.remaining_ah == pytest.approx(15.0, abs=0.01)
    cells_after = pack.cell_soc_percent
    for before, after, capacity in zip(
        cells_before, cells_after, pack.cell_capacity_ah, strict=True
    ):
        assert before - after == pytest.approx(100 * 15.0 / capacity, rel=1e-9)
    assert pack.soc_percent == pytest.approx(100 * pack.remaining_ah / pack.full_capacity_ah)
    assert soc_before - pack.soc_percent == pytest.approx(100 * 15.0 / 30.0, abs=2.5)

    for _ in range(360):
        pack.step(10.0, 10.0)  # one hour at 10 A back in
    assert pack.remaining_ah - remaining_before == pytest.approx(-5.0, abs=0.01)


def test_full_capacity_is_about_the_rated_capacity_and_voltage_is_a_48_volt_class():
    pack = BatteryPack()
    assert 27.0 < pack.full_capacity_ah <= 31.0
    assert pack.nominal_capacity_ah == 30.0
    assert 51.0 < pack.pack_voltage_v < 54.5
    assert pack.pack_voltage_v == pytest.approx(sum(pack.cell_voltages_v))
    assert len(pack.cell_voltages_v) == 16 and len(pack.temperatures_c) == 2
    assert isinstance(pack.production_date, datetime.date)


def test_nmc_pack_reads_in_its_own_voltage_range():
    pack = BatteryPack(PackSpec(chemistry="NMC", cells_in_series=13, initial_soc_percent=50))
    assert min(pack.cell_voltages_v) > 3.65 and max(pack.cell_voltages_v) < 3.8
    assert pack.parameters["cell_over_voltage_v"] == NMC.cell_over_voltage_v


def test_voltage_sags_under_load_and_rises_on_charge():
    resting = BatteryPack().pack_voltage_v
    loaded, charging = BatteryPack(), BatteryPack()
    loaded.step(1.0, -30.0)
    charging.step(1.0, 15.0)
    assert loaded.pack_voltage_v < resting - 0.5
    assert charging.pack_voltage_v > resting + 0.3


def test_cells_are_slightly_imbalanced():
    pack = BatteryPack()
    spread = max(pack.cell_voltages_v) - min(pack.cell_voltages_v)
    assert 0.0005 < spread < 0.030
    assert len(set(pack.cell_capacity_ah)) == 16
    assert max(pack.cell_soc_percent) - min(pack.cell_soc_percent) < 6.0


def test_same_seed_same_pack_different_seed_different_pack():
    def run(seed: int) -> tuple:
        pack = BatteryPack(PackSpec(seed=seed))
        for demand in (-20.0, -5.0, 0.0, 8.0) * 50:
            pack.step(2.0, demand)
        return pack.cell_voltages_v, pack.temperatures_c, pack.soc_percent

    assert run(7) == run(7)
    assert run(7) != run(8)
    shared = random.Random(3)
    assert BatteryPack(rng=shared).cell_voltages_v != BatteryPack(rng=shared).cell_voltages_v


def test_pack_heats_with_current_and_cools_to_ambient():
    pack = BatteryPack()
    for _ in range(120):
        pack.step(30.0, -40.0)  # an hour at 40 A
    hot = pack.core_temperature_c
    assert hot > 30.0
    assert all(abs(t - hot) < 5.0 for t in pack.temperatures_c)
    assert len(set(pack.temperatures_c)) == 2  # the two NTCs disagree a little
    for _ in range(200):
        pack.step(60.0, 0.0)
    assert pack.core_temperature_c < hot - 5.0


def test_cycles_count_discharged_capacity():
    pack = BatteryPack(PackSpec(initial_soc_percent=100.0, initial_cycles=3))
    pack.parameters["cell_under_voltage_v"] = 0.0  # let it run through the empty end
    pack.parameters["pack_under_voltage_v"] = 0.0
    pack.parameters["cycle_capacity_ah"] = 10.0
    for _ in range(2 * 360 + 10):
        pack.step(10.0, -10.0)  # a little over 20 Ah
    assert pack.cycles == 3 + 2


# -- MOSFETs and protection -----------------------------------------------------------------
def test_discharge_mosfet_off_stops_discharge_only():
    pack = BatteryPack()
    pack.set_mosfets(discharge=False)
    soc = pack.cell_soc_percent
    pack.step(10.0, -20.0)
    assert pack.current_a == 0.0 and pack.cell_soc_percent == soc
    assert not pack.discharge_mos_on and not pack.commanded_discharge_mos
    assert pack.charge_mos_on
    pack.step(10.0, 5.0)
    assert pack.current_a == 5.0
    pack.set_mosfets(discharge=True)
    pack.step(1.0, -20.0)
    assert pack.current_a == -20.0


def test_charge_mosfet_off_stops_charge_only():
    pack = BatteryPack()
    pack.set_mosfets(charge=False)
    pack.step(10.0, 10.0)
    assert pack.current_a == 0.0 and not pack.charge_mos_on and pack.discharge_mos_on
    pack.step(10.0, -10.0)
    assert pack.current_a == -10.0
    pack.set_mosfets(None, None)
    assert not pack.commanded_charge_mos


def reading_of(pack: BatteryPack, kind: str) -> float:
    return {
        "cell_high": max(pack.cell_voltages_v),
        "cell_low": min(pack.cell_voltages_v),
        "pack": pack.pack_voltage_v,
        "hot": max(pack.temperatures_c),
        "cold": min(pack.temperatures_c),
    }[kind]


# protection, trip parameter, release parameter, reading, trips above the limit?, margin
LEVELS = [
    (name, f"{name}_{unit}", f"{name}_release_{unit}", reading, above, margin)
    for name, unit, reading, above, margin in (
        ("cell_over_voltage", "v", "cell_high", True, 0.05),
        ("cell_under_voltage", "v", "cell_low", False, 0.05),
        ("pack_over_voltage", "v", "pack", True, 0.5),
        ("pack_under_voltage", "v", "pack", False, 0.5),
        ("charge_over_temperature", "c", "hot", True, 2.0),
        ("charge_under_temperature", "c", "cold", False, 2.0),
        ("discharge_over_temperature", "c", "hot", True, 2.0),
        ("discharge_under_temperature", "c", "cold", False, 2.0),
    )
]


@pytest.mark.parametrize(("name", "trip_key", "release_key", "kind", "above", "margin"), LEVELS)
def test_each_level_protection_trips_blocks_and_releases_with_hysteresis(
    name, trip_key, release_key, kind, above, margin
):
    pack = BatteryPack()
    sign = 1 if above else -1
    value = reading_of(pack, kind)
    pack.parameters[trip_key] = value - sign * margin
    pack.parameters[release_key] = value - sign * 2 * margin
    pack.step(1.0, 0.0)
    assert pack.protection == {name}

    blocked, other = (1.0, -1.0) if name in CHARGE_BLOCKING else (-1.0, 1.0)
    pack.step(1.0, blocked)
    assert pack.current_a == 0.0
    pack.step(1.0, other)
    assert pack.current_a == other
    assert pack.charge_mos_on is (name not in CHARGE_BLOCKING)
    assert pack.discharge_mos_on is (name not in DISCHARGE_BLOCKING)

    # back inside the trip limit but not past the release limit: still tripped
    pack.parameters[trip_key] = value + sign * margin
    settle(pack)
    assert name in pack.protection
    pack.parameters[release_key] = value + sign * 0.5 * margin
    settle(pack)
    assert pack.protection == frozenset()
    assert pack.charge_mos_on and pack.discharge_mos_on


def test_a_limit_must_hold_for_the_delay_before_tripping():
    pack = BatteryPack(PackSpec(protection_delay_s=3.0))
    pack.parameters["cell_over_voltage_v"] = max(pack.cell_voltages_v) - 0.01
    pack.step(1.0, 0.0)
    pack.step(1.0, 0.0)
    assert not pack.protection
    pack.step(1.0, 0.0)
    assert pack.protection == {"cell_over_voltage"}


def test_charging_to_the_top_trips_over_voltage_and_discharging_releases_it():
    pack = BatteryPack(PackSpec(initial_soc_percent=97.0, initial_soc_spread_percent=0.3))
    balanced = set()
    for _ in range(900):
        pack.step(1.0, 15.0)
        balanced |= pack.balancing
        if pack.current_a == 0.0:
            break
    assert pack.protection & {"cell_over_voltage", "pack_over_voltage"}
    assert pack.soc_percent > 99.5
    assert balanced and balanced <= set(range(1, 17))
    pack.step(1.0, -10.0)
    assert pack.current_a == -10.0 and pack.balancing == frozenset()
    for _ in range(900):
        pack.step(1.0, -10.0)
        if not pack.protection:
            break
    assert not pack.protection


def test_discharging_to_empty_trips_under_voltage_and_charging_releases_it():
    pack = BatteryPack(PackSpec(initial_soc_percent=4.0, initial_soc_spread_percent=0.3))
    for _ in range(900):
        pack.step(1.0, -20.0)
        if pack.current_a == 0.0:
            break
    assert pack.protection & {"cell_under_voltage", "pack_under_voltage"}
    assert not pack.discharge_mos_on and pack.charge_mos_on
    assert pack.soc_percent < 2.0
    for _ in range(900):
        pack.step(1.0, 10.0)
        if not pack.protection:
            break
    assert not pack.protection and pack.discharge_mos_on


@pytest.mark.parametrize(
    ("name", "demand_a"), [("discharge_over_current", -70.0), ("charge_over_current", 40.0)]
)
def test_over_current_trips_then_releases_after_its_wait(name, demand_a):
    pack = BatteryPack(PackSpec(over_current_release_s=32.0))
    pack.step(1.0, demand_a)
    assert pack.current_a == demand_a  # the BMS let it flow for the delay
    assert pack.protection == {name}
    pack.step(1.0, demand_a)
    assert pack.current_a == 0.0
    settle(pack, 29)
    assert pack.protection == {name}
    settle(pack, 3)
    assert pack.protection == frozenset()


def test_short_circuit_cuts_at_once_and_blocks_discharge():
    pack = BatteryPack()
    pack.step(0.1, -500.0)
    assert pack.current_a == 0.0
    assert pack.protection == {"short_circuit"}
    assert not pack.discharge_mos_on and pack.charge_mos_on
    settle(pack, 40)
    assert pack.protection == frozenset()


# -- fault injection --------------------------------------------------------------------------
def test_injected_cell_over_voltage_trips_and_blocks_charging():
    pack = BatteryPack()
    pack.inject_cell_over_voltage(5, 3.80)
    assert pack.cell_voltages_v[4] == 3.80
    pack.step(1.0, 5.0)
    assert "cell_over_voltage" in pack.protection
    pack.step(1.0, 5.0)
    assert pack.current_a == 0.0 and not pack.charge_mos_on
    pack.step(1.0, -5.0)
    assert pack.current_a == -5.0
    pack.clear_faults()
    settle(pack)
    assert pack.protection == frozenset() and pack.charge_mos_on
    pack.inject_cell_over_voltage(16)  # default: just over the limit
    settle(pack, 2)
    assert pack.protection == {"cell_over_voltage"}


@pytest.mark.parametrize(
    ("celsius", "expected"),
    [
        (55.0, {"charge_over_temperature"}),
        (65.0, {"charge_over_temperature", "discharge_over_temperature"}),
        (-5.0, {"charge_under_temperature"}),
        (-25.0, {"charge_under_temperature", "discharge_under_temperature"}),
    ],
)
def test_injected_temperature_trips_the_right_flags(celsius, expected):
    pack = BatteryPack()
    pack.inject_over_temperature(celsius, ntc=1)
    assert pack.temperatures_c[0] == celsius and pack.temperatures_c[1] != celsius
    settle(pack, 2)
    assert pack.protection == expected
    pack.clear_faults()
    settle(pack, 2)
    assert pack.protection == frozenset()


def test_ntc_dropout_reads_open_circuit_and_trips_cold_protection():
    pack = BatteryPack(PackSpec(ntc_count=3))
    pack.ntc_dropout(2)
    assert pack.temperatures_c[1] == NTC_OPEN_CIRCUIT_C
    assert pack.temperatures_c[0] > 20 and pack.temperatures_c[2] > 20
    settle(pack, 2)
    assert pack.protection == {"charge_under_temperature", "discharge_under_temperature"}
    pack.clear_faults()
    settle(pack, 2)
    assert pack.protection == frozenset()


def test_fault_injection_rejects_cells_and_ntcs_that_do_not_exist():
    pack = BatteryPack()
    with pytest.raises(ValueError, match=r"cell number must be 1\.\.16, got 17"):
        pack.inject_cell_over_voltage(17, 3.9)
    with pytest.raises(ValueError, match="NTC number"):
        pack.ntc_dropout(0)
    with pytest.raises(ValueError, match="NTC number"):
        pack.inject_over_temperature(70.0, ntc=3)
    with pytest.raises(ValueError, match="dt_s"):
        pack.step(-1.0, 0.0)


def test_protection_names_are_the_contract_names():
    assert frozenset(PROTECTION_NAMES) == {
        "cell_over_voltage",
        "cell_under_voltage",
        "pack_over_voltage",
        "pack_under_voltage",
        "charge_over_temperature",
        "charge_under_temperature",
        "discharge_over_temperature",
        "discharge_under_temperature",
        "charge_over_current",
        "discharge_over_current",
        "short_circuit",
    }
    assert set(BatteryPack().parameters) >= {
        "design_capacity_ah",
        "cycle_capacity_ah",
        "charge_over_current_a",
        "discharge_over_current_a",
        "pack_over_voltage_release_v",
    }
    # what the simulated BMS reports must be encodable by the JBD codec, by the same names
    assert frozenset(PROTECTION_NAMES) <= frozenset(jbd.PROTECTION_NAMES)
    assert set(BatteryPack().parameters) == set(jbd.PARAMETERS)
