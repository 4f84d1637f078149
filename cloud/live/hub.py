"""The live feed's hub: one thread per API process between the store and every open stream.

It LISTENs on ``voltrent_live`` (the triggers of repeatable/live.sql NOTIFY at commit) and
reads what changed since its cursor at most every ``BATCH_S``, and at least every
``poll_s`` (a missed notification never loses a change). Each read is one REPEATABLE READ
transaction: the changes, the compact rows of the changed devices (once, for everyone),
and for each distinct scope of the map subscribers the ids it may see, so the batch is
filtered and serialised once per scope. A subscriber that joins with a cursor is first
caught up from it in the same transaction. Device-page subscribers get a note of what
changed on their device and read it themselves, in their caller's scope.

Each subscriber has a bounded queue; one that cannot keep up is dropped with a final
``resync`` instead of buffering without bound.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from cloud.live import feed, sse
from cloud.live.cursor import Cursor

log = logging.getLogger(__name__)

CHANNEL = "voltrent_live"
BATCH_S = 0.2  # at most one event per stream this often
QUEUE_EVENTS = 50  # about 10 s of batches: a stream further behind is dropped
RECONNECT_S = 1.0
RESYNC = object()  # the queue's last item for a dropped subscriber


@dataclass
class DeviceNote:
    """What changed on one device since the last note: its state (or its scope: it may be
    gone), and the ids of its commands and alarms written."""

    cursor: str
    state: bool
    commands: list[str] = field(default_factory=list)
    alarms: list[int] = field(default_factory=list)


class Subscriber:
    """One open stream: the map of a scope (``device_id`` None) or one device's page.

    ``since``: the cursor to catch up from at the hub's next read (then None)."""

    def __init__(
        self, tenant: int, store: int | None, since: Cursor, device_id: str | None = None
    ) -> None:
        self.tenant = tenant
        self.store = store
        self.device_id = device_id
        self.since: Cursor | None = since
        self.dropped = False
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_EVENTS)

    @property
    def scope(self) -> tuple[int, int | None]:
        return self.tenant, self.store

    def offer(self, item: str | DeviceNote) -> bool:
        """Queue ``item``; False (and dropped: see ``resync``) when the queue is full."""
        if self.dropped:
            return False
        try:
            self._queue.put_nowait(item)
            return True
        except queue.Full:
            self.resync()
            return False

    def resync(self) -> None:
        """Drop this subscriber: what it has not read yet goes, and its stream ends with a
        ``resync`` event."""
        self.dropped = True
        while True:  # make room for the last word
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put_nowait(RESYNC)

    def next(self, timeout: float) -> Any:
        """The next item (a frame, a DeviceNote or RESYNC), or None after ``timeout``."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None


class Hub:
    """The feed of one API process (see the module). ``max_streams`` caps open streams."""

    def __init__(self, url: str, *, poll_s: float, max_streams: int) -> None:
        self.url = url
        self.poll_s = poll_s
        self.max_streams = max_streams
        self.cursor: Cursor | None = None
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._open = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- streams -----------------------------------------------------------------------

    def admit(self) -> bool:
        """Take a place for a stream; False when all ``max_streams`` are taken."""
        with self._lock:
            if self._open >= self.max_streams:
                return False
            self._open += 1
            return True

    def release(self) -> None:
        """Give back the place ``admit`` took."""
        with self._lock:
            self._open -= 1

    def subscribe(self, subscriber: Subscriber) -> None:
        """Deliver to ``subscriber`` from its ``since`` on (starting the thread)."""
        with self._lock:
            self._subscribers.add(subscriber)
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="live-hub", daemon=True)
                self._thread.start()
        self._wake.set()

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    def stop(self) -> None:
        """Stop the thread (a new subscriber starts it again)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=10)

    # --- the thread --------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with (
                    psycopg.connect(self.url, autocommit=True) as listen,
                    psycopg.connect(self.url, row_factory=dict_row) as read,
                ):
                    listen.execute(f"LISTEN {CHANNEL}")
                    if self._loop(listen, read):
                        return  # nobody listens any more; the next subscriber starts a thread
            except psycopg.Error as err:
                log.warning("live feed: store unavailable (%s); retrying", err)
                self._stop.wait(RECONNECT_S)
            except Exception:  # a defect: logged loudly, the feed goes on
                log.exception("live feed: read failed; retrying")
                self._stop.wait(RECONNECT_S)

    def _loop(self, listen: psycopg.Connection[Any], read: psycopg.Connection[Any]) -> bool:
        """Feed the subscribers until stopped (False) or none is left (True): an idle hub
        holds no connections to the store."""
        last = 0.0
        while not self._stop.is_set():
            woken = self._wait(listen, last + self.poll_s)
            if woken:  # batch: at most one read per BATCH_S
                self._stop.wait(max(0.0, last + BATCH_S - time.monotonic()))
                for _ in listen.notifies(timeout=0):
                    pass
            if self._stop.is_set():
                return False
            last = time.monotonic()
            with self._lock:
                subscribers = list(self._subscribers)
                if not subscribers:
                    self.cursor = None  # the next subscriber brings its own cursor
                    self._thread = None  # under the lock: subscribe() starts a new one
                    return True
            with read.transaction():
                self._read(read, subscribers)
        return False

    def _wait(self, listen: psycopg.Connection[Any], until: float) -> bool:
        """Wait for a notification, a new subscriber or ``until``: True if woken early."""
        while not self._stop.is_set():
            if self._wake.is_set():
                self._wake.clear()
                return True
            left = until - time.monotonic()
            if left <= 0:
                return False
            for _ in listen.notifies(timeout=min(left, BATCH_S), stop_after=1):
                return True
        return False

    def _read(self, conn: psycopg.Connection[Any], subscribers: list[Subscriber]) -> None:
        now = feed.begin_read(conn)
        base = self.cursor or now
        details = any(s.device_id is not None for s in subscribers)
        windows: dict[Cursor, feed.Changes] = {}
        for sub in subscribers:
            start = sub.since or base
            if start.ahead_of(now):  # another store's cursor, or made up
                self.unsubscribe(sub)
                sub.resync()
                continue
            if start not in windows:
                windows[start] = feed.changes(conn, start, details=details)
        maps = [s for s in subscribers if s.device_id is None and not s.dropped]
        wanted = set().union(*(windows[s.since or base].devices for s in maps)) if maps else set()
        rows = feed.rows(conn, wanted) if wanted else {}
        token = now.token()
        self._to_maps(conn, maps, base, windows, rows, token)
        for sub in subscribers:
            if sub.device_id is not None and not sub.dropped:
                self._to_device(sub, windows[sub.since or base], token)
        for sub in subscribers:
            sub.since = None
            if sub.dropped:
                self.unsubscribe(sub)
        self.cursor = now

    def _to_maps(
        self,
        conn: psycopg.Connection[Any],
        maps: list[Subscriber],
        base: Cursor,
        windows: dict[Cursor, feed.Changes],
        rows: dict[str, tuple[Any, ...]],
        token: str,
    ) -> None:
        """One frame per (scope, window), offered to each map subscriber of it."""
        groups: dict[tuple[tuple[int, int | None], Cursor], list[Subscriber]] = defaultdict(list)
        for sub in maps:
            groups[(sub.scope, sub.since or base)].append(sub)
        for ((tenant, store), start), members in groups.items():
            changes = windows[start]
            ids = changes.devices & rows.keys()
            seen = sorted(feed.visible(conn, tenant, store, ids)) if ids else []
            frame = ""
            if seen:
                data = {"columns": feed.COLUMNS, "rows": [rows[i] for i in seen]}
                frame += sse.event("devices", feed.to_json(data), token)
            if changes.moved:
                left = feed.gone(conn, tenant, store, start)
                if left:
                    frame += sse.event("gone", feed.to_json({"ids": left}), token)
            if frame:
                for sub in members:
                    sub.offer(frame)

    @staticmethod
    def _to_device(sub: Subscriber, changes: feed.Changes, token: str) -> None:
        note = DeviceNote(
            token,
            state=sub.device_id in changes.devices or changes.moved,
            commands=[c for c, d in changes.commands if d == sub.device_id],
            alarms=[a for a, d in changes.alarms if d == sub.device_id],
        )
        if note.state or note.commands or note.alarms:
            sub.offer(note)
