"""Rewrite imports and module paths after the house move of issue 14 (cloud/ by context).

    .venv/bin/python scripts/house_move.py [FILE ...]

Rewrites ``from cloud.api.devices import x``, ``from cloud.access import scope, guard``,
dotted names in strings (``monkeypatch.setattr("cloud.api.db.x", ...)``, logger names) and
``cloud/api/x.py`` paths in the given files (default: every tracked .py, .md, .toml and .sh
file outside cloud/store and cloud/migrations). MAP is the whole old -> new module mapping;
a branch made before the move runs this once after merging it. The bare package
``cloud.api`` (now ``cloud.app``) is rewritten only in ``from cloud.api import ...``.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

MAP = {
    # HTTP plumbing
    "cloud.api.db": "cloud.http.db",
    "cloud.api.problems": "cloud.http.problems",
    "cloud.api.paging": "cloud.http.paging",
    "cloud.api.encoding": "cloud.http.encoding",
    "cloud.api.schemas": "cloud.http.schemas",
    "cloud.api.docs": "cloud.http.docs",
    "cloud.api.server": "cloud.server",
    "cloud.ingest.worker": "cloud.worker",
    # devices
    "cloud.api.devices": "cloud.devices.views.devices",
    "cloud.api.unknown_devices": "cloud.devices.views.unknown_devices",
    "cloud.api.history": "cloud.devices.views.history",
    "cloud.api.fleet": "cloud.devices.views.fleet",
    "cloud.api.owners": "cloud.devices.owners",
    "cloud.api.device_import": "cloud.devices.csv_import",
    "cloud.api.history_queries": "cloud.devices.history",
    "cloud.api.device_schemas": "cloud.devices.schemas.devices",
    "cloud.api.history_schemas": "cloud.devices.schemas.history",
    # commands
    "cloud.api.commands": "cloud.commands.views.commands",
    "cloud.api.leases": "cloud.commands.views.leases",
    "cloud.api.command_keys": "cloud.commands.views.command_keys",
    "cloud.api.command_schemas": "cloud.commands.schemas",
    "cloud.dispatch.command_keys": "cloud.commands.keys",
    "cloud.dispatch.dispatcher": "cloud.commands.dispatcher",
    "cloud.dispatch.errors": "cloud.commands.errors",
    "cloud.dispatch.outbox": "cloud.commands.outbox",
    "cloud.dispatch.publisher": "cloud.commands.publisher",
    # rules
    "cloud.api.alarms": "cloud.rules.views.alarms",
    "cloud.api.alarm_profiles": "cloud.rules.views.alarm_profiles",
    "cloud.api.geofences": "cloud.rules.views.geofences",
    "cloud.api.geofence_events": "cloud.rules.views.geofence_events",
    "cloud.api.alarm_queries": "cloud.rules.alarms",
    "cloud.api.alarm_schemas": "cloud.rules.schemas.alarms",
    "cloud.api.geofence_schemas": "cloud.rules.schemas.geofences",
    # notify
    "cloud.api.webhooks": "cloud.notify.views.webhooks",
    "cloud.api.webhook_schemas": "cloud.notify.schemas",
    # tenancy
    "cloud.api.operators": "cloud.tenancy.views.operators",
    "cloud.api.stores": "cloud.tenancy.views.stores",
    "cloud.api.transfers": "cloud.tenancy.views.transfers",
    "cloud.api.operator_schemas": "cloud.tenancy.schemas.operators",
    "cloud.api.store_schemas": "cloud.tenancy.schemas.stores",
    "cloud.access.scope": "cloud.identity.scope",
    # identity
    "cloud.api.auth": "cloud.identity.views.auth",
    "cloud.api.auth_totp": "cloud.identity.views.auth_totp",
    "cloud.api.tokens": "cloud.identity.views.tokens",
    "cloud.api.accounts": "cloud.identity.views.accounts",
    "cloud.api.roles": "cloud.identity.views.roles",
    "cloud.api.audit": "cloud.identity.views.audit",
    "cloud.api.auth_proof": "cloud.identity.proof",
    "cloud.api.account_schemas": "cloud.identity.schemas.accounts",
    "cloud.api.auth_schemas": "cloud.identity.schemas.auth",
    "cloud.access.accounts": "cloud.identity.accounts",
    "cloud.access.guard": "cloud.identity.guard",
    "cloud.access.objects": "cloud.identity.objects",
    "cloud.access.passwords": "cloud.identity.passwords",
    "cloud.access.permissions": "cloud.identity.permissions",
    "cloud.access.principal": "cloud.identity.principal",
    "cloud.access.throttle": "cloud.identity.throttle",
    "cloud.access.totp": "cloud.identity.totp",
    # platform
    "cloud.api.health": "cloud.platform.views.health",
    "cloud.api.dead_letters": "cloud.platform.views.dead_letters",
    "cloud.api.broker_auth": "cloud.platform.views.broker_auth",
    "cloud.api.broker_credentials": "cloud.platform.views.broker_credentials",
    "cloud.doctor": "cloud.platform.doctor",
    "cloud.broker.accounts": "cloud.platform.broker_accounts",
    "cloud.broker.files": "cloud.platform.broker_files",
    "cloud.broker.rules": "cloud.platform.broker_rules",
    # packages themselves
    "cloud.api": "cloud.app",  # its __init__ (create_app) becomes cloud/app.py
    "cloud.dispatch": "cloud.commands",
}
OLD_PACKAGES = {"cloud.api", "cloud.access", "cloud.dispatch", "cloud.broker"}


def path_of(mod: str) -> str:
    """The file of a new module."""
    return (
        "cloud/commands/__init__.py" if mod == "cloud.commands" else mod.replace(".", "/") + ".py"
    )


FROM_RE = re.compile(
    r"^(?P<ind>[ \t]*)from (?P<mod>cloud(?:\.\w+)+) import (?P<names>\([^)]*\)|[^\n]+)", re.M
)


def rewrite_from(m):
    ind, mod, names = m["ind"], m["mod"], m["names"]
    if mod in MAP and mod not in OLD_PACKAGES and mod != "cloud.dispatch":
        return m.group(0).replace(f"from {mod} import", f"from {MAP[mod]} import", 1)
    raw = names.strip()
    if raw.startswith("("):
        raw = raw[1:-1]
    raw = re.sub(r"#[^\n]*", "", raw)
    items = [x.strip() for x in raw.replace("\n", " ").split(",") if x.strip()]
    if not any(f"{mod}.{i.split(' as ')[0].strip()}" in MAP for i in items) and mod not in MAP:
        return m.group(0)
    groups = {}
    for item in items:
        name, _, alias = item.partition(" as ")
        name, alias = name.strip(), alias.strip()
        full = f"{mod}.{name}"
        if full in MAP:
            parent, leaf = MAP[full].rsplit(".", 1)
            shown = alias or name
            entry = leaf if shown == leaf else f"{leaf} as {shown}"
        else:
            parent = MAP.get(mod, mod)
            entry = item
        groups.setdefault(parent, []).append(entry)
    lines = []
    for parent, entries in groups.items():
        line = f"{ind}from {parent} import {', '.join(entries)}"
        if len(line) > 99:
            line = (
                f"{ind}from {parent} import (\n"
                + "".join(f"{ind}    {e},\n" for e in entries)
                + f"{ind})"
            )
        lines.append(line)
    return "\n".join(lines)


KEYS = sorted((k for k in MAP if k not in ("cloud.api", "cloud.dispatch")), key=len, reverse=True)
DOT_RE = re.compile(r"(?<![\w/])cloud(?:\.\w+)+")
PATH_RE = re.compile(r"(?<![\w.])cloud(?:/\w+)+\.py")


def rewrite_dotted(m):
    tok = m.group(0)
    for k in KEYS:
        if tok == k or tok.startswith(k + "."):
            return MAP[k] + tok[len(k) :]
    return tok


def rewrite_path(m):
    tok = m.group(0)
    mod = tok[:-3].replace("/", ".")
    if mod.endswith(".__init__"):
        pkg = mod[: -len(".__init__")]
        if pkg in ("cloud.api", "cloud.dispatch"):
            return path_of(MAP[pkg])
        return tok
    if mod in MAP:
        return path_of(MAP[mod])
    return tok


def rewrite_text(text):
    text = FROM_RE.sub(rewrite_from, text)
    text = DOT_RE.sub(rewrite_dotted, text)
    text = PATH_RE.sub(rewrite_path, text)
    return text


def files():
    out = subprocess.run(
        ["git", "ls-files"], capture_output=True, text=True, check=True
    ).stdout.split()
    for f in out:
        if f.startswith(("cloud/store/", "cloud/migrations/")):
            continue
        if f.endswith((".py", ".md", ".toml", ".sh", ".cfg", ".ini", ".yml", ".yaml")) or f in (
            "run-tests",
            "voltrent",
        ):
            yield pathlib.Path(f)


if __name__ == "__main__":
    for f in [pathlib.Path(a) for a in sys.argv[1:]] or list(files()):
        text = f.read_text()
        new = rewrite_text(text)
        if new != text:
            f.write_text(new)
            print("rewrote", f)
