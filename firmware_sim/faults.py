"""Seeded fault dice shared by the simulated wires: one-shot faults first, then random ones."""

from __future__ import annotations

import random
from collections import Counter


class FaultDice:
    """Decides, per frame or sentence, whether a fault of a kind happens, and counts it."""

    def __init__(self, kinds: tuple[str, ...], rng: random.Random) -> None:
        self.kinds = kinds
        self.injected: Counter[str] = Counter()  # faults that happened, by kind
        self._random = rng
        self._one_shot: Counter[str] = Counter()

    def inject(self, kind: str, count: int = 1) -> None:
        """Force the next ``count`` rolls of ``kind`` to come up."""
        if kind not in self.kinds:
            raise ValueError(f"fault {kind!r}: expected one of {self.kinds}")
        self._one_shot[kind] += count

    def roll(self, kind: str, probability: float) -> bool:
        """True when this frame carries fault ``kind`` (a pending one-shot, or by chance)."""
        if self._one_shot[kind] > 0:
            self._one_shot[kind] -= 1
        elif not (probability and self._random.random() < probability):
            return False
        self.injected[kind] += 1
        return True
