"""Puts records into an outbox as fast as it can and prints each seq once put() returned.

Run by the kill -9 test in test_outbox.py: ``python outbox_writer.py PATH``. It alternates
single puts with put_many of three, and reserves seqs in tiny blocks, so a SIGKILL can land
in an insert, a commit, or a rewrite of the seq ceiling file. A printed seq is a promise:
it must still be in the outbox after the kill.
"""

from __future__ import annotations

import sys

from edge_agent.outbox import Outbox, RecordKind

RESERVE_BLOCK = 5


def main(path: str) -> None:
    with Outbox(path, seq_reserve_block=RESERVE_BLOCK) as outbox:
        round_number = 0
        while True:
            round_number += 1
            body = b'{"n":%d}' % round_number
            if round_number % 2:
                seqs = [outbox.put(RecordKind.TELEMETRY, body, captured_ms=round_number)]
            else:
                seqs = outbox.put_many(
                    [
                        (RecordKind.EVENT, body, round_number),
                        (RecordKind.TELEMETRY, body, round_number),
                        (RecordKind.TELEMETRY, body, round_number),
                    ]
                )
            sys.stdout.write("".join(f"{seq}\n" for seq in seqs))
            sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
