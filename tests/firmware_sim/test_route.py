"""Routes through real streets, spherical geometry, and the GNSS receiver model."""

from __future__ import annotations

import itertools
import json
import math
import random
import statistics

import pytest

from firmware_sim.gnss_model import NO_FIX_HDOP, GnssConfig, GnssModel, GnssReading
from firmware_sim.route import (
    BUILTIN_ROUTES,
    SHENZHEN_NANSHAN,
    Route,
    bearing_deg,
    distance_m,
    offset,
    wrap_degrees,
)

NANSHAN_BOX = (22.48, 113.88, 22.60, 114.00)  # south, west, north, east
START_MS = 1_717_200_000_000


# -- geometry ------------------------------------------------------------------------------
def test_distance_and_bearing_on_the_sphere():
    assert distance_m(22.5, 113.9, 23.5, 113.9) == pytest.approx(111_195, rel=1e-3)
    assert distance_m(22.5, 113.9, 22.5, 113.9) == 0.0
    assert bearing_deg(22.5, 113.9, 22.6, 113.9) == pytest.approx(0.0, abs=1e-9)
    assert bearing_deg(22.5, 113.9, 22.5, 114.0) == pytest.approx(90.0, abs=0.05)
    assert bearing_deg(22.5, 113.9, 22.4, 113.9) == pytest.approx(180.0)
    assert wrap_degrees(-1e-18) == 0.0 and wrap_degrees(-90.0) == 270.0
    lat, lon = offset(22.5, 113.9, north_m=30.0, east_m=40.0)
    assert distance_m(22.5, 113.9, lat, lon) == pytest.approx(50.0, rel=1e-4)


# -- the Nanshan route ---------------------------------------------------------------------
def test_default_route_is_a_plausible_loop_inside_nanshan():
    route = Route.load()
    assert route.name == "shenzhen_nanshan" and route.points == SHENZHEN_NANSHAN
    assert len(route.points) >= 40
    assert 8_000 < route.length_m < 15_000
    south, west, north, east = NANSHAN_BOX
    assert all(south <= lat <= north and west <= lon <= east for lat, lon in route.points)
    box = route.bounding_box
    assert south <= box[0] < box[2] <= north and west <= box[1] < box[3] <= east


def test_default_route_has_no_jumps_or_repeats():
    route = Route.load()
    points = [*route.points, route.points[0]]
    gaps = [distance_m(*a, *b) for a, b in itertools.pairwise(points)]
    assert min(gaps) > 20.0 and max(gaps) < 700.0


def test_position_at_interpolates_along_a_segment():
    route = Route.load()
    (lat_a, lon_a), (lat_b, lon_b) = route.points[0], route.points[1]
    half = distance_m(lat_a, lon_a, lat_b, lon_b) / 2
    lat, lon, heading = route.position_at(half)
    assert distance_m(lat_a, lon_a, lat, lon) == pytest.approx(half, rel=1e-3)
    assert distance_m(lat, lon, lat_b, lon_b) == pytest.approx(half, rel=1e-3)
    assert heading == pytest.approx(bearing_deg(lat_a, lon_a, lat_b, lon_b))
    assert 80 < heading < 100  # the loop starts eastbound on Shennan Blvd


def test_position_at_loops_around():
    route = Route.load()
    assert route.position_at(0.0)[:2] == route.points[0]
    assert route.position_at(route.length_m)[:2] == pytest.approx(route.points[0])
    for along in (0.0, 123.4, 5_000.0, route.length_m - 1):
        later = route.position_at(along + 3 * route.length_m)
        assert later == pytest.approx(route.position_at(along))
    first, last = route.points[0], route.points[-1]
    lat, lon, _ = route.position_at(-1.0)  # just before the start: on the closing segment
    assert distance_m(lat, lon, *first) == pytest.approx(1.0, rel=1e-3)
    assert distance_m(lat, lon, *last) < distance_m(*first, *last)


def test_a_custom_square_route():
    corner_lat, corner_lon = 22.53, 113.93
    north_lat, _ = offset(corner_lat, corner_lon, 1000.0, 0.0)
    _, east_lon = offset(corner_lat, corner_lon, 0.0, 1000.0)
    square = [
        (corner_lat, corner_lon),
        (north_lat, corner_lon),
        (north_lat, east_lon),
        (corner_lat, east_lon),
        (corner_lat, corner_lon),
    ]
    route = Route(square, name="square")
    assert len(route.points) == 4  # the repeated closing point is dropped
    assert route.length_m == pytest.approx(4000.0, rel=1e-3)
    assert route.position_at(500.0)[2] == pytest.approx(0.0, abs=1e-6)
    assert route.position_at(3500.0)[2] == pytest.approx(270.0, abs=0.05)


def test_load_a_route_file_and_refuse_bad_ones(tmp_path):
    path = tmp_path / "loop.json"
    points = [[22.5, 113.9], [22.51, 113.9], [22.51, 113.91]]
    path.write_text(json.dumps({"name": "depot", "points": points}))
    route = Route.load(path)
    assert route.name == "depot" and len(route.points) == 3
    assert Route.load(str(path)).length_m == route.length_m
    with pytest.raises(ValueError, match="shenzhen_nanshan"):
        Route.load("atlantis")
    bad = tmp_path / "bad.json"
    bad.write_text('{"points": [[22.5]]}')
    with pytest.raises(ValueError, match="route file"):
        Route.load(bad)
    with pytest.raises(ValueError, match="not a WGS-84 position"):
        Route([(22.5, 113.9), (95.0, 113.9)])
    with pytest.raises(ValueError, match="at least 2"):
        Route([(22.5, 113.9)])
    assert "shenzhen_nanshan" in BUILTIN_ROUTES


# -- GNSS ----------------------------------------------------------------------------------
def stationary_fixes(model: GnssModel, count: int, speed_kmh: float = 0.0) -> list[GnssReading]:
    return [
        model.read(START_MS + 1000 * second, 22.53, 113.94, speed_kmh, 90.0)
        for second in range(count)
    ]


def errors_m(fixes: list[GnssReading]) -> list[tuple[float, float]]:
    north_east = []
    for fix in fixes:
        north = math.copysign(distance_m(22.53, 113.94, fix.lat, 113.94), fix.lat - 22.53)
        east = math.copysign(distance_m(fix.lat, 113.94, fix.lat, fix.lon), fix.lon - 113.94)
        north_east.append((north, east))
    return north_east


def test_position_error_is_a_few_metres_and_correlated():
    quiet = GnssConfig(outages_per_hour=0.0)
    fixes = stationary_fixes(GnssModel(random.Random(11), quiet), 3600)
    assert all(fix.valid for fix in fixes)
    errors = errors_m(fixes)
    rms = math.sqrt(statistics.fmean(n * n + e * e for n, e in errors))
    assert 1.0 < rms < 8.0
    norths = [n for n, _ in errors]
    lag_one = statistics.correlation(norths[:-1], norths[1:])
    assert lag_one > 0.9  # not white noise per fix
    step_rms = math.sqrt(statistics.fmean((b - a) ** 2 for a, b in itertools.pairwise(norths)))
    assert step_rms < 0.3 * rms


def test_dop_satellites_and_altitude_stay_plausible():
    fixes = stationary_fixes(GnssModel(random.Random(12), GnssConfig(outages_per_hour=0.0)), 3600)
    assert all(0.7 <= fix.hdop <= 2.5 for fix in fixes)
    assert all(6 <= fix.satellites <= 20 for fix in fixes)
    assert all(10.0 <= fix.altitude_m <= 60.0 for fix in fixes)
    assert len({fix.satellites for fix in fixes}) > 3
    assert statistics.pstdev(fix.altitude_m for fix in fixes) > 1.0


def test_speed_noise_is_small_and_course_noise_grows_as_speed_falls():
    def course_spread(speed_kmh: float) -> float:
        fixes = stationary_fixes(GnssModel(random.Random(13)), 600, speed_kmh)
        courses = [fix.course_deg for fix in fixes if fix.valid and fix.course_deg is not None]
        return statistics.pstdev((course - 90.0 + 180) % 360 - 180 for course in courses)

    fixes = [fix for fix in stationary_fixes(GnssModel(random.Random(13)), 600, 30.0) if fix.valid]
    assert statistics.fmean(fix.speed_kmh for fix in fixes) == pytest.approx(30.0, abs=0.3)
    assert 0.05 < statistics.pstdev(fix.speed_kmh for fix in fixes) < 1.5
    assert course_spread(30.0) < 2.0
    assert course_spread(3.0) > 3 * course_spread(30.0)


def test_no_course_while_standing_still():
    fixes = [fix for fix in stationary_fixes(GnssModel(random.Random(14)), 600) if fix.valid]
    assert sum(fix.course_deg is None for fix in fixes) > 0.9 * len(fixes)
    assert all(fix.speed_kmh < 2.0 for fix in fixes)


def test_losing_the_fix_gives_invalid_readings_then_recovers():
    model = GnssModel(random.Random(15), GnssConfig(outages_per_hour=0.0))
    before = model.read(START_MS, 22.53, 113.94, 20.0, 90.0)
    model.force_outage(5.0)
    lost = [model.read(START_MS + 1000 * s, 22.531, 113.941, 20.0, 90.0) for s in range(1, 6)]
    assert all(not fix.valid for fix in lost)
    assert all(fix.hdop == NO_FIX_HDOP and fix.satellites <= 3 for fix in lost)
    assert all(fix.speed_kmh is None and fix.course_deg is None for fix in lost)
    assert all((fix.lat, fix.lon) == (before.lat, before.lon) for fix in lost)
    after = model.read(START_MS + 6000, 22.531, 113.941, 20.0, 90.0)
    assert after.valid and distance_m(after.lat, after.lon, 22.531, 113.941) < 20.0


def test_fix_losses_happen_by_themselves_now_and_then():
    model = GnssModel(random.Random(16), GnssConfig(outages_per_hour=20.0))
    fixes = stationary_fixes(model, 3600, 20.0)
    invalid = sum(not fix.valid for fix in fixes)
    assert 0 < invalid < 0.3 * len(fixes)


def test_same_seed_same_fixes():
    def fixes(seed: int) -> list[GnssReading]:
        return stationary_fixes(GnssModel(random.Random(seed)), 50, 15.0)

    assert fixes(21) == fixes(21)
    assert fixes(21) != fixes(22)
