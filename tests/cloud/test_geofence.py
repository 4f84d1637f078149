"""Geofence core: geometry checks, metric accuracy, classification against a brute-force
shapely loop, and hysteresis on GPS-noisy tracks (all pure: no store, no broker)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import shapely

from cloud.rules import hysteresis as H
from cloud.rules.geofence import (
    KEEP_IN,
    KEEP_OUT,
    Fence,
    FenceError,
    FenceIndex,
    breach,
    circle,
    from_geojson,
)

SZ_LAT, SZ_LON = 22.54, 114.05  # Shenzhen


def destination(lat: float, lon: float, bearing_deg: float, distance_m: float):
    """(lat, lon) ``distance_m`` away on the WGS-84 ellipsoid: the mid-latitude formula,
    iterated; exact to well under a millimetre at the few hundred metres used here. Written
    independently of ``LocalFrame`` (radii at the midpoint, not at a fixed origin)."""
    a, e2 = 6_378_137.0, 6.694_379_990_14e-3
    north = distance_m * math.cos(math.radians(bearing_deg))
    east = distance_m * math.sin(math.radians(bearing_deg))
    lat2, lon2 = lat, lon
    for _ in range(5):
        mid = math.radians((lat + lat2) / 2)
        w = math.sqrt(1 - e2 * math.sin(mid) ** 2)
        m, n = a * (1 - e2) / w**3, a / w
        lat2 = lat + math.degrees(north / m)
        lon2 = lon + math.degrees(east / (n * math.cos(mid)))
    return lat2, lon2


def square(lat: float, lon: float, half_m: float) -> dict:
    """A GeoJSON square of side 2 * half_m around (lat, lon)."""
    north, _ = destination(lat, lon, 0, half_m)
    _, east = destination(lat, lon, 90, half_m)
    dlat, dlon = north - lat, east - lon
    ring = [[lon - dlon, lat - dlat], [lon + dlon, lat - dlat], [lon + dlon, lat + dlat],
            [lon - dlon, lat + dlat], [lon - dlon, lat - dlat]]  # fmt: skip
    return {"type": "Polygon", "coordinates": [ring]}


def zones(fence: Fence, points: list[tuple[float, float]]) -> tuple[list[bool], list[int]]:
    index = FenceIndex([fence])
    lat, lon = zip(*points, strict=True)
    result = index.classify(index.assign({"d": [fence.id]}), ["d"] * len(points), lon, lat)
    return result.inside.tolist(), result.zone.tolist()


# -- geometry checks ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"type": "Polygon", "coordinates": [[[114, 22], [114.1, 22], [114.1, 22.1], [114, 22.1]]]},
         "ring 0 is not closed: first position [114.0, 22.0], last [114.0, 22.1]"),
        ({"type": "Polygon", "coordinates": [[[114, 22], [114.1, 22], [114, 22]]]},
         "polygon ring 0 needs at least 4 positions (closed), got 3"),
        ({"type": "Polygon", "coordinates": [[[114, 22], [194, 22], [114, 23], [114, 22]]]},
         "polygon ring 0 position 1: longitude 194 is outside [-180, 180]"),
        ({"type": "Polygon", "coordinates": [[[114, 22], [115, 91], [114, 23], [114, 22]]]},
         "polygon ring 0 position 1: latitude 91 is outside [-90, 90]"),
        ({"type": "Polygon",
          "coordinates": [[[114, 22], [115, 23], [115, 22], [114, 23], [114, 22]]]},
         "Polygon is not valid: Self-intersection"),
        ({"type": "Polygon", "coordinates": [[[114, 22], "x", [114, 23], [114, 22]]]},
         "polygon ring 0 position 1: expected [lon, lat], got 'x'"),
        ({"type": "MultiPolygon", "coordinates": [
            [[[114, 22], [114.1, 22], [114.1, 22.1], [114, 22]]],
            [[[115, 22], [115.1, 22], [115.1, 22.1], [115, 22.2]]]]},
         "polygon 1 ring 0 is not closed"),
        ({"type": "Point", "coordinates": [114, 22]},
         "geometry type must be Polygon or MultiPolygon, got 'Point'"),
    ],
)  # fmt: skip
def test_geojson_errors_say_what_is_wrong(document, message):
    with pytest.raises(FenceError) as caught:
        from_geojson(document)
    assert message in str(caught.value)


def test_fence_and_circle_errors():
    with pytest.raises(FenceError, match="radius_m must be a positive number"):
        circle(lat=SZ_LAT, lon=SZ_LON, radius_m=0)
    with pytest.raises(FenceError, match="circle centre: latitude 95"):
        circle(lat=95, lon=SZ_LON, radius_m=10)
    shape = circle(lat=SZ_LAT, lon=SZ_LON, radius_m=100)
    with pytest.raises(FenceError, match="kind must be one of"):
        Fence.build("f", shape, "keep_near", 10)
    with pytest.raises(FenceError, match="a margin of 150 m leaves nothing inside"):
        Fence.build("f", shape, KEEP_IN, 150)
    fence = Fence.build("f", shape, KEEP_IN, 10)
    with pytest.raises(FenceError, match="fence 'f' is given twice"):
        FenceIndex([fence, fence])
    with pytest.raises(FenceError, match="fence 'g' is not in the index"):
        FenceIndex([fence]).assign({"d": ["g"]})


# -- metres ------------------------------------------------------------------------------
@pytest.mark.parametrize("lat", [SZ_LAT, 60.0, -33.9])
def test_circle_radius_is_right_within_one_percent(lat):
    fence = Fence.build("c", circle(lat=lat, lon=SZ_LON, radius_m=100), KEEP_IN, 0)
    bearings = range(0, 360, 7)
    inner = [destination(lat, SZ_LON, b, 99) for b in bearings]
    outer = [destination(lat, SZ_LON, b, 101) for b in bearings]
    assert zones(fence, inner)[0] == [True] * len(inner)
    assert zones(fence, outer)[0] == [False] * len(outer)


def test_margin_band_is_in_metres():
    fence = Fence.build("sq", from_geojson(square(SZ_LAT, SZ_LON, 500)), KEEP_IN, 20)
    east = [destination(SZ_LAT, SZ_LON, 90, d) for d in (470, 485, 515, 530)]
    north = [destination(SZ_LAT, SZ_LON, 0, d) for d in (470, 485, 515, 530)]
    for points in (east, north):
        inside, zone = zones(fence, points)
        assert inside == [True, True, False, False]
        assert zone == [1, 0, 0, -1]


def test_keep_in_and_keep_out_read_the_same_geometry_the_other_way():
    shape = circle(lat=SZ_LAT, lon=SZ_LON, radius_m=200)
    here, away = (SZ_LAT, SZ_LON), destination(SZ_LAT, SZ_LON, 45, 400)
    for kind in (KEEP_IN, KEEP_OUT):
        inside, _ = zones(Fence.build(kind, shape, kind, 10), [here, away])
        assert inside == [True, False]
    assert [breach(KEEP_IN, True), breach(KEEP_IN, False)] == [False, True]
    assert [breach(KEEP_OUT, True), breach(KEEP_OUT, False)] == [True, False]


def test_multipolygon_with_a_hole():
    outer = square(SZ_LAT, SZ_LON, 500)["coordinates"][0]
    hole = square(SZ_LAT, SZ_LON, 100)["coordinates"][0][::-1]
    far_lat, far_lon = destination(SZ_LAT, SZ_LON, 90, 3000)
    second = square(far_lat, far_lon, 300)["coordinates"]
    shape = from_geojson({"type": "MultiPolygon", "coordinates": [[outer, hole], second]})
    fence = Fence.build("m", shape, KEEP_IN, 10)
    points = [
        destination(SZ_LAT, SZ_LON, 0, 300),  # in the first polygon's ring
        (SZ_LAT, SZ_LON),  # in the hole
        (far_lat, far_lon),  # in the second polygon
        destination(SZ_LAT, SZ_LON, 90, 1500),  # between the two
    ]
    inside, zone = zones(fence, points)
    assert inside == [True, False, True, False]
    assert zone == [1, -1, 1, -1]


# -- the index against brute force --------------------------------------------------------
def random_fences(rng: np.random.Generator, count: int) -> list[Fence]:
    fences = []
    for i in range(count):
        lat, lon = rng.uniform(22.50, 22.60), rng.uniform(114.00, 114.10)
        radius = rng.uniform(100, 1500)
        if i % 2:
            shape = circle(lat=lat, lon=lon, radius_m=radius)
        else:
            corners = int(rng.integers(4, 12))  # irregular, but never a sliver
            angles = (np.arange(corners) + rng.uniform(-0.3, 0.3, corners)) * 360 / corners
            r = radius * rng.uniform(0.5, 1.0, corners)
            ring = [destination(lat, lon, a, d) for a, d in zip(angles, r, strict=True)]
            shape = from_geojson({"type": "Polygon", "coordinates": [
                [[x, y] for y, x in ring] + [[ring[0][1], ring[0][0]]]]})  # fmt: skip
        kind = KEEP_IN if rng.random() < 0.5 else KEEP_OUT
        fences.append(Fence.build(i, shape, kind, float(rng.uniform(0, 40))))
    return fences


@pytest.mark.slow
def test_strtree_and_classify_equal_a_brute_force_loop():
    rng = np.random.default_rng(20240605)
    fences = random_fences(rng, 200)
    index = FenceIndex(fences)
    n = 3000
    lon, lat = rng.uniform(113.99, 114.11, n), rng.uniform(22.49, 22.61, n)
    devices = rng.integers(0, 50, n)
    device_fences = {d: rng.choice(200, rng.integers(0, 6), replace=False).tolist()
                     for d in range(45)}  # devices 45..49 have no fences  # fmt: skip

    point, fence = index.containing(lon, lat)
    expected = sorted(
        (p, f)
        for p in range(n)
        for f in range(len(fences))
        if fences[f].shape.contains(shapely.Point(lon[p], lat[p]))
    )
    assert list(zip(point.tolist(), fence.tolist(), strict=True)) == expected
    assert len(expected) > 500  # the random data does exercise the tree

    got = index.classify(index.assign(device_fences), devices, lon, lat)
    rows = sorted(
        zip(got.point.tolist(), index.fence_ids(got.fence), got.inside.tolist(),
            got.zone.tolist(), strict=True)
    )  # fmt: skip
    brute = []
    for p in range(n):
        at = shapely.Point(lon[p], lat[p])
        for f in device_fences.get(int(devices[p]), []):
            fc = fences[f]
            zone = 1 if fc.inner.contains(at) else (0 if fc.outer.contains(at) else -1)
            brute.append((p, f, fc.shape.contains(at), zone))
    assert rows == sorted(brute)
    assert {r[3] for r in brute} == {-1, 0, 1}


# -- hysteresis --------------------------------------------------------------------------
def gauss_markov(rng, n, sigma_m, tau_s, dt_s):
    """2-D first-order Gauss-Markov GPS error (metres east, north), stationary sigma."""
    phi = math.exp(-dt_s / tau_s)
    out = np.empty((n, 2))
    out[0] = rng.normal(0, sigma_m, 2)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + rng.normal(0, sigma_m * math.sqrt(1 - phi * phi), 2)
    return out


def run_track(fence: Fence, east_m, north_m, *, dwell_s, resent=None, t0_ms=1_700_000_000_000):
    """Positions east/north of the fence centre, one every 10 s, through classify + advance."""
    index = FenceIndex([fence])
    n = len(east_m)
    ll = [destination(*destination(SZ_LAT, SZ_LON, 90, e), 0, nn) for e, nn in
          zip(east_m, north_m, strict=True)]  # fmt: skip
    lat, lon = np.array([p[0] for p in ll]), np.array([p[1] for p in ll])
    devices = np.array(["dev-1"] * n)
    times = t0_ms + 10_000 * np.arange(n, dtype=np.int64)
    resent = np.zeros(n, bool) if resent is None else resent
    states: dict = {}
    got = index.classify(index.assign({"dev-1": [fence.id]}), devices, lon, lat)
    events = H.advance(states, index, got, devices, times, resent, dwell_s)
    return events, states, times


SQUARE = from_geojson(square(SZ_LAT, SZ_LON, 1000))


@pytest.mark.parametrize("noise", ["iid", "gauss-markov"])
def test_wandering_along_the_border_never_flaps(noise):
    rng = np.random.default_rng(7)
    n = 6 * 360  # six hours, a sample every 10 s
    along = np.linspace(-900, 900, n)  # walking north along the east edge, on the line
    error = (rng.normal(0, 5, (n, 2)) if noise == "iid"
             else gauss_markov(rng, n, sigma_m=5, tau_s=60, dt_s=10))  # fmt: skip
    east, north = 1000 + error[:, 0], along + error[:, 1]
    # the scenario is a real test: without hysteresis the same track flaps all the time
    naive, _, _ = run_track(Fence.build("f", SQUARE, KEEP_IN, 0), east, north, dwell_s=0)
    assert len(naive) > 50
    events, states, _ = run_track(Fence.build("f", SQUARE, KEEP_IN, 20), east, north, dwell_s=30)
    assert events == []
    assert states[("dev-1", "f")]["state"] == H.INSIDE


def test_a_real_exit_and_return_raise_one_left_and_one_reentered():
    rng = np.random.default_rng(11)
    # 20 min on the border, walk 300 m out, 20 min outside, walk back to 100 m inside and
    # stay there 20 min: the return must be confirmed only once 20 m inside for 30 s
    east = np.r_[np.full(120, 1000.0), np.linspace(1000, 1300, 30), np.full(120, 1300.0),
                 np.linspace(1300, 900, 30), np.full(120, 900.0)]  # fmt: skip
    error = gauss_markov(rng, len(east), sigma_m=5, tau_s=60, dt_s=10)
    events, states, times = run_track(
        Fence.build("f", SQUARE, KEEP_IN, 20), east + error[:, 0], error[:, 1], dwell_s=30
    )
    assert [e.type for e in events] == [H.LEFT, H.REENTERED]
    left, back = events
    # left: confirmed once beyond 1020 m for 30 s, i.e. during the walk out (samples 120-149)
    assert times[120] < left.time_ms <= times[150]
    assert times[270] < back.time_ms <= times[300]
    assert not left.resent and not back.resent
    assert states[("dev-1", "f")]["state"] == H.INSIDE


def test_device_out_of_bounds_when_first_seen_raises_left_only_for_keep_in():
    east = np.full(10, 1500.0)
    for kind, expected in ((KEEP_IN, [H.LEFT]), (KEEP_OUT, [])):
        events, _, _ = run_track(Fence.build("f", SQUARE, kind, 20), east, np.zeros(10),
                                 dwell_s=30)  # fmt: skip
        assert [e.type for e in events] == expected


def test_resent_backlog_events_carry_resent():
    east = np.r_[np.full(10, 0.0), np.full(10, 1500.0)]
    resent = np.r_[np.zeros(5, bool), np.ones(15, bool)]
    events, _, times = run_track(Fence.build("f", SQUARE, KEEP_IN, 20), east, np.zeros(20),
                                 dwell_s=30, resent=resent)  # fmt: skip
    assert [(e.type, e.time_ms, e.resent) for e in events] == [(H.LEFT, int(times[13]), True)]


def test_state_survives_json_between_batches_and_stale_samples_are_skipped():
    index = FenceIndex([Fence.build("f", SQUARE, KEEP_IN, 20)])
    far = destination(SZ_LAT, SZ_LON, 90, 1500)
    t = 1_700_000_000_000
    states: dict = {}
    for i in range(3):  # one sample per batch, the state through JSON in between
        got = index.classify(index.assign({"d": ["f"]}), ["d"], [far[1]], [far[0]])
        events = H.advance(states, index, got, ["d"], [t + i * 15_000], [False], 30)
        states = {k: v for k, v in zip(states, json.loads(json.dumps(list(states.values()))),
                                       strict=True)}  # fmt: skip
        assert [e.type for e in events] == ([H.LEFT] if i == 2 else [])
    # a sample older than the last one seen changes nothing, even if it is deep inside
    got = index.classify(index.assign({"d": ["f"]}), ["d"], [SZ_LON], [SZ_LAT])
    before = dict(states[("d", "f")])
    for _ in range(5):
        assert H.advance(states, index, got, ["d"], [t - 60_000], [False], 0) == []
    assert states[("d", "f")] == before
