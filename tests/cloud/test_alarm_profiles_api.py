"""The alarm catalogue and per-model profiles on a real PostgreSQL: what is stored is what the
catalogue's check accepted, normalised; a refusal names the field; the workers' reload
sequence moves with every change."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from cloud.rules.catalogue import TYPES
from tests.cloud.api_support import api_client, problem_of
from tests.cloud.tenancy_support import (
    PLATFORM,
    ROOT_LOGIN,
    make_account,
    make_store,
    on_both_walls,
    token_for,
)

pytestmark = [pytest.mark.postgres]

LOW_SOC = {"rules": {"low_soc": {"raise": 20, "clear": 25, "severity": "critical"}}}


def stored(database: str) -> list[tuple]:
    with psycopg.connect(database) as conn:
        query = "SELECT model, profile, updated_by FROM alarm_profile ORDER BY model"
        return conn.execute(query).fetchall()


def config_version(database: str) -> int:
    with psycopg.connect(database) as conn:
        return conn.execute("SELECT last_value FROM rule_config_version").fetchone()[0]


def test_alarm_types_list_the_catalogue_with_defaults_per_chemistry(client):
    answer = client.get("/api/alarm-types")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    types = {t["type"]: t for t in answer.get_json()}
    assert list(types) == list(TYPES)
    over = types["cell_over_voltage"]
    assert (over["source"], over["unit"]) == ("bms", "V")
    assert over["defaults"]["LFP"]["raise"] == 3.60 and over["defaults"]["NMC"]["raise"] == 4.22
    assert over["defaults"]["LFP"] | {"raise": None, "clear": None} == {
        "type": "cell_over_voltage", "source": "bms", "severity": "critical",
        "auto_clear": False, "enabled": True, "signal": "cell_max_v", "high": True,
        "raise": None, "clear": None, "dwell_s": 0.0, "when": None, "unit": "V",
        "description": "highest cell voltage",
    }  # fmt: skip
    assert types["vibration"]["source"] == "event"
    assert types["vibration"]["defaults"]["NMC"]["raise"] is None
    problem_of(client.get("/api/alarm-types?chemistry=LFP"), 422)


def test_put_get_list_and_delete_a_models_profile(client, database):
    before = config_version(database)
    answer = client.put("/api/alarm-profiles/EB-48V", json=LOW_SOC)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    profile = answer.get_json()
    normalised = {"chemistry": "LFP", "rules": {"low_soc": {
        "raise": 20.0, "clear": 25.0, "severity": "critical"}}}  # fmt: skip
    assert (profile["model"], profile["profile"], profile["updated_by"]) == (
        "EB-48V",
        normalised,
        ROOT_LOGIN,
    )
    effective = profile["effective"]
    assert effective["chemistry"] == "LFP" and set(effective["rules"]) == set(TYPES)
    soc = effective["rules"]["low_soc"]
    assert (soc["raise"], soc["clear"], soc["severity"], soc["high"]) == (
        20.0,
        25.0,
        "critical",
        False,
    )
    assert effective["rules"]["cell_over_voltage"]["raise"] == 3.60  # untouched default
    assert client.get("/api/alarm-profiles/EB-48V").get_json() == profile
    assert stored(database) == [("EB-48V", normalised, ROOT_LOGIN)]
    assert config_version(database) > before

    # a PUT replaces the whole document
    nmc = client.put("/api/alarm-profiles/EB-48V", json={"chemistry": "NMC"}).get_json()
    assert nmc["profile"] == {"chemistry": "NMC", "rules": {}}
    assert nmc["effective"]["rules"]["cell_over_voltage"]["raise"] == 4.22
    assert nmc["effective"]["rules"]["low_soc"]["raise"] == 10.0
    assert nmc["updated_at"] >= profile["updated_at"]

    client.put("/api/alarm-profile", json={"chemistry": "LFP"})
    listed = client.get("/api/alarm-profiles").get_json()
    assert [(p["model"], p["profile"]["chemistry"]) for p in listed] == [
        ("", "LFP"),
        ("EB-48V", "NMC"),
    ]
    assert "effective" not in listed[0]

    version = config_version(database)
    assert client.delete("/api/alarm-profiles/EB-48V").status_code == 204
    assert config_version(database) > version
    assert "fleet-wide" in problem_of(client.get("/api/alarm-profiles/EB-48V"), 404)["detail"]
    problem_of(client.delete("/api/alarm-profiles/EB-48V"), 404)
    assert [model for model, *_ in stored(database)] == [""]


def test_the_fleet_wide_profile_lives_at_its_own_path(client, database):
    assert "built-in defaults" in problem_of(client.get("/api/alarm-profile"), 404)["detail"]
    body = {"chemistry": "NMC", "rules": {"offline": {"raise": 600}, "tamper": {"enabled": False}}}
    answer = client.put("/api/alarm-profile", json=body)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    fleet = answer.get_json()
    assert fleet["model"] == "" and fleet["updated_by"] == ROOT_LOGIN
    assert fleet["effective"]["rules"]["offline"]["raise"] == 600.0
    assert fleet["effective"]["rules"]["tamper"]["enabled"] is False
    assert client.get("/api/alarm-profile").get_json() == fleet
    assert stored(database) == [
        ("", {"chemistry": "NMC", "rules": {"offline": {"raise": 600.0},
                                            "tamper": {"enabled": False}}}, ROOT_LOGIN)
    ]  # fmt: skip
    assert client.delete("/api/alarm-profile").status_code == 204
    problem_of(client.delete("/api/alarm-profile"), 404)
    assert stored(database) == []


@pytest.mark.parametrize(
    ("document", "field", "says"),
    [
        ({"chemistry": "LTO"}, "chemistry", "must be one of"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"rules": []}, "rules", "must be an object"),
        ({"rules": {"low_battery": {}}}, "rules.low_battery", "unknown alarm type"),
        ({"rules": {"low_soc": 5}}, "rules.low_soc", "must be an object"),
        ({"rules": {"low_soc": {"raise": "10"}}}, "rules.low_soc.raise", "must be a number"),
        ({"rules": {"low_soc": {"raise": True}}}, "rules.low_soc.raise", "must be a number"),
        ({"rules": {"low_soc": {"clear": 5}}}, "rules.low_soc.clear", "at or above raise"),
        ({"rules": {"cell_over_voltage": {"clear": 3.7}}}, "rules.cell_over_voltage.clear",
         "at or below raise"),
        ({"rules": {"vibration": {"dwell_s": 3}}}, "rules.vibration.dwell_s", "not a setting"),
        ({"rules": {"offline": {"raise": 5}}}, "rules.offline.raise", "60..2592000"),
        ({"rules": {"tamper": {"severity": "fatal"}}}, "rules.tamper.severity", "one of"),
        ({"rules": {"tamper": {"enabled": "no"}}}, "rules.tamper.enabled", "must be a bool"),
    ],
)  # fmt: skip
def test_a_refused_profile_is_a_422_naming_the_field(client, database, document, field, says):
    for path in ("/api/alarm-profiles/EB-48V", "/api/alarm-profile"):
        problem = problem_of(client.put(path, json=document), 422)
        assert problem["errors"] == [
            {"field": field, "in": "body", "reason": problem["errors"][0]["reason"]}
        ]
        assert says in problem["errors"][0]["reason"]
        assert problem["detail"].startswith(f"{field}: ")
    assert stored(database) == []


def test_bad_requests_around_profiles(client, database):
    problem = problem_of(client.put(f"/api/alarm-profiles/{'m' * 201}", json={}), 422)
    assert problem["errors"][0]["field"] == "model" and problem["errors"][0]["in"] == "path"
    problem_of(client.put("/api/alarm-profiles/EB-48V", json=["LFP"]), 422)
    for path in ("/api/alarm-profiles", "/api/alarm-profiles/EB-48V", "/api/alarm-profile"):
        problem = problem_of(client.get(f"{path}?model=x"), 422)
        assert problem["errors"][0]["field"] == "model" and problem["errors"][0]["in"] == "query"
    problem_of(client.get("/api/alarm-profiles/nothing"), 404)
    assert stored(database) == []


def test_a_stored_profile_the_catalogue_no_longer_accepts_is_shown_without_settings(
    client, database
):
    old = {"chemistry": "LFP", "rules": {"retired_type": {"enabled": False}}}
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("INSERT INTO alarm_profile (model, profile) VALUES ('old', %s)", (Jsonb(old),))
    shown = client.get("/api/alarm-profiles/old").get_json()
    assert (shown["profile"], shown["effective"]) == (old, None)


@on_both_walls
def test_an_account_of_a_platform_store_edits_no_profile(client, database, api_db_role):
    """Profiles are the whole fleet's: even a store of the platform operator is a store."""
    client.put("/api/alarm-profiles/M1", json=LOW_SOC)
    with psycopg.connect(database, autocommit=True) as conn:
        store = make_store(conn, PLATFORM, "platform shop")
        staff = make_account(conn, PLATFORM, "staff@platform.test", store_id=store)
        secret = token_for(conn, staff)
    before = stored(database)
    with api_client(database, secret=secret, api_db_role=api_db_role) as shop:
        assert shop.get("/api/alarm-profiles/M1").status_code == 200
        for answer in (
            shop.put("/api/alarm-profile", json=LOW_SOC),
            shop.put("/api/alarm-profiles/M2", json=LOW_SOC),
            shop.delete("/api/alarm-profiles/M1"),
        ):
            assert "platform.alarm_profiles" in problem_of(answer, 403)["detail"]
        for path in ("/api/dead-letters", "/api/unknown-devices"):
            problem_of(shop.get(path), 403)
    assert stored(database) == before
    # row-level security agrees: in the store's scope, nothing of the profiles can be written
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(
            "SELECT set_config('voltrent.tenant', '1', false),"
            " set_config('voltrent.store', %s, false)",
            (str(store),),
        )
        conn.execute("SET ROLE voltrent_api")
        assert conn.execute("DELETE FROM alarm_profile").rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO alarm_profile (model, profile, updated_by) VALUES ('x', '{}', 'x')"
            )
