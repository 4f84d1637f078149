"""The alarms API on a real PostgreSQL: listing with filters and mutes, detail, resolving one
or many (with the lifecycle event notifications are made from), and the curve around an
alarm read from the stored samples. Alarms are put in with SQL, as the rules engine leaves
them."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import psycopg
import pytest

from tests.cloud.alarm_support import add_alarm
from tests.cloud.api_support import (
    T0,
    add_device,
    api_client,
    at,
    insert,
    insert_bms,
    insert_position,
    iso,
    problem_of,
)
from tests.cloud.tenancy_support import (
    PLATFORM,
    ROOT_LOGIN,
    bearer,
    make_account,
    make_store,
    token_for,
)
from tests.cloud.worker_support import wait_for

pytestmark = [pytest.mark.postgres]

# Alarm rows need no partition: a time well in the past, whatever the hour the tests run at.
PAST = T0 - timedelta(days=2)


def past(minutes: float):
    return PAST + timedelta(minutes=minutes)


@pytest.fixture
def client(database):
    with psycopg.connect(database, autocommit=True) as conn:
        add_device(conn, "pack-1", model="M1")
        add_device(conn, "pack-2", model="M2")
        add_device(conn, "cart-1", kind="vehicle")
    with api_client(database) as client:
        yield client


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [alarm["id"] for alarm in response.get_json()]


def scalar(database: str, query: str, *params):
    with psycopg.connect(database) as conn:
        return conn.execute(query, params).fetchone()[0]


# ---------------------------------------------------------------------------- the list


def test_list_is_latest_first_paginated_and_shows_every_column(client, database):
    first = add_alarm(database, "pack-1", "low_soc", past(0), count=3, value=8.5, threshold=10)
    second = add_alarm(database, "pack-2", "vibration", past(1))
    third = add_alarm(database, "cart-1", "tamper", past(5), severity="critical")
    page = client.get("/api/alarms?page_size=2")
    assert ids_of(page) == [third, first]
    assert json.loads(page.headers["X-Pagination"])["total"] == 3
    assert ids_of(client.get("/api/alarms?page_size=2&page=2")) == [second]
    low_soc = client.get("/api/alarms").get_json()[1]
    assert low_soc | {"created_at": None, "updated_at": None} == {
        "id": first, "device_id": "pack-1", "type": "low_soc", "subject": "",
        "severity": "warning", "state": "open", "active": True, "count": 3,
        "first_at": iso(past(0)), "latest_at": iso(past(2)), "cleared_at": None,
        "value": 8.5, "threshold": 10.0, "unit": "%", "message": "low_soc on pack-1",
        "resent": False, "resolved_at": None, "resolved_by": None, "resolution_note": None,
        "muted": False, "created_at": None, "updated_at": None,
    }  # fmt: skip


def test_list_filters(client, database):
    soc = add_alarm(database, "pack-1", "low_soc", past(0))
    hot = add_alarm(
        database,
        "pack-1",
        "charge_over_temperature",
        past(1),
        severity="critical",
        active=False,
        cleared_at=past(3),
    )
    trip = add_alarm(database, "pack-2", "bms_protection", past(2), subject="cell_overvoltage")
    done = add_alarm(
        database,
        "pack-2",
        "low_soc",
        past(3),
        active=False,
        cleared_at=past(4),
        state="resolved",
        resolved_at=past(4),
        resolved_by="auto",
    )

    def listed(query: str) -> set[int]:
        return set(ids_of(client.get(f"/api/alarms?{query}")))

    assert listed("type=low_soc") == {soc, done}
    assert listed("type=low_soc&type=bms_protection") == {soc, trip, done}
    assert listed("state=open") == {soc, hot, trip}
    assert listed("state=resolved") == {done}
    assert listed("active=false") == {hot, done}
    assert listed("active=true&state=open") == {soc, trip}
    assert listed("severity=critical") == {hot}
    assert listed("device_id=pack-2") == {trip, done}
    assert listed("subject=cell_overvoltage") == {trip}
    assert listed("type=low_soc&device_id=pack-1") == {soc}
    with psycopg.connect(database, autocommit=True) as conn:
        store = make_store(conn, PLATFORM, "West")
        other = make_store(conn, PLATFORM, "East")
        conn.execute("UPDATE device SET store_id = %s WHERE id = 'pack-2'", (store,))
    assert listed(f"store_id={store}") == {trip, done}
    assert listed(f"store_id={store}&state=open") == {trip}
    assert listed(f"store_id={other}") == set()


def test_a_time_range_keeps_the_alarms_whose_life_overlaps_it(client, database):
    # cleared at +10: over by then
    cleared = add_alarm(database, "pack-1", "low_soc", past(0), active=False, cleared_at=past(10))
    # repeated until +30, no longer holding
    repeated = add_alarm(database, "pack-1", "vibration", past(0), count=31, active=False)
    # open and active since +40: lasts until now
    holding = add_alarm(database, "pack-2", "low_soc", past(40))
    # resolved while holding: over at its latest occurrence
    resolved = add_alarm(
        database,
        "pack-2",
        "cell_imbalance",
        past(40),
        state="resolved",
        resolved_at=past(41),
        resolved_by="alice",
    )

    def within(start: float, end: float | None = None) -> set[int]:
        query = f"from={iso(past(start))}" + (f"&to={iso(past(end))}" if end is not None else "")
        return set(ids_of(client.get("/api/alarms", query_string=query)))

    assert within(-10, 0) == set()  # `to` is excluded
    assert within(-10, 0.5) == {cleared, repeated}
    assert within(10) == {cleared, repeated, holding, resolved}
    assert within(10.5) == {repeated, holding, resolved}
    assert within(30.5) == {holding, resolved}
    assert within(40.5) == {holding}
    assert within(24 * 60) == {holding}
    problem = problem_of(
        client.get("/api/alarms", query_string={"from": iso(past(5)), "to": iso(past(5))}), 422
    )
    assert problem["errors"][0]["field"] == "to"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("type=low_battery", "type.0"),
        ("state=closed", "state"),
        ("active=maybe", "active"),
        ("severity=fatal", "severity"),
        ("device_id=no/such", "device_id"),
        ("from=yesterday", "from"),
        ("from=2026-01-01T00:00:00", "from"),
        ("store=s1", "store"),
        ("store_id=0", "store_id"),
        ("colour=red", "colour"),
    ],
)
def test_bad_list_arguments_are_a_422_naming_them(client, query, field):
    problem = problem_of(client.get(f"/api/alarms?{query}"), 422)
    assert [e["field"] for e in problem["errors"]] == [field], problem
    assert problem["errors"][0]["in"] == "query"


# ---------------------------------------------------------------------------- mutes


def test_mutes_hide_a_type_from_that_account_only(client, database):
    shake = add_alarm(database, "pack-1", "vibration", past(0))
    soc = add_alarm(database, "pack-1", "low_soc", past(1))
    hot = add_alarm(database, "pack-2", "charge_over_temperature", past(2))
    with psycopg.connect(database, autocommit=True) as conn:
        alice = bearer(token_for(conn, make_account(conn, PLATFORM, "alice@platform.test")))
        bob = bearer(token_for(conn, make_account(conn, PLATFORM, "bob@platform.test")))

    answer = client.put("/api/alarm-mutes/vibration", json={}, headers=alice)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    mute = answer.get_json()
    assert (mute["login"], mute["type"], mute["until"], mute["in_force"]) == (
        "alice@platform.test",
        "vibration",
        None,
        True,
    )
    later = iso(T0 + timedelta(days=30))
    client.put("/api/alarm-mutes/low_soc", json={"until": later}, headers=alice)

    assert ids_of(client.get("/api/alarms", headers=alice)) == [hot]
    shown = client.get("/api/alarms?include_muted=true", headers=alice).get_json()
    assert [(a["id"], a["muted"]) for a in shown] == [(hot, False), (soc, True), (shake, True)]
    assert ids_of(client.get("/api/alarms", headers=bob)) == [hot, soc, shake]
    assert ids_of(client.get("/api/alarms")) == [hot, soc, shake]
    listed = client.get("/api/alarm-mutes", headers=alice).get_json()
    assert [(m["type"], m["until"]) for m in listed] == [("low_soc", later), ("vibration", None)]
    assert client.get("/api/alarm-mutes", headers=bob).get_json() == []
    problem_of(client.delete("/api/alarm-mutes/vibration", headers=bob), 404)

    # a mute whose time has passed hides nothing any more
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(
            "UPDATE alarm_mute SET until = now() - interval '1 minute' WHERE type = 'low_soc'"
        )
    assert ids_of(client.get("/api/alarms", headers=alice)) == [hot, soc]
    listed = client.get("/api/alarm-mutes", headers=alice).get_json()
    assert [(m["type"], m["in_force"]) for m in listed] == [("low_soc", False), ("vibration", True)]

    # muting again replaces `until`
    again = client.put("/api/alarm-mutes/low_soc", json={"until": None}, headers=alice)
    assert again.get_json()["until"] is None and again.get_json()["in_force"] is True
    assert ids_of(client.get("/api/alarms", headers=alice)) == [hot]

    assert client.delete("/api/alarm-mutes/vibration", headers=alice).status_code == 204
    assert ids_of(client.get("/api/alarms", headers=alice)) == [hot, shake]
    problem_of(client.delete("/api/alarm-mutes/vibration", headers=alice), 404)
    assert scalar(database, "SELECT count(*) FROM alarm_mute") == 1


def test_bad_mute_requests(client, database):
    unknown = problem_of(client.put("/api/alarm-mutes/wobble", json={}), 422)
    assert unknown["errors"][0]["field"] == "alarm_type" and "low_soc" in unknown["detail"]
    gone = iso(T0 - timedelta(days=1))
    problem = problem_of(client.put("/api/alarm-mutes/tamper", json={"until": gone}), 422)
    assert problem["errors"][0]["field"] == "until" and "future" in problem["detail"]
    for body, field in (({"until": "soon"}, "until"), ({"for": 3}, "for")):
        problem = problem_of(client.put("/api/alarm-mutes/tamper", json=body), 422)
        assert problem["errors"][0]["field"] == field
    problem = problem_of(client.get("/api/alarm-mutes?mine=1"), 422)
    assert problem["errors"][0]["field"] == "mine"
    assert scalar(database, "SELECT count(*) FROM alarm_mute") == 0


# ---------------------------------------------------------------------------- detail


def test_detail_has_the_latest_occurrences_and_the_lifecycle(client, database):
    alarm_id = add_alarm(
        database, "pack-1", "low_soc", past(0), count=25, active=False, cleared_at=past(30)
    )
    answer = client.get(f"/api/alarms/{alarm_id}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    alarm = answer.get_json()
    assert (alarm["id"], alarm["count"], alarm["unit"]) == (alarm_id, 25, "%")
    assert [o["n"] for o in alarm["occurrences"]] == list(range(25, 5, -1))
    assert alarm["occurrences"][0] == {
        "n": 25, "time": iso(past(24)), "received_at": iso(past(24)), "value": -15.0,
        "threshold": 2.0, "resent": False,
    }  # fmt: skip
    assert [e["event"] for e in alarm["events"]] == ["raised", *["repeated"] * 24, "cleared"]
    assert alarm["event_count"] == 26
    assert alarm["events"][-1]["time"] == iso(past(30))


def test_occurrences_are_paged_newest_first_with_their_samples(client, database):
    alarm_id = add_alarm(database, "pack-1", "low_soc", past(0), count=5)
    page = client.get(f"/api/alarms/{alarm_id}/occurrences?page_size=2&page=2")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert [o["n"] for o in page.get_json()] == [3, 2]
    assert page.get_json()[0]["sample"] == {"time": iso(past(2)), "soc_percent": 7.0}
    assert json.loads(page.headers["X-Pagination"])["total"] == 5


def test_unknown_alarms_and_arguments(client, database):
    alarm_id = add_alarm(database, "pack-1", "low_soc", past(0))
    for path in ("", "/occurrences", "/curve"):
        for missing in (alarm_id + 1, 2**63, 10**30):
            assert (
                "no alarm" in problem_of(client.get(f"/api/alarms/{missing}{path}"), 404)["detail"]
            )
        problem = problem_of(client.get(f"/api/alarms/{alarm_id}{path}?verbose=1"), 422)
        assert problem["errors"][0]["field"] == "verbose"
    problem_of(client.get("/api/alarms/abc"), 404)


# ---------------------------------------------------------------------------- resolving


def _record_what_each_event_saw(database: str) -> None:
    """A trigger like the notifier's: the alarm's state at the moment its event was inserted."""
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("""
            CREATE TABLE seen (event_id bigint, state text, resolved_by text, note text);
            CREATE FUNCTION see() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO seen SELECT NEW.id, state, resolved_by, resolution_note
                FROM alarm WHERE id = NEW.alarm_id;
                RETURN NULL;
            END $$;
            CREATE TRIGGER see AFTER INSERT ON alarm_event FOR EACH ROW EXECUTE FUNCTION see();
            GRANT INSERT ON seen TO voltrent_api;
        """)


def test_resolve_an_alarm_writes_the_row_then_its_event(client, database):
    alarm_id = add_alarm(database, "pack-1", "charge_over_temperature", past(0))
    _record_what_each_event_saw(database)
    answer = client.post(f"/api/alarms/{alarm_id}/resolve", json={"note": "cooled it down"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    alarm = answer.get_json()
    assert (alarm["state"], alarm["resolved_by"], alarm["resolution_note"]) == (
        "resolved",
        ROOT_LOGIN,
        "cooled it down",
    )
    assert alarm["resolved_at"] is not None and alarm["active"] is True
    with psycopg.connect(database) as conn:
        events = conn.execute(
            "SELECT event, by, note, time FROM alarm_event WHERE alarm_id = %s ORDER BY id",
            (alarm_id,),
        ).fetchall()
        seen = conn.execute("SELECT state, resolved_by, note FROM seen").fetchall()
    assert events == [
        ("raised", None, None, past(0)),
        ("resolved", ROOT_LOGIN, "cooled it down", None),
    ]
    assert seen == [("resolved", ROOT_LOGIN, "cooled it down")]

    again = problem_of(client.post(f"/api/alarms/{alarm_id}/resolve", json={"note": "x"}), 409)
    assert "already resolved" in again["detail"] and ROOT_LOGIN in again["detail"]
    assert scalar(database, "SELECT count(*) FROM alarm_event WHERE event = 'resolved'") == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "note"),
        ({"note": ""}, "note"),
        ({"note": "x" * 2001}, "note"),
        ({"note": 5}, "note"),
        # who resolves is the signed-in caller, never the body
        ({"note": "ok", "resolved_by": "bob"}, "resolved_by"),
        ({"note": "ok", "state": "open"}, "state"),
    ],
)
def test_a_bad_resolve_is_a_422_naming_the_field(client, database, body, field):
    alarm_id = add_alarm(database, "pack-1", "tamper", past(0))
    problem = problem_of(client.post(f"/api/alarms/{alarm_id}/resolve", json=body), 422)
    assert [e["field"] for e in problem["errors"]] == [field], problem
    assert scalar(database, "SELECT state FROM alarm WHERE id = %s", alarm_id) == "open"


def test_resolving_an_unknown_alarm_is_a_404(client):
    for missing in (424242, 2**63):
        problem_of(client.post(f"/api/alarms/{missing}/resolve", json={"note": "x"}), 404)


def test_batch_resolve_by_ids_answers_per_id(client, database):
    one = add_alarm(database, "pack-1", "low_soc", past(0))
    two = add_alarm(database, "pack-2", "vibration", past(1))
    done = add_alarm(
        database,
        "pack-2",
        "tamper",
        past(2),
        state="resolved",
        resolved_at=past(3),
        resolved_by="bob",
    )
    _record_what_each_event_saw(database)
    # an id that names no alarm of the caller's: a 404 naming it, and nothing resolved
    unknown = client.post(
        "/api/alarms/resolve", json={"alarm_ids": [two, 999999, one, 999998], "note": "x"}
    )
    assert "999999" in problem_of(unknown, 404)["detail"]
    assert scalar(database, "SELECT count(*) FROM alarm WHERE state = 'open'") == 2
    answer = client.post(
        "/api/alarms/resolve",
        json={"alarm_ids": [two, done, one, two], "note": "swapped the pack"},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {
        "resolved": 2, "already_resolved": 1,
        "results": [{"id": two, "result": "resolved"}, {"id": done, "result": "already_resolved"},
                    {"id": one, "result": "resolved"}],
    }  # fmt: skip
    with psycopg.connect(database) as conn:
        rows = conn.execute(
            "SELECT id, state, resolved_by, resolution_note FROM alarm ORDER BY id"
        ).fetchall()
        seen = conn.execute("SELECT state, resolved_by, note FROM seen").fetchall()
    assert rows == [
        (one, "resolved", ROOT_LOGIN, "swapped the pack"),
        (two, "resolved", ROOT_LOGIN, "swapped the pack"),
        (done, "resolved", "bob", None),
    ]
    assert seen == [("resolved", ROOT_LOGIN, "swapped the pack")] * 2


def test_batch_resolve_by_filter_takes_only_open_matching_alarms(client, database):
    soc_1 = add_alarm(database, "pack-1", "low_soc", past(0), active=False)
    soc_2 = add_alarm(database, "pack-2", "low_soc", past(1))
    add_alarm(database, "pack-2", "vibration", past(2), active=False)
    add_alarm(
        database,
        "cart-1",
        "low_soc",
        past(3),
        state="resolved",
        resolved_by="auto",
        resolved_at=past(4),
        active=False,
    )
    body = {"filter": {"type": "low_soc", "active": False}, "note": "charged"}
    answer = client.post("/api/alarms/resolve", json=body).get_json()
    assert answer["results"] == [{"id": soc_1, "result": "resolved"}]
    answer = client.post(
        "/api/alarms/resolve",
        json={"filter": {"device_id": "pack-2", "severity": "warning"}, "note": "n"},
    ).get_json()
    assert answer["resolved"] == 2 and soc_2 in [r["id"] for r in answer["results"]]
    nothing = client.post("/api/alarms/resolve", json=body).get_json()
    assert nothing == {"resolved": 0, "already_resolved": 0, "results": []}
    assert scalar(database, "SELECT count(*) FROM alarm WHERE state = 'open'") == 0
    assert scalar(database, "SELECT count(*) FROM alarm_event WHERE event = 'resolved'") == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"note": "x"}, "alarm_ids"),
        ({"note": "x", "alarm_ids": [1], "filter": {"type": "low_soc"}}, "alarm_ids"),
        ({"note": "x", "alarm_ids": []}, "alarm_ids"),
        ({"note": "x", "alarm_ids": ["one"]}, "alarm_ids.0"),
        ({"note": "x", "alarm_ids": [0]}, "alarm_ids.0"),
        ({"note": "x", "filter": {}}, "filter"),
        ({"note": "x", "filter": {"type": "wobble"}}, "filter.type"),
        ({"note": "x", "filter": {"store": "s1"}}, "filter.store"),
        ({"alarm_ids": [1]}, "note"),
        ({"note": "x", "alarm_ids": [1], "resolved_by": "bob"}, "resolved_by"),
    ],
)
def test_a_bad_batch_is_a_422_and_resolves_nothing(client, database, body, field):
    add_alarm(database, "pack-1", "low_soc", past(0))
    problem = problem_of(client.post("/api/alarms/resolve", json=body), 422)
    assert field in [e["field"] for e in problem["errors"]], problem
    assert scalar(database, "SELECT count(*) FROM alarm WHERE state = 'open'") == 1


# ---------------------------------------------------------------------------- the curve


def put_profile(database: str, model: str, profile: dict) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        insert(conn, "alarm_profile", model=model, profile=profile)


def curve(client, alarm_id: int, **args) -> dict:
    answer = client.get(f"/api/alarms/{alarm_id}/curve", query_string=args)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def test_a_threshold_curve_is_the_signal_with_the_devices_own_thresholds(client, database):
    put_profile(
        database, "M1", {"chemistry": "LFP", "rules": {"low_soc": {"raise": 20.0, "clear": 25.0}}}
    )
    put_profile(database, "", {"chemistry": "NMC", "rules": {}})
    with psycopg.connect(database, autocommit=True) as conn:
        for minute in range(0, 121, 10):  # one sample every 10 min, T0 .. T0 + 2 h
            insert_bms(conn, "pack-1", at(minute), minute, soc_percent=100.0 - minute / 2)
        insert_bms(conn, "pack-2", at(60), 1, soc_percent=1.0)  # another device
    alarm_id = add_alarm(
        database,
        "pack-1",
        "low_soc",
        at(60),
        count=2,
        step=timedelta(minutes=10),
        active=False,
        cleared_at=at(80),
    )
    shown = curve(client, alarm_id)
    assert (shown["source"], shown["signal"], shown["unit"]) == ("bms", "soc_percent", "%")
    assert (shown["raise"], shown["clear"], shown["high"], shown["when"]) == (
        20.0,
        25.0,
        False,
        None,
    )
    # first_at - 30 min .. cleared_at + 30 min, both ends included
    assert (shown["from"], shown["to"]) == (iso(at(30)), iso(at(110)))
    assert shown["points"] == [
        {"time": iso(at(m)), "value": 100.0 - m / 2} for m in range(30, 111, 10)
    ]
    assert shown["bucket_s"] is None and shown["positions"] == []
    assert shown["occurrences"] == [iso(at(60)), iso(at(70))]

    narrow = curve(client, alarm_id, before_s=0, after_s=0)
    assert [p["time"] for p in narrow["points"]] == [iso(at(m)) for m in (60, 70, 80)]

    # pack-2's model M2 has no profile: the fleet-wide one (NMC) applies
    over = add_alarm(database, "pack-2", "cell_over_voltage", at(60))
    shown = curve(client, over, before_s=0, after_s=0)
    assert (shown["raise"], shown["clear"], shown["unit"]) == (4.22, 4.10, "V")
    assert shown["points"] == [{"time": iso(at(60)), "value": 3.7}]
    # a stored profile the catalogue refuses is passed over, as the engine does
    put_profile(database, "M2", {"chemistry": "LFP", "rules": {"retired_type": {}}})
    assert curve(client, over)["raise"] == 4.22


def test_a_derived_signal_is_computed_from_the_sample(client, database):
    with psycopg.connect(database, autocommit=True) as conn:
        insert_bms(conn, "pack-1", at(0), 1, pack_voltage_v=56.0, cell_voltages_v=[4.0] * 14)
        insert_bms(conn, "pack-1", at(1), 2, current_a=-30.0, full_capacity_ah=20.0)
        insert_bms(conn, "pack-1", at(2), 3, current_a=-30.0)  # no capacity: no C rate
    per_cell = add_alarm(database, "pack-1", "pack_over_voltage", at(0))
    assert curve(client, per_cell, after_s=0)["points"] == [{"time": iso(at(0)), "value": 4.0}]
    rate = add_alarm(database, "pack-1", "discharge_over_current", at(1))
    shown = curve(client, rate, before_s=0)
    assert (shown["signal"], shown["unit"]) == ("discharge_c_rate", "C")
    assert shown["points"] == [{"time": iso(at(1)), "value": 1.5}]


def test_a_long_window_keeps_each_buckets_extremes(client, database):
    with psycopg.connect(database, autocommit=True) as conn:
        # 3 hours at one sample a second, one spike, one dip
        conn.execute(
            """
            INSERT INTO bms_sample (device_id, time, seq, received_at, pack_voltage_v, current_a,
                                    soc_percent, cell_voltages_v, temperatures_c, charge_mos,
                                    discharge_mos)
            SELECT 'pack-1', %(t0)s + n * interval '1 second', n, %(t0)s, 52, 0, 50,
                   ARRAY[3.3, 3.3]::real[],
                   ARRAY[CASE n WHEN 5000 THEN 70 WHEN 7000 THEN -20 ELSE 25 END]::real[],
                   true, true
            FROM generate_series(0, 10799) AS n
        """,
            {"t0": T0},
        )
    alarm_id = add_alarm(
        database, "pack-1", "discharge_over_temperature", at(60), active=False, cleared_at=at(120)
    )
    shown = curve(client, alarm_id)  # 60 - 30 .. 120 + 30 min: 7,201 samples
    points = shown["points"]
    assert shown["bucket_s"] == 8  # 7,200 s in at most 1000 buckets
    assert 900 <= len(points) <= 2002
    assert [p["time"] for p in points] == sorted(p["time"] for p in points)
    assert {"time": iso(T0 + timedelta(seconds=5000)), "value": 70.0} in points
    assert {"time": iso(T0 + timedelta(seconds=7000)), "value": -20.0} in points
    assert {p["value"] for p in points} == {25.0, 70.0, -20.0}
    assert shown["from"] == iso(at(30)) and shown["to"] == iso(at(150))


def test_a_protection_curve_is_whether_the_bms_reported_it(client, database):
    with psycopg.connect(database, autocommit=True) as conn:
        for minute, flags in enumerate(
            [[], ["cell_overvoltage"], ["cell_overvoltage", "x"], ["x"], []]
        ):
            insert_bms(conn, "pack-1", at(minute), minute, protection=flags)
    alarm_id = add_alarm(
        database,
        "pack-1",
        "bms_protection",
        at(1),
        subject="cell_overvoltage",
        active=False,
        cleared_at=at(3),
    )
    shown = curve(client, alarm_id)
    assert (shown["source"], shown["signal"]) == ("protection", "cell_overvoltage")
    assert [p["value"] for p in shown["points"]] == [0, 1, 1, 0, 0]
    assert shown["raise"] is None and shown["clear"] is None


def test_a_fence_curve_is_the_positions_in_the_window(client, database):
    with psycopg.connect(database, autocommit=True) as conn:
        for minute in range(0, 200, 20):
            insert_position(conn, "cart-1", at(minute), minute, lat=22.5 + minute / 1000)
        insert_position(conn, "cart-1", at(70), 999, valid=False, lat=0.0, lon=0.0)
    alarm_id = add_alarm(
        database,
        "cart-1",
        "outside_geofence",
        at(60),
        subject="7",
        active=False,
        cleared_at=at(100),
    )
    shown = curve(client, alarm_id)
    assert shown["source"] == "geofence" and shown["points"] == []
    assert shown["positions"] == [
        {"time": iso(at(m)), "lat": 22.5 + m / 1000, "lon": 113.9} for m in range(40, 131, 20)
    ]


def test_types_without_a_signal_and_bad_windows(client, database):
    for type_ in ("vibration", "offline"):
        alarm_id = add_alarm(database, "pack-1", type_, at(0))
        assert "no signal" in problem_of(client.get(f"/api/alarms/{alarm_id}/curve"), 409)["detail"]
    alarm_id = add_alarm(database, "pack-1", "low_soc", at(0))
    for query, field in (
        ("before_s=604801", "before_s"),
        ("after_s=-1", "after_s"),
        ("after_s=soon", "after_s"),
        ("bucket=1m", "bucket"),
    ):
        problem = problem_of(client.get(f"/api/alarms/{alarm_id}/curve?{query}"), 422)
        assert [e["field"] for e in problem["errors"]] == [field]
    assert curve(client, alarm_id, before_s=604800, after_s=0)["from"] == iso(at(-7 * 1440))


# what the engine does to an open alarm it sees again (lifecycle's _REPEAT, reduced)
REPEAT = "UPDATE alarm SET count = count + 1 WHERE id = %s AND state = 'open'"
WAITING_FOR_A_ROW = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%%FOR UPDATE%%'
"""


def test_a_batch_locks_alarms_in_the_engines_order_so_it_never_deadlocks_with_it(client, database):
    # ids in the other order than the engine's (device, type, subject)
    later_device = add_alarm(database, "pack-2", "low_soc", past(0))
    earlier_device = add_alarm(database, "pack-1", "low_soc", past(0))
    answers = []
    with psycopg.connect(database) as engine:
        engine.execute("SET lock_timeout = '20s'")
        # the engine writes pack-1's alarm, then pack-2's, in one transaction
        engine.execute(REPEAT, (earlier_device,))
        batch = threading.Thread(target=lambda: answers.append(client.post(
            "/api/alarms/resolve",
            json={"alarm_ids": [later_device, earlier_device], "note": "x"},
        )))  # fmt: skip
        batch.start()
        wait_for(lambda: scalar(database, WAITING_FOR_A_ROW) > 0, "the batch waits for a row")
        engine.execute(REPEAT, (later_device,))  # a deadlock here if the batch held pack-2's
        engine.commit()
        batch.join(timeout=60)
    assert answers and answers[0].status_code == 200, answers and answers[0].get_data()
    assert answers[0].get_json()["resolved"] == 2
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT count, state FROM alarm ORDER BY id").fetchall()
    assert rows == [(2, "resolved"), (2, "resolved")]
