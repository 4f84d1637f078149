"""``voltrent cloud doctor``: what the cloud runs on and what is misconfigured.

Every check prints one line: ``ok``, ``warn`` or ``FAIL``, what was found, and for the last
two what to do. The exit status is 1 when any check fails.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from cloud.config import CloudConfig
from cloud.errors import CloudError, ConfigError
from cloud.mqtt_client import new_client
from cloud.store import partitions, timescale
from cloud.store.db import connect, describe
from cloud.store.migrate import migrations, repeatables, store_layout
from protocols.contract.signing import fingerprint

STALE_WORKER_S = 120


@dataclass(frozen=True)
class Finding:
    level: str  # "ok", "warn", "FAIL"
    subject: str
    text: str


def check_store(config: CloudConfig) -> list[Finding]:
    """The database: reachable, version, layout, migrations, partitions, backlog, workers."""
    where = describe(config.database_url)
    try:
        conn = connect(config.database_url, autocommit=True, timeout_s=5)
    except CloudError as err:
        return [Finding("FAIL", "database", f"{err} (set DATABASE_URL)")]
    findings: list[Finding] = []
    with conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        findings.append(Finding("ok", "database", f"{where}: PostgreSQL {version}"))
        layout = store_layout(conn)
        ts_version = timescale.version(conn)
        if layout is None:
            findings.append(Finding("FAIL", "schema", "not migrated: run `voltrent cloud migrate`"))
            return findings
        if layout == "timescale":
            findings.append(
                Finding("ok", "layout", f"TimescaleDB {ts_version}: hypertables, compression"
                        " and retention")
            )  # fmt: skip
        else:
            extra = (
                " (timescaledb is available on this server but this database was set up without it)"
                if timescale.available(conn)
                else " (timescaledb not available on this server)"
            )
            findings.append(
                Finding("ok", "layout", "plain PostgreSQL: day partitions kept by the"
                        f" worker{extra}")
            )  # fmt: skip
        findings += _migrations(conn, layout)
        if findings[-1].level == "FAIL":
            return findings
        if layout == "partitioned":
            findings += _partitions(conn, config)
        findings += _ingest(conn)
        findings += _rules(conn)
        findings += _access(conn, config)
    return findings


def _access(conn: psycopg.Connection, config: CloudConfig) -> list[Finding]:
    """Who can sign in, and whether the API's requests run under row-level security."""
    operators, accounts, admins = conn.execute(
        """SELECT (SELECT count(*) FROM operator),
                  (SELECT count(*) FROM account WHERE disabled_at IS NULL),
                  (SELECT count(*) FROM account a JOIN account_role ar ON ar.account_id = a.id
                   JOIN role r ON r.id = ar.role_id
                   WHERE a.operator_id = 1 AND r.operator_id = 1 AND '*' = ANY (r.permissions)
                     AND a.disabled_at IS NULL)"""
    ).fetchone()
    level = "ok" if admins else "warn"
    detail = f"{operators} operators, {accounts} active accounts, {admins} platform administrators"
    if not admins:
        detail += ": nobody can manage the platform; run `voltrent cloud account create LOGIN`"
    out = [Finding(level, "accounts", detail)]
    guarded = conn.execute(
        "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
        " AND relrowsecurity"
    ).fetchone()[0]
    role = config.api_db_role
    if not role:
        out.append(Finding("warn", "row security", "off (VOLTRENT_API_DB_ROLE is empty): the"
                           " API's own filters are the only wall between operators"))  # fmt: skip
        return out
    member = conn.execute(
        "SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = %s",
        (role,),
    ).fetchone()
    if member is None or not member[0]:
        why = "does not exist" if member is None else f"is not granted to {conn.info.user}"
        out.append(Finding("FAIL", "row security", f"role {role} {why}: signed-in requests will"
                           " fail (README, Row-level security)"))  # fmt: skip
    else:
        out.append(Finding("ok", "row security", f"signed-in requests run as {role};"
                           f" {guarded} tables have policies"))  # fmt: skip
    return out


def _rules(conn: psycopg.Connection) -> list[Finding]:
    """Fences, open alarms, and webhook deliveries that wait or gave up."""
    fences, assigned = conn.execute(
        "SELECT (SELECT count(*) FROM geofence), (SELECT count(DISTINCT device_id)"
        " FROM geofence_assignment)"
    ).fetchone()
    alarms = dict(conn.execute(
        "SELECT severity, count(*) FROM alarm WHERE state = 'open' GROUP BY severity"
    ).fetchall())  # fmt: skip
    shown = ", ".join(f"{alarms.get(s, 0)} {s}" for s in ("critical", "warning", "info"))
    out = [
        Finding("ok", "rules", f"{fences} fences on {assigned} devices; open alarms: {shown}"),
    ]
    hooks, pending, failed, oldest = conn.execute(
        """SELECT (SELECT count(*) FROM webhook WHERE enabled),
                  count(*) FILTER (WHERE state = 'pending'),
                  count(*) FILTER (WHERE state = 'failed'),
                  extract(epoch FROM now() - min(created_at) FILTER (WHERE state = 'pending'))
           FROM alarm_notification"""
    ).fetchone()
    level = "warn" if failed or (oldest or 0) > 600 else "ok"
    detail = f"{hooks} enabled webhooks, {pending} deliveries pending"
    if oldest:
        detail += f" (oldest {oldest:.0f} s)"
    if failed:
        detail += f", {failed} given up (GET /api/webhooks/{{id}}/deliveries?state=failed)"
    out.append(Finding(level, "webhooks", detail))
    return out


def _migrations(conn: psycopg.Connection, layout: str) -> list[Finding]:
    applied = dict(conn.execute("SELECT name, checksum FROM schema_migration").fetchall())
    steps = migrations(layout)
    pending = [s.name for s in steps if s.name not in applied]
    edited = [s.name for s in steps if s.name in applied and s.edited_since(applied[s.name])]
    # a repeatable file is pending until the store has applied its current text
    repeated: dict[str, str] = {}
    table = conn.execute("SELECT to_regclass('schema_repeatable')").fetchone()
    if table and table[0] is not None:
        repeated = dict(conn.execute("SELECT name, checksum FROM schema_repeatable").fetchall())
    pending += [
        f"repeatable/{r.name}" for r in repeatables(layout) if repeated.get(r.name) != r.checksum
    ]
    out = []
    if pending:
        out.append(
            Finding("FAIL", "schema", f"{len(pending)} migrations pending ({', '.join(pending)}):"
                    " run `voltrent cloud migrate`")
        )  # fmt: skip
    else:
        out.append(
            Finding("ok", "schema", f"{len(steps)} migrations applied, and"
                    f" {len(repeatables(layout))} repeatable files")
        )  # fmt: skip
    if edited:
        out.append(
            Finding("warn", "schema", f"edited after they were applied: {', '.join(edited)}")
        )
    return out


def _partitions(conn: psycopg.Connection, config: CloudConfig) -> list[Finding]:
    days = partitions.existing_days(conn)
    today = datetime.now(UTC).date()
    ahead = [today + timedelta(days=n) for n in range(config.partitions_ahead_days + 1)]
    missing = [d for d in ahead if d not in days]
    if missing:
        return [
            Finding("warn", "partitions", f"no partition yet for {', '.join(map(str, missing))}:"
                    " is a worker running? (it creates them hourly; ingest creates any day it"
                    " needs)")
        ]  # fmt: skip
    return [
        Finding("ok", "partitions", f"{len(days)} days, {min(days)} .. {max(days)}; retention"
                f" {config.retention_days} days")
    ]  # fmt: skip


def _ingest(conn: psycopg.Connection) -> list[Finding]:
    out = []
    letters = conn.execute(
        "SELECT count(*) FROM dead_letter WHERE received_at > now() - INTERVAL '24 hours'"
    ).fetchone()[0]
    unknown = conn.execute("SELECT count(*) FROM unknown_device").fetchone()[0]
    out.append(
        Finding("ok" if not letters else "warn", "dead letters", f"{letters} in the last 24 h"
                + (" (GET /api/dead-letters says why)" if letters else ""))
    )  # fmt: skip
    if unknown:
        out.append(
            Finding("warn", "devices", f"{unknown} unknown devices are publishing: register them"
                    " (GET /api/unknown-devices)")
        )  # fmt: skip
    workers = conn.execute(
        """SELECT client_id, extract(epoch FROM now() - updated_at), shared_subscription,
                  counters FROM worker_status ORDER BY client_id"""
    ).fetchall()
    live = [w for w in workers if w[1] < STALE_WORKER_S]
    if not live:
        out.append(Finding("warn", "workers", "no ingest worker reported in the last 2 min"))
    for client_id, age, shared, counters in live:
        dead = counters.get("dead_letters", 0)
        role = ", dispatcher leader" if counters.get("dispatch_leader") else ""
        out.append(
            Finding("ok", "worker", f"{client_id}: {counters.get('mqtt_acked', 0)} messages,"
                    f" {counters.get('samples_stored', 0)} samples stored, {dead} dead letters,"
                    f" {'shared' if shared else 'plain'} subscription{role}, seen {age:.0f} s ago")
        )  # fmt: skip
    if live and not any(counters.get("dispatch_leader") for *_, counters in live):
        out.append(
            Finding("warn", "dispatcher", "no live worker leads the command dispatcher:"
                    " commands and lease terms are not being sent")
        )  # fmt: skip
    waiting = conn.execute(
        """SELECT count(*) FILTER (WHERE state = 'queued'), count(*) FILTER (WHERE state = 'sent')
           FROM command WHERE expires_at > now()"""
    ).fetchone()
    out.append(
        Finding("ok", "commands", f"{waiting[0]} queued (devices offline), {waiting[1]} sent"
                " and waiting for their ack")
    )  # fmt: skip
    return out


def check_broker(config: CloudConfig, wait_s: float = 2.0) -> list[Finding]:
    """The broker: reachable, MQTT 5 (shared subscriptions), version, dropped messages."""
    settings = config.mqtt
    values: dict[str, str] = {}
    connected = threading.Event()
    result: dict[str, object] = {}

    def on_connect(client, userdata, flags, reason_code, properties):
        result["reason"] = reason_code
        connected.set()
        if not reason_code.is_failure:
            client.subscribe("$SYS/broker/#")

    def on_message(client, userdata, message):
        values[message.topic] = message.payload.decode(errors="replace")

    where = f"{settings.host}:{settings.port}"
    try:
        client = new_client(settings, f"voltrent-doctor-{time.time_ns()}", persistent=False)
    except ConfigError as err:
        return [Finding("FAIL", "broker", f"{where}: {err}")]
    client.on_connect, client.on_message = on_connect, on_message
    try:
        client.connect(settings.host, settings.port, keepalive=10)
    except OSError as err:
        return [Finding("FAIL", "broker", f"{where}: {err} (set MQTT_URL)")]
    client.loop_start()
    try:
        if not connected.wait(5):
            return [Finding("FAIL", "broker", f"{where}: no CONNACK within 5 s")]
        reason = result["reason"]
        if getattr(reason, "is_failure", False):
            return [Finding("FAIL", "broker", f"{where}: refused the connection: {reason}")]
        time.sleep(wait_s)  # $SYS values are retained: they arrive right after subscribing
    finally:
        client.disconnect()
        client.loop_stop()
    version = values.get("$SYS/broker/version", "version not published ($SYS disabled?)")
    out = [Finding("ok", "broker", f"{where}: {version}")]
    if settings.protocol == "5" and "mosquitto" in version.lower():
        out.append(
            Finding("warn", "subscription", f"MQTT 5: workers share '$share/{settings.group}/...';"
                    " but Mosquitto restores no MQTT 5 or shared subscription after its own"
                    " restart, so what devices publish before the workers reconnect is not"
                    " queued for them. With one Mosquitto, run one worker with"
                    " MQTT_PROTOCOL=3.1.1 (its session survives); to scale out, use a broker"
                    " that keeps shared sessions (EMQX, HiveMQ)")
        )  # fmt: skip
    elif settings.protocol == "5":
        out.append(
            Finding("ok", "subscription", f"MQTT 5: workers share '$share/{settings.group}/...'")
        )
    else:
        out.append(
            Finding("warn", "subscription", "MQTT 3.1.1: no shared subscription, run one worker")
        )
    dropped = values.get("$SYS/broker/publish/messages/dropped")
    if dropped is None:
        out.append(Finding("ok", "dropped", "the broker reports no dropped messages"))
    elif int(float(dropped)) > 0:
        out.append(
            Finding("warn", "dropped", f"the broker dropped {dropped} messages since it started:"
                    " raise max_queued_messages (Mosquitto) for the worker's client id")
        )  # fmt: skip
    else:
        out.append(Finding("ok", "dropped", "0 messages dropped by the broker"))
    return out


def _signing(config: CloudConfig) -> Finding:
    if config.command_key is None:
        return Finding("warn", "command signing", "off: set VOLTRENT_COMMAND_KEY (gateways"
                       " refuse unsigned commands and lease terms)")  # fmt: skip
    return Finding(
        "ok", "command signing", f"on (kid fingerprint {fingerprint(config.command_key)})"
    )


def run_doctor(config: CloudConfig) -> int:
    """Print every finding; 1 if any failed."""
    findings = [
        Finding("ok", "config", f"DATABASE_URL={describe(config.database_url)}"
                f" MQTT_URL={config.mqtt.url.split('@')[-1]} worker id {config.mqtt.client_id}")
    ]  # fmt: skip
    findings.append(_signing(config))
    findings += check_store(config)
    findings += check_broker(config)
    width = max(len(f.subject) for f in findings)
    for finding in findings:
        print(f"{finding.level:<4}  {finding.subject:<{width}}  {finding.text}")
    return 1 if any(f.level == "FAIL" for f in findings) else 0
