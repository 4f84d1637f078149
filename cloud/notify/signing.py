"""Signing webhook deliveries, and how a receiver checks them.

Every delivery is an HTTP POST of a JSON body with these headers:

    Content-Type: application/json
    X-VoltRent-Delivery: 42                the notification's id, the same on every retry
    X-VoltRent-Event: raised               raised | repeated | cleared | resolved | test
    X-VoltRent-Timestamp: 1763910300       Unix seconds when this attempt was signed
    X-VoltRent-Signature: sha256=5d41...   hex HMAC-SHA256, see below

The signature is HMAC-SHA256, keyed with the webhook's secret (UTF-8), over the timestamp
header's text, a ``.``, and the raw body bytes: ``hmac(secret, b"1763910300." + body)``.
The timestamp is inside the signed text so that a captured request cannot be replayed later
under a fresh timestamp. A receiver verifies a delivery so:

1. Take the body as the raw bytes received, before any JSON parsing (parsing and writing it
   again changes the bytes, and the signature with them).
2. Compute ``hex(HMAC-SHA256(secret, timestamp + "." + body))`` and compare it with the
   signature header after its ``sha256=`` prefix, in constant time (``hmac.compare_digest``).
3. Refuse a timestamp more than a few minutes away from its own clock (a replay).
4. Deliveries are at least once: a retry after a lost answer comes again with the same
   ``X-VoltRent-Delivery``; keep the ids seen in the last day and ignore repeats.
5. Answer any 2xx quickly (within 5 s); anything else, or no answer, is retried with backoff.

In Python, with this module: ``verify(secret, request.headers["X-VoltRent-Timestamp"],
request.get_data(), request.headers["X-VoltRent-Signature"])``.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SCHEME = "sha256="
# How far a receiver's clock and the timestamp may be apart before verify() refuses it.
DEFAULT_TOLERANCE_S = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-VoltRent-Signature`` value of ``body`` signed at ``timestamp`` (Unix s)."""
    signed = f"{timestamp}.".encode() + body
    return SCHEME + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """Whether ``signature`` is ours for ``body`` and ``timestamp`` is within tolerance.

    ``timestamp`` and ``signature`` are the header values as received; ``now`` defaults to
    the current Unix time.
    """
    try:
        moment = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - moment) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")
