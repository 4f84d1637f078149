"""One HTTP POST of one delivery, with the standard library, in a worker thread.

urllib blocks, so the notifier calls post() through a thread pool of its own: the event
loop never waits on a receiver, and a receiver that hangs holds one thread until the
timeout, never the loop or other webhooks. Redirects are not followed: urllib would turn a
redirected POST into a GET without the body, and a 2xx for that would count a delivery that
never happened; a 3xx is a failed attempt like any other non-2xx.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

USER_AGENT = "VoltRent-Webhooks/1"
# How much of an error answer's body is kept in last_error, to help whoever fixes it.
ERROR_BODY_BYTES = 300


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: the HTTP status (None when there was no answer) and why not."""

    status: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> Outcome:
    """POST ``body`` to ``url``; never raises for what the receiver or the network does."""
    request = urllib.request.Request(
        url, data=body, headers={"User-Agent": USER_AGENT, **headers}, method="POST"
    )
    try:
        with _opener.open(request, timeout=timeout_s) as response:
            return Outcome(response.status)
    except urllib.error.HTTPError as err:
        return Outcome(err.code, _http_error(err))
    except urllib.error.URLError as err:
        return Outcome(None, f"cannot reach {_host(url)}: {err.reason}")
    except TimeoutError:
        return Outcome(None, f"no answer from {_host(url)} within {timeout_s:g} s")
    except (OSError, http.client.HTTPException, ValueError) as err:
        # ValueError: a URL urllib cannot use (the API refuses them; SQL could store one)
        return Outcome(None, f"{_host(url)}: {type(err).__name__}: {err}".rstrip(": "))


def _http_error(err: urllib.error.HTTPError) -> str:
    text = f"HTTP {err.code} {err.reason}"
    if 300 <= err.code < 400 and err.headers.get("Location"):
        return f"{text}: redirects to {err.headers['Location']} (not followed)"
    try:
        answer = err.read(ERROR_BODY_BYTES).decode("utf-8", "replace").strip()
    except (OSError, http.client.HTTPException):
        answer = ""
    finally:
        err.close()
    return f"{text}: {answer}" if answer else text


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return url
