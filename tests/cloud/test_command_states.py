"""The command state machine (cloud.commands.states): its table, and the store applying
exactly that table: each step moves a command from the states it lists and leaves every
other command as it was."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from cloud.commands import states
from cloud.commands.states import IllegalTransition, State, Step
from tests.cloud.api_support import add_device

# The whole table, written out: (step, from) -> to; an ack goes to the result it reports.
TABLE = {
    (Step.SEND, State.QUEUED): State.SENT,
    (Step.SEND, State.SENT): State.SENT,
    (Step.UNSENDABLE, State.QUEUED): State.FAILED,
    (Step.UNSENDABLE, State.SENT): State.FAILED,
    (Step.EXPIRE, State.QUEUED): State.EXPIRED,
    (Step.EXPIRE, State.SENT): State.EXPIRED,
    (Step.CANCEL, State.QUEUED): State.CANCELLED,
    (Step.CANCEL, State.SENT): State.CANCELLED,
}
ACKED_FROM = {State.QUEUED, State.SENT, State.EXPIRED}
RESULTS = [State.DONE, State.FAILED, State.REJECTED, State.EXPIRED]


def test_the_table_is_the_one_written_here():
    for step in (Step.SEND, Step.UNSENDABLE, Step.EXPIRE, Step.CANCEL):
        for state in State:
            expected = TABLE.get((step, state))
            if expected is None:
                with pytest.raises(IllegalTransition):
                    states.next_state(step, state)
            else:
                assert states.next_state(step, state) == expected
    for state in State:
        for result in RESULTS:
            if state in ACKED_FROM:
                assert states.next_state(Step.ACK, state, result) == result
            else:
                with pytest.raises(IllegalTransition):
                    states.next_state(Step.ACK, state, result)
    assert states.INITIAL == State.QUEUED
    assert set(State) == {"queued", "sent", "done", "failed", "rejected", "expired", "cancelled"}


def test_an_illegal_transition_is_refused():
    with pytest.raises(IllegalTransition, match="done cannot cancel"):
        states.next_state(Step.CANCEL, State.DONE)
    with pytest.raises(IllegalTransition):
        states.next_state(Step.SEND, "cancelled")
    with pytest.raises(IllegalTransition):  # an ack reports a result, never "cancelled"
        states.next_state(Step.ACK, State.SENT, State.CANCELLED)
    with pytest.raises(IllegalTransition):  # nor none
        states.next_state(Step.ACK, State.SENT)


def _commands(conn: psycopg.Connection, prefix: str) -> None:
    """One command in each state, expired already (so EXPIRE may take every open one)."""
    for state in State:
        conn.execute(
            "INSERT INTO command (cmd_id, device_id, type, issued_by, state, created_at,"
            " expires_at) VALUES (%s, 'pack-1', 'locate', 'test', %s,"
            " now() - interval '1 hour', now() - interval '1 minute')",
            (f"{prefix}-{state}", state.value),
        )


def _state_of(conn: psycopg.Connection, cmd_id: str) -> State:
    row = conn.execute("SELECT state FROM command WHERE cmd_id = %s", (cmd_id,)).fetchone()
    return State(row[0])


def _apply(conn: psycopg.Connection, step: Step, cmd_id: str) -> None:
    if step is Step.SEND:
        conn.execute(states.SEND, ([cmd_id],))
    elif step is Step.UNSENDABLE:
        conn.execute(states.UNSENDABLE, ("cannot be carried", cmd_id))
    elif step is Step.EXPIRE:
        conn.execute(states.EXPIRE, {"devices": ["pack-1"]})
    elif step is Step.CANCEL:
        conn.execute(states.cancel_one("cmd_id = %(cmd_id)s"), {"cmd_id": cmd_id})


@pytest.mark.postgres
@pytest.mark.parametrize("step", [Step.SEND, Step.UNSENDABLE, Step.EXPIRE, Step.CANCEL])
def test_the_store_moves_a_command_only_as_the_table_says(db, step):
    add_device(db, "pack-1")
    _commands(db, step)
    for state in State:
        _apply(db, step, f"{step}-{state}")
    for state in State:
        assert _state_of(db, f"{step}-{state}") == TABLE.get((step, state), state), state


@pytest.mark.postgres
def test_a_transfer_cancels_the_open_commands_only(db):
    add_device(db, "pack-1")
    _commands(db, "t")
    cancelled = db.execute(states.CANCEL_OPEN_OF_DEVICES, {"ids": ["pack-1"]}).fetchall()
    assert sorted(row[0] for row in cancelled) == ["t-queued", "t-sent"]
    for state in State:
        assert _state_of(db, f"t-{state}") == TABLE.get((Step.CANCEL, state), state)


@pytest.mark.postgres
@pytest.mark.parametrize("result", RESULTS)
def test_an_ack_moves_only_what_the_table_says_and_is_recorded_on_any(db, result):
    add_device(db, "pack-1")
    _commands(db, "a")
    for state in State:
        db.execute(
            states.ACK,
            (result.value, result.value, "why", Jsonb({"x": 1}), "2026-01-01T00:00:00Z",
             f"a-{state}", "pack-1"),
        )  # fmt: skip
    for state in State:
        assert _state_of(db, f"a-{state}") == (result if state in ACKED_FROM else state), state
    recorded = db.execute("SELECT count(*) FROM command WHERE result = %s", (result.value,))
    assert recorded.fetchone()[0] == len(State)
    # only the first ack counts
    db.execute(states.ACK, ("done", "done", None, None, "2026-01-01T00:00:01Z", "a-sent", "pack-1"))
    assert _state_of(db, "a-sent") == result
