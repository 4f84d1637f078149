"""What an ``up/ack`` says: its ``result`` and the machine-readable ``code`` of its reason.

``result`` is one of four words (``AckResult``). Every ack other than ``done`` says why in
``reason``, English text for people, and since contract 1.1 also in ``code``, a short
snake_case word for programs (``AckCode``). Receivers decide from the code, never from the
text, and fall back to the text only for an ack without a code (a gateway from before 1.1).
A code this side does not know is kept, not refused: a newer gateway may send codes an
older cloud has not learnt yet, so ``Ack.code`` stays a plain string and ``known_code()``
says whether it is one of ours.
"""

from __future__ import annotations

from enum import StrEnum


class AckResult(StrEnum):
    """How a command ended on the device."""

    DONE = "done"  # executed, and the hardware reads back as asked
    FAILED = "failed"  # tried, but the outcome is not what was asked
    REJECTED = "rejected"  # refused before running: never executed
    EXPIRED = "expired"  # its expires_at had passed: never executed


class AckCode(StrEnum):
    """Why a command was not ``done``; the comment names the result that carries it."""

    # rejected: the command's origin cannot be proven (protocols.contract.signing)
    NOT_SIGNED = "not_signed"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    # rejected: the command itself, or this device, does not allow it
    INVALID_COMMAND = "invalid_command"  # not in the catalogue, or bad args
    CLOCK_UNTRUSTED = "clock_untrusted"  # expiry cannot be judged
    NOT_LEASED = "not_leased"  # the lease term requires discharge off
    NO_BMS = "no_bms"  # a BMS command on a gateway without a BMS
    NOT_SUPPORTED = "not_supported"  # this gateway or its BMS cannot do it
    # expired
    EXPIRED = "expired"
    # failed
    NOT_STANDING_STILL = "not_standing_still"  # a cut-off waited too long for standstill
    STATE_NOT_REACHED = "state_not_reached"  # a switch reads back other than asked
    PARAMETER_NOT_TAKEN = "parameter_not_taken"  # a BMS parameter reads back other than written
    BMS_ERROR = "bms_error"  # the BMS did not answer, or answered with an error
    NO_FIX = "no_fix"  # locate before the first GNSS fix
    INTERNAL_ERROR = "internal_error"  # a defect of the gateway


def known_code(code: str | None) -> AckCode | None:
    """``code`` as an AckCode, or None when it is absent or not one this side knows."""
    if code is None:
        return None
    try:
        return AckCode(code)
    except ValueError:
        return None
