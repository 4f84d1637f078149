"""Device time for samples, not trusted blindly.

Gateways often have no RTC battery: they boot at 1970 or at the firmware build date until
NTP (which needs the uplink) sets the clock. A valid GNSS fix carries UTC, so when the
system clock disagrees with GNSS by more than ``MAX_SKEW_MS`` the agent stamps samples with
system time plus the measured offset, and says so once in an event.
"""

from __future__ import annotations

import time

PLAUSIBLE_AFTER_MS = 1_704_067_200_000  # 2024-01-01: a clock before this is not set
MAX_SKEW_MS = 2_000


class Clock:
    """Wall-clock milliseconds for samples, corrected from GNSS time when needed."""

    def __init__(self) -> None:
        self.offset_ms = 0
        self.gnss_synced = False

    def system_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def now_ms(self) -> int:
        return self.system_ms() + self.offset_ms

    @property
    def plausible(self) -> bool:
        """False while neither the system clock nor GNSS gave a believable time."""
        return self.gnss_synced or self.system_ms() >= PLAUSIBLE_AFTER_MS

    def observe_gnss(self, gnss_ms: int) -> int | None:
        """Feed the UTC time of a valid fix; returns the new offset when it changed."""
        skew = gnss_ms - self.system_ms()
        self.gnss_synced = True
        if abs(skew) <= MAX_SKEW_MS:
            if self.offset_ms:
                self.offset_ms = 0
                return 0
            return None
        if abs(skew - self.offset_ms) <= MAX_SKEW_MS:
            return None
        self.offset_ms = skew
        return skew
