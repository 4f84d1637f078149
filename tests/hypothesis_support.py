"""How many examples a property test tries: all of them in CI, an eighth in the daily loop.

``./run-tests --fast`` sets ``VOLTRENT_FAST=1``; a property test asks ``examples(n)`` for
its ``max_examples`` so the fast loop still runs every property, on fewer inputs, and CI
runs every input it always ran.
"""

from __future__ import annotations

import os

FAST = os.environ.get("VOLTRENT_FAST") == "1"
DEFAULT = 100  # hypothesis' own default, for tests that set no count of their own


def examples(n: int = DEFAULT) -> int:
    """``n``, or an eighth of it (at least 10) in the fast loop."""
    return max(10, n // 8) if FAST else n
