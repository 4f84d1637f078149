"""Cloud configuration from environment variables, with defaults that run the demo.

Every variable has one spelling; `voltrent cloud doctor` prints the effective values.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import unquote, urlsplit

from cloud.allow_list import ALLOW_VARIABLE, AllowList
from cloud.errors import ConfigError
from protocols.contract import signing

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/voltrent"
DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"
LAYOUTS = ("auto", "timescale", "partitioned")


@dataclass(frozen=True)
class MqttSettings:
    """Where the broker is and how the worker joins it."""

    url: str = DEFAULT_MQTT_URL
    ca_file: str | None = None
    # Persistent session: the broker keeps what arrives while a worker is down, per client id.
    client_id: str = field(default_factory=lambda: f"voltrent-worker-{socket.gethostname()}")
    # MQTT 5 shared subscription group: workers of one group split the load.
    group: str = "voltrent"
    # "5" or "3.1.1"; 3.1.1 brokers (amqtt) have no shared subscriptions: run one worker.
    protocol: str = "5"
    # The dispatcher's own account (the same broker, another user and password), so that
    # ingest and command publishing can be told apart and revoked apart; None: ``url``'s.
    dispatch_url: str | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def username(self) -> str | None:
        """The user in the URL, percent-decoding undone (``user%40site`` -> ``user@site``)."""
        username = urlsplit(self.url).username
        return unquote(username) if username is not None else None

    @property
    def password(self) -> str | None:
        password = urlsplit(self.url).password
        return unquote(password) if password is not None else None

    def for_dispatcher(self) -> MqttSettings:
        """The settings the dispatcher publishes with: ``dispatch_url``'s account if set."""
        return replace(self, url=self.dispatch_url) if self.dispatch_url else self


@dataclass(frozen=True)
class CloudConfig:
    """Everything the worker, the API and migrate read from the environment."""

    database_url: str = DEFAULT_DATABASE_URL
    mqtt: MqttSettings = field(default_factory=MqttSettings)
    store_layout: str = "auto"
    retention_days: int = 90
    partitions_ahead_days: int = 3
    # Samples stamped further ahead of their receive time than this are dead-lettered
    # (a device clock gone wrong would otherwise open partitions for the year 2100).
    max_clock_ahead_s: int = 86_400
    batch_max_messages: int = 500
    batch_max_wait_ms: int = 50
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    # The dispatcher's full sweep (expiry, anything a notification missed); notifications
    # make the hot path immediate, so this is only the safety net.
    dispatch_sweep_s: int = 5
    # a command sent this long ago without an ack is sent again (the device runs it once)
    resend_unacked_after_s: int = 60
    # How often a standby worker tries to become the dispatcher leader.
    dispatch_standby_retry_s: int = 2
    # Alarm and fence rules on ingest ("off" stores only: for measuring what rules cost)
    rules: bool = True
    # How often one worker looks for devices that went silent (the "offline" alarm).
    offline_sweep_s: int = 30
    # The master secret every device's command key is derived from (None: commands and
    # lease terms go out unsigned); never printed, never stored in the database.
    command_key: bytes | None = field(default=None, repr=False)
    # The database role the API's signed-in requests run as, so row-level security applies
    # ("": run as the connecting role, policies not applied: the API's own filters only).
    api_db_role: str = "voltrent_api"
    # A signed-in session ends after this long, or after this long unused.
    session_hours: int = 12
    session_idle_minutes: int = 120
    # Reverse proxies in front of the API whose X-Forwarded-For/-Proto/-Host to believe:
    # the client address the sign-in throttle and the audit log see. 0: the peer's address.
    trusted_proxies: int = 0
    # The API's waitress threads. A live stream (cloud/live/) holds its thread for as long as
    # it is open, so there are more threads than pooled connections (cloud/http/db.py), and
    # at most api_max_streams of them serve streams: the rest always answer plain requests.
    api_threads: int = 32
    api_max_streams: int = 24
    # A live stream's heartbeat (and the re-check of its caller's credential), and the
    # hub's read of the store when no NOTIFY woke it (the safety net).
    live_heartbeat_s: float = 15.0
    live_poll_s: float = 5.0
    # Webhook receivers on private networks (hosts, addresses, networks): every other
    # private, loopback or link-local address is refused (cloud/notify/destinations.py).
    webhook_allow: AllowList = field(default_factory=AllowList)
    # The console's map tiles: a URL template ({z}/{x}/{y}, {s} for a subdomain) and the
    # attribution its licence asks for. Empty: the map draws on a plain background.
    tile_url: str = ""
    tile_attribution: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CloudConfig:
        """Read the configuration; ConfigError names the variable that is wrong."""
        env = os.environ if env is None else env
        mqtt = MqttSettings(
            url=_url(env, "MQTT_URL", DEFAULT_MQTT_URL, ("mqtt", "mqtts")),
            ca_file=env.get("MQTT_CA_FILE") or None,
            client_id=env.get("VOLTRENT_WORKER_ID") or MqttSettings().client_id,
            group=env.get("VOLTRENT_WORKER_GROUP", "voltrent"),
            protocol=_choice(env, "MQTT_PROTOCOL", "5", ("5", "3.1.1")),
            dispatch_url=(
                _url(env, "MQTT_DISPATCH_URL", "", ("mqtt", "mqtts"))
                if env.get("MQTT_DISPATCH_URL")
                else None
            ),
        )
        return cls(
            database_url=_url(
                env, "DATABASE_URL", DEFAULT_DATABASE_URL, ("postgresql", "postgres")
            ),
            mqtt=mqtt,
            store_layout=_choice(env, "VOLTRENT_STORE_LAYOUT", "auto", LAYOUTS),
            retention_days=_int(env, "VOLTRENT_RETENTION_DAYS", 90, minimum=1),
            partitions_ahead_days=_int(env, "VOLTRENT_PARTITIONS_AHEAD_DAYS", 3, minimum=1),
            max_clock_ahead_s=_int(env, "VOLTRENT_MAX_CLOCK_AHEAD_S", 86_400, minimum=0),
            batch_max_messages=_int(env, "VOLTRENT_BATCH_MAX_MESSAGES", 500, minimum=1),
            batch_max_wait_ms=_int(env, "VOLTRENT_BATCH_MAX_WAIT_MS", 50, minimum=0),
            api_host=env.get("VOLTRENT_API_HOST", "127.0.0.1"),
            api_port=_int(env, "VOLTRENT_API_PORT", 8080, minimum=0),
            dispatch_sweep_s=_int(env, "VOLTRENT_DISPATCH_SWEEP_S", 5, minimum=1),
            resend_unacked_after_s=_int(env, "VOLTRENT_RESEND_UNACKED_AFTER_S", 60, minimum=1),
            dispatch_standby_retry_s=_int(env, "VOLTRENT_DISPATCH_STANDBY_RETRY_S", 2, minimum=1),
            rules=_choice(env, "VOLTRENT_RULES", "on", ("on", "off")) == "on",
            offline_sweep_s=_int(env, "VOLTRENT_OFFLINE_SWEEP_S", 30, minimum=1),
            command_key=_command_key(env),
            api_db_role=env.get("VOLTRENT_API_DB_ROLE", "voltrent_api"),
            session_hours=_int(env, "VOLTRENT_SESSION_HOURS", 12, minimum=1),
            session_idle_minutes=_int(env, "VOLTRENT_SESSION_IDLE_MINUTES", 120, minimum=1),
            trusted_proxies=_int(env, "VOLTRENT_TRUSTED_PROXIES", 0, minimum=0),
            webhook_allow=_allow_list(env),
            tile_url=_tile_url(env),
            tile_attribution=env.get("VOLTRENT_TILE_ATTRIBUTION", ""),
            **_threads(env),
            live_heartbeat_s=_int(env, "VOLTRENT_LIVE_HEARTBEAT_S", 15, minimum=1),
            live_poll_s=_int(env, "VOLTRENT_LIVE_POLL_S", 5, minimum=1),
        )


def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = env.get(name) or default
    scheme = urlsplit(value).scheme
    if scheme not in schemes:
        expected = " or ".join(f"{s}://..." for s in schemes)
        raise ConfigError(f"{name}: expected {expected}, got {value!r}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {value}")
    return value


def _threads(env: Mapping[str, str]) -> dict[str, int]:
    """VOLTRENT_API_THREADS and VOLTRENT_API_MAX_STREAMS (default: all threads but 8, so
    that plain requests always have as many threads as the pool has connections)."""
    threads = _int(env, "VOLTRENT_API_THREADS", 32, minimum=2)
    streams = _int(env, "VOLTRENT_API_MAX_STREAMS", max(threads - 8, 1), minimum=0)
    if streams >= threads:
        raise ConfigError(
            f"VOLTRENT_API_MAX_STREAMS: must be below VOLTRENT_API_THREADS ({threads}), so that"
            f" plain requests keep a thread; got {streams}"
        )
    return {"api_threads": threads, "api_max_streams": streams}


def _command_key(env: Mapping[str, str]) -> bytes | None:
    """VOLTRENT_COMMAND_KEY (base64) or VOLTRENT_COMMAND_KEY_FILE (a file holding it)."""
    inline, path = env.get("VOLTRENT_COMMAND_KEY"), env.get("VOLTRENT_COMMAND_KEY_FILE")
    if inline and path:
        raise ConfigError("VOLTRENT_COMMAND_KEY and VOLTRENT_COMMAND_KEY_FILE: set only one")
    name, text = "VOLTRENT_COMMAND_KEY", inline
    if path:
        name = "VOLTRENT_COMMAND_KEY_FILE"
        try:
            with open(path, encoding="ascii") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"{name}: cannot read {path}: {err}") from None
        if not text.strip():
            raise ConfigError(f"{name}: {path} is empty")
    if not text:
        return None
    try:
        return signing.decode_key(text)
    except ValueError as err:
        raise ConfigError(f"{name}: {err}") from None


def _allow_list(env: Mapping[str, str]) -> AllowList:
    try:
        return AllowList.parse(env.get(ALLOW_VARIABLE, ""))
    except ValueError as err:
        raise ConfigError(f"{ALLOW_VARIABLE}: {err}") from None


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name) or default
    if value not in choices:
        raise ConfigError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def _tile_url(env: Mapping[str, str]) -> str:
    value = env.get("VOLTRENT_TILE_URL", "")
    if value and (urlsplit(value).scheme not in ("http", "https") or "{z}" not in value):
        raise ConfigError(
            f"VOLTRENT_TILE_URL: expected an http(s) URL template with {{z}}, {{x}} and {{y}},"
            f" got {value!r}"
        )
    return value
