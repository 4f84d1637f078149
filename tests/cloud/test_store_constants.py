"""Names the store checks in SQL are the ones the Python code defines, once: the capability
flags, alarm severities (in their order: the webhook fan-out ranks them), command states and
fence crossing types. A new name in Python without a migration that lets the store hold it
(or the other way round) fails here."""

from __future__ import annotations

import re

import pytest

from cloud.commands.schemas import STATES
from cloud.identity.permissions import FLAGS
from cloud.rules.catalogue import SEVERITIES
from cloud.rules.schemas.alarms import GEOFENCE_EVENT_TYPES

pytestmark = pytest.mark.postgres

# (table, CHECK constraint, the Python names it must allow, in order)
CHECKS = [
    ("operator", "operator_flags", list(FLAGS)),
    ("alarm", "alarm_severity", list(SEVERITIES)),
    ("webhook", "webhook_min_severity", list(SEVERITIES)),
    ("command", "command_state", list(STATES)),
    ("geofence_event", "geofence_event_type", list(GEOFENCE_EVENT_TYPES)),
]


def _texts(sql: str) -> list[str]:
    return re.findall(r"'([^']*)'(?:::text)?", sql)


@pytest.mark.parametrize(("table", "constraint", "names"), CHECKS, ids=[c[1] for c in CHECKS])
def test_a_check_allows_exactly_the_python_names(db, table, constraint, names):
    (definition,) = db.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND conname = %s",
        (table, constraint),
    ).fetchone()
    assert _texts(definition) == names


def test_the_platform_holds_every_flag(db):
    (flags,) = db.execute("SELECT flags FROM operator WHERE parent_id IS NULL").fetchone()
    assert flags == list(FLAGS)


def test_the_webhook_fan_out_ranks_the_severities_in_their_order(db):
    query = "SELECT prosrc FROM pg_proc WHERE proname = 'alarm_event_notify'"
    (body,) = db.execute(query).fetchone()
    ranks = re.search(r"ranks CONSTANT text\[\] := ARRAY\[([^\]]*)\]", body)
    assert ranks and _texts(ranks[1]) == list(SEVERITIES)
