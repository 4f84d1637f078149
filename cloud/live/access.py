"""Whether the caller of an open stream may still read it: checked every heartbeat, so a
revoked or expired session or token ends the stream within one heartbeat."""

from __future__ import annotations

from typing import Any

import psycopg

from cloud.identity.principal import works

STILL_WORKS = f"""
SELECT 1 FROM credential c JOIN account a ON a.id = c.account_id
WHERE c.id = %s AND {works("c")} AND a.disabled_at IS NULL
"""


def still_works(conn: psycopg.Connection[Any], credential_id: int) -> bool:
    """The credential is not revoked, expired or idle too long, and its account is enabled.
    (Reading the stream does not count as using it: an idle session still times out.)"""
    return conn.execute(STILL_WORKS, (credential_id,)).fetchone() is not None
