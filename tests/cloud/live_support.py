"""Helpers for the live feed's tests (no tests here): the API served by waitress in a
process of its own, as `voltrent cloud api` runs it, and a reader of its event streams."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from launcher.broker import free_port

SERVE = (
    "import logging; logging.basicConfig(level=logging.INFO);"
    "from cloud.server import serve; from cloud.config import CloudConfig;"
    "serve(CloudConfig.from_env())"
)
WAIT_S = 30.0  # generous: the tests wait for what they expect, never for a fixed time


@dataclass
class Server:
    port: int
    process: subprocess.Popen

    def get(self, path: str, token: str | None = None) -> tuple[int, dict[str, str], Any]:
        """(status, headers, JSON body) of a GET."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=WAIT_S) as response:
                return response.status, dict(response.headers), json.load(response)
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), json.load(err)


@contextmanager
def api_server(database: str, **env: str) -> Iterator[Server]:
    """The API on ``database`` in a process of its own, with ``env`` (VOLTRENT_...) set."""
    port = free_port()
    full = {**os.environ, "DATABASE_URL": database, "VOLTRENT_API_PORT": str(port), **env}
    process = subprocess.Popen([sys.executable, "-c", SERVE], env=full, stderr=subprocess.PIPE)
    server = Server(port, process)
    deadline = time.monotonic() + WAIT_S
    try:
        while True:
            try:
                server.get("/api/health")
                break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "the API did not start"
                time.sleep(0.1)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@dataclass
class Event:
    name: str
    data: Any
    id: str | None


@dataclass
class Stream:
    """An open event stream, read by a thread of its own; ``events`` in arrival order."""

    status: int
    headers: dict[str, str]
    conn: http.client.HTTPConnection
    sock: socket.socket | None
    body: Any = None  # a refusal's problem
    seen: list[Event] = field(default_factory=list)
    comments: int = 0
    ended: threading.Event = field(default_factory=threading.Event)
    _queue: queue.Queue = field(default_factory=queue.Queue)

    def next(self, name: str, where: Callable[[Any], bool] = lambda data: True) -> Event:
        """The next event called ``name`` whose data passes ``where`` (others are skipped)."""
        deadline = time.monotonic() + WAIT_S
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {name} event came; seen: {[e.name for e in self.seen]}"
            try:
                event = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            assert event is not None, f"the stream ended before a {name} event"
            if event.name == name and where(event.data):
                return event

    def wait_end(self) -> None:
        assert self.ended.wait(WAIT_S), "the stream did not end"

    def close(self) -> None:
        # shut down, not only closed: the reading thread's file still holds the socket
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
        self.conn.close()


def _read(stream: Stream, response: http.client.HTTPResponse) -> None:
    name, data, event_id = "message", [], None
    try:
        for raw in response:
            line = raw.decode().rstrip("\n")
            if line.startswith(":"):
                stream.comments += 1
            elif line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line.startswith("id: "):
                event_id = line[4:]
            elif line == "" and data:
                event = Event(name, json.loads("\n".join(data)), event_id)
                stream.seen.append(event)
                stream._queue.put(event)
                name, data, event_id = "message", [], None
    except (OSError, ValueError, http.client.HTTPException):
        pass  # closed by the test
    finally:
        stream.ended.set()
        stream._queue.put(None)


def open_stream(server: Server, path: str, token: str, last_event_id: str | None = None) -> Stream:
    """GET ``path`` as an event stream; the answer's headers have come when this returns
    (the stream is subscribed by then: what commits later reaches it)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT_S * 2)
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    conn.request("GET", path, headers=headers)
    sock = conn.sock  # getresponse() may let go of it
    response = conn.getresponse()
    stream = Stream(response.status, dict(response.headers), conn, sock)
    if response.status != 200:
        stream.body = json.load(response)
        stream.ended.set()
        return stream
    # the first frame (retry:) is written once the stream has joined the hub
    assert response.readline().startswith(b"retry: ")
    threading.Thread(target=_read, args=(stream, response), daemon=True).start()
    return stream
