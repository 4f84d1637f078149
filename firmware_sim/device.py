"""One simulated device: the physics (pack, vehicle, GNSS) behind its wires (BMS and GNSS
on ptys, controller and BMS broadcasts on a CAN bus).

This is what a gateway box would be plugged into. The agent under test opens
``bms_port_path``, ``gnss_port_path`` and the virtual CAN ``can_channel``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from firmware_sim.bms_port import FAULT_KINDS as BMS_FAULT_KINDS
from firmware_sim.bms_port import SimulatedBms
from firmware_sim.can_port import CanFaults, SimulatedCanDevices
from firmware_sim.gnss_model import GnssModel
from firmware_sim.gnss_port import GnssFaults, SimulatedGnss
from firmware_sim.pack import BatteryPack, PackSpec
from firmware_sim.route import Route
from firmware_sim.serial_pty import VirtualSerialPort
from firmware_sim.vehicle import DutyCycle, Vehicle
from protocols import jbd
from protocols.nmea import PositionFix

DRIVE_MODE = {"parked": 0, "charging": 0, "riding": 2}  # DBC VAL_: park, eco, normal, sport


@dataclass(frozen=True)
class DeviceSpec:
    device_id: str
    seed: int = 0
    chemistry: str = "LFP"
    cells_in_series: int = 16
    capacity_ah: float = 30.0
    initial_soc_percent: float | None = None  # None: drawn from the seed (40-95 %)
    can: bool = True
    route: str = "shenzhen_nanshan"
    duty: DutyCycle = field(default_factory=lambda: DutyCycle(charge_probability=0.15))
    tick_s: float = 0.2  # physics step
    gnss_rate_hz: float = 1.0
    # probability of a fault per frame or sentence on every wire: garbage, truncation,
    # bad checksums, silent BMS, corrupt and unknown CAN frames (a noisy harness)
    line_noise: float = 0.0


class SimulatedDevice:
    """Physics stepped in real time, and the device side of every wire."""

    def __init__(self, spec: DeviceSpec, work_dir: str | Path) -> None:
        self.spec = spec
        self.device_id = spec.device_id
        rng = random.Random(spec.seed)
        soc = spec.initial_soc_percent
        self.pack = BatteryPack(
            PackSpec(
                chemistry=spec.chemistry,
                cells_in_series=spec.cells_in_series,
                capacity_ah=spec.capacity_ah,
                initial_soc_percent=soc if soc is not None else rng.uniform(40, 95),
                seed=spec.seed,
            )
        )
        self.route = Route.load(spec.route)
        self.vehicle = Vehicle(
            self.pack,
            self.route,
            rng=random.Random(spec.seed + 1),
            duty=spec.duty,
            start_distance_m=rng.uniform(0, self.route.length_m),
        )
        self.gnss_model = GnssModel(rng=random.Random(spec.seed + 2))
        work_dir = Path(work_dir)
        self.bms_port = VirtualSerialPort(work_dir / "bms")
        self.gnss_port = VirtualSerialPort(work_dir / "gnss")
        self.bms = SimulatedBms(
            self.bms_port,
            self.bms_state,
            self.set_mosfets,
            self.pack.parameters,
            seed=spec.seed,
        )
        noise = spec.line_noise
        for kind in BMS_FAULT_KINDS:
            self.bms.set_fault_probability(kind, noise / len(BMS_FAULT_KINDS))
        self.gnss = SimulatedGnss(
            self.gnss_port,
            self.position_fix,
            rate_hz=spec.gnss_rate_hz,
            seed=spec.seed,
            faults=GnssFaults(noise / 3, noise / 3, noise / 3, noise / 10),
        )
        self.can_channel = f"voltrent-{spec.device_id}" if spec.can else None
        self.can_devices = (
            SimulatedCanDevices(
                self.can_signals,
                channel=self.can_channel,
                seed=spec.seed,
                faults=CanFaults(corrupt_probability=noise / 2, unknown_id_probability=noise / 2),
            )
            if self.can_channel is not None
            else None
        )
        self.last_fix: PositionFix | None = None

    @property
    def bms_port_path(self) -> str:
        return self.bms_port.path

    @property
    def gnss_port_path(self) -> str:
        return self.gnss_port.path

    # -- what each wire reports ------------------------------------------------------
    def bms_state(self) -> tuple[jbd.BasicInfo, jbd.CellVoltages]:
        pack = self.pack
        cells = pack.cell_voltages_v
        basic = jbd.BasicInfo(
            pack_voltage_v=round(pack.pack_voltage_v, 2),
            current_a=round(pack.current_a, 2),
            remaining_ah=round(pack.remaining_ah, 2),
            nominal_ah=round(pack.nominal_capacity_ah, 2),
            cycles=pack.cycles,
            production_date=pack.production_date,
            balancing=pack.balancing,
            protection=pack.protection,
            software_version="1.0",
            rsoc_percent=round(pack.soc_percent),
            charge_mos=pack.charge_mos_on,
            discharge_mos=pack.discharge_mos_on,
            cell_count=len(cells),
            temperatures_c=tuple(round(t, 1) for t in pack.temperatures_c),
        )
        return basic, jbd.CellVoltages(tuple(round(v, 3) for v in cells))

    def set_mosfets(self, charge_on: bool, discharge_on: bool) -> None:
        self.pack.set_mosfets(charge=charge_on, discharge=discharge_on)

    def position_fix(self) -> PositionFix | None:
        """What the GNSS module reports now; None while it has no fix."""
        lat, lon, heading = self.vehicle.position
        reading = self.gnss_model.read(
            time.time_ns() // 1_000_000, lat, lon, self.vehicle.speed_kmh, heading
        )
        if not reading.valid:
            return None
        self.last_fix = PositionFix(
            timestamp_ms=reading.timestamp_ms,
            lat=reading.lat,
            lon=reading.lon,
            speed_kmh=reading.speed_kmh or 0.0,
            course_deg=reading.course_deg,
            altitude_m=reading.altitude_m,
            hdop=reading.hdop,
            satellites=reading.satellites,
            valid=True,
        )
        return self.last_fix

    def can_signals(self) -> dict[str, dict[str, float]]:
        vehicle, pack = self.vehicle, self.pack
        cells = pack.cell_voltages_v
        temps = pack.temperatures_c
        faults = vehicle.faults
        protection = pack.protection
        return {
            "MotorStatus": {
                "motor_rpm": vehicle.motor_rpm,
                "vehicle_speed": vehicle.speed_kmh,
                "phase_current": vehicle.phase_current_a,
                "throttle": vehicle.throttle_percent,
            },
            "ControllerStatus": {
                "controller_temperature": vehicle.controller_temperature_c,
                "motor_temperature": vehicle.motor_temperature_c,
                "bus_voltage": vehicle.bus_voltage_v,
                "bus_current": pack.current_a,
                "drive_mode": DRIVE_MODE.get(vehicle.state, 0),
                "reverse": 0,
            },
            "MotorFaults": {
                **{name: float(active) for name, active in faults.items()},
                "brake_active": float(vehicle.brake_active),
            },
            "BmsStatus": {
                "pack_voltage": pack.pack_voltage_v,
                "pack_current": pack.current_a,
                "soc": pack.soc_percent,
                "charge_mosfet_on": float(pack.charge_mos_on),
                "discharge_mosfet_on": float(pack.discharge_mos_on),
                "charger_connected": float(vehicle.state == "charging"),
                "balancing_active": float(bool(pack.balancing)),
                "soh": 100.0,
            },
            "BmsCellStatus": {
                "max_cell_voltage": max(cells),
                "min_cell_voltage": min(cells),
                "max_temperature": max(temps),
                "min_temperature": min(temps),
                "max_cell_number": cells.index(max(cells)) + 1,
                "min_cell_number": cells.index(min(cells)) + 1,
            },
            "BmsProtection": {name: 1.0 for name in protection},
        }

    # -- running ---------------------------------------------------------------------
    async def run(self) -> None:
        """Step the physics in real time and serve every wire until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._physics())
            group.create_task(self.bms.run())
            group.create_task(self.gnss.run())
            if self.can_devices is not None:
                group.create_task(self.can_devices.run())

    async def _physics(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.spec.tick_s)
            now = time.monotonic()
            # a stalled loop must not teleport the vehicle: cap the step
            self.vehicle.step(min(now - last, 1.0))
            last = now

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.bms_port.close()
            self.gnss_port.close()
