"""Ways to look inside the agent for the benchmarks: profiled and what-if ways to start
it, and where its memory comes from. None of this is product code."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from _common import mib

_TRACEMALLOC_MAIN = """
import atexit, sys, tracemalloc
def dump():
    snapshot = tracemalloc.take_snapshot()
    current, peak = tracemalloc.get_traced_memory()
    with open({out!r}, "w") as out:
        out.write(f"traced now {{current / 2**20:.1f}} MiB, peak {{peak / 2**20:.1f}} MiB\\n")
        for stat in snapshot.statistics("filename")[:25]:
            out.write(f"{{stat}}\\n")
atexit.register(dump)
from edge_agent.cli import main
sys.exit(main(["--config", {config!r}]))
"""


IMPORT_STEPS = (
    ("python, nothing imported", "pass"),
    ("+ asyncio, sqlite3, json, zlib, logging", "import asyncio, sqlite3, json, zlib, logging"),
    ("+ aiomqtt (paho)", "import aiomqtt"),
    (
        "+ pyserial, protocols.contract/jbd/nmea",
        "import serial, protocols.contract, protocols.jbd, protocols.nmea",
    ),
    ("+ python-can", "import can"),
    ("+ cantools", "import cantools"),
    (
        "+ edge_agent.agent, every source, CanCodec() with the DBC",
        "import edge_agent.agent, edge_agent.sources.can, edge_agent.sources.jbd,"
        " edge_agent.sources.nmea, can.interfaces.slcan; from protocols.canbus import CanCodec;"
        " CanCodec()",
    ),
)


def import_costs() -> list[list[str]]:
    """Peak RSS of a fresh interpreter after each step of imports (cumulative)."""
    rows, code = [], []
    # VmHWM, not ru_maxrss: the latter keeps the forking parent's peak across exec
    probe = (
        "import sys; hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'));"
        " print(int(hwm.split()[1]) * 1024, len(sys.modules))"
    )
    previous = None
    for label, statement in IMPORT_STEPS:
        code.append(statement)
        output = subprocess.run(
            [sys.executable, "-c", "\n".join([*code, probe])],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        rss = int(output[0])
        delta = "" if previous is None else f"+{(rss - previous) / 2**20:.1f}"
        rows.append([label, mib(rss), delta, output[1]])
        previous = rss
    return rows


def print_profile(path: Path, lines: int = 25) -> None:
    import pstats

    print("   the agent under cProfile, by own time (tottime):")
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats(lines)


def profiled(out: Path) -> Callable[[Path], list[str]]:
    """The daemon under cProfile, stats to ``out`` (slower: for where the time goes)."""
    return lambda config: [
        sys.executable,
        "-m",
        "cProfile",
        "-o",
        str(out),
        "-m",
        "edge_agent.cli",
        "--config",
        str(config),
    ]


def traced(out: Path) -> Callable[[Path], list[str]]:
    """The daemon under tracemalloc; its Python allocations by file go to ``out`` at exit."""
    return lambda config: [
        sys.executable,
        "-X",
        "tracemalloc=1",
        "-c",
        _TRACEMALLOC_MAIN.format(out=str(out), config=str(config)),
    ]


def can_loaded_without_can_source() -> bool:
    """Whether ``import edge_agent.agent`` alone already loads python-can."""
    output = subprocess.run(
        [sys.executable, "-c", "import edge_agent.agent, sys; print('can' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return output.stdout.strip() == "True"
