"""Fixtures of the cloud tests (the shared ones are in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def api_db_role() -> str:
    """The role the API's signed-in requests run as; tenancy_support.on_both_walls
    parametrizes it."""
    return "voltrent_api"


@pytest.fixture
def client(database):
    """A test client signed in as the platform's administrator (files may define their own)."""
    from tests.cloud.api_support import api_client

    with api_client(database) as client:
        yield client


@pytest.fixture
def db(database):
    """A connection to the test's database, as its owner (autocommit)."""
    import psycopg

    with psycopg.connect(database, autocommit=True) as conn:
        yield conn
