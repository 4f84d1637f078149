"""The decoded CAN frame type, apart from the codec so that code which only receives
decoded frames (the edge recorder) does not load cantools and python-can."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CanMessage:
    """One decoded frame: the DBC message name and its signals in physical units."""

    name: str
    arbitration_id: int
    signals: dict[str, float | int]
