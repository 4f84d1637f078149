"""A GNSS receiver's view of a true position: correlated error, DOP, satellites, outages.

Real position error is not white noise per fix: it wanders slowly as satellites move and
multipath changes, so consecutive fixes are off by nearly the same few metres. Each axis
(north, east, up) is a first-order Gauss-Markov process, scaled by the HDOP of the moment.
Velocity comes from Doppler and is much better than position; speed and course are taken
from a noisy velocity vector, which is why course gets wild as speed goes to zero, and a
receiver that is standing still reports no course at all. Now and then the fix is lost (an
overpass, a tunnel, the urban canyon) for some seconds.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from firmware_sim.route import offset, wrap_degrees

NO_FIX_HDOP = 99.9  # what receivers put in the HDOP field without a fix


@dataclass(frozen=True, slots=True)
class GnssReading:
    """One fix as a receiver would report it.

    Without a fix (``valid`` False) the position is the last valid one, and speed, course
    and altitude are None. ``course_deg`` is also None while the receiver is stationary.
    """

    timestamp_ms: int
    lat: float
    lon: float
    speed_kmh: float | None
    course_deg: float | None
    altitude_m: float | None
    hdop: float
    satellites: int
    valid: bool


@dataclass(frozen=True, slots=True)
class GnssConfig:
    """Error model of the simulated receiver (a consumer-grade module in a city)."""

    horizontal_sigma_m: float = 2.0  # per axis, at HDOP 1
    vertical_sigma_m: float = 4.0
    correlation_time_s: float = 60.0
    altitude_m: float = 30.0  # true antenna height above mean sea level
    velocity_sigma_m_s: float = 0.12  # per axis
    stationary_below_kmh: float = 1.0  # no course below this measured speed
    hdop_mean: float = 1.0
    hdop_correlation_time_s: float = 300.0
    outages_per_hour: float = 4.0
    outage_min_s: float = 3.0
    outage_max_s: float = 25.0


class GnssModel:
    """Turns the true position, speed and heading into what a receiver reports."""

    def __init__(self, rng: random.Random | None = None, config: GnssConfig | None = None) -> None:
        self.config = config if config is not None else GnssConfig()
        self._rng = rng if rng is not None else random.Random(0)
        cfg, gauss = self.config, self._rng.gauss
        # start each process in its stationary distribution, not at zero
        self._north_m = gauss(0, cfg.horizontal_sigma_m)
        self._east_m = gauss(0, cfg.horizontal_sigma_m)
        self._up_m = gauss(0, cfg.vertical_sigma_m)
        self._hdop_log = gauss(0, 0.25)
        self._satellite_jitter = 0.0
        self._last_ms: int | None = None
        self._outage_left_s = 0.0
        self._last_fix: tuple[float, float] | None = None

    def force_outage(self, seconds: float) -> None:
        """Lose the fix for the next ``seconds`` (a tunnel ahead)."""
        self._outage_left_s = max(self._outage_left_s, seconds)

    @property
    def in_outage(self) -> bool:
        return self._outage_left_s > 0

    def read(
        self, timestamp_ms: int, lat: float, lon: float, speed_kmh: float, heading_deg: float
    ) -> GnssReading:
        """The receiver's report at ``timestamp_ms`` for a true (lat, lon, speed, heading)."""
        dt_s = 1.0 if self._last_ms is None else max(0.0, (timestamp_ms - self._last_ms) / 1000)
        self._last_ms = timestamp_ms
        self._evolve(dt_s)
        if self._outage_left_s > 0:
            self._outage_left_s = max(0.0, self._outage_left_s - dt_s)
            return self._no_fix(timestamp_ms, lat, lon)
        hdop = self.hdop
        north, east = self._north_m * hdop, self._east_m * hdop
        fix_lat, fix_lon = offset(lat, lon, north, east)
        self._last_fix = (fix_lat, fix_lon)
        measured_speed, course = self._velocity(speed_kmh, heading_deg)
        return GnssReading(
            timestamp_ms=timestamp_ms,
            lat=fix_lat,
            lon=fix_lon,
            speed_kmh=measured_speed,
            course_deg=course,
            altitude_m=self.config.altitude_m + self._up_m * hdop,
            hdop=round(hdop, 2),
            satellites=self._satellites(hdop),
            valid=True,
        )

    @property
    def hdop(self) -> float:
        return min(2.5, max(0.7, self.config.hdop_mean * math.exp(self._hdop_log)))

    def _evolve(self, dt_s: float) -> None:
        cfg, gauss = self.config, self._rng.gauss
        keep = math.exp(-dt_s / cfg.correlation_time_s)
        fresh = math.sqrt(1 - keep * keep)
        self._north_m = self._north_m * keep + cfg.horizontal_sigma_m * fresh * gauss(0, 1)
        self._east_m = self._east_m * keep + cfg.horizontal_sigma_m * fresh * gauss(0, 1)
        self._up_m = self._up_m * keep + cfg.vertical_sigma_m * fresh * gauss(0, 1)
        keep_dop = math.exp(-dt_s / cfg.hdop_correlation_time_s)
        self._hdop_log = self._hdop_log * keep_dop + 0.25 * math.sqrt(1 - keep_dop**2) * gauss(0, 1)
        self._satellite_jitter = 0.8 * self._satellite_jitter + 0.6 * gauss(0, 1)
        if self._outage_left_s <= 0 and dt_s > 0:
            chance = 1 - math.exp(-cfg.outages_per_hour * dt_s / 3600)
            if self._rng.random() < chance:
                self._outage_left_s = self._rng.uniform(cfg.outage_min_s, cfg.outage_max_s)

    def _velocity(self, speed_kmh: float, heading_deg: float) -> tuple[float, float | None]:
        sigma, gauss = self.config.velocity_sigma_m_s, self._rng.gauss
        speed_m_s = max(0.0, speed_kmh) / 3.6
        heading = math.radians(heading_deg)
        north = speed_m_s * math.cos(heading) + gauss(0, sigma)
        east = speed_m_s * math.sin(heading) + gauss(0, sigma)
        measured_kmh = math.hypot(north, east) * 3.6
        if measured_kmh < self.config.stationary_below_kmh:
            return round(measured_kmh, 2), None
        return round(measured_kmh, 2), wrap_degrees(math.degrees(math.atan2(east, north)))

    def _satellites(self, hdop: float) -> int:
        # fewer satellites in view is what makes the geometry (HDOP) worse
        return int(min(20, max(6, round(24 - 7 * hdop + self._satellite_jitter))))

    def _no_fix(self, timestamp_ms: int, lat: float, lon: float) -> GnssReading:
        last_lat, last_lon = self._last_fix if self._last_fix is not None else (lat, lon)
        return GnssReading(
            timestamp_ms=timestamp_ms,
            lat=last_lat,
            lon=last_lon,
            speed_kmh=None,
            course_deg=None,
            altitude_m=None,
            hdop=NO_FIX_HDOP,
            satellites=self._rng.randint(0, 3),
            valid=False,
        )
