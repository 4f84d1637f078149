"""The live feed's parts that need no server: a cursor's spelling, and a subscriber that
cannot keep up being dropped with a last ``resync`` instead of buffering without bound."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cloud.live.cursor import Cursor, CursorError
from cloud.live.hub import QUEUE_EVENTS, RESYNC, Subscriber

AT = datetime(2026, 12, 7, 3, 5, 0, 123456, tzinfo=UTC)


def test_a_cursor_reads_back_as_it_was_written():
    cursor = Cursor.of_snapshot("780:790:781,785", AT)
    assert (cursor.xmax, cursor.xip) == (790, (781, 785))
    assert Cursor.parse(cursor.token()) == cursor
    assert Cursor.parse(Cursor.of_snapshot("5:9:", AT).token()).xip == ()


@pytest.mark.parametrize("token", ["", "nonsense", "OTk5", "LTE6OjA", "\u00e9t\u00e9"])
def test_a_token_that_is_no_cursor_is_refused(token):
    with pytest.raises(CursorError):
        Cursor.parse(token)


def test_a_subscriber_too_slow_is_dropped_with_a_last_resync():
    sub = Subscriber(1, None, Cursor.of_snapshot("1:2:", AT))
    for n in range(QUEUE_EVENTS):
        assert sub.offer(f"frame {n}")
    assert not sub.offer("one too many")
    assert sub.dropped
    assert sub.next(timeout=0) is RESYNC  # what it had not read is gone
    assert sub.next(timeout=0) is None
    assert not sub.offer("after the drop")
