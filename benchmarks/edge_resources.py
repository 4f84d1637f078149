"""Benchmark 1: memory and CPU of the edge agent with one device attached.

The real daemon (``voltrent-edge --config FILE``) runs as its own process, so psutil sees
it alone. The simulated hardware runs here: a 16S JBD BMS polled at 1 Hz and a GNSS module
at 1 Hz on ptys, and the light-EV DBC's CAN messages at their cycle times (~102 frames/s)
behind an slcan adapter on a third pty, read by the agent's own ``slcan`` source
(``--can-source python-can`` measures ``type = "can"``, ``interface = "slcan"`` instead).
A throwaway Mosquitto takes the uplink and a
subscriber here counts what reaches it, to prove the agent was really working.

Target: <= 40 MB RSS and <= 3 % of one core.

    .venv/bin/python benchmarks/edge_resources.py          # ~2.5 min
    .venv/bin/python benchmarks/edge_resources.py --quick  # ~25 s
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from _common import (
    AgentProcess,
    SimulatedHardware,
    UplinkCounter,
    agent_document,
    base_parser,
    high_water_rss,
    mib,
    print_header,
    print_table,
    work_directory,
)
from _diagnostics import (
    can_loaded_without_can_source,
    import_costs,
    print_profile,
    profiled,
    traced,
)

from launcher.broker import MosquittoBroker

DEVICE_ID = "bench-0001"
TARGET_RSS_MB = 40
TARGET_CPU_PERCENT = 3.0
NO_CAN = "BMS + GNSS only (no CAN)"
CAN_LABELS = {"slcan": "slcan source", "python-can": "python-can slcan"}
STATUS_INTERVAL_S = 15.0  # more often than the default 300 s: its counters prove CAN decoding


@dataclass
class Run:
    label: str
    warmup_s: float
    window_s: float
    rss: list[tuple[float, int]] = field(default_factory=list)  # (s since start, bytes)
    cpu: list[tuple[float, float]] = field(default_factory=list)  # (s since start, cpu s)
    uss: int | None = None
    pss: int | None = None
    high_water: int | None = None
    threads: int = 0
    bench_cpu_percent: float = 0.0
    main_thread_cpu_percent: float = 0.0  # the event loop's thread, over the window
    other_threads_cpu_percent: float = 0.0  # python-can's Notifier, the default executor
    counter: UplinkCounter | None = None
    hardware: dict[str, int] = field(default_factory=dict)
    agent_log: Path | None = None

    def cpu_percent(self, start: float, end: float) -> float:
        first = next(c for t, c in self.cpu if t >= start)
        t0 = next(t for t, c in self.cpu if t >= start)
        t1, last = [(t, c) for t, c in self.cpu if t <= end][-1]
        return 100.0 * (last - first) / (t1 - t0)

    def window_cpu_percent(self) -> float:
        return self.cpu_percent(self.warmup_s, self.warmup_s + self.window_s)

    def slice_cpu_percents(self, width: float = 10.0) -> list[float]:
        out, start = [], self.warmup_s
        while start + width <= self.warmup_s + self.window_s + 0.01:
            out.append(self.cpu_percent(start, start + width))
            start += width
        return out

    def window_rss(self) -> list[int]:
        end = self.warmup_s + self.window_s
        return [r for t, r in self.rss if self.warmup_s <= t <= end]


async def measure(
    label: str,
    work: Path,
    broker: MosquittoBroker,
    *,
    can: bool,
    warmup_s: float,
    window_s: float,
    reporting: dict[str, Any],
    command_for: Callable[[Path], list[str]] | None = None,
    can_source: str = "slcan",
) -> Run:
    """Run the agent once and sample its RSS and CPU; ``command_for(config_path)`` starts
    it another way (see ``_diagnostics``)."""
    run = Run(label, warmup_s, window_s)
    work.mkdir(parents=True)
    hardware = SimulatedHardware(work, DEVICE_ID, can=can)
    counter = run.counter = UplinkCounter("127.0.0.1", broker.port, DEVICE_ID)
    document = agent_document(
        DEVICE_ID,
        broker.url,
        work / "outbox.db",
        reporting={**reporting, "status_interval_s": STATUS_INTERVAL_S},
        sources=agent_sources(hardware, can_source),
    )
    agent = AgentProcess(work, document)
    run.agent_log = agent.log_path
    tasks = [asyncio.create_task(hardware.run()), asyncio.create_task(counter.run())]
    try:
        await asyncio.wait_for(counter.ready.wait(), 10)
        agent.start(command=command_for(agent.config_path) if command_for else None)
        process = psutil.Process(agent.pid)
        me = psutil.Process()
        bench_cpu_start = bench_cpu_end = None
        threads_start: dict[int, float] = {}
        end = warmup_s + window_s
        while (now := time.monotonic() - agent.started) <= end + 0.5:
            agent.check_alive()
            times = process.cpu_times()
            run.cpu.append((now, times.user + times.system))
            run.rss.append((now, process.memory_info().rss))
            if bench_cpu_start is None and now >= warmup_s:
                bench_cpu_start = (time.monotonic(), sum(me.cpu_times()[:2]))
                threads_start = _thread_times(process)
            if bench_cpu_end is None and now >= end:
                bench_cpu_end = (time.monotonic(), sum(me.cpu_times()[:2]))
                main, others = _thread_shares(threads_start, _thread_times(process), agent.pid)
                elapsed = bench_cpu_end[0] - bench_cpu_start[0]
                run.main_thread_cpu_percent = 100 * main / elapsed
                run.other_threads_cpu_percent = 100 * others / elapsed
                full = process.memory_full_info()
                run.uss, run.pss = full.uss, getattr(full, "pss", None)
                run.threads = process.num_threads()
            await asyncio.sleep(0.5)
        run.high_water = high_water_rss(agent.pid)
        assert bench_cpu_start is not None and bench_cpu_end is not None
        run.bench_cpu_percent = (
            100 * (bench_cpu_end[1] - bench_cpu_start[1]) / (bench_cpu_end[0] - bench_cpu_start[0])
        )
        run.hardware = hardware.counters()
    finally:
        agent.stop()
        await asyncio.sleep(0.5)  # the last messages on their way to the subscriber
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        hardware.close()
    return run


def agent_sources(hardware: SimulatedHardware, can_source: str) -> dict[str, Any]:
    """The agent's [sources]: the CAN adapter through the agent's own ``slcan`` source, or
    through python-can (``type = "can"``, ``interface = "slcan"``) as the hardware says."""
    sources = hardware.sources()
    vehicle = sources.get("vehicle")
    if vehicle is not None and can_source == "slcan":
        sources["vehicle"] = {
            "type": "slcan",
            "port": vehicle["channel"],
            "bitrate": vehicle["bitrate"],
        }
    return sources


def _thread_times(process: psutil.Process) -> dict[int, float]:
    return {thread.id: thread.user_time + thread.system_time for thread in process.threads()}


def _thread_shares(
    start: dict[int, float], end: dict[int, float], main_id: int
) -> tuple[float, float]:
    """CPU seconds of the main thread and of all other threads between two snapshots."""
    deltas = {tid: cpu - start.get(tid, 0.0) for tid, cpu in end.items()}
    main = deltas.pop(main_id, 0.0)
    return main, sum(deltas.values())


def can_rate(run: Run) -> tuple[float | None, int | None]:
    """CAN frames/s the agent decoded, from two status messages' ``readings`` counters."""
    statuses = [(t, s) for t, s in run.counter.statuses if "vehicle" in s.get("sources", {})]  # type: ignore[union-attr]
    if len(statuses) < 2:
        return None, None
    (t0, first), (t1, last) = statuses[0], statuses[-1]
    readings = last["sources"]["vehicle"]["readings"]
    rate = (readings - first["sources"]["vehicle"]["readings"]) / (t1 - t0)
    return rate, last["sources"]["vehicle"].get("errors", {}).get("overrun", 0)


def _last_counter(run: Run, name: str) -> str:
    statuses = run.counter.statuses if run.counter is not None else []
    return str(statuses[-1][1].get("counters", {}).get(name, "n/a")) if statuses else "n/a"


def report(runs: list[Run]) -> None:
    rows = []
    for run in runs:
        window = run.window_rss()
        slices = run.slice_cpu_percents()
        rows.append(
            [
                run.label,
                f"{run.warmup_s:.0f} + {run.window_s:.0f}",
                mib(run.high_water),
                mib(max(r for _, r in run.rss)),
                mib(statistics.median(window)),
                mib(run.uss),
                mib(run.pss),
                f"{run.window_cpu_percent():.2f}",
                f"{run.main_thread_cpu_percent:.2f} / {run.other_threads_cpu_percent:.2f}",
                f"{min(slices):.2f} / {max(slices):.2f}" if slices else "n/a",
                run.threads,
            ]
        )
    print_table(
        [
            "agent",
            "warm-up + window s",
            "RSS peak (VmHWM) MiB",
            "RSS peak sampled MiB",
            "RSS steady (median) MiB",
            "USS MiB",
            "PSS MiB",
            "CPU % of one core",
            "of which event loop / other threads",
            "CPU % min / max of 10 s slices",
            "threads",
        ],
        rows,
    )
    print()
    rows = []
    for run in runs:
        counter = run.counter
        assert counter is not None
        rate, overruns = can_rate(run)
        rows.append(
            [
                run.label,
                sum(counter.samples_by_type.values()),
                ", ".join(f"{k} {v}" for k, v in sorted(counter.samples_by_type.items())),
                counter.messages["up/telemetry"],
                sum(counter.events.values()),
                "n/a" if rate is None else f"{rate:.1f}",
                "n/a" if overruns is None else overruns,
                ", ".join(f"{k} {v}" for k, v in run.hardware.items()),
                f"{run.bench_cpu_percent:.1f}",
                _last_counter(run, "connects"),
            ]
        )
    print_table(
        [
            "agent",
            "samples at broker",
            "by type",
            "telemetry msgs",
            "events",
            "CAN frames/s decoded (status)",
            "CAN overruns",
            "simulator counters",
            "simulator+subscriber CPU %",
            "uplink connects",
        ],
        rows,
    )


async def main_async(args: Any, work: Path) -> list[Run]:
    if args.quick:
        warmup, window, baseline_window = 5.0, 15.0, 0.0
        reporting = {"report_interval_s": 2.0, "upload_interval_s": 10.0}
    else:
        warmup, window, baseline_window = args.warmup, args.window, args.baseline_window
        reporting = {
            "report_interval_s": args.report_interval,
            "upload_interval_s": args.upload_interval,
        }
    # (label, with CAN, window s, how to start the agent, kept in the results table)
    plan: list[tuple[str, bool, float, Callable[[Path], list[str]] | None, bool]] = [
        (f"BMS + GNSS + CAN ({CAN_LABELS[args.can_source]})", True, window, None, True)
    ]
    if args.profile:  # where the time goes; its own CPU % is inflated by the profiler
        plan.append(("profiled", True, window, profiled(work / "agent.prof"), False))
    if args.tracemalloc:
        plan.append(("tracemalloc", True, window, traced(work / "tracemalloc.txt"), False))
    if baseline_window > 0:
        plan.append((NO_CAN, False, baseline_window, None, True))
    runs = []
    with MosquittoBroker(data_dir=work / "broker") as broker:
        for index, (label, can, run_window, command_for, keep) in enumerate(plan):
            run = await measure(
                label,
                work / f"run-{index}",
                broker,
                can=can,
                warmup_s=warmup,
                window_s=run_window,
                reporting=reporting,
                command_for=command_for,
                can_source=args.can_source,
            )
            if keep:
                runs.append(run)
    return runs


def main() -> None:
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--warmup", type=float, default=15.0, help="s before the window")
    parser.add_argument("--window", type=float, default=60.0, help="s of steady measurement")
    parser.add_argument(
        "--baseline-window",
        type=float,
        default=45.0,
        help="s of a second run without CAN, to attribute the CPU (0: skip)",
    )
    parser.add_argument(
        "--can-source",
        choices=sorted(CAN_LABELS),
        default="slcan",
        help="how the agent reads the slcan adapter: its own slcan source (the product's"
        " path) or python-can's slcan interface (type = can)",
    )
    parser.add_argument("--report-interval", type=float, default=10.0, help="product default")
    parser.add_argument("--upload-interval", type=float, default=60.0, help="product default")
    parser.add_argument(
        "--profile", action="store_true", help="also run the agent under cProfile and print it"
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also run the agent under tracemalloc and print its allocations by file",
    )
    args = parser.parse_args()
    print_header("edge agent resources: 1 device, BMS 1 Hz + GNSS 1 Hz + CAN ~102 frames/s", args)
    with work_directory(args.keep) as work:
        runs = asyncio.run(main_async(args, work))
        quick = args.quick
        report_interval = 2.0 if quick else args.report_interval
        upload_interval = 10.0 if quick else args.upload_interval
        print(
            f"   agent config: report_interval_s={report_interval:g},"
            f" upload_interval_s={upload_interval:g}, status_interval_s={STATUS_INTERVAL_S:g},"
            f" CAN slcan 500 kbit/s on a pty via {CAN_LABELS[args.can_source]}"
        )
        print()
        report(runs)
        full = runs[0]
        print()
        steady = statistics.median(full.window_rss())
        peak = full.high_water or max(r for _, r in full.rss)
        cpu = full.window_cpu_percent()
        print(
            f"   target: RSS <= {TARGET_RSS_MB} MB: peak {peak / 1e6:.1f} MB ({mib(peak)} MiB),"
            f" steady {steady / 1e6:.1f} MB ({mib(steady)} MiB)"
            f" -> {'met' if peak <= TARGET_RSS_MB * 1e6 else 'MISSED'};"
            f" CPU <= {TARGET_CPU_PERCENT:g} % of one core: {cpu:.2f} %"
            f" -> {'met' if cpu <= TARGET_CPU_PERCENT else 'MISSED'}"
        )
        for run in runs:
            if run.label == NO_CAN:
                print(
                    f"   CAN's share of the CPU: {cpu - run.window_cpu_percent():.2f} % of one"
                    " core (with CAN minus without)"
                )
        print()
        print("   where the RSS comes from: a fresh interpreter's peak RSS after each import step")
        print_table(["imports (cumulative)", "peak RSS MiB", "step MiB", "modules"], import_costs())
        print(
            "   python-can and cantools loaded by `import edge_agent.agent` alone (no CAN"
            f" source configured): {can_loaded_without_can_source()}"
        )
        if args.profile:
            print()
            print_profile(work / "agent.prof")
        if args.tracemalloc:
            print()
            print("   the agent's Python allocations at exit, by allocating file (tracemalloc):")
            print((work / "tracemalloc.txt").read_text())


if __name__ == "__main__":
    main()
