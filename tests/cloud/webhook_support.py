"""A real webhook receiver for the notification tests (no tests here): an HTTP server in a
thread that checks every signature, a port nothing listens on, and a webhook row.

The receivers listen on 127.0.0.1, which webhooks may not reach by default (it is the cloud's
own machine): a notifier, worker or API that must deliver to them is given
``LOCAL_RECEIVERS`` as its allow list, as an operator would list an on-premise receiver."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg

from cloud.allow_list import AllowList
from cloud.notify import verify

SECRET = "s3cret-for-tests-0123456789"
# VOLTRENT_WEBHOOK_ALLOW for the receivers here, and the same parsed.
LOCAL_RECEIVERS_ENV = "127.0.0.1"
LOCAL_RECEIVERS = AllowList.parse(LOCAL_RECEIVERS_ENV)


@dataclass(frozen=True)
class Received:
    path: str
    delivery: str
    event: str
    timestamp: str
    signature: str
    body: bytes
    verified: bool
    host: str

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """An HTTP server in a thread that checks each POST's signature with the secret of its
    path and answers 200, or the statuses queued in ``answers`` (by delivery id or path),
    with ``reply_headers`` and ``reply_body``."""

    def __init__(self, secrets: dict[str, str] | None = None, *, port: int = 0) -> None:
        self.secrets = secrets if secrets is not None else {}
        self.answers: dict[str, list[int]] = {}
        self.received: list[Received] = []
        self.reply_headers: dict[str, str] = {}
        self.reply_body = b"ok"
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver._record(self.path, self.headers, body)
                self.send_response(status)
                for name, value in receiver.reply_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.reply_body)))
                self.end_headers()
                self.wfile.write(receiver.reply_body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _record(self, path: str, headers: Any, body: bytes) -> int:
        delivery, timestamp = headers["X-VoltRent-Delivery"], headers["X-VoltRent-Timestamp"]
        signature = headers["X-VoltRent-Signature"]
        verified = headers["Content-Type"] == "application/json" and verify(
            self.secrets.get(path, SECRET), timestamp, body, signature
        )
        event = headers["X-VoltRent-Event"]
        with self._lock:
            self.received.append(Received(path, delivery, event, timestamp, signature, body,
                                          verified, headers["Host"]))  # fmt: skip
            for key in (delivery, path):
                if self.answers.get(key):
                    return self.answers[key].pop(0)
        return 200

    def got(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if path is None or r.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A port nothing listens on (connections are refused), free to listen on later."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def add_webhook(conn: psycopg.Connection, url: str, **columns: Any) -> int:
    row = {"name": "hook", "secret": SECRET, "types": None, "min_severity": "info",
           "operator": None, "enabled": True, **columns}  # fmt: skip
    return conn.execute(
        """INSERT INTO webhook (name, url, secret, types, min_severity, operator, enabled)
           VALUES (%(name)s, %(url)s, %(secret)s, %(types)s, %(min_severity)s, %(operator)s,
                   %(enabled)s) RETURNING id""",
        {**row, "url": url},
    ).fetchone()[0]
