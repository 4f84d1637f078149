"""Every endpoint's access rule, checked before the request reaches its view, and the audit
row of every state-changing request.

A view method is marked with ``@requires("device.read")``, ``@signed_in`` (any caller with a
full session or token), ``@second_factor`` (also a session that still owes its second
factor: the TOTP steps) or ``@public``. An endpoint without a mark answers 403: a new
endpoint is closed until someone decides who may use it. The check runs in
``before_request``, so a caller without the permission gets 401/403 before the body is
validated or anything is read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from flask import Flask, Response, after_this_request, current_app, g, request
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from cloud.http.db import database
from cloud.http.problems import problem
from cloud.identity import audit, browser
from cloud.identity.objects import NOT_OBJECTS, OBJECTS
from cloud.identity.permissions import OPERATOR_WIDE, PERMISSIONS
from cloud.identity.principal import Principal, authenticate, principal
from cloud.text import storable_text

__all__ = [
    "install", "note", "principal", "public", "requires", "second_factor", "signed_in",
]  # fmt: skip

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
SIGNED_IN = "signed_in"
SECOND_FACTOR = "second_factor"
SECURITY_SCHEME = "bearer"
# Endpoints open to anyone: flask-smorest's spec and Swagger UI page with their assets, and
# the console's page frames and files, which hold no data (every datum comes from /api).
_PUBLIC_BLUEPRINTS = {"api-docs", "swagger-ui-assets", "console"}
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def _mark(func: F, rule: str, description: str | None) -> F:
    func._access = rule  # type: ignore[attr-defined]
    if rule != PUBLIC:
        apidoc = func.__dict__.setdefault("_apidoc", {})
        manual = apidoc.setdefault("manual_doc", {})
        manual["security"] = [{SECURITY_SCHEME: []}]
        manual["x-permission"] = rule
        if description:
            doc = (func.__doc__ or "").rstrip()
            func.__doc__ = f"{doc}\n\n{description}" if doc else description
    return func


def requires(permission: str) -> Callable[[F], F]:
    """The caller needs ``permission`` (from permissions.PERMISSIONS)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    return lambda func: _mark(func, permission, f"Needs the permission `{permission}`.")


def signed_in(func: F) -> F:
    """Any signed-in caller (its second factor done)."""
    return _mark(func, SIGNED_IN, "Needs a signed-in caller.")


def second_factor(func: F) -> F:
    """A signed-in caller, also one whose session still owes its second factor."""
    return _mark(func, SECOND_FACTOR, "Needs a session (also one owing its second factor).")


def public(func: F) -> F:
    """Anyone, signed in or not."""
    return _mark(func, PUBLIC, None)


def rule_of(app: Flask, endpoint: str, method: str) -> str | None:
    """The access rule of ``endpoint`` for ``method``; None: it has none."""
    view = app.view_functions.get(endpoint)
    if view is None:
        return None
    if endpoint.partition(".")[0] in _PUBLIC_BLUEPRINTS:
        return PUBLIC
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        handler = getattr(view_class, "get" if method == "HEAD" else method.lower(), None)
    else:
        handler = view
    return getattr(handler, "_access", None)


def _unauthorized(detail: str) -> Response:
    return problem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="voltrent"'})


def _check() -> Response | None:
    if request.endpoint is None or request.method == "OPTIONS":
        return None  # 404 / 405 / automatic OPTIONS: Flask answers, nothing is read
    rule = rule_of(current_app, request.endpoint, request.method)
    if rule is None:
        log.error("endpoint %s %s has no access rule", request.method, request.endpoint)
        return problem(403, "This endpoint has no access rule yet, so nobody may use it.")
    secret, by_cookie = browser.credential()
    if secret is None:
        if rule == PUBLIC:
            return None
        return _unauthorized("Sign in first: send 'Authorization: Bearer <session or token>'.")
    if by_cookie and rule == PUBLIC:
        return None  # a public endpoint (signing in) needs no session: a stale cookie is moot
    if by_cookie and request.method not in _READ_METHODS and not browser.csrf_matches():
        return problem(403, browser.NO_CSRF)
    # one connection for the credential and every object the path names
    with database().connection(scoped=False) as conn:
        who = g.principal = authenticate(conn, secret, request.remote_addr)
        if who is None:
            if by_cookie:  # a browser stops sending a cookie that no longer works
                after_this_request(browser.forget)
            return _unauthorized("The session or token is unknown, expired or revoked.")
        if rule == PUBLIC:
            return None
        if who.stage != "full" and rule != SECOND_FACTOR:
            if who.via == "token":  # only an operator's new second-factor rule stops a token
                return problem(
                    403, f"The operator of {who.login} requires a second factor, which it has"
                    " not set up: its API tokens work again once it has (POST"
                    " /api/auth/totp/enrol, from a session).",
                )  # fmt: skip
            step = "confirm" if who.stage == "totp" else "enrol in"
            return problem(403, f"This session must first {step} its second factor (TOTP).")
        if rule not in (SIGNED_IN, SECOND_FACTOR) and not who.can(rule):
            return _lacks(who, rule)
        return _objects_in_scope(conn, who)


def _lacks(who: Principal, permission: str) -> Response:
    if who.store_id is not None and permission in OPERATOR_WIDE:
        return problem(403, f"This needs the permission '{permission}', which no account of a"
                            f" store has ({who.login} is one of store {who.store_id}): it acts"
                            " on the whole operator, beyond the store.")  # fmt: skip
    return problem(
        403, f"This needs the permission '{permission}', which {who.login} does not have."
    )


def _objects_in_scope(conn: psycopg.Connection[DictRow], who: Principal) -> Response | None:
    """404 for a path parameter naming an object outside the caller's subtree."""
    for name, value in (request.view_args or {}).items():
        rule = OBJECTS.get(name)
        if rule is None:
            if name in NOT_OBJECTS:
                continue
            log.error("path parameter %r of %s has no scope rule", name, request.endpoint)
            return problem(500, f"The path parameter {name!r} has no scope rule.")
        params = {"value": value, "tenant": who.operator_id, "store": who.store_id}
        if conn.execute(rule.sql, params).fetchone() is None:
            return problem(404, f"no {rule.noun} {value!r}")
    return None


def note(**detail: Any) -> None:
    """Add to the audit row of this request (e.g. the login a sign-in tried)."""
    g.setdefault("audit", {}).update(detail)


def _audit(response: Response) -> Response:
    if request.method in _READ_METHODS or request.endpoint is None:
        return response
    who: Principal | None = g.get("principal")
    extra = dict(g.get("audit") or {})
    actor = extra.pop("actor", None)
    rule = request.url_rule.rule if request.url_rule else request.path
    row = {
        "operator_id": who.operator_id if who else extra.pop("operator_id", None),
        "account_id": who.account_id if who else extra.pop("account_id", None),
        "actor": who.actor if who else (actor or "anonymous"),
        "via": who.via if who else "anonymous",
        "action": f"{request.method} {rule}",
        # a NUL in the path or User-Agent was refused with a 400; its row is still written
        "target": storable_text(request.path),
        "status": response.status_code,
        "ip": request.remote_addr,
        "user_agent": storable_text(request.user_agent.string[:300]) or None,
        "detail": Jsonb(extra) if extra else None,
    }
    try:
        with database().connection(scoped=False) as conn:
            audit.write(conn, row)
    except Exception:  # the answer stands; the gap is logged loudly
        log.exception("could not write the audit row of %s %s", request.method, request.path)
    return response


def install(app: Flask, spec: Any) -> None:
    """Check every request against its endpoint's rule; audit every state-changing one."""
    app.before_request(_check)
    app.after_request(_audit)
    spec.components.security_scheme(
        SECURITY_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A session from POST /api/auth/sign-in, or an API token",
        },
    )
