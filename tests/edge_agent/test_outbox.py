"""The durable outbox, on real files: order, acks by seq, a seq that never goes back (across
restarts, emptied outboxes, lost and corrupt files, kill -9), the size bound's drop policy,
and the durability settings."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_agent.outbox import Outbox, OutboxError, OutboxRecord, RecordKind
from protocols.contract import validate
from tests.hypothesis_support import examples

TELEMETRY, EVENT = RecordKind.TELEMETRY, RecordKind.EVENT
REPO_ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("outbox_writer.py")


def put_all(outbox: Outbox, kinds: str) -> list[int]:
    """One put per letter: t for telemetry, e for an event; captured_ms is the position."""
    kind_of = {"t": TELEMETRY, "e": EVENT}
    return [
        outbox.put(kind_of[k], f'{{"i":{i}}}'.encode(), captured_ms=1_700_000_000_000 + i)
        for i, k in enumerate(kinds)
    ]


def corrupt_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if ".corrupt-" in p.name)


# -- the contract ------------------------------------------------------------------------
def test_put_batch_ack_len(tmp_path):
    with Outbox(tmp_path / "outbox.db") as outbox:
        seq = outbox.put(EVENT, b'{"type":"boot"}', captured_ms=1000, captured_monotonic_ns=42)
        assert outbox.batch(10) == [
            OutboxRecord(seq, EVENT, 1000, b'{"type":"boot"}', outbox.boot_id, 42)
        ]
        seqs = [seq, *outbox.put_many([(TELEMETRY, b"a", 1), (TELEMETRY, b"b", 2)])]
        assert seqs == list(range(seq, seq + 3))
        assert (len(outbox), outbox.count(TELEMETRY), outbox.count(EVENT)) == (3, 2, 1)
        assert outbox.batch(10) == outbox.batch(10)  # reading removes nothing
        assert outbox.ack([seqs[1]]) == 1
        assert [r.seq for r in outbox.batch(10)] == [seqs[0], seqs[2]]
        assert outbox.next_seq == seqs[-1] + 1
        assert len(outbox) == 2
    with pytest.raises(OutboxError, match="closed"):  # the with block closed it
        outbox.put(EVENT, b"x", captured_ms=1)


def test_batch_is_oldest_first_by_seq_with_one_counter_for_both_kinds(tmp_path):
    with Outbox(tmp_path / "outbox.db") as outbox:
        seqs = put_all(outbox, "tetteett")
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert [r.seq for r in outbox.batch(100)] == seqs
        assert [r.seq for r in outbox.batch(3)] == seqs[:3]
        events = outbox.batch(100, EVENT)
        assert [r.seq for r in events] == [seqs[1], seqs[4], seqs[5]]
        assert {r.kind for r in events} == {EVENT}
        assert [r.seq for r in outbox.batch(2, TELEMETRY)] == [seqs[0], seqs[2]]
        assert outbox.batch(0) == []
        with pytest.raises(ValueError, match="negative"):
            outbox.batch(-1)  # SQLite would read LIMIT -1 as "no limit"


def test_ack_of_unknown_or_repeated_seqs_is_harmless(tmp_path):
    with Outbox(tmp_path / "outbox.db") as outbox:
        seqs = put_all(outbox, "tte")
        assert outbox.ack([]) == 0
        assert outbox.ack([seqs[-1] + 100, -5]) == 0
        assert outbox.ack([seqs[0], seqs[0], seqs[0] + 1000]) == 1
        assert outbox.ack([seqs[0]]) == 0
        assert [r.seq for r in outbox.batch(10)] == seqs[1:]
        assert (len(outbox), outbox.count(TELEMETRY), outbox.count(EVENT)) == (2, 1, 1)
        many = outbox.put_many([(TELEMETRY, b"x", i) for i in range(1500)])
        assert outbox.ack(many[::2]) == 750  # more seqs than one DELETE statement takes
        assert [r.seq for r in outbox.batch(2000)] == seqs[1:] + many[1::2]


def test_a_bad_item_stores_nothing_of_its_put_many(tmp_path):
    with Outbox(tmp_path / "outbox.db") as outbox:
        before = outbox.next_seq
        with pytest.raises(TypeError, match="payload must be bytes"):
            outbox.put_many([(TELEMETRY, b"fine", 1), (TELEMETRY, "text", 2)])  # type: ignore[list-item]
        with pytest.raises(ValueError):
            outbox.put("gps", b"x", captured_ms=1)  # type: ignore[arg-type]
        assert (len(outbox), outbox.next_seq) == (0, before)


# -- durability settings ------------------------------------------------------------------
def test_wal_with_synchronous_full(tmp_path):
    with Outbox(tmp_path / "outbox.db") as outbox:
        connection = outbox._db  # the outbox's own connection: synchronous is per connection
        assert connection is not None
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("PRAGMA synchronous").fetchone() == (2,)  # 2 is FULL
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        assert connection.execute("PRAGMA journal_size_limit").fetchone()[0] > 0
        assert connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] > 0


# -- seq never goes back ----------------------------------------------------------------
def test_seq_continues_across_reopen_and_after_acking_everything(tmp_path):
    path = tmp_path / "outbox.db"
    with Outbox(path) as outbox:
        first = put_all(outbox, "tet")
        first_boot = outbox.boot_id
    with Outbox(path) as outbox:
        assert outbox.boot_id != first_boot
        assert [r.seq for r in outbox.batch(10)] == first
        assert {r.boot_id for r in outbox.batch(10)} == {first_boot}
        assert outbox.ack(first) == 3
        assert len(outbox) == 0
    with Outbox(path) as outbox:
        assert outbox.next_seq == first[-1] + 1
        assert put_all(outbox, "e") == [first[-1] + 1]


@pytest.mark.parametrize("how", ["deleted", "garbage"])
def test_seq_continues_above_the_ceiling_when_the_database_is_lost(tmp_path, how):
    path = tmp_path / "outbox.db"
    with Outbox(path, seq_reserve_block=100) as outbox:
        handed_out = put_all(outbox, "t" * 120)  # crosses one reservation block
    ceiling = int(Path(f"{path}.seq").read_text())
    assert ceiling > max(handed_out)
    if how == "deleted":
        path.unlink()
    else:
        path.write_bytes(b"\x00garbage" * 1000)
    with Outbox(path, seq_reserve_block=100) as outbox:
        assert len(outbox) == 0
        assert outbox.next_seq == ceiling
        assert put_all(outbox, "e")[0] > max(handed_out)
        assert [n.type for n in outbox.take_notices()] == (
            [] if how == "deleted" else ["outbox_corrupt"]
        )


def test_a_lost_ceiling_file_is_written_again_from_the_database(tmp_path):
    path = tmp_path / "outbox.db"
    with Outbox(path, seq_reserve_block=10) as outbox:
        handed_out = put_all(outbox, "tt")
    Path(f"{path}.seq").unlink()
    with Outbox(path, seq_reserve_block=10) as outbox:
        assert put_all(outbox, "t") == [handed_out[-1] + 1]
    assert int(Path(f"{path}.seq").read_text()) > handed_out[-1] + 1


def test_a_garbled_ceiling_file_is_set_aside_and_reported(tmp_path):
    path = tmp_path / "outbox.db"
    with Outbox(path) as outbox:
        handed_out = put_all(outbox, "tt")
    Path(f"{path}.seq").write_text("not a number")
    with Outbox(path) as outbox:
        (notice,) = outbox.take_notices()
        assert (
            notice.type == "outbox_corrupt" and "expected a whole number" in notice.detail["reason"]
        )
        assert Path(notice.detail["path"]).read_text() == "not a number"
        assert put_all(outbox, "t") == [handed_out[-1] + 1]


# -- corrupt files ------------------------------------------------------------------------
def test_garbage_is_set_aside_with_its_wal_and_shm_never_deleted(tmp_path):
    path = tmp_path / "outbox.db"
    garbage = b"this is no database " * 500
    path.write_bytes(garbage)
    Path(f"{path}-wal").write_bytes(b"old wal")
    Path(f"{path}-shm").write_bytes(b"old shm")
    with Outbox(path) as outbox:
        (notice,) = outbox.take_notices()
        assert outbox.take_notices() == []  # reported once
        put_all(outbox, "e")
        assert len(outbox) == 1
    assert (notice.type, notice.severity) == ("outbox_corrupt", "critical")
    assert "not a database" in notice.detail["reason"]
    moved = Path(notice.detail["path"])
    assert moved.parent == tmp_path and moved.name.startswith("outbox.db.corrupt-")
    assert moved.read_bytes() == garbage
    assert Path(f"{moved}-wal").read_bytes() == b"old wal"
    assert Path(f"{moved}-shm").read_bytes() == b"old shm"
    assert corrupt_files(tmp_path) == sorted([moved, Path(f"{moved}-wal"), Path(f"{moved}-shm")])


def test_a_real_outbox_truncated_mid_page_is_set_aside(tmp_path):
    path = tmp_path / "outbox.db"
    with Outbox(path) as outbox:
        handed_out = outbox.put_many([(TELEMETRY, os.urandom(300), i) for i in range(3000)])
    assert not Path(f"{path}-wal").exists()  # closed cleanly: everything is in the main file
    truncated_size = path.stat().st_size // 2 + 1234  # not a multiple of any page size
    with path.open("r+b") as file:
        file.truncate(truncated_size)
    with Outbox(path) as outbox:
        (notice,) = outbox.take_notices()
        assert notice.type == "outbox_corrupt"
        assert Path(notice.detail["path"]).stat().st_size == truncated_size
        assert len(outbox) == 0
        assert put_all(outbox, "t")[0] > max(handed_out)


def test_a_foreign_sqlite_file_is_set_aside(tmp_path):
    path = tmp_path / "outbox.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE unrelated (x)")
    other.close()
    with Outbox(path) as outbox:
        (notice,) = outbox.take_notices()
        assert "not an outbox" in notice.detail["reason"]
        assert "unrelated" in notice.detail["reason"]


def test_a_path_it_cannot_open_is_an_error_not_corruption(tmp_path):
    path = tmp_path / "outbox.db"
    path.mkdir()
    with pytest.raises(OutboxError):
        Outbox(path)
    assert path.is_dir() and corrupt_files(tmp_path) == []


# -- the size bound -----------------------------------------------------------------------
def test_full_outbox_drops_oldest_telemetry_first_and_events_last(tmp_path):
    with Outbox(tmp_path / "outbox.db", max_records=5) as outbox:
        seqs = put_all(outbox, "etete")
        assert outbox.take_notices() == []
        more = put_all(outbox, "tt")  # two over: the two oldest telemetry go
        assert [r.seq for r in outbox.batch(10)] == [seqs[0], seqs[2], seqs[4], *more]
        assert outbox.dropped == {TELEMETRY: 2, EVENT: 0}
        events = put_all(outbox, "eee")  # two telemetry left to drop, then the oldest event
        assert [r.kind for r in outbox.batch(10)] == [EVENT] * 5
        assert [r.seq for r in outbox.batch(10)] == [seqs[2], seqs[4], *events]
        assert outbox.dropped == {TELEMETRY: 4, EVENT: 1}
        notices = outbox.take_notices()
        assert [(n.type, n.detail, n.severity) for n in notices] == [
            ("outbox_overflow", {"kind": "telemetry", "dropped": 4}, "warning"),
            ("outbox_overflow", {"kind": "event", "dropped": 1}, "warning"),
        ]
        assert outbox.take_notices() == []
        put_all(outbox, "e")
        assert [n.detail for n in outbox.take_notices()] == [{"kind": "event", "dropped": 1}]
        assert (len(outbox), outbox.count(EVENT), outbox.count(TELEMETRY)) == (5, 5, 0)
        assert outbox.stats()["dropped_events"] == 2


def test_stats_and_notices_follow_the_wire_contract(tmp_path):
    path = tmp_path / "outbox.db"
    path.write_bytes(b"garbage" * 100)
    with Outbox(path, max_records=2) as outbox:
        assert "oldest_ts" not in outbox.stats()
        put_all(outbox, "ttt")
        stats = outbox.stats()
        assert stats["records"] == 2 and stats["oldest_ts"] == 1_700_000_000_001
        assert stats["bytes"] >= path.stat().st_size > 0
        validate("status", {"online": True, "outbox": stats})
        notices = outbox.take_notices()
        assert [n.type for n in notices] == ["outbox_corrupt", "outbox_overflow"]
        events = [
            {"seq": 1, "ts": 0, "type": n.type, "detail": n.detail, "severity": n.severity}
            for n in notices
        ]
        validate("event", {"events": events})


# -- a crash mid-stream ---------------------------------------------------------------
def run_writer_until_killed(path: Path, wanted: int) -> list[int]:
    """Start the writer, let it print ``wanted`` seqs, SIGKILL it; every seq it printed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, str(WRITER), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO_ROOT,
        env=env,
    )
    assert process.stdout is not None
    lines = []
    try:
        while len(lines) < wanted and (line := process.stdout.readline()):
            lines.append(line)
    finally:
        process.send_signal(signal.SIGKILL)  # while it is still putting
        rest, errors = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, errors.decode()
    assert len(lines) >= wanted, errors.decode()
    # whatever follows the last newline was cut off mid-write: not a promise
    return [int(line) for line in (b"".join(lines) + rest).split(b"\n")[:-1]]


def test_every_seq_put_returned_survives_kill_9(tmp_path):
    path = tmp_path / "outbox.db"
    promised: list[int] = []
    for wanted in (40, 133, 250):  # killed three times, restarted on the same file
        printed = run_writer_until_killed(path, wanted)
        assert printed == sorted(set(printed)), "seqs within one run go up"
        assert not promised or printed[0] > promised[-1], "a restart never reuses a seq"
        promised += printed
    with Outbox(path) as outbox:
        stored = {record.seq for record in outbox.batch(1_000_000)}
        assert set(promised) - stored == set()
        assert outbox.take_notices() == []  # a killed writer leaves no corrupt file
        assert put_all(outbox, "e")[0] > max(promised)


# -- properties -------------------------------------------------------------------------
MAX_RECORDS = 6
steps = st.one_of(
    st.tuples(st.just("put"), st.lists(st.sampled_from(RecordKind), min_size=1, max_size=4)),
    st.tuples(st.just("ack"), st.lists(st.integers(0, 8), max_size=6), st.booleans()),
    st.tuples(st.just("reopen")),
    st.tuples(st.just("lose"), st.sampled_from(["delete", "garbage"])),
)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps, max_size=30))
def test_random_puts_acks_and_reopens_keep_the_invariants(plan):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "outbox.db"
        open_outbox = lambda: Outbox(path, max_records=MAX_RECORDS, seq_reserve_block=3)  # noqa: E731
        outbox = open_outbox()
        model: dict[int, RecordKind] = {}  # what should be inside, in seq order
        highest = puts = acked = dropped_before = lost = 0
        try:
            for step in plan:
                if step[0] == "put":
                    kinds = step[1]
                    if len(kinds) == 1:
                        seqs = [outbox.put(kinds[0], b"{}", captured_ms=1)]
                    else:
                        seqs = outbox.put_many([(kind, b"{}", 1) for kind in kinds])
                    assert seqs == list(range(seqs[0], seqs[0] + len(kinds)))
                    assert seqs[0] > highest
                    highest, puts = seqs[-1], puts + len(seqs)
                    model.update(zip(seqs, kinds, strict=True))
                    while len(model) > MAX_RECORDS:
                        telemetry = [seq for seq, kind in model.items() if kind is TELEMETRY]
                        del model[telemetry[0] if telemetry else next(iter(model))]
                elif step[0] == "ack":
                    live = list(model)
                    chosen = {live[i] for i in step[1] if i < len(live)}
                    unknown = {highest + 1} if step[2] else set()
                    assert outbox.ack(chosen | unknown) == len(chosen)
                    acked += len(chosen)
                    for seq in chosen:
                        del model[seq]
                else:
                    dropped_before += sum(outbox.dropped.values())
                    outbox.close()
                    if step[0] == "lose":
                        if step[1] == "delete":
                            path.unlink()
                        else:
                            path.write_bytes(b"garbage" * 50)
                        lost += len(model)
                        model.clear()
                    outbox = open_outbox()
                records = outbox.batch(100)
                assert [(r.seq, r.kind) for r in records] == list(model.items())
                dropped = dropped_before + sum(outbox.dropped.values())
                assert len(outbox) == puts - acked - dropped - lost
                assert outbox.next_seq > highest
        finally:
            outbox.close()


def test_a_drained_outbox_gives_its_space_back(tmp_path):
    """A 24 h backlog must not keep its tens of MiB on the gateway's flash once it is sent."""
    path = tmp_path / "outbox.db"
    with Outbox(path) as outbox:
        outbox.put_many([(RecordKind.TELEMETRY, b"x" * 300, 1)] * 20_000)
        full = path.stat().st_size + (tmp_path / "outbox.db-wal").stat().st_size
        while records := outbox.batch(200):
            outbox.ack([r.seq for r in records])
    assert full > 5_000_000
    assert path.stat().st_size < 200_000
