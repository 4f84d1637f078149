"""Alarm rules on ingest, through the real writer and PostgreSQL: thresholds with deadband and
dwell, protections, device events, profiles, the lifecycle (count, clear, auto-resolve),
redelivery, late samples, and the offline sweep."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from psycopg.types.json import Jsonb

from cloud.rules import offline
from tests.cloud import wire_support as wire
from tests.cloud.rules_support import Rules, alarms, one_cell, pack, query
from tests.cloud.worker_support import register

pytestmark = pytest.mark.postgres


def test_healthy_samples_raise_nothing(database):
    register(database, "p1")
    rules = Rules(database)
    t = wire.now_ms()
    rules.samples("p1", *(pack(n, t + n * 1000) for n in range(50)))
    assert alarms(database, "p1") == {}
    assert query(database, "SELECT count(*) FROM rule_state") == [(0,)]


def test_a_cell_over_voltage_opens_one_alarm_and_a_repeat_counts(database):
    register(database, "p1")
    rules = Rules(database)
    t = wire.now_ms()
    rules.samples("p1", pack(1, t), pack(2, t + 1000, cells=one_cell(3.70)),
                  pack(3, t + 2000, cells=one_cell(3.71)))  # fmt: skip
    assert alarms(database, "p1") == {
        ("cell_over_voltage", ""): ("open", True, 1),
        ("cell_imbalance", ""): ("open", True, 1),  # one cell 0.4 V above the rest
    }
    value, threshold, first = query(
        database, "SELECT value, threshold, first_at FROM alarm WHERE type = 'cell_over_voltage'"
    )[0]
    assert value == pytest.approx(3.70) and threshold == pytest.approx(3.60)
    assert first == wire.utc(t + 1000)
    # back to normal: over-voltage stays open (no auto-clear), imbalance resolves itself
    rules.samples("p1", pack(4, t + 3000), pack(5, t + 4000))
    assert alarms(database, "p1") == {
        ("cell_over_voltage", ""): ("open", False, 1),
        ("cell_imbalance", ""): ("resolved", False, 1),
    }
    # again: the open alarm counts a second occurrence; imbalance opens a new alarm
    rules.samples("p1", pack(6, t + 5000, cells=one_cell(3.72)))
    assert alarms(database, "p1") == {
        ("cell_over_voltage", ""): ("open", True, 2),
        ("cell_imbalance", ""): ("open", True, 1),
    }
    assert query(database, "SELECT count(*) FROM alarm WHERE type = 'cell_over_voltage'") == [(1,)]
    occurrences = query(
        database,
        "SELECT o.n, o.time, (o.sample->>'seq')::int FROM alarm_occurrence o JOIN alarm a"
        " ON a.id = o.alarm_id WHERE a.type = 'cell_over_voltage' ORDER BY o.n",
    )
    assert occurrences == [(1, wire.utc(t + 1000), 2), (2, wire.utc(t + 5000), 6)]
    events = query(
        database,
        "SELECT e.event FROM alarm_event e JOIN alarm a ON a.id = e.alarm_id"
        " WHERE a.type = 'cell_over_voltage' ORDER BY e.id",
    )
    assert events == [("raised",), ("cleared",), ("repeated",)]


def test_the_deadband_keeps_a_value_near_the_threshold_from_flapping(database):
    register(database, "p1")
    rules = Rules(database)
    t = wire.now_ms()
    # low SOC raises below 10 % and clears at 15 %: wandering 9..14 % is one alarm, still on
    socs = [9.5, 11.0, 9.8, 12.5, 9.0, 14.0, 9.9, 13.0]
    rules.samples("p1", *(pack(n, t + n * 1000, soc_percent=s) for n, s in enumerate(socs)))
    assert alarms(database, "p1") == {("low_soc", ""): ("open", True, 1)}
    rules.samples("p1", pack(20, t + 20_000, soc_percent=15.5))
    assert alarms(database, "p1") == {("low_soc", ""): ("resolved", False, 1)}


def test_temperature_limits_depend_on_charging(database):
    register(database, "p1")
    rules = Rules(database)
    t = wire.now_ms()
    # 48 °C is fine discharging (limit 55) but over the charge limit (45)
    rules.samples("p1", pack(1, t, temperatures_c=(48.0, 47.0)))
    assert alarms(database, "p1") == {}
    rules.samples("p1", pack(2, t + 1000, temperatures_c=(48.0, 47.0), current_a=10.0))
    assert alarms(database, "p1") == {("charge_over_temperature", ""): ("open", True, 1)}
    rules.samples("p1", pack(3, t + 2000, temperatures_c=(58.0, 57.0)))
    assert set(alarms(database, "p1")) == {
        ("charge_over_temperature", ""),
        ("discharge_over_temperature", ""),
    }


def test_over_current_needs_its_dwell(database):
    register(database, "p1")
    rules = Rules(database)
    t = wire.now_ms()
    # 2 C = 60 A for a 30 Ah pack, for 2 s: a one-sample spike is not an alarm
    rules.samples("p1", pack(1, t, current_a=-70.0), pack(2, t + 1000, current_a=-20.0))
    assert alarms(database, "p1") == {}
    rules.samples("p1", *(pack(n, t + n * 1000, current_a=-70.0) for n in range(3, 7)))
    assert alarms(database, "p1") == {("discharge_over_current", ""): ("open", True, 1)}
    (first,) = query(database, "SELECT first_at FROM alarm")[0]
    assert first == wire.utc(t + 5000)  # 2 s after the first sample beyond the limit


def test_each_protection_flag_is_its_own_alarm(database):
    register(database, "p1")
    rules = Rules(database)
    t = wire.now_ms()
    rules.samples(
        "p1",
        pack(1, t, protection=frozenset({"cell_over_voltage"}), cells=one_cell(3.62)),
        pack(2, t + 1000, protection=frozenset({"cell_over_voltage", "charge_over_current"}),
             cells=one_cell(3.62)),
    )  # fmt: skip
    found = alarms(database, "p1")
    assert found[("bms_protection", "cell_over_voltage")] == ("open", True, 1)
    assert found[("bms_protection", "charge_over_current")] == ("open", True, 1)
    rules.samples("p1", pack(3, t + 2000))
    found = alarms(database, "p1")
    assert found[("bms_protection", "cell_over_voltage")] == ("open", False, 1)


def test_tamper_and_vibration_events_count_on_one_alarm(database):
    register(database, "p1")
    rules = Rules(database)
    t = wire.now_ms()
    topic = wire.topic("p1", "up/event")
    rules.write(
        "p1", (topic, wire.events(wire.event(1, t, "tamper"), wire.event(2, t + 10, "boot")))
    )
    rules.write("p1", (topic, wire.events(wire.event(3, t + 20, "tamper"),
                                          wire.event(4, t + 30, "vibration"))))  # fmt: skip
    assert alarms(database, "p1") == {
        ("tamper", ""): ("open", False, 2),
        ("vibration", ""): ("open", False, 1),
    }
    (severity,) = query(database, "SELECT severity FROM alarm WHERE type = 'tamper'")[0]
    assert severity == "critical"


def test_a_redelivered_batch_is_not_evaluated_again(database):
    register(database, "p1")
    rules = Rules(database)
    t = wire.now_ms()
    payload = wire.telemetry(pack(1, t, cells=one_cell(3.70)), pack(2, t + 1000))
    rules.write("p1", payload)
    rules.write("p1", payload, payload)
    assert alarms(database, "p1")[("cell_over_voltage", "")] == ("open", False, 1)


def test_a_late_sample_counts_but_does_not_mark_the_alarm_active(database):
    register(database, "p1")
    rules = Rules(database)
    t = wire.now_ms()
    rules.samples("p1", pack(10, t + 10_000, cells=one_cell(3.70)), pack(11, t + 11_000))
    # an older sample, stored after the newer ones (another worker, a late backlog)
    rules.samples("p1", pack(5, t + 5000, cells=one_cell(3.75), resent=True))
    assert alarms(database, "p1")[("cell_over_voltage", "")] == ("open", False, 2)
    times = query(
        database, "SELECT first_at, latest_at FROM alarm WHERE type = 'cell_over_voltage'"
    )
    assert times == [(wire.utc(t + 5000), wire.utc(t + 10_000))]
    assert query(database, "SELECT resent FROM alarm_occurrence WHERE n = 2") == [(True,)]


def test_a_profile_changes_thresholds_per_model(database):
    register(database, "p1")
    with psycopg.connect(database) as conn:
        conn.execute("INSERT INTO device (id, model) VALUES ('n1', 'nmc-48')")
        profile = {"chemistry": "NMC", "rules": {"low_soc": {"raise": 25.0, "clear": 30.0}}}
        conn.execute("INSERT INTO alarm_profile (model, profile) VALUES ('nmc-48', %s)",
                     (Jsonb(profile),))  # fmt: skip
    rules = Rules(database)
    t = wire.now_ms()
    nmc = (3.95,) * 16  # a healthy NMC cell, far over an LFP limit
    rules.samples("n1", pack(1, t, cells=nmc, soc_percent=20.0))
    rules.samples("p1", pack(1, t, cells=nmc, soc_percent=20.0))
    assert alarms(database, "n1") == {("low_soc", ""): ("open", True, 1)}
    assert ("cell_over_voltage", "") in alarms(database, "p1")
    assert ("low_soc", "") not in alarms(database, "p1")
    # a profile edit reaches the running engine (rule_config_version moves)
    with psycopg.connect(database) as conn:
        profile = {"chemistry": "NMC", "rules": {"low_soc": {"enabled": False}}}
        conn.execute("UPDATE alarm_profile SET profile = %s", (Jsonb(profile),))
    rules.samples("n1", pack(2, t + 1000, cells=nmc, soc_percent=20.0))
    # disabled: the machine keeps its state, nothing new is counted
    assert alarms(database, "n1") == {("low_soc", ""): ("open", True, 1)}


def test_two_writers_on_one_device_open_one_alarm(database):
    register(database, "p1")
    t = wire.now_ms()

    async def both():
        a, b = Rules(database), Rules(database)
        await asyncio.gather(
            a._write([(wire.topic("p1"), wire.telemetry(pack(1, t, cells=one_cell(3.7))))]),
            b._write([(wire.topic("p1"), wire.telemetry(pack(2, t + 1, cells=one_cell(3.7))))]),
        )

    asyncio.run(both())
    found = alarms(database, "p1")[("cell_over_voltage", "")]
    assert found[0] == "open"
    assert query(database, "SELECT count(*) FROM alarm WHERE type = 'cell_over_voltage'") == [(1,)]


def test_the_offline_sweep_raises_and_clears(database):
    register(database, "p1", "p2", "never")
    with psycopg.connect(database) as conn:
        conn.execute("UPDATE device_state SET last_seen_at = now() - interval '20 minutes'"
                     " WHERE device_id = 'p1'")  # fmt: skip
        conn.execute("UPDATE device_state SET last_seen_at = now() - interval '1 minute'"
                     " WHERE device_id = 'p2'")  # fmt: skip
    rules = Rules(database)

    async def sweep():
        async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
            return await offline.sweep(conn, rules.engine)

    assert asyncio.run(sweep()) == 1
    assert alarms(database, "p1") == {("offline", ""): ("open", True, 1)}
    assert alarms(database, "p2") == {} and alarms(database, "never") == {}
    assert asyncio.run(sweep()) == 0  # still silent: nothing new
    with psycopg.connect(database) as conn:
        conn.execute("UPDATE device_state SET last_seen_at = now() WHERE device_id = 'p1'")
    assert asyncio.run(sweep()) == 1
    assert alarms(database, "p1") == {("offline", ""): ("resolved", False, 1)}
    assert query(database, "SELECT count(*) FROM rule_state") == [(0,)]
