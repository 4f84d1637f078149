"""Fixtures of the cloud tests (the shared ones are in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def api_db_role() -> str:
    """The role the API's signed-in requests run as; access_support.on_both_walls
    parametrizes it."""
    return "voltrent_api"
