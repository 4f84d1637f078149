"""A property-based fuzz of the API from its own OpenAPI document (schemathesis): every
operation, with valid and invalid arguments and bodies (NUL characters included), signed
in as the platform's administrator and as a store's account. No answer may be a 5xx or
one the document does not allow (status, content type, body, headers, Allow), and input
the document forbids must be refused.

The bounded form runs in CI: ``FUZZ_EXAMPLES`` cases per operation and principal, from a
fixed seed, so a run sends the same requests every time (about a minute). The long form
is ``VOLTRENT_FUZZ_EXAMPLES=500 pytest -m fuzz tests/cloud/test_api_fuzz.py``: more cases
and schemathesis' coverage phase (boundary values of every parameter); the fast loop
skips both with ``-m "not fuzz"``.
"""

from __future__ import annotations

import os
import zlib

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.parameters import ParameterLocation

from cloud.app import create_app
from cloud.config import CloudConfig
from cloud.http.db import database as app_database
from tests.cloud.conformance_support import openapi_document
from tests.cloud.tenancy_support import login, make_tenancy, token_for
from tests.cloud.walk_support import build_objects as one_of_every_kind

FUZZ_EXAMPLES = 10
EXAMPLES = int(os.environ.get("VOLTRENT_FUZZ_EXAMPLES", FUZZ_EXAMPLES))
LONG = EXAMPLES > FUZZ_EXAMPLES

# The cases share one store and run in order: an earlier one may delete what a later one
# finds, so one xdist worker takes the module (./run-tests: --dist loadscope).
pytestmark = [pytest.mark.postgres, pytest.mark.fuzz] + ([pytest.mark.slow] if LONG else [])

schema = schemathesis.openapi.from_dict(
    openapi_document(),
    config=schemathesis.Config.from_dict(
        {
            "seed": 13,
            "generation": {"mode": "all", "max-examples": EXAMPLES, "allow-x00": True},
            "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": LONG}},
        }
    ),
    # The live streams never end on their own, so a case that opens one would never be
    # answered; their refusals are tested in test_live_api.py, the streams over HTTP in
    # test_live_stream.py.
).exclude(path_regex=r"^/api/(live/stream|devices/\{device_id\}/live)$")


# path parameter -> an object that exists, filled by the `tenancy` fixture before any case
KNOWN: dict[str, object] = {"alarm_type": "low_soc", "model": "walk-model"}


@pytest.fixture(scope="module")
def tenancy(module_database):
    """Operators, a store, devices and accounts (tenancy_support.make_tenancy), and one object of
    every kind in operator A (test_tenant_isolation's) for the cases to find."""
    tenancy = make_tenancy(module_database)
    with psycopg.connect(module_database, autocommit=True) as conn:
        KNOWN.update(one_of_every_kind(conn, "fuzz", tenancy.operators["a"]))
    return tenancy


@pytest.fixture(scope="module")
def fuzzed_app(module_database):
    app = create_app(CloudConfig(database_url=module_database))
    yield app
    app_database(app).close()


def _toward_known_objects(case: schemathesis.Case) -> None:
    """Half the cases with valid path parameters name objects that exist instead, so that
    they reach the views behind the guard's 404; the half is picked from the generated
    values, so the run stays the same."""
    negative = case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)
    if not case.path_parameters or negative:
        return
    if zlib.crc32(repr(sorted(case.path_parameters.items())).encode()) % 2:
        case.path_parameters = {
            name: KNOWN.get(name, value) for name, value in case.path_parameters.items()
        }


def _fresh_token(database: str, who: str) -> str:
    """A new token of ``who`` for each case: an earlier case may have revoked the last one
    (sign-out, DELETE /api/tokens/{id}), and it must not blind the cases after it."""
    with psycopg.connect(database, autocommit=True) as conn:
        row = conn.execute("SELECT id FROM account WHERE login = %s", (login(who),)).fetchone()
        return token_for(conn, row[0])


@pytest.mark.parametrize("who", ["root", "shop"])
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_answer_is_one_the_document_allows(case, who, tenancy, fuzzed_app):
    # the case's schema is a copy made at collection, before the app (and its store) existed
    case.operation.schema.app = fuzzed_app
    _toward_known_objects(case)
    # The only header the document has is the bearer; a case whose headers are the invalid
    # part left it out or spoiled it on purpose, and must be sent as generated.
    spoiled = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    bearer = {} if spoiled else {"Authorization": f"Bearer {_fresh_token(tenancy.database, who)}"}
    case.call_and_validate(
        app=fuzzed_app,
        headers=bearer,
        # A valid body can still be refused with a 422 for what a schema cannot say (a
        # device id that exists, a range whose end is before its start).
        excluded_checks=[positive_data_acceptance],
    )
