"""Where a reader of the live feed is: a snapshot of the store, spelled as an opaque token.

A cursor is the ``xmax`` of a snapshot, the transactions in progress in it (``xip``) and the
store's time then (``at``). Every row the feed shows carries the id of the transaction that
last wrote it (migration 0017), so the rows changed since a cursor are those whose writer
is ``>= xmax`` (it began later) or in ``xip`` (it was still running and committed later).
A row committed late by a transaction older than the cursor is found by the second test:
nothing committed after a snapshot is invisible to the next read. A row may come twice,
which is harmless: every event carries the whole row.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Enough transactions in progress for any server's max_connections; a longer list is junk.
_MAX_IN_PROGRESS = 100_000


class CursorError(ValueError):
    """A token that is no cursor of this feed."""


@dataclass(frozen=True)
class Cursor:
    """A snapshot's ``xmax``, the transactions in progress in it, and the store's time."""

    xmax: int
    xip: tuple[int, ...]
    at: datetime

    @classmethod
    def of_snapshot(cls, snapshot: str, at: datetime) -> Cursor:
        """The cursor of a ``pg_snapshot`` in its text form ``xmin:xmax:xip,...``."""
        _, xmax, xip = snapshot.split(":")
        return cls(int(xmax), tuple(int(x) for x in xip.split(",") if x), at)

    def params(self) -> dict[str, object]:
        """The SQL parameters of the "changed since" window: xmax, xip, since."""
        return {"xmax": str(self.xmax), "xip": [str(x) for x in self.xip], "since": self.at}

    def token(self) -> str:
        """The opaque spelling sent as an event's ``id`` and a snapshot's ``cursor``."""
        micros = (self.at - _EPOCH) // timedelta(microseconds=1)
        text = f"{self.xmax}:{','.join(map(str, self.xip))}:{micros}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, token: str) -> Cursor:
        """The cursor ``token()`` spelled; CursorError if it is not one."""
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
            xmax, xip, micros = text.split(":")
            ids = tuple(int(x) for x in xip.split(",") if x)
            cursor = cls(int(xmax), ids, _EPOCH + timedelta(microseconds=int(micros)))
        except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError) as err:
            raise CursorError(f"not a cursor of the live feed: {token[:80]!r}") from err
        if cursor.xmax < 1 or len(ids) > _MAX_IN_PROGRESS or any(x < 1 for x in ids):
            raise CursorError(f"not a cursor of the live feed: {token[:80]!r}")
        return cursor

    def ahead_of(self, other: Cursor) -> bool:
        """This cursor is past ``other`` (a cursor of another store, or one made up)."""
        return self.xmax > other.xmax
