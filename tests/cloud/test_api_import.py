"""CSV import of devices: each row stands alone; the file as a whole must be readable."""

from __future__ import annotations

import io

import pytest

from tests.cloud.api_support import add_device, problem_of

pytestmark = pytest.mark.postgres

MIXED = (
    "id,serial,kind,model,name\n"  # line 1
    "pack-1,SN-1,pack,JBD-16S,Shelf 1\n"  # 2: created
    "pack-old,SN-OLD-NEW,pack,,\n"  # 3: already registered: skipped, not overwritten
    "bad id,,pack,,\n"  # 4: id
    "cart-1,,boat,,\n"  # 5: kind
    "\n"  # 6: blank, ignored
    "pack-2,SN-TAKEN,,,\n"  # 7: serial used by pack-old
    "pack-1,,,,\n"  # 8: repeats line 2
    "pack-3,SN-1,,,\n"  # 9: serial used by pack-1 of line 2
    "pack-4,,vehicle\n"  # 10: too few values
    '"cart-2",,vehicle,"EZ-GO, 48V","Cart ""B"""\n'  # 11: created, quoting
)


def _devices(db) -> dict[str, tuple]:
    rows = db.execute("SELECT id, serial, kind, model, name FROM device ORDER BY id").fetchall()
    return {row[0]: row[1:] for row in rows}


def test_mixed_rows_good_ones_in_bad_ones_reported(client, db):
    add_device(db, "pack-old", serial="SN-TAKEN", name="keep me")
    response = client.post("/api/devices/import", data=MIXED, content_type="text/csv")
    assert response.status_code == 200, response.get_data(as_text=True)
    report = response.get_json()
    assert (report["created"], report["skipped_existing"]) == (2, 1)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (4, "id"),
        (5, "kind"),
        (7, "serial"),
        (8, "id"),
        (9, "serial"),
        (10, None),
    ]
    reasons = {e["line"]: e["reason"] for e in report["errors"]}
    assert "'pack-old'" in reasons[7]
    assert "repeats line 2" in reasons[8]
    assert "'pack-1'" in reasons[9]
    assert reasons[10] == "expected 5 values, found 3"
    assert _devices(db) == {
        "cart-2": (None, "vehicle", "EZ-GO, 48V", 'Cart "B"'),
        "pack-1": ("SN-1", "pack", "JBD-16S", "Shelf 1"),
        "pack-old": ("SN-TAKEN", "pack", "", "keep me"),
    }


def test_multipart_upload_and_columns_in_any_order(client, db):
    data = "\ufeffName,ID\nFront,pack-9\n".encode()  # a spreadsheet's BOM, any case, any order
    response = client.post(
        "/api/devices/import",
        data={"file": (io.BytesIO(data), "devices.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"created": 1, "skipped_existing": 0, "errors": []}
    assert _devices(db) == {"pack-9": (None, "pack", "", "Front")}


def test_importing_twice_skips_what_exists(client):
    first = client.post("/api/devices/import", data="id\na\nb\n", content_type="text/csv")
    again = client.post("/api/devices/import", data="id\na\nb\nc\n", content_type="text/csv")
    assert first.get_json()["created"] == 2
    assert again.get_json() == {"created": 1, "skipped_existing": 2, "errors": []}


UNREADABLE = [
    (b"serial,name\nSN,x\n", "no id column"),
    (b"id,colour\np,red\n", "unknown column 'colour'"),
    (b"id,id\np,q\n", "appears twice"),
    (b"", "no header row"),
    (b"id\n\xff\xfe\n", "not UTF-8"),
    (b'id\n"pack-1\npack-2\n', "line 3: unexpected end of data"),
]


def test_an_unreadable_file_is_a_422_and_imports_nothing(client, db):
    for data, why in UNREADABLE:
        response = client.post("/api/devices/import", data=data, content_type="text/csv")
        assert why in problem_of(response, 422)["detail"], data
    assert _devices(db) == {}


def test_other_media_types_and_a_missing_file_field(client):
    problem_of(client.post("/api/devices/import", json={"id": "x"}), 415)
    response = client.post(
        "/api/devices/import",
        data={"other": (io.BytesIO(b"id\nx\n"), "d.csv")},
        content_type="multipart/form-data",
    )
    assert problem_of(response, 422)["errors"][0]["field"] == "file"
