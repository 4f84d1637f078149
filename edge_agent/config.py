"""The gateway's TOML configuration, checked key by key.

Every error names the file and the dotted key that is wrong and what was expected, so a
field technician can fix ``edge.toml`` without reading code:
``edge.toml: sources.bms.baudrate: expected an integer, got 'fast'``.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from protocols.contract import check_device_id, signing
from protocols.errors import PayloadError
from protocols.slcan import BITRATE_COMMANDS

KEY_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the key."""


@dataclass(frozen=True)
class TlsConfig:
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False  # skip hostname verification: for bench setups only


@dataclass(frozen=True)
class MqttConfig:
    url: str = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password: str | None = None
    password_file: Path | None = None
    client_id: str | None = None  # defaults to the device id
    keepalive_s: int = 60
    tls: TlsConfig = field(default_factory=TlsConfig)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def use_tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"


@dataclass(frozen=True)
class OutboxConfig:
    path: Path = Path("outbox.db")
    max_records: int = 500_000


@dataclass(frozen=True)
class ReportingConfig:
    report_interval_s: float = 10.0  # a sample of each source is recorded this often
    upload_interval_s: float = 60.0  # recorded samples are published as one batch this often
    # status is uncompressed and ~600 B: every 5 min it would cost 180 kB of a 1 MB/day
    # cellular budget; online/offline itself is immediate through the will
    status_interval_s: float = 900.0
    batch_size: int = 200
    compress: bool = True
    # a sample published later than this after capture is marked resent (backlog)
    resent_after_s: float | None = None

    @property
    def resent_after(self) -> float:
        if self.resent_after_s is not None:
            return self.resent_after_s
        return self.upload_interval_s + self.report_interval_s + 30.0


@dataclass(frozen=True)
class ControlConfig:
    """Remote control and the lease guard (see edge_agent.commands and edge_agent.lease)."""

    state_path: Path | None = None  # None: next to the outbox, "<outbox>.state.db"
    # the vehicle stands still when speed (GNSS or CAN) is under standstill_speed_kmh and
    # the discharge current under standstill_current_a, both for standstill_hold_s
    standstill_speed_kmh: float = 1.5
    standstill_current_a: float = 2.0
    standstill_hold_s: float = 5.0
    readings_stale_s: float = 5.0  # an older speed or current reading counts as unknown
    cutoff_wait_limit_s: float = 600.0  # a commanded cut-off waits this long, then fails
    waiting_report_interval_s: float = 60.0  # cutoff_waiting is repeated this often
    lease_check_interval_s: float = 1.0
    executed_retention_s: float = 7 * 86_400.0  # cmd_ids are kept this long past expiry


@dataclass(frozen=True)
class CommandsConfig:
    """The keys that prove a command, lease term or config came from the cloud
    (edge_agent.signatures).

    ``keys`` maps each key id to its key (``[commands] keys = { "ab12cd34.1" = "<base64>" }``,
    from ``voltrent cloud command-key``); during a rotation it holds the old and the new.
    """

    keys: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    # accept commands, lease terms and configs without a signature: a bench without a cloud key
    allow_unsigned: bool = False


@dataclass(frozen=True)
class SerialSourceConfig:
    port: str
    baudrate: int = 9600
    timeout_s: float = 1.0


@dataclass(frozen=True)
class JbdSourceConfig(SerialSourceConfig):
    poll_interval_s: float = 1.0


@dataclass(frozen=True)
class NmeaSourceConfig(SerialSourceConfig):
    stale_after_s: float = 5.0  # no sentence for this long counts as a dropout


@dataclass(frozen=True)
class CanSourceConfig:
    interface: str = "socketcan"
    channel: str = "can0"
    bitrate: int = 500_000
    dbc: Path | None = None  # None: the bundled light-EV DBC
    receive_own_messages: bool = False


@dataclass(frozen=True)
class SlcanSourceConfig(SerialSourceConfig):
    """A LAWICEL (slcan) USB-CAN adapter read by the agent itself, not through python-can.

    ``timeout_s`` bounds the adapter's answer to each command when the port is opened; a
    quiet bus is normal and never times out.
    """

    baudrate: int = 115_200  # the serial speed; a USB CDC adapter ignores it
    bitrate: int = 500_000  # the CAN bus speed
    dbc: Path | None = None  # None: the bundled light-EV DBC


SOURCE_TYPES: dict[str, type] = {
    "jbd": JbdSourceConfig,
    "nmea": NmeaSourceConfig,
    "can": CanSourceConfig,
    "slcan": SlcanSourceConfig,
}


@dataclass(frozen=True)
class SourceConfig:
    name: str
    type: str
    settings: JbdSourceConfig | NmeaSourceConfig | CanSourceConfig | SlcanSourceConfig
    enabled: bool = True


@dataclass(frozen=True)
class AgentConfig:
    device_id: str
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    reporting: ReportingConfig = field(default_factory=ReportingConfig)
    control: ControlConfig = field(default_factory=ControlConfig)
    commands: CommandsConfig = field(default_factory=CommandsConfig)
    sources: tuple[SourceConfig, ...] = ()
    log_level: str = "INFO"


# -- loading -------------------------------------------------------------------------
def load_config(path: str | Path) -> AgentConfig:
    """Read and check a TOML file; raise ConfigError naming the file and key."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: no such file") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err
    return parse_config(document, source=path.name, base_dir=path.parent)


def parse_config(
    document: dict[str, Any], *, source: str = "config", base_dir: Path | None = None
) -> AgentConfig:
    """Check a parsed TOML document; relative paths are taken from ``base_dir``."""
    reader = _Reader(source, base_dir or Path.cwd())
    document = dict(document)
    sources_table = document.pop("sources", {})
    commands = reader.commands_section(document.pop("commands", {}))
    config: AgentConfig = reader.build(AgentConfig, document, "", skip={"sources", "commands"})
    try:
        check_device_id(config.device_id)
    except PayloadError as err:
        raise ConfigError(f"{source}: device_id: {err}") from None
    if not isinstance(sources_table, dict):
        raise ConfigError(f"{source}: sources: expected a table of [sources.<name>] sections")
    sources = tuple(
        reader.source_section(name, table, f"sources.{name}")
        for name, table in sources_table.items()
    )
    if config.reporting.report_interval_s <= 0:
        raise ConfigError(f"{source}: reporting.report_interval_s: must be greater than 0")
    if config.control.lease_check_interval_s <= 0:
        raise ConfigError(f"{source}: control.lease_check_interval_s: must be greater than 0")
    if config.reporting.batch_size < 1:
        raise ConfigError(f"{source}: reporting.batch_size: must be at least 1")
    if urlsplit(config.mqtt.url).scheme not in ("mqtt", "mqtts"):
        raise ConfigError(f"{source}: mqtt.url: expected mqtt://host:port or mqtts://host:port")
    return dataclasses.replace(config, sources=sources, commands=commands)


class _Reader:
    def __init__(self, source: str, base_dir: Path) -> None:
        self.source = source
        self.base_dir = base_dir

    def fail(self, key: str, message: str) -> typing.NoReturn:
        raise ConfigError(f"{self.source}: {key}: {message}")

    def commands_section(self, table: Any) -> CommandsConfig:
        if not isinstance(table, dict):
            self.fail("commands", "expected a table")
        table = dict(table)
        keys_table = table.pop("keys", {})
        allow_unsigned = table.pop("allow_unsigned", False)
        for key in table:
            self.fail(f"commands.{key}", "unknown key (expected keys or allow_unsigned)")
        if not isinstance(allow_unsigned, bool):
            self.fail("commands.allow_unsigned", f"expected true or false, got {allow_unsigned!r}")
        if not isinstance(keys_table, dict):
            self.fail("commands.keys", 'expected a table like { "ab12cd34.1" = "<base64>" }')
        keys = {}
        for kid, text in keys_table.items():
            dotted = f'commands.keys."{kid}"'
            if not KEY_ID.fullmatch(kid):
                self.fail(dotted, "expected a key id like ab12cd34.1")
            if not isinstance(text, str):
                self.fail(dotted, f"expected the key as a base64 string, got {text!r}")
            try:
                keys[kid] = signing.decode_key(text)
            except ValueError as err:
                self.fail(dotted, str(err))
        return CommandsConfig(keys=keys, allow_unsigned=allow_unsigned)

    def source_section(self, name: str, table: Any, key: str) -> SourceConfig:
        if not isinstance(table, dict):
            self.fail(key, "expected a table")
        table = dict(table)
        kind = table.pop("type", None)
        enabled = table.pop("enabled", True)
        if kind not in SOURCE_TYPES:
            self.fail(f"{key}.type", f"expected one of {', '.join(SOURCE_TYPES)}, got {kind!r}")
        if not isinstance(enabled, bool):
            self.fail(f"{key}.enabled", f"expected true or false, got {enabled!r}")
        settings = self.build(SOURCE_TYPES[kind], table, key, extra={"type", "enabled"})
        if kind == "slcan" and settings.bitrate not in BITRATE_COMMANDS:
            known = ", ".join(str(rate) for rate in sorted(BITRATE_COMMANDS))
            self.fail(f"{key}.bitrate", f"expected one of {known}, got {settings.bitrate}")
        return SourceConfig(name=name, type=kind, settings=settings, enabled=enabled)

    def build(
        self,
        cls: type,
        table: dict[str, Any],
        prefix: str,
        *,
        skip: frozenset[str] | set[str] = frozenset(),
        extra: frozenset[str] | set[str] = frozenset(),
    ) -> Any:
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
        kwargs = {}
        for key, value in table.items():
            dotted = f"{prefix}.{key}" if prefix else key
            if key not in fields:
                close = difflib.get_close_matches(key, [*fields, *extra], n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                self.fail(dotted, f"unknown key{hint}")
            kwargs[key] = self.value(hints[key], value, dotted)
        for name, f in fields.items():
            if (
                name not in kwargs
                and f.default is dataclasses.MISSING
                and (f.default_factory is dataclasses.MISSING)
            ):
                self.fail(f"{prefix}.{name}" if prefix else name, "required key is missing")
        return cls(**kwargs)

    def value(self, hint: Any, value: Any, key: str) -> Any:
        options = typing.get_args(hint) if _is_union(hint) else (hint,)
        if type(None) in options and value is None:
            return None
        kind = next(t for t in options if t is not type(None))
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            if not isinstance(value, dict):
                self.fail(key, "expected a table")
            return self.build(kind, value, key)
        if kind is bool:
            if not isinstance(value, bool):
                self.fail(key, f"expected true or false, got {value!r}")
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(key, f"expected an integer, got {value!r}")
            if value < 0:
                self.fail(key, f"expected a number >= 0, got {value}")
        elif kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.fail(key, f"expected a number, got {value!r}")
            if value < 0:
                self.fail(key, f"expected a number >= 0, got {value}")
            value = float(value)
        elif kind is str:
            if not isinstance(value, str):
                self.fail(key, f"expected a string, got {value!r}")
        elif kind is Path:
            if not isinstance(value, str) or not value:
                self.fail(key, f"expected a file path, got {value!r}")
            path = Path(value).expanduser()
            value = path if path.is_absolute() else self.base_dir / path
        return value


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)
