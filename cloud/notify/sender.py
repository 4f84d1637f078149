"""One HTTP POST of one delivery, with the standard library, in a worker thread.

http.client blocks, so the notifier calls post() through a thread pool of its own: the event
loop never waits on a receiver, and a receiver that hangs holds one thread until the
timeout, never the loop or other webhooks.

The URL is checked first (destinations.py): its host is resolved once, and the connection
goes to an address that passed the check, with the URL's host in the Host header and in
TLS's SNI and certificate check, so a DNS answer that changes in between cannot turn the
request towards the cloud's own network. Redirects are not followed (a 3xx is a failed
attempt like any other non-2xx): following one would reach an unchecked address, and a
redirected POST turns into a GET without the body. Nothing of an answer's body is kept:
``last_error`` is the status and reason phrase only, so a webhook cannot be used to read
what some server answers.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from cloud.allow_list import AllowList
from cloud.notify.destinations import Destination, Refused, Unresolved, resolve

USER_AGENT = "VoltRent-Webhooks/1"
# A reason phrase is a few words; a longer one is cut, it is no channel for an answer.
MAX_REASON = 60


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: the HTTP status (None when there was no answer) and why not."""

    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP connection to the checked addresses of a host, not to whatever the host
    resolves to by the time it connects."""

    def __init__(self, destination: Destination, timeout_s: float) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout_s)
        self.addresses = destination.addresses

    def connect(self) -> None:
        self.sock = self._open()

    def _open(self) -> socket.socket:
        error: OSError | None = None
        for address in self.addresses:
            try:
                sock = socket.create_connection((address, self.port), self.timeout)
            except OSError as err:  # refused or timed out: the next checked address
                error = err
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        assert error is not None  # resolve() returns at least one address
        raise error


class _PinnedTLSConnection(_PinnedConnection):
    default_port = http.client.HTTPS_PORT
    _tls = ssl.create_default_context()

    def connect(self) -> None:
        self.sock = self._tls.wrap_socket(self._open(), server_hostname=self.host)


def post(
    url: str, body: bytes, headers: dict[str, str], timeout_s: float, allow: AllowList
) -> Outcome:
    """POST ``body`` to ``url`` if ``allow`` lets it go there; never raises for what the
    receiver, the network or the URL does."""
    try:
        destination = resolve(url, allow)
    except Refused as err:
        return Outcome(None, f"refused: {err}")
    except Unresolved as err:
        return Outcome(None, str(err))
    except ValueError as err:  # a URL that cannot be parsed (the API refuses them; SQL not)
        return Outcome(None, f"{_host(url)}: {type(err).__name__}: {err}".rstrip(": "))
    kind = _PinnedTLSConnection if destination.scheme == "https" else _PinnedConnection
    connection = kind(destination, timeout_s)
    try:
        connection.request(
            "POST", destination.target, body=body, headers={"User-Agent": USER_AGENT, **headers}
        )
        response = connection.getresponse()
        if 200 <= response.status < 300:
            return Outcome(response.status)
        return Outcome(response.status, _status_line(response))
    except TimeoutError:
        return Outcome(None, f"no answer from {destination.netloc} within {timeout_s:g} s")
    except (OSError, http.client.HTTPException, ValueError) as err:
        return Outcome(None, f"cannot reach {destination.netloc}: {_said(err)}")
    finally:
        connection.close()


def _status_line(response: http.client.HTTPResponse) -> str:
    reason = "".join(c for c in response.reason if c.isprintable())[:MAX_REASON].strip()
    text = f"HTTP {response.status} {reason}".rstrip()
    if 300 <= response.status < 400:
        return f"{text} (redirects are not followed)"
    return text


def _said(err: Exception) -> str:
    return f"{type(err).__name__}: {err}".rstrip(": ") if str(err) else type(err).__name__


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return url
