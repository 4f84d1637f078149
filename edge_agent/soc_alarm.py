"""The remaining-capacity alarm, kept by the host: a JBD BMS has no register for it.

``write_bms_parameters {"remaining_capacity_alarm_percent": N}`` stores N in the state
store (0 turns the alarm off). When the BMS reports SOC under N, one ``low_soc`` event
(detail: soc_percent, alarm_percent) is raised; it is raised again only after SOC has
come back to N + ``REARM_MARGIN_PERCENT`` (a pack hovering at N would otherwise chatter).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edge_agent.state_store import StateStore

ALARM_PARAMETER = "remaining_capacity_alarm_percent"
REARM_MARGIN_PERCENT = 2.0


class SocAlarm:
    """Watches SOC against the stored alarm threshold."""

    def __init__(self, store: StateStore, on_event: Callable[[str, dict[str, Any], str], Any]):
        self.store = store
        self._on_event = on_event
        self.threshold = float(store.get(ALARM_PARAMETER, 0.0))
        self._raised = bool(store.get("low_soc_raised", False))

    def set_threshold(self, percent: float) -> None:
        """Store a new threshold; the alarm re-arms."""
        self.store.put(ALARM_PARAMETER, percent)
        self.threshold = percent
        self._set_raised(False)

    def observe(self, soc_percent: float) -> None:
        """Take one SOC reading from the BMS."""
        if self.threshold <= 0:
            return
        if not self._raised and soc_percent < self.threshold:
            self._set_raised(True)
            detail = {"soc_percent": soc_percent, "alarm_percent": self.threshold}
            self._on_event("low_soc", detail, "warning")
        elif self._raised and soc_percent >= self.threshold + REARM_MARGIN_PERCENT:
            self._set_raised(False)

    def _set_raised(self, raised: bool) -> None:
        if raised != self._raised:
            self._raised = raised
            self.store.put("low_soc_raised", raised)
