"""SNMP polls -> interface and device faults. Pure: time comes from the polls.

One concept: the SNMP fault rules listed below, applied by one detector.

Rules (issue 4):

* ``interface_down`` only on an up -> down transition of an admin-up interface; it clears
  when the interface is up again, or when someone sets it admin-down (a choice, not a fault).
* ``interface_disabled`` when an interface the inventory marks ``required_up`` is admin-down.
* ``device_rebooted`` when every uptime source went backwards. sysUpTime is the SNMP agent's
  own clock (net-snmp restarts reset it) and wraps after 497 days; hrSystemUptime is the
  host's. A source that wrapped (previous value + elapsed time lands on the new value modulo
  2^32) did not go backwards. If sysUpTime reset but hrSystemUptime did not, the SNMP agent
  restarted: logged, no ticket. Reboots are informational: opened and cleared at once, so the
  ticket resolves itself after the hold-down.
* ``link_saturated`` when in or out utilisation stays at or above ``saturation_pct`` for
  ``saturation_for`` (clears 5 points below); ``interface_errors`` when errors + discards per
  second stay at or above ``error_rate`` for ``error_for`` (clears below half). Rates come from
  :mod:`collectors.counters`: counter wraps are handled, resets give no rate, not a spike.
* ``pppoe_down`` instead of ``interface_down`` for a PPPoE client (ifType ppp(23) or a name
  ``pppoe-out*``): the WAN, usually the ISP's side. It also opens when the client dropped
  ``pppoe_flaps`` times within ``pppoe_window`` (flapping), and clears once it is up with
  fewer drops than that in the window.
* Health (``observe_health``): the conditions of :mod:`agent.detect.health`, opened and
  cleared with the same sustain and hysteresis rules.
* ``snmp_unreachable`` after ``snmp_confirm_polls`` failed polls while ping says the device is
  UP: never confused with a dead device (while ping says DOWN, SNMP failures don't count).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.detect import health
from agent.detect.ping import DeviceState, Event, FaultCleared, FaultOpened
from collectors import counters
from ticketing.faults import Fault, FaultKind, fault_key
from ticketing.rollups import Sample

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from agent.config.model import Device, Inventory
    from collectors.counters import PortRates
    from collectors.model import HealthPoll, InterfaceRow, SnmpPoll, SystemInfo

logger = logging.getLogger(__name__)

HYSTERESIS_PCT = 5.0  # a saturated link clears below threshold - 5 points
IF_TYPE_PPP = 23
SELECTORS = ("all", "marked")  # else a regular expression on ifName
WAN_NAME = re.compile(r"(pppoe|wan|lte)", re.IGNORECASE)  # kept in history unmarked too


@dataclass(slots=True)
class _Port:
    """What was last seen on one interface, and since when a threshold has been exceeded."""

    name: str
    admin_up: bool | None = None
    oper_up: bool | None = None
    row: InterfaceRow | None = None  # the previous sample (counters)
    at: datetime | None = None
    over: dict[FaultKind, datetime] = field(default_factory=dict)  # sustained-condition starts
    drops: list[datetime] = field(default_factory=list)  # PPPoE up -> down times in the window
    rates: PortRates | None = None  # the last interval's rates (None until two samples)
    since: datetime | None = None  # start of the interval ``rates`` cover (ends at ``at``)
    exported: bool = False  # its rates go to Prometheus (``snmp.traffic``)


@dataclass(slots=True)
class _Box:
    """Per-device SNMP bookkeeping."""

    failures: int = 0
    system: SystemInfo | None = None
    at: datetime | None = None
    ports: dict[int, _Port] = field(default_factory=dict)
    open: set[str] = field(default_factory=set)  # fault keys this detector opened
    health_over: dict[str, datetime] = field(default_factory=dict)  # fault key -> since
    trends: dict[str, health.RadioTrend] = field(default_factory=dict)  # radio interface ->
    answered: datetime | None = None  # time of the last poll that returned data


class SnmpDetector:
    """Turns SNMP polls into fault events; one instance per daemon, next to the ping Detector."""

    def __init__(self, inventory: Inventory) -> None:
        """Track every device that has SNMP settings."""
        self.inventory = inventory
        self.settings = inventory.detection
        self._boxes = {n: _Box() for n, d in inventory.devices.items() if d.snmp is not None}
        self._patterns = {
            n: re.compile(d.snmp.interfaces)
            for n, d in inventory.devices.items()
            if d.snmp is not None and d.snmp.interfaces not in SELECTORS
        }
        self._traffic_patterns = {
            n: re.compile(d.snmp.traffic)
            for n, d in inventory.devices.items()
            if d.snmp is not None and d.snmp.traffic not in SELECTORS
        }

    def reconfigure(self, inventory: Inventory) -> None:
        """Take a reloaded inventory: devices kept keep their history, new ones start fresh."""
        fresh = SnmpDetector(inventory)
        self.inventory, self.settings, self._patterns = inventory, fresh.settings, fresh._patterns
        self._traffic_patterns = fresh._traffic_patterns
        self._boxes = {name: self._boxes.get(name) or box for name, box in fresh._boxes.items()}

    def restore(self, open_keys: Iterable[str]) -> None:
        """Resume after a restart: faults whose tickets are still open can be cleared later."""
        for key in open_keys:
            device = key.split("/", 1)[0]
            box = self._boxes.get(device)
            if box is not None:
                box.open.add(key)

    def observe(self, poll: SnmpPoll, ping: DeviceState) -> list[Event]:
        """Feed one poll and the device's current ping state; return fault events."""
        box = self._boxes.get(poll.device)
        if box is None:
            return []
        device = self.inventory.devices[poll.device]
        if not poll.ok:
            return self._silent(device, box, poll, ping)
        events = self._answered(device, box, poll.at)
        box.answered = poll.at
        reset = False
        if poll.system is not None:
            if box.system is not None and box.at is not None:
                elapsed = (poll.at - box.at).total_seconds()
                reset = counters.uptime_reset(box.system, poll.system, elapsed)
            events += self._uptime(device, box, poll.system, poll.at)
            box.system, box.at = poll.system, poll.at
        for row in poll.interfaces:
            watched = self._watched(device, row.name)
            exported = self._selected(device, row.name, device.snmp.traffic if device.snmp else "")
            if not (watched or exported):
                continue
            port = box.ports.setdefault(row.index, _Port(row.name))
            port.since = port.at
            port.rates, port.exported = self._rates(device, port, row, poll.at, reset), exported
            if watched:
                events += self._interface(device, box, port, row, poll.at)
                events += self._traffic(device, box, port, row, poll.at)
            port.row, port.at = row, poll.at
        return events

    def observe_health(self, poll: HealthPoll) -> list[Event]:
        """Feed one health poll; return fault events (a failed poll is no news)."""
        box = self._boxes.get(poll.device)
        if box is None or not poll.ok:
            return []
        device = self.inventory.devices[poll.device]
        events: list[Event] = []
        for c in health.conditions(device, poll, self.inventory.health, box.trends):
            events += self._sustained(
                device,
                box,
                box.health_over,
                c.fault,
                poll.at,
                over=c.over,
                below=c.below,
                hold=c.hold,
                slot=c.fault.key,
            )
        return events

    def rollup_samples(self, device: str) -> list[Sample]:
        """The last interval of the ports kept in history: marked ones and WAN/PPPoE links."""
        box, spec = self._boxes.get(device), self.inventory.devices.get(device)
        if box is None or spec is None:
            return []
        return [
            Sample(device, p.name, p.since, p.at, r.in_bps, r.out_bps, r.utilisation, r.error_rate)
            for p in box.ports.values()
            if (r := p.rates) is not None and p.since is not None and p.at is not None
            and p.at == box.answered  # in the last poll: never the same interval twice
            and (p.name in spec.ports or WAN_NAME.match(p.name) is not None)
        ]  # fmt: skip

    def traffic(self, device: str) -> dict[str, PortRates]:
        """The last rates of ``device``'s exported ports by interface name (``snmp.traffic``)."""
        box = self._boxes.get(device)
        if box is None:
            return {}
        return {p.name: p.rates for p in box.ports.values() if p.exported and p.rates is not None}

    # ------------------------------------------------------------------ SNMP reachability
    def _silent(self, device: Device, box: _Box, poll: SnmpPoll, ping: DeviceState) -> list[Event]:
        if ping is not DeviceState.UP:
            box.failures = 0  # the device itself is the problem: ping's detector handles it
            return []
        box.failures += 1
        if box.failures < self.settings.snmp_confirm_polls:
            return []
        summary = (
            f"SNMP {device.name} ({device.address}) tidak menjawab ({poll.reason}), "
            "padahal ping normal"
        )
        return self._open(
            device, box, _fault(device, FaultKind.SNMP_UNREACHABLE, "", summary), poll.at
        )

    def _answered(self, device: Device, box: _Box, at: datetime) -> list[Event]:
        box.failures = 0
        return self._clear(box, fault_key(device.name, FaultKind.SNMP_UNREACHABLE), at, "answers")

    # ------------------------------------------------------------------ reboots
    def _uptime(self, device: Device, box: _Box, now: SystemInfo, at: datetime) -> list[Event]:
        before, then = box.system, box.at
        if before is None or then is None:
            return []
        elapsed = (at - then).total_seconds()
        if not counters.ticks_went_backwards(before.sys_uptime, now.sys_uptime, elapsed):
            return []
        host_reset = counters.ticks_went_backwards(before.hr_uptime, now.hr_uptime, elapsed)
        if now.hr_uptime is not None and before.hr_uptime is not None and not host_reset:
            logger.info("%s: SNMP agent restarted (sysUpTime reset, host uptime not)", device.name)
            return []
        uptime_s = (now.hr_uptime if now.hr_uptime is not None else now.sys_uptime or 0) / 100
        summary = (
            f"{device.name} ({device.opd or device.site}) baru saja restart: "
            f"uptime {_duration(uptime_s)}"
        )
        key = fault_key(device.name, FaultKind.DEVICE_REBOOTED)
        fault = _fault(device, FaultKind.DEVICE_REBOOTED, "", summary)
        events = self._open(device, box, fault, at)
        return events + self._clear(box, key, at, "informational")

    # ------------------------------------------------------------------ interfaces
    def _watched(self, device: Device, name: str) -> bool:
        mode = device.snmp.interfaces if device.snmp is not None else "all"
        if mode in SELECTORS:
            return self._selected(device, name, mode)
        return bool(self._patterns[device.name].search(name))

    def _selected(self, device: Device, name: str, mode: str) -> bool:
        """Whether ``name`` is one of the ports ``mode`` ("all", "marked", regex) names."""
        if mode == "all":
            return True
        if mode == "marked":
            return name in device.ports
        pattern = self._traffic_patterns.get(device.name)
        return pattern is not None and bool(pattern.search(name))

    def _interface(
        self, device: Device, box: _Box, port: _Port, row: InterfaceRow, at: datetime
    ) -> list[Event]:
        port.name = row.name or port.name
        events = self._disabled(device, box, row, at)
        if _is_pppoe(row):
            events += self._pppoe(device, box, port, row, at)
            port.admin_up, port.oper_up = row.admin_up, row.oper_up
            return events
        down_key = fault_key(device.name, FaultKind.INTERFACE_DOWN, port.name)
        if row.admin_up is False:
            events += self._clear(box, down_key, at, "admin down (sengaja)")
        elif row.oper_up is True:
            events += self._clear(box, down_key, at, "up")
        elif port.oper_up is True and row.oper_up is False:
            label = _label(row)
            summary = f"Interface {label} di {device.name} ({device.opd}) putus (oper down)"
            events += self._open(
                device, box, _fault(device, FaultKind.INTERFACE_DOWN, port.name, summary), at
            )
        port.admin_up, port.oper_up = row.admin_up, row.oper_up
        return events

    def _pppoe(
        self, device: Device, box: _Box, port: _Port, row: InterfaceRow, at: datetime
    ) -> list[Event]:
        """A PPPoE client: down, or dropped ``pppoe_flaps`` times within the window."""
        s = self.inventory.health
        if port.oper_up is True and row.oper_up is False:
            port.drops.append(at)
        port.drops = [t for t in port.drops if (at - t).total_seconds() <= s.pppoe_window]
        key = fault_key(device.name, FaultKind.PPPOE_DOWN, port.name)
        flapping = len(port.drops) >= s.pppoe_flaps
        if row.admin_up is False or (row.oper_up is True and not flapping):
            return self._clear(box, key, at, "up")
        if not flapping and not (row.oper_up is False and port.drops):
            return []  # down since before sigap looked: no transition seen, as interface_down
        state = (
            f"naik-turun {len(port.drops)} kali dalam {s.pppoe_window / 60:.0f} menit"
            if flapping
            else "putus"
        )
        summary = (
            f"PPPoE/WAN {_label(row)} di {device.name} ({device.opd}) {state}; "
            "kemungkinan gangguan dari sisi ISP"
        )
        return self._open(device, box, _fault(device, FaultKind.PPPOE_DOWN, port.name, summary), at)

    def _disabled(self, device: Device, box: _Box, row: InterfaceRow, at: datetime) -> list[Event]:
        mark = device.ports.get(row.name)
        if mark is None or not mark.required_up:
            return []
        key = fault_key(device.name, FaultKind.INTERFACE_DISABLED, row.name)
        if row.admin_up is False:
            summary = (
                f"Interface {_label(row)} di {device.name} ({device.opd}) dinonaktifkan "
                "(admin down), padahal wajib aktif"
            )
            return self._open(
                device, box, _fault(device, FaultKind.INTERFACE_DISABLED, row.name, summary), at
            )
        if row.admin_up is None:  # not read this time (a cut walk): no news, not "back up"
            return []
        return self._clear(box, key, at, "admin up")

    # ------------------------------------------------------------------ rates
    @staticmethod
    def _rates(
        device: Device, port: _Port, row: InterfaceRow, at: datetime, reset: bool
    ) -> PortRates | None:
        """Rates since the previous sample of this port (None for the first one)."""
        prev, then = port.row, port.at
        if prev is None or then is None:
            return None
        mark = device.ports.get(row.name or port.name)
        bandwidth = mark.bandwidth_mbps if mark is not None else None
        dt = (at - then).total_seconds()
        return counters.port_rates(prev, row, dt, reset=reset, bandwidth_mbps=bandwidth)

    def _traffic(
        self, device: Device, box: _Box, port: _Port, row: InterfaceRow, at: datetime
    ) -> list[Event]:
        """Sustained saturation and error rates, from this sample and the previous one."""
        if port.rates is None:
            return []
        util, errors = port.rates.utilisation, port.rates.error_rate
        s = self.settings
        label = _label(row)
        events: list[Event] = []
        if util is not None:
            pct = util * 100
            base = (port.rates.bandwidth_bps or 0) / counters.MEGA
            summary = (
                f"Link {label} di {device.name} ({device.opd}) penuh: {pct:.0f}% dari "
                f"{base:g} Mbps selama {s.saturation_for / 60:.0f} menit"
            )
            events += self._sustained(
                device,
                box,
                port.over,
                _fault(device, FaultKind.LINK_SATURATED, port.name, summary),
                at,
                over=pct >= s.saturation_pct,
                below=pct < s.saturation_pct - HYSTERESIS_PCT,
                hold=s.saturation_for,
            )
        if errors is not None:
            summary = (
                f"Error/discard tinggi di {label} ({device.name}, {device.opd}): "
                f"{errors:.1f} per detik selama {s.error_for / 60:.0f} menit"
            )
            events += self._sustained(
                device,
                box,
                port.over,
                _fault(device, FaultKind.INTERFACE_ERRORS, port.name, summary),
                at,
                over=errors >= s.error_rate,
                below=errors < s.error_rate / 2,
                hold=s.error_for,
            )
        return events

    def _sustained(
        self,
        device: Device,
        box: _Box,
        starts: dict[Any, datetime],
        fault: Fault,
        at: datetime,
        *,
        over: bool,
        below: bool,
        hold: float,
        slot: object = None,
    ) -> list[Event]:
        """Open after ``over`` held for ``hold`` seconds; clear once clearly ``below``.

        ``starts`` remembers since when each condition (``slot``, default the kind) holds.
        """
        slot = fault.kind if slot is None else slot
        if over:
            since = starts.setdefault(slot, at)
            if (at - since).total_seconds() >= hold:
                return self._open(device, box, fault, at)
            return []
        starts.pop(slot, None)
        return self._clear(box, fault.key, at, "normal") if below else []

    # ------------------------------------------------------------------ faults
    def _open(self, device: Device, box: _Box, fault: Fault, at: datetime) -> list[Event]:
        if fault.key in box.open:
            return []
        window = device.in_maintenance(at, self.inventory.tz)
        if window is not None:
            logger.info("%s during maintenance %r: no ticket", fault.key, window.name)
            return []
        box.open.add(fault.key)
        return [FaultOpened(fault, at)]

    @staticmethod
    def _clear(box: _Box, key: str, at: datetime, reason: str) -> list[Event]:
        if key not in box.open:
            return []
        box.open.discard(key)
        return [FaultCleared(key, at, reason)]


def _fault(device: Device, kind: FaultKind, subject: str, summary: str) -> Fault:
    return Fault(device.name, kind, summary, device.opd, device.address, subject)


def _is_pppoe(row: InterfaceRow) -> bool:
    """A PPPoE client interface: ifType ppp(23) or RouterOS's default name ``pppoe-out*``."""
    return row.if_type == IF_TYPE_PPP or row.name.startswith("pppoe-out")


def _label(row: InterfaceRow) -> str:
    return f"{row.name} ({row.alias})" if row.alias else row.name


def _duration(seconds: float) -> str:
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} jam {minutes} menit" if hours else f"{minutes} menit {sec} detik"
