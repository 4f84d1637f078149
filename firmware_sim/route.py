"""Closed routes through real streets, and the spherical geometry to ride them.

The default route is a loop of about 12 km in Nanshan district, Shenzhen, in WGS-84 (the
GPS datum; Chinese web maps use the shifted GCJ-02, about 300 m south-east of the truth
here, so coordinates copied from them would be wrong). Corners and the points along each
road sit on the named roads; they are anchored to the metro stations that run beneath
(Line 1 and 13 at Shennan Blvd, Line 2 at Shahe West Rd and Baishi Rd, Line 9 south of
Shenzhen University, Line 12 under Nanshan Blvd). Accuracy is of the order of 100 m,
which is plenty for a simulated fleet; the route is not a survey.
"""

from __future__ import annotations

import bisect
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

EARTH_RADIUS_M = 6_371_008.8  # mean radius: a sphere is plenty over a few kilometres

# (latitude, longitude), WGS-84 decimal degrees, clockwise.
SHENZHEN_NANSHAN: tuple[tuple[float, float], ...] = (
    # Shennan Blvd eastbound, from Nanshan Blvd past the north gate of Shenzhen University
    (22.54040, 113.91950), (22.54045, 113.92300), (22.54055, 113.92650),
    (22.54065, 113.93000), (22.54075, 113.93350), (22.54085, 113.93700),
    (22.54100, 113.94050),  # Keyuan Rd (Shenzhen University station)
    (22.54160, 113.94350), (22.54240, 113.94650), (22.54275, 113.94800),
    (22.54300, 113.94950),  # Hi-Tech Park station
    (22.54320, 113.95250), (22.54310, 113.95600), (22.54280, 113.95950),
    (22.54250, 113.96250),  # Baishizhou station, turn south
    # Shahe West Rd southbound
    (22.54000, 113.96265), (22.53750, 113.96280), (22.53500, 113.96290),
    (22.53250, 113.96300), (22.53000, 113.96310),
    (22.52820, 113.96320),  # Baishi Rd (Hongshuwan station), turn west
    # Baishi Rd westbound, through the Science Park's south edge
    (22.52850, 113.95950), (22.52880, 113.95550), (22.52910, 113.95150),
    (22.52940, 113.94750), (22.52970, 113.94400),
    (22.53000, 113.94100),  # Keyuan Rd (Keyuan station)
    (22.52990, 113.93750), (22.52960, 113.93400), (22.52935, 113.93250),
    (22.52910, 113.93100),  # south of Shenzhen University (Shenzhen University South station)
    # Guimiao Rd westbound
    (22.52860, 113.92800), (22.52810, 113.92500), (22.52760, 113.92200),
    (22.52740, 113.92050),
    (22.52720, 113.91920),  # Nanshan Blvd (Nanshan station), turn north
    # Nanshan Blvd northbound, past Taoyuan to Shennan Blvd
    (22.52900, 113.91925), (22.53100, 113.91945), (22.53300, 113.91960),
    (22.53540, 113.91980),  # Taoyuan station
    (22.53700, 113.91975), (22.53870, 113.91965),
)  # fmt: skip

BUILTIN_ROUTES: dict[str, tuple[tuple[float, float], ...]] = {
    "shenzhen_nanshan": SHENZHEN_NANSHAN,
}
DEFAULT_ROUTE = "shenzhen_nanshan"


def distance_m(lat_a: float, lon_a: float, lat_b: float, lon_b: float) -> float:
    """Great-circle distance (haversine), metres."""
    phi_a, phi_b = math.radians(lat_a), math.radians(lat_b)
    half_dphi = (phi_b - phi_a) / 2
    half_dlambda = math.radians(lon_b - lon_a) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bearing_deg(lat_a: float, lon_a: float, lat_b: float, lon_b: float) -> float:
    """Initial bearing from a to b, degrees clockwise from true north, 0..360."""
    phi_a, phi_b = math.radians(lat_a), math.radians(lat_b)
    dlambda = math.radians(lon_b - lon_a)
    y = math.sin(dlambda) * math.cos(phi_b)
    x = math.cos(phi_a) * math.sin(phi_b) - math.sin(phi_a) * math.cos(phi_b) * math.cos(dlambda)
    return wrap_degrees(math.degrees(math.atan2(y, x)))


def wrap_degrees(degrees: float) -> float:
    """``degrees`` folded into 0 <= value < 360 (``%`` alone can round up to 360.0)."""
    folded = degrees % 360.0
    return 0.0 if folded >= 360.0 else folded


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The point ``north_m`` north and ``east_m`` east of (lat, lon), for small offsets."""
    dlat = math.degrees(north_m / EARTH_RADIUS_M)
    dlon = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lat + dlat, lon + dlon


class Route:
    """A closed polyline: riding past the last point leads back to the first."""

    def __init__(self, points: Sequence[tuple[float, float]], name: str = "custom") -> None:
        cleaned = [(float(lat), float(lon)) for lat, lon in points]
        if len(cleaned) > 1 and cleaned[0] == cleaned[-1]:
            cleaned.pop()  # the loop closes itself
        if len(cleaned) < 2:
            raise ValueError(f"route {name!r}: need at least 2 distinct points, got {len(cleaned)}")
        for lat, lon in cleaned:
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"route {name!r}: ({lat}, {lon}) is not a WGS-84 position")
        self.name = name
        self.points: tuple[tuple[float, float], ...] = tuple(cleaned)
        self._starts_m = [0.0]  # distance along the loop where each segment starts
        for index in range(len(cleaned)):
            a, b = cleaned[index], cleaned[(index + 1) % len(cleaned)]
            self._starts_m.append(self._starts_m[-1] + distance_m(*a, *b))
        if self._starts_m[-1] <= 0:
            raise ValueError(f"route {name!r}: all points are the same place")

    @classmethod
    def load(cls, name_or_path: str | os.PathLike[str] = DEFAULT_ROUTE) -> Route:
        """A built-in route by name, or a JSON file ``{"name": ..., "points": [[lat, lon]]}``."""
        if isinstance(name_or_path, str) and name_or_path in BUILTIN_ROUTES:
            return cls(BUILTIN_ROUTES[name_or_path], name=name_or_path)
        path = Path(name_or_path)
        if not path.is_file():
            raise ValueError(
                f"route {str(name_or_path)!r}: neither a built-in route "
                f"({', '.join(BUILTIN_ROUTES)}) nor a file"
            )
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            points = [(lat, lon) for lat, lon in document["points"]]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise ValueError(
                f"route file {path}: expected {{'points': [[lat, lon], ...]}}: {err}"
            ) from err
        return cls(points, name=str(document.get("name", path.stem)))

    @property
    def length_m(self) -> float:
        """Length of the whole loop, metres."""
        return self._starts_m[-1]

    @property
    def bounding_box(self) -> tuple[float, float, float, float]:
        """(south, west, north, east) in decimal degrees."""
        lats = [lat for lat, _ in self.points]
        lons = [lon for _, lon in self.points]
        return min(lats), min(lons), max(lats), max(lons)

    def position_at(self, distance_along_m: float) -> tuple[float, float, float]:
        """(lat, lon, heading_deg) ``distance_along_m`` metres from the start, looping."""
        along = distance_along_m % self.length_m
        segment = min(bisect.bisect_right(self._starts_m, along) - 1, len(self.points) - 1)
        start, end = self._starts_m[segment], self._starts_m[segment + 1]
        fraction = (along - start) / (end - start) if end > start else 0.0
        lat_a, lon_a = self.points[segment]
        lat_b, lon_b = self.points[(segment + 1) % len(self.points)]
        # linear in degrees is exact enough for segments of a few hundred metres
        lat = lat_a + (lat_b - lat_a) * fraction
        lon = lon_a + (lon_b - lon_a) * fraction
        return lat, lon, bearing_deg(lat_a, lon_a, lat_b, lon_b)
