"""Sessions carried by a browser: an HttpOnly cookie for the session's secret and a CSRF token.

The console signs in with ``"cookie": true``: the session's secret then travels only in the
``vr_session`` cookie (HttpOnly, so no script can read it; SameSite=Strict, so no other
site's page sends it), never in an answer. Because a browser attaches that cookie by itself,
a state-changing request that authenticates with it must also carry the ``X-CSRF-Token``
header equal to the ``vr_csrf`` cookie (double submit: a script of this origin can read that
cookie, a page of another origin can neither read it nor set the header). A request with
``Authorization: Bearer`` never looks at cookies.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

from flask import Response, request

SESSION_COOKIE = "vr_session"
CSRF_COOKIE = "vr_csrf"
CSRF_HEADER = "X-CSRF-Token"
NO_CSRF = (
    f"This request carries the session cookie but not the {CSRF_HEADER} header matching the"
    f" {CSRF_COOKIE} cookie: a state-changing request from the console must send it."
)


def credential() -> tuple[str | None, bool]:
    """The request's bearer secret, else its session cookie; and whether it came by cookie."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return secret.strip(), False
    cookie = request.cookies.get(SESSION_COOKIE, "").strip()
    return (cookie, True) if cookie else (None, False)


def csrf_matches() -> bool:
    """The header's CSRF token equals the cookie's (compared in constant time)."""
    sent = request.headers.get(CSRF_HEADER, "")
    kept = request.cookies.get(CSRF_COOKIE, "")
    return bool(sent and kept) and hmac.compare_digest(sent.encode(), kept.encode())


def keep(response: Response, secret: str, expires_at: datetime) -> Response:
    """Put a new session's secret and a fresh CSRF token in cookies that end with it."""
    common = {"expires": expires_at, "path": "/", "samesite": "Strict", "secure": request.is_secure}
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, **common)  # type: ignore[arg-type]
    csrf = secrets.token_urlsafe(32)
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, **common)  # type: ignore[arg-type]
    return response


def forget(response: Response) -> Response:
    """Delete both cookies (signed out, or the session no longer works)."""
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", samesite="Strict", secure=request.is_secure)
    return response
