"""Registering devices from a CSV file, row by row: a bad row is reported, never fatal.

The header row names the columns (``id,serial,kind,model,name``; only ``id`` is required,
any order). Each row is checked by the same schema as ``POST /api/devices`` and inserted in
its own savepoint, so a row that collides (a serial already in use) leaves the others in.
Ids already registered (to the caller's subtree) are counted as skipped and left as they are.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
import psycopg
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from cloud.devices.registry import conflict, unavailable, visible
from cloud.devices.schemas.devices import DeviceCreateSchema
from cloud.errors import CloudError
from cloud.text import text_fault

COLUMNS = ("id", "serial", "kind", "model", "name")

INSERT_UNLESS_REGISTERED = """
INSERT INTO device (id, serial, kind, model, name, attributes, operator_id, store_id)
VALUES (%(id)s, %(serial)s, %(kind)s, %(model)s, %(name)s, %(attributes)s, %(operator_id)s,
        %(store_id)s)
ON CONFLICT (id) DO NOTHING
RETURNING id
"""


class CsvFileError(CloudError, ValueError):
    """The file as a whole cannot be imported (not UTF-8 text, no header, no id column)."""


@dataclass
class ImportReport:
    """What an import did: rows created, ids already there, and each row's fault."""

    created: int = 0
    skipped_existing: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, line: int, field_name: str | None, reason: str) -> None:
        self.errors.append({"line": line, "field": field_name, "reason": reason})


def import_devices(
    conn: psycopg.Connection[DictRow], data: bytes, operator_id: int, store_id: int | None
) -> ImportReport:
    """Register every good row of the CSV ``data`` to ``operator_id`` / ``store_id``;
    CsvFileError if the file is unreadable."""
    report = ImportReport()
    devices = _checked_rows(_read_rows(data, report), report)
    with conn.transaction():
        for line, device in devices:
            owned = {**device, "operator_id": operator_id, "store_id": store_id}
            _insert(conn, line, owned, report)
    report.errors.sort(key=lambda error: error["line"])
    return report


def _read_rows(data: bytes, report: ImportReport) -> list[tuple[int, dict[str, str]]]:
    """(line, {column: value}) for each non-blank row; empty cells are left out."""
    try:
        # utf-8-sig: spreadsheets put a byte order mark in front of the header
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise CsvFileError(f"the file is not UTF-8 text (byte {err.start})") from err
    if "\x00" in text:  # csv reads it; PostgreSQL's text refuses it
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise CsvFileError(f"line {line}: {text_fault(text)}")
    # strict: an unclosed quote is an error, not a field that swallows the rest of the file
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        if header is None:
            raise CsvFileError(f"the file has no header row ({', '.join(COLUMNS)})")
        columns = _columns(header)
        rows = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                report.reject(
                    reader.line_num, None, f"expected {len(columns)} values, found {len(row)}"
                )
                continue
            values = {name: cell.strip() for name, cell in zip(columns, row, strict=True)}
            rows.append((reader.line_num, {k: v for k, v in values.items() if v}))
    except csv.Error as err:
        raise CsvFileError(f"line {reader.line_num}: {err}") from err
    return rows


def _columns(header: list[str]) -> list[str]:
    columns = [name.strip().lower() for name in header]
    unknown = [name for name in columns if name not in COLUMNS]
    if unknown:
        raise CsvFileError(
            f"unknown column {unknown[0]!r} in the header; the columns are {', '.join(COLUMNS)}"
        )
    repeated = {name for name in columns if columns.count(name) > 1}
    if repeated:
        raise CsvFileError(f"column {sorted(repeated)[0]!r} appears twice in the header")
    if "id" not in columns:
        raise CsvFileError("the header has no id column")
    return columns


def _checked_rows(
    rows: list[tuple[int, dict[str, str]]], report: ImportReport
) -> list[tuple[int, dict[str, Any]]]:
    schema = DeviceCreateSchema()
    first_line: dict[str, int] = {}
    checked = []
    for line, values in rows:
        try:
            device = schema.load(values)
        except ma.ValidationError as err:
            for name, reasons in sorted(err.normalized_messages().items()):
                for reason in reasons if isinstance(reasons, list) else [reasons]:
                    report.reject(line, name, str(reason))
            continue
        if device["id"] in first_line:
            report.reject(
                line, "id", f"id {device['id']!r} repeats line {first_line[device['id']]}"
            )
            continue
        first_line[device["id"]] = line
        checked.append((line, device))
    return checked


def _insert(
    conn: psycopg.Connection[DictRow], line: int, device: dict[str, Any], report: ImportReport
):
    params = {**device, "serial": device.get("serial"), "attributes": Jsonb(device["attributes"])}
    try:
        with conn.transaction():  # a savepoint: a collision undoes this row only
            created = conn.execute(INSERT_UNLESS_REGISTERED, params).fetchone()
    except psycopg.errors.UniqueViolation as err:
        report.reject(line, *conflict(conn, err, device))
        return
    if created:
        report.created += 1
    elif visible(conn, device["id"]):
        report.skipped_existing += 1
    else:  # another operator's: said as for a tombstone, not counted as "already there"
        report.reject(line, "id", unavailable(device["id"]))
