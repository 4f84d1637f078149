"""Benchmark 7: geofence evaluation, positions per second classified.

10,000 fences around Shenzhen (22.4-22.8 N, 113.8-114.4 E): half circles (radius 150 m to
3 km), half irregular polygons (6 to 40 corners, 150 m to 3 km across), every tenth of those a
two-part MultiPolygon; margins 10 to 50 m; keep-in and keep-out mixed. 100,000 positions from
20,000 devices, 5 positions each; each device is assigned 1 to 5 fences (uniformly). A position
is classified against every fence its device is assigned to (inside / outside, and its
hysteresis zone): that is one (position, fence) pair per assignment, about 3 per position.

Two position layouts: ``near`` puts each device around its first fence (within 1.3 radii of
its centre, so many pairs need the full geometry test), ``city`` spreads positions uniformly
over the area (most pairs settle on the bounding box). Also timed: ``FenceIndex.containing``
(every fence containing a position, through the STRtree), and ``hysteresis.advance`` on the
classified batch.

    .venv/bin/python benchmarks/geofence_eval.py          # ~1 min
    .venv/bin/python benchmarks/geofence_eval.py --quick  # ~15 s
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np
from _common import base_parser, print_header, print_table

from cloud.rules import hysteresis
from cloud.rules.geofence import KEEP_IN, KEEP_OUT, Fence, FenceIndex, LocalFrame, circle

TARGET_POSITIONS_PER_S = 500_000
SOUTH, NORTH, WEST, EAST = 22.4, 22.8, 113.8, 114.4


def polygon_shape(rng: np.random.Generator, lat: float, lon: float, radius: float):
    """An irregular star-free polygon around (lat, lon), built in metres."""
    import shapely

    def ring(cx: float, cy: float, r: float):
        corners = int(rng.integers(6, 41))
        angles = (np.arange(corners) + rng.uniform(-0.3, 0.3, corners)) * 2 * math.pi / corners
        d = r * rng.uniform(0.6, 1.0, corners)
        return np.c_[cx + d * np.sin(angles), cy + d * np.cos(angles)]

    frame = LocalFrame(lat, lon)
    if rng.random() < 0.1:
        parts = [shapely.Polygon(ring(-radius * 0.6, 0, radius * 0.4)),
                 shapely.Polygon(ring(radius * 0.6, 0, radius * 0.4))]  # fmt: skip
        metric = shapely.MultiPolygon(parts)
    else:
        metric = shapely.Polygon(ring(0, 0, radius))
    return frame.to_degrees(metric)


def make_fences(rng: np.random.Generator, count: int):
    centres = np.c_[rng.uniform(SOUTH, NORTH, count), rng.uniform(WEST, EAST, count)]
    radii = np.exp(rng.uniform(math.log(150), math.log(3000), count))
    shapes = []
    for i, ((lat, lon), r) in enumerate(zip(centres, radii, strict=True)):
        if i % 2:
            shapes.append(circle(lat=float(lat), lon=float(lon), radius_m=float(r)))
        else:
            shapes.append(polygon_shape(rng, float(lat), float(lon), float(r)))
    kinds = np.where(rng.random(count) < 0.7, KEEP_IN, KEEP_OUT)
    margins = np.minimum(rng.uniform(10, 50, count), radii / 8)  # a small fence, a small margin
    return shapes, kinds, margins, centres, radii


def main() -> None:
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--fences", type=int, default=10_000)
    parser.add_argument("--positions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each measure")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 2
    print_header("Geofence evaluation: positions/s classified", args)
    rng = np.random.default_rng(5)

    t0 = time.perf_counter()
    shapes, kinds, margins, centres, radii = make_fences(rng, args.fences)
    t1 = time.perf_counter()
    fences = [Fence.build(i, s, str(k), float(m))
              for i, (s, k, m) in enumerate(zip(shapes, kinds, margins, strict=True))]  # fmt: skip
    t2 = time.perf_counter()
    index = FenceIndex(fences)
    t3 = time.perf_counter()
    vertices = sum(
        len(s.exterior.coords) if s.geom_type == "Polygon" else
        sum(len(p.exterior.coords) for p in s.geoms) for s in shapes
    )  # fmt: skip
    print(f"   {args.fences:,} fences, {vertices:,} vertices (shapes alone)")
    print_table(
        ["build step", "time"],
        [["shapes (circles in a local frame, polygons)", f"{t1 - t0:.2f} s"],
         ["Fence.build: margin shapes (2 buffers each, metric frame)", f"{t2 - t1:.2f} s"],
         ["FenceIndex: prepare 3 x shapes, bounds, STRtree", f"{t3 - t2:.2f} s"]],
    )  # fmt: skip

    n = args.positions
    devices_count = n // 5
    assigned = {
        d: rng.choice(args.fences, int(rng.integers(1, 6)), replace=False).tolist()
        for d in range(devices_count)
    }
    t4 = time.perf_counter()
    assignment = index.assign(assigned)
    print(f"   index.assign for {devices_count:,} devices: {time.perf_counter() - t4:.2f} s"
          " (once, when assignments change)")  # fmt: skip
    devices = np.repeat(np.arange(devices_count), 5)
    rng.shuffle(devices)
    first = np.array([assigned[d][0] for d in range(devices_count)])[devices]
    layouts = {}
    # near: around the first fence, up to 1.3 radii from its centre (uniform over the disc)
    distance = radii[first] * 1.3 * np.sqrt(rng.random(n))
    bearing = rng.uniform(0, 2 * math.pi, n)
    lat0 = centres[first, 0]
    near_lat = lat0 + distance * np.cos(bearing) / 110_750
    near_lon = centres[first, 1] + distance * np.sin(bearing) / (111_320 * np.cos(np.radians(lat0)))
    layouts["near"] = (near_lon, near_lat)
    layouts["city"] = (rng.uniform(WEST, EAST, n), rng.uniform(SOUTH, NORTH, n))
    times = 1_700_000_000_000 + np.arange(n, dtype=np.int64) * 100
    resent = np.zeros(n, bool)

    rows = [
        measure(args.rounds, index, assignment, devices, lon, lat, times, resent, name)
        for name, (lon, lat) in layouts.items()
    ]
    print()
    print(f"   {n:,} positions, {devices_count:,} devices with 1-5 fences each;"
          f" median of {args.rounds} rounds")  # fmt: skip
    print_table(
        ["layout", "(position, fence) pairs", "zone +1 / 0 / -1",
         "classify, one 100k batch: positions/s", "classify, 100 batches of 1k: positions/s",
         "containing (STRtree, all fences): positions/s", "hysteresis.advance: positions/s"],
        rows,
    )  # fmt: skip
    print(f"\n   target: >= {TARGET_POSITIONS_PER_S:,} positions/s classified")


def measure(rounds, index, assigned, devices, lon, lat, times, resent, name) -> list[str]:
    """One table row: the classification of one layout, timed several ways."""
    n = len(lon)
    result = index.classify(assigned, devices, lon, lat)
    pairs = len(result.point)
    zone_counts = {z: int((result.zone == z).sum()) for z in (1, 0, -1)}
    classify_s = timed(rounds, lambda: index.classify(assigned, devices, lon, lat))
    small = [slice(i, i + 1000) for i in range(0, n, 1000)]
    batches_s = timed(rounds, lambda: [
        index.classify(assigned, devices[s], lon[s], lat[s]) for s in small])  # fmt: skip
    containing_s = timed(rounds, lambda: index.containing(lon, lat))
    hits = len(index.containing(lon, lat)[0])
    advance_s = timed(rounds, lambda: hysteresis.advance(
        {}, index, result, devices, times, resent, 30))  # fmt: skip
    return [
        name, f"{pairs:,} ({pairs / n:.2f}/position)",
        f"{zone_counts[1]:,} / {zone_counts[0]:,} / {zone_counts[-1]:,}",
        f"**{n / classify_s:,.0f}** ({classify_s * 1000:.0f} ms)",
        f"{n / batches_s:,.0f}", f"{n / containing_s:,.0f} ({hits:,} hits)",
        f"{n / advance_s:,.0f}",
    ]  # fmt: skip


def timed(rounds: int, work) -> float:
    """Median wall time of ``rounds`` runs of ``work`` (after one untimed warm-up)."""
    work()
    spans = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        spans.append(time.perf_counter() - start)
    return statistics.median(spans)


if __name__ == "__main__":
    main()
