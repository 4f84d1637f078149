"""Sources by name, imported lazily: a box without CAN never imports python-can."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge_agent.sources.base import Source

SOURCES = {
    "jbd": "edge_agent.sources.jbd:JbdSource",
    "nmea": "edge_agent.sources.nmea:NmeaSource",
    "can": "edge_agent.sources.can:CanSource",  # any python-can interface
    "slcan": "edge_agent.sources.slcan:SlcanSource",  # LAWICEL adapter, no python-can
}


def source_class(kind: str) -> type[Source]:
    """The Source subclass registered under ``kind``."""
    try:
        module_name, class_name = SOURCES[kind].split(":")
    except KeyError:
        raise KeyError(f"no source type {kind!r}; known: {', '.join(SOURCES)}") from None
    found: type[Source] = getattr(importlib.import_module(module_name), class_name)
    return found
