"""Fence geometry and the per-batch classification of positions against fences.

Geometry is kept in WGS-84 lon/lat, the frame positions arrive in, so classifying a point needs
no projection at all. Wherever metres matter (a circle's radius, a fence's margin) the shape is
built in a local metric frame around the fence and projected back once, when the fence is built:

- the frame is equirectangular around the centre of the fence's bounding box, scaled with the
  WGS-84 radii of curvature at that latitude (metres per degree north ``M``, east
  ``N cos(lat0)``). Distances north-south are right to ~1e-5 over 50 km; east-west the scale is
  off by about ``tan(lat0) * dlat``: 0.33 % at 50 km north or south of the centre at 22.5 deg
  (Shenzhen), 0.8 % at 45 deg. A 100 m circle is right to ~1 mm from this; the rest of its error
  is the polygon approximating it (``CIRCLE_QUAD_SEGS``: 128 vertices, <= 0.03 % of the radius).
- fences crossing the antimeridian or reaching a pole are not supported (refused as invalid).

Each fence also gets two derived shapes for hysteresis: ``outer`` (grown by the margin) and
``inner`` (shrunk by it). A point's *zone* for a fence is +1 inside ``inner`` (inside by more than
the margin), -1 outside ``outer`` (outside by more than the margin), 0 in the band between.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from cloud.errors import CloudError

KEEP_IN = "keep_in"
KEEP_OUT = "keep_out"
KINDS = (KEEP_IN, KEEP_OUT)

INSIDE_BEYOND_MARGIN = 1
IN_MARGIN_BAND = 0
OUTSIDE_BEYOND_MARGIN = -1

CIRCLE_QUAD_SEGS = 32  # 128 vertices: chord error r * (1 - cos(pi / 128)) = 0.03 % of r
MARGIN_QUAD_SEGS = 8  # rounded corners of a margin band: 0.5 % of the margin, i.e. centimetres

_WGS84_A = 6_378_137.0
_WGS84_E2 = 6.694_379_990_14e-3


class FenceError(CloudError, ValueError):
    """A fence definition that cannot be used (the message says what is wrong and where)."""


class LocalFrame:
    """Equirectangular metres around (lat0, lon0); see the module docstring for its error."""

    def __init__(self, lat0: float, lon0: float) -> None:
        s = math.sin(math.radians(lat0))
        w = math.sqrt(1.0 - _WGS84_E2 * s * s)
        self.lat0, self.lon0 = lat0, lon0
        self.m_per_deg_lat = math.radians(_WGS84_A * (1.0 - _WGS84_E2) / w**3)
        self.m_per_deg_lon = math.radians(_WGS84_A / w * math.cos(math.radians(lat0)))

    def to_metres(self, geometry: BaseGeometry) -> BaseGeometry:
        """The geometry with (lon, lat) replaced by (east, north) metres from the origin."""
        scale = np.array([self.m_per_deg_lon, self.m_per_deg_lat])
        origin = np.array([self.lon0, self.lat0])
        return shapely.transform(geometry, lambda xy: (xy - origin) * scale)

    def to_degrees(self, geometry: BaseGeometry) -> BaseGeometry:
        """The inverse of ``to_metres``."""
        scale = np.array([self.m_per_deg_lon, self.m_per_deg_lat])
        origin = np.array([self.lon0, self.lat0])
        return shapely.transform(geometry, lambda xy: xy / scale + origin)


# -- building shapes -------------------------------------------------------------------------
def circle(*, lat: float, lon: float, radius_m: float) -> BaseGeometry:
    """A circle of ``radius_m`` metres around (lat, lon), as a lon/lat polygon."""
    _check_position(lon, lat, "circle centre")
    if not (isinstance(radius_m, int | float) and math.isfinite(radius_m) and radius_m > 0):
        raise FenceError(f"circle radius_m must be a positive number of metres, got {radius_m!r}")
    frame = LocalFrame(lat, lon)
    disc = shapely.buffer(shapely.Point(0.0, 0.0), radius_m, quad_segs=CIRCLE_QUAD_SEGS)
    return frame.to_degrees(disc)


def from_geojson(document: Mapping[str, Any]) -> BaseGeometry:
    """A lon/lat (Multi)Polygon from a GeoJSON geometry object, strictly checked.

    Rings must be closed, have at least 4 positions, and stay within lon [-180, 180] and
    lat [-90, 90]; the polygon must be valid (no self-intersection, holes inside the shell).
    Altitudes, if given, are ignored.
    """
    kind = document.get("type") if isinstance(document, Mapping) else None
    coordinates = document.get("coordinates") if isinstance(document, Mapping) else None
    geometry: BaseGeometry
    if kind == "Polygon":
        geometry = shapely.Polygon(*_rings(coordinates, "polygon"))
    elif kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            raise FenceError("MultiPolygon: coordinates must be a non-empty list of polygons")
        polygons = [
            shapely.Polygon(*_rings(rings, f"polygon {i}")) for i, rings in enumerate(coordinates)
        ]
        geometry = shapely.MultiPolygon(polygons)
    else:
        raise FenceError(f"geometry type must be Polygon or MultiPolygon, got {kind!r}")
    if not shapely.is_valid(geometry):
        raise FenceError(f"{kind} is not valid: {shapely.is_valid_reason(geometry)}")
    return geometry


def _rings(coordinates: Any, where: str) -> tuple[np.ndarray, list[np.ndarray]]:
    if not isinstance(coordinates, list) or not coordinates:
        raise FenceError(f"{where}: coordinates must be a non-empty list of rings")
    rings = []
    for r, ring in enumerate(coordinates):
        name = f"{where} ring {r}"
        if not isinstance(ring, list) or len(ring) < 4:
            count = len(ring) if isinstance(ring, list) else type(ring).__name__
            raise FenceError(f"{name} needs at least 4 positions (closed), got {count}")
        points = []
        for p, position in enumerate(ring):
            if (
                not isinstance(position, list | tuple)
                or len(position) not in (2, 3)
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position)
            ):
                raise FenceError(f"{name} position {p}: expected [lon, lat], got {position!r}")
            _check_position(position[0], position[1], f"{name} position {p}")
            points.append((float(position[0]), float(position[1])))
        if points[0] != points[-1]:
            raise FenceError(
                f"{name} is not closed: first position {list(points[0])}, last {list(points[-1])}"
            )
        rings.append(np.array(points))
    return rings[0], rings[1:]


def _check_position(lon: Any, lat: Any, where: str) -> None:
    if not (isinstance(lon, int | float) and -180.0 <= lon <= 180.0):
        raise FenceError(f"{where}: longitude {lon!r} is outside [-180, 180]")
    if not (isinstance(lat, int | float) and -90.0 <= lat <= 90.0):
        raise FenceError(f"{where}: latitude {lat!r} is outside [-90, 90]")


# -- a fence --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fence:
    """One fence: its lon/lat shape, kind and hysteresis margin, with the derived shapes."""

    id: Hashable
    shape: BaseGeometry
    kind: str
    margin_m: float
    inner: BaseGeometry
    outer: BaseGeometry

    @classmethod
    def build(cls, id: Hashable, shape: BaseGeometry, kind: str, margin_m: float) -> Fence:
        """Check kind and margin and derive the margin shapes in the fence's metric frame."""
        if kind not in KINDS:
            raise FenceError(f"fence {id!r}: kind must be one of {KINDS}, got {kind!r}")
        if not (isinstance(margin_m, int | float) and math.isfinite(margin_m) and margin_m >= 0):
            raise FenceError(f"fence {id!r}: margin_m must be >= 0 metres, got {margin_m!r}")
        if margin_m == 0:
            return cls(id, shape, kind, float(margin_m), shape, shape)
        minx, miny, maxx, maxy = shape.bounds
        frame = LocalFrame((miny + maxy) / 2, (minx + maxx) / 2)
        metric = frame.to_metres(shape)
        inner = shapely.buffer(metric, -margin_m, quad_segs=MARGIN_QUAD_SEGS)
        if inner.is_empty:
            # nothing would ever be inside by more than the margin: re-entry impossible
            raise FenceError(
                f"fence {id!r}: a margin of {margin_m} m leaves nothing inside the fence"
            )
        outer = shapely.buffer(metric, margin_m, quad_segs=MARGIN_QUAD_SEGS)
        return cls(id, shape, kind, float(margin_m), frame.to_degrees(inner),
                   frame.to_degrees(outer))  # fmt: skip


def breach(kind: str, inside: bool) -> bool:
    """Whether being inside (or not) breaks a fence of this kind."""
    return not inside if kind == KEEP_IN else inside


# -- many fences ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Assignment:
    """Fences per device as CSR arrays: device ``devices[d]`` (sorted) has the fences
    ``fences[starts[d]:starts[d + 1]]`` (positions into ``FenceIndex.fences``)."""

    devices: np.ndarray
    starts: np.ndarray
    fences: np.ndarray


@dataclass(frozen=True)
class Classification:
    """One row per (position, fence its device is assigned to), as parallel arrays.

    ``point`` indexes the batch's positions, ``fence`` the index's fences (``fence_ids`` maps
    them back); ``inside`` is the raw test against the fence, ``zone`` the hysteresis zone.
    """

    point: np.ndarray  # int64
    fence: np.ndarray  # int64, position in FenceIndex.fences
    inside: np.ndarray  # bool
    zone: np.ndarray  # int8: +1 / 0 / -1


class FenceIndex:
    """Many fences, prepared once, classifying whole batches of positions at a time."""

    def __init__(self, fences: Iterable[Fence]) -> None:
        self.fences: list[Fence] = list(fences)
        self.position: dict[Hashable, int] = {}
        for i, fence in enumerate(self.fences):
            if fence.id in self.position:
                raise FenceError(f"fence {fence.id!r} is given twice")
            self.position[fence.id] = i
        self._shape = np.array([f.shape for f in self.fences], dtype=object)
        self._inner = np.array([f.inner for f in self.fences], dtype=object)
        self._outer = np.array([f.outer for f in self.fences], dtype=object)
        for shapes in (self._shape, self._inner, self._outer):
            shapely.prepare(shapes)
        self._outer_bounds = shapely.bounds(self._outer).reshape(-1, 4)
        self.tree = shapely.STRtree(self._shape)

    def __len__(self) -> int:
        return len(self.fences)

    def fence_ids(self, fence: np.ndarray) -> list[Hashable]:
        """Fence ids for positions into ``fences`` (such as ``Classification.fence``)."""
        return [self.fences[i].id for i in fence]

    def assign(self, device_fences: Mapping[str, Sequence[Hashable]]) -> Assignment:
        """Which fences each device is assigned to, in the form ``classify`` reads.

        Build it when fences or assignments change, not per batch: it is the one step
        that loops over devices in Python.
        """
        names = sorted(device_fences)
        per_device = [self._positions(device_fences[name]) for name in names]
        counts = np.array([len(p) for p in per_device], dtype=np.int64)
        return Assignment(
            devices=np.array(names),
            starts=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            fences=np.concatenate([*per_device, np.empty(0, np.int64)]),
        )

    def classify(
        self,
        assignment: Assignment,
        devices: Sequence[Hashable] | np.ndarray,
        lon: Sequence[float] | np.ndarray,
        lat: Sequence[float] | np.ndarray,
    ) -> Classification:
        """Classify every position against every fence its device is assigned to.

        ``devices``, ``lon`` and ``lat`` are parallel, one entry per position (feed valid
        fixes only); a device not in ``assignment`` has no fences. One call per ingest
        batch: the work is done in numpy and in shapely's C loops, never one Python call
        per point and fence.
        """
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        devices = np.asarray(devices)
        if not (len(devices) == len(lon) == len(lat)):
            raise ValueError(
                f"devices, lon, lat differ in length: {len(devices)}, {len(lon)}, {len(lat)}"
            )
        names = assignment.devices
        code = np.searchsorted(names, devices).clip(0, max(len(names) - 1, 0))
        known = names[code] == devices if len(names) else np.zeros(len(devices), bool)
        starts = assignment.starts
        per_point = np.where(known, starts[code + 1] - starts[code], 0) if len(names) else code
        # expand (point, k-th fence of its device) without a Python loop over points
        point = np.repeat(np.arange(len(devices), dtype=np.int64), per_point)
        first_row = np.cumsum(per_point) - per_point
        k = np.arange(len(point), dtype=np.int64) - np.repeat(first_row, per_point)
        fence = assignment.fences[starts[code][point] + k]
        return self._classify_pairs(point, fence, lon[point], lat[point])

    def _classify_pairs(
        self, point: np.ndarray, fence: np.ndarray, x: np.ndarray, y: np.ndarray
    ) -> Classification:
        zone = np.full(len(point), OUTSIDE_BEYOND_MARGIN, dtype=np.int8)
        inside = np.zeros(len(point), dtype=bool)
        # a bounding-box test in numpy settles most pairs before any geometry is touched
        b = self._outer_bounds[fence]
        near = np.flatnonzero((x >= b[:, 0]) & (y >= b[:, 1]) & (x <= b[:, 2]) & (y <= b[:, 3]))
        # the same fence's prepared geometry tested in a row stays in the CPU cache
        near = near[np.argsort(fence[near], kind="stable")]
        near = near[shapely.contains_xy(self._outer[fence[near]], x[near], y[near])]
        zone[near] = IN_MARGIN_BAND
        deep = shapely.contains_xy(self._inner[fence[near]], x[near], y[near])
        zone[near[deep]] = INSIDE_BEYOND_MARGIN
        inside[near[deep]] = True  # inner lies within the shape
        band = near[~deep]
        inside[band] = shapely.contains_xy(self._shape[fence[band]], x[band], y[band])
        return Classification(point, fence, inside, zone)

    def containing(
        self, lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every (position, fence) pair where the fence contains the position, assigned or
        not, through the STRtree: ``(point indexes, fence positions)``, sorted."""
        points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        point, fence = self.tree.query(points, predicate="within")
        order = np.lexsort((fence, point))
        return point[order], fence[order]

    def _positions(self, ids: Sequence[Hashable]) -> np.ndarray:
        try:
            return np.fromiter((self.position[i] for i in ids), dtype=np.int64, count=len(ids))
        except KeyError as err:
            raise FenceError(f"fence {err.args[0]!r} is not in the index") from err
