"""The command state machine: a command's states, the steps that move it, and the SQL of each.

A command is issued ``queued``. The dispatcher publishes it (``send``: ``sent``, and again
while it waits for an ack); a command the contract cannot carry is ``failed`` at once
(``unsendable``); one whose ``expires_at`` passes without an ack is ``expired``; an operator,
or the transfer of its device, may ``cancel`` it while it is open (queued or sent). The
device's ack is the last word: it moves a queued, sent or expired command (the device may
have run it just before the expiry) to the result it reports. Any command not acked yet
records the ack's result, also one whose state the ack does not move (a cancelled command
stays cancelled and shows what the device did).

``TRANSITIONS`` is the table; ``next_state`` reads it, and every statement below that moves
a command is written from it, with the rows its step may move in its WHERE clause, so the
store refuses (moves nothing) what the table refuses. The API, the dispatcher, the writer of
acks and the transfer of devices all move commands through this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DONE = "done"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Step(StrEnum):
    """What moves a command (issuing makes it; see INITIAL)."""

    SEND = "send"  # the dispatcher published it (again)
    UNSENDABLE = "unsendable"  # the contract cannot carry it: it must not block the queue
    EXPIRE = "expire"  # its expires_at passed before an ack
    CANCEL = "cancel"  # an operator, or the transfer of its device
    ACK = "ack"  # the device reports its result


class IllegalTransition(ValueError):
    """A step that the state machine does not allow from a command's state."""


INITIAL = State.QUEUED
OPEN = (State.QUEUED, State.SENT)  # in this order: the text of the command_open index
# What a device may report (an ack's result), each the state it moves a command to.
RESULTS = (State.DONE, State.FAILED, State.REJECTED, State.EXPIRED)


@dataclass(frozen=True)
class Transition:
    sources: tuple[State, ...]  # the states the step moves a command from
    targets: tuple[State, ...]  # where it goes (an ack: the result it reports)


TRANSITIONS: dict[Step, Transition] = {
    Step.SEND: Transition(OPEN, (State.SENT,)),
    Step.UNSENDABLE: Transition(OPEN, (State.FAILED,)),
    Step.EXPIRE: Transition(OPEN, (State.EXPIRED,)),
    Step.CANCEL: Transition(OPEN, (State.CANCELLED,)),
    Step.ACK: Transition((*OPEN, State.EXPIRED), RESULTS),
}


def next_state(step: Step, state: State | str, result: State | str | None = None) -> State:
    """The state ``step`` moves a command in ``state`` to (an ack: to its ``result``);
    IllegalTransition if the table does not allow it."""
    transition = TRANSITIONS[step]
    if step is not Step.ACK:
        target = transition.targets[0]
    elif result is None:
        raise IllegalTransition("an ack moves a command to the result it reports: none given")
    else:
        target = State(result)
    if State(state) not in transition.sources or target not in transition.targets:
        raise IllegalTransition(f"a command that is {state} cannot {step} to {target}")
    return target


def _among(states: tuple[State, ...], column: str = "state") -> str:
    """``column`` is one of ``states``, as SQL."""
    return f"{column} IN ({', '.join(map(_is, states))})"


def _in(step: Step, column: str = "state") -> str:
    """``column`` is a state ``step`` may move a command from, as SQL."""
    return _among(TRANSITIONS[step].sources, column)


def _is(state: State) -> str:
    return f"'{state}'"


# Issuing a command (the API, and rules that act on their own) is one row: created_at and
# expires_at from one clock reading, so the lifetime is exactly what was asked.
INSERT_COMMAND = f"""
WITH issued AS (SELECT clock_timestamp() AS at)
INSERT INTO command (cmd_id, device_id, type, args, issued_by, reason, created_at, expires_at,
                     state)
SELECT %(cmd_id)s, %(device_id)s, %(type)s, %(args)s, %(issued_by)s, %(reason)s,
       issued.at, issued.at + make_interval(secs => %(expires_in_s)s), {_is(INITIAL)}
FROM issued
RETURNING *
"""
# One command per device of a batch, in the order of the lists.
INSERT_BATCH_COMMANDS = f"""
INSERT INTO command (cmd_id, device_id, type, args, issued_by, reason, expires_at, batch_id,
                     state)
SELECT u.cmd_id, u.device_id, %(type)s, %(args)s, %(issued_by)s, %(reason)s,
       now() + make_interval(secs => %(expires_in_s)s), %(batch_id)s, {_is(INITIAL)}
FROM unnest(%(cmd_ids)s::text[], %(device_ids)s::text[]) WITH ORDINALITY
     AS u(cmd_id, device_id, n)
ORDER BY u.n
"""

# The dispatcher's steps, on rows its pass holds (FOR UPDATE).
SEND = f"""
UPDATE command SET state = {_is(State.SENT)}, sent_at = now(), send_count = send_count + 1
WHERE cmd_id = ANY(%s) AND {_in(Step.SEND)}
"""
UNSENDABLE = f"""
UPDATE command SET state = {_is(State.FAILED)}, result_reason = %s
WHERE cmd_id = %s AND {_in(Step.UNSENDABLE)}
"""
EXPIRE = f"""
UPDATE command SET state = {_is(State.EXPIRED)}
WHERE {_in(Step.EXPIRE)} AND expires_at <= now()
  AND (%(devices)s::text[] IS NULL OR device_id = ANY(%(devices)s))
"""


def cancel_one(mine: str) -> str:
    """Cancel the command that the condition ``mine`` names (the caller's, by cmd_id);
    returns it with ``was``, its state before. FOR UPDATE waits for a dispatcher pass
    holding the row, then sees the state it left."""
    return f"""
UPDATE command c SET state = {_is(State.CANCELLED)}, cancelled_at = now()
FROM (SELECT cmd_id, state AS was FROM command WHERE {mine} FOR UPDATE) old
WHERE c.cmd_id = old.cmd_id AND {_in(Step.CANCEL, "old.was")}
RETURNING c.*, old.was
"""


# Every open command of the devices %(ids)s (a transfer: the new owner did not issue them),
# locked in cmd_id order, as a cancel does.
CANCEL_OPEN_OF_DEVICES = f"""
UPDATE command c SET state = {_is(State.CANCELLED)}, cancelled_at = now()
FROM (SELECT cmd_id FROM command WHERE device_id = ANY(%(ids)s) AND {_in(Step.CANCEL)}
      ORDER BY cmd_id FOR UPDATE) open
WHERE c.cmd_id = open.cmd_id AND {_in(Step.CANCEL, "c.state")}
RETURNING c.cmd_id
"""

# The device's ack: the first one per command counts (acked_at IS NULL), and an ack naming
# another device's command changes nothing. It moves the state only where the table says.
# Parameters: result (twice), reason, observed, received_at, cmd_id, device_id.
ACK = f"""
UPDATE command SET
    state = CASE WHEN {_in(Step.ACK)} THEN %s ELSE state END,
    result = %s, result_reason = %s, observed = %s, acked_at = %s
WHERE cmd_id = %s AND device_id = %s AND acked_at IS NULL"""
# Not a step: an open command waiting on the device (a cut-off waits for the vehicle to
# stop) shows the latest note of it.
PROGRESS = f"""
UPDATE command SET progress = %s
WHERE cmd_id = %s AND device_id = %s AND {_among(OPEN)}
  AND (progress IS NULL OR (progress->>'time')::timestamptz <= %s)"""
