"""Smoke run of every benchmark: each one with its quick settings, one after another.

A benchmark that no longer runs describes code that no longer exists, so CI runs them all
(./run-tests without arguments). The numbers are printed, never compared with anything: a
run fails only when a benchmark exits with an error or hangs past its time limit.

    .venv/bin/python benchmarks/smoke.py                 # all of them
    .venv/bin/python benchmarks/smoke.py command_roundtrip payload_decode
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (script, its arguments): --quick, and smaller sizes where a quick run is still long
RUNS: dict[str, list[str]] = {
    "payload_decode": ["--quick"],
    "outbox_drain": ["--quick"],
    "can_decode": ["--quick"],
    "uplink_bytes": ["--quick"],
    "geofence_eval": ["--quick", "--fences", "1000", "--positions", "20000"],
    "edge_resources": ["--quick"],
    "ingest_throughput": ["--quick", "--devices", "200", "--fences", "1000"],
    "command_roundtrip": ["--quick"],
    "api_access": ["--quick", "--devices", "500"],
    "live_feed": ["--quick", "--devices", "500"],
    "console_map": ["--quick"],
}
LIMIT_S = 300.0  # a benchmark still running after this long counts as failed


def run(name: str, arguments: list[str]) -> tuple[bool, float]:
    """Run one benchmark with its output passed through; (it succeeded, seconds)."""
    command = [sys.executable, str(HERE / f"{name}.py"), *arguments]
    print(f"\n### {name}: {' '.join(arguments)}", flush=True)
    started = time.monotonic()
    try:
        finished = subprocess.run(command, timeout=LIMIT_S, check=False)
        ok = finished.returncode == 0
        if not ok:
            print(f"### {name} exited with {finished.returncode}", flush=True)
    except subprocess.TimeoutExpired:
        print(f"### {name} still running after {LIMIT_S:.0f} s: stopped", flush=True)
        ok = False
    return ok, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"only these: {', '.join(RUNS)}")
    names = parser.parse_args().names or list(RUNS)
    unknown = [name for name in names if name not in RUNS]
    if unknown:
        parser.error(f"no benchmark {unknown[0]!r}; there are {', '.join(RUNS)}")
    results = {name: run(name, RUNS[name]) for name in names}
    print("\n| benchmark | result | seconds |\n| --- | --- | --- |")
    for name, (ok, seconds) in results.items():
        print(f"| {name} | {'ran' if ok else 'FAILED'} | {seconds:.1f} |")
    total = sum(seconds for _, seconds in results.values())
    failed = [name for name, (ok, _) in results.items() if not ok]
    print(f"\nbenchmark smoke run: {len(results) - len(failed)} of {len(results)} ran,"
          f" {total:.0f} s" + (f"; failed: {', '.join(failed)}" if failed else ""))  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
