"""Evidence for an "internet lambat" complaint (issue 19): the OPD's uplink, now and last day.

The complaint services (``sigap tiket lapor``, the board's form, e-mail and WhatsApp intake)
call :class:`SlowEvidence` for every new complaint (``TicketService(evidence=...)``, built in
``agent.wiring``). When the text says the internet is slow (:func:`says_slow`: lambat, lemot,
lelet, lamban, lola, slow, lag, buffering, putus-putus; letters stretched for emphasis such
as "lemooot" count; suffixes such as -nya too), it reads the uplink ports of the OPD (or of
the complaint's device) from the traffic rollups and the device's outages, and returns a
note for the ticket with one verdict:

* **penuh**: the last 5 minutes or the day's 95th percentile at or above 90 % of the
  contracted bandwidth, or a ``link_saturated`` ticket open on the uplink;
* **ada loss**: the uplink device was down in the last 24 hours, its ICMP loss was 1 % or
  more over the day (2 % over the last 15 minutes), a loss-like ticket (device down,
  flapping, interface errors, PPPoE down) is open, or the port counted 100 errors or
  discards in the last day;
* **normal**: data present and none of the above;
* **tidak ada data**: no rollups for the uplink in the last day (the verdict says so).

ICMP loss comes from the daemon's 5-minute loss buckets (``ticketing.pingloss``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from agent.history.availability import MEGA, device_figures, uplinks
from ticketing import pingloss
from ticketing.reports.linechart import rate_text
from ticketing.reports.render import duration_text
from ticketing.rollups import FINE, p95, read, stored_ports

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from agent.config.model import Device, Inventory
    from ticketing.rollups import Rollup
    from ticketing.store import TicketStore

FULL: Final = 0.9  # utilisation from which the link counts as full
DAY: Final = timedelta(hours=24)
RECENT: Final = timedelta(minutes=15)  # the newest 5-minute bucket must be this fresh
ERRORS_PER_DAY: Final = 100  # errors + discards in a day that count as loss
LOSSY_DAY: Final = 0.01  # ICMP loss over the day from which the link counts as lossy
LOSSY_NOW: Final = 0.02  # ... over the last 15 minutes
LOSSY_KINDS: Final = frozenset({"device_down", "flapping", "interface_errors", "pppoe_down"})
SCAN_CHARS: Final = 20_000  # a complaint longer than this is judged on its start
SLOW: Final = re.compile(
    r"\b(?:lambat|lamban|lemot|lelet|lola|slow|lag|ngelag|bufering)"
    r"(?:nya|sekali|bgt|banget|bener|kali)?\b"
    r"|\bputus ?(?:putus|2)\b"
)
REPEATS: Final = re.compile(r"([a-z])\1+")
NOT_WORD: Final = re.compile(r"[^a-z0-9]+")


def says_slow(text: str) -> bool:
    """Whether a complaint says the internet is slow (Indonesian, slang, English)."""
    folded = unicodedata.normalize("NFKD", text[:SCAN_CHARS]).casefold()
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    words = NOT_WORD.sub(" ", plain)
    return SLOW.search(REPEATS.sub(r"\1", words)) is not None


@dataclass(frozen=True, slots=True)
class PortEvidence:
    """One uplink port: the newest 5-minute bucket and the last day's figures."""

    device: str
    interface: str
    bandwidth_bps: float | None
    now: Rollup | None
    day: Sequence[Rollup]

    def utilisation(
        self, in_bps: float | None, out_bps: float | None, peak: float | None
    ) -> float | None:
        """The higher direction over the contract, else the peak the poller measured."""
        known = [v for v in (in_bps, out_bps) if v is not None]
        if known and self.bandwidth_bps:
            return max(known) / self.bandwidth_bps
        return peak

    @property
    def now_util(self) -> float | None:
        """Utilisation of the newest bucket."""
        r = self.now
        return None if r is None else self.utilisation(r.in_avg, r.out_avg, r.util_max)

    @property
    def day_p95(self) -> tuple[float | None, float | None]:
        """95th percentile of the day's 5-minute averages, in and out."""
        ins = [r.in_avg for r in self.day if r.in_avg is not None]
        outs = [r.out_avg for r in self.day if r.out_avg is not None]
        return p95(ins), p95(outs)

    @property
    def day_util(self) -> float | None:
        """Utilisation of the day's 95th percentile."""
        peaks = [r.util_max for r in self.day if r.util_max is not None]
        return self.utilisation(*self.day_p95, p95(peaks))

    @property
    def errors(self) -> float:
        """Errors and discards counted over the day."""
        return sum(r.errors or 0.0 for r in self.day)

    def line(self) -> str:
        """``rsud-r1 ether1 (kontrak 20 Mb/s): 5 menit terakhir ...; 24 jam: ...``."""
        contract = f" (kontrak {rate_text(self.bandwidth_bps)})" if self.bandwidth_bps else ""
        head = f"{self.device} {self.interface}{contract}: "
        if not self.day:
            return head + "tidak ada data trafik 24 jam terakhir."
        if self.now is None:
            now = "5 menit terakhir: tidak ada data"
        else:
            now = (f"5 menit terakhir masuk {_rate(self.now.in_avg)}, keluar "
                   f"{_rate(self.now.out_avg)} ({_pct(self.now_util)})")  # fmt: skip
        p_in, p_out = self.day_p95
        day = (f"24 jam terakhir p95 masuk {_rate(p_in)}, keluar {_rate(p_out)} "
               f"({_pct(self.day_util)}), {self.errors:.0f} error/discard")  # fmt: skip
        return f"{head}{now}; {day}."


def _rate(value: float | None) -> str:
    return "-" if value is None else rate_text(value)


def _pct(value: float | None) -> str:
    return "utilisasi -" if value is None else f"utilisasi {value * 100:.0f}%"


@dataclass(frozen=True, slots=True)
class DeviceLoss:
    """ICMP loss of one device: the last 15 minutes, the day, the day's worst 5 minutes."""

    device: str
    now: float | None
    day: float | None
    worst: float | None

    @property
    def lossy(self) -> bool:
        """Loss over the day or right now above the line."""
        return (self.day or 0.0) >= LOSSY_DAY or (self.now or 0.0) >= LOSSY_NOW

    def line(self) -> str:
        """``Loss ICMP rtr: 15 menit terakhir 0%, 24 jam 0.3% (terburuk 5 menit 12%).``."""
        if self.day is None:
            return f"Loss ICMP {self.device}: tidak ada data 24 jam terakhir."
        return (f"Loss ICMP {self.device}: 15 menit terakhir {_loss(self.now)}, 24 jam "
                f"{_loss(self.day)} (terburuk 5 menit {_loss(self.worst)}).")  # fmt: skip


def _loss(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the note says: the verdict, the ports, outages and open faults of the uplink."""

    opd: str
    devices: Sequence[str]
    ports: Sequence[PortEvidence]
    outages: int
    downtime: timedelta
    open_kinds: Sequence[str]
    losses: Sequence[DeviceLoss] = ()

    @property
    def verdict(self) -> str:
        """``penuh``, ``ada loss``, ``normal`` or ``tidak ada data``."""
        full = any((u or 0.0) >= FULL for p in self.ports for u in (p.now_util, p.day_util))
        if full or "link_saturated" in self.open_kinds:
            return "penuh"
        lossy = self.outages or LOSSY_KINDS.intersection(self.open_kinds)
        lossy = lossy or any(x.lossy for x in self.losses)
        if lossy or any(p.errors >= ERRORS_PER_DAY for p in self.ports):
            return "ada loss"
        known = any(p.day for p in self.ports) or any(x.day is not None for x in self.losses)
        return "normal" if known else "tidak ada data"

    def text(self) -> str:
        """The note, in Indonesian."""
        lines = [f"Bukti otomatis untuk keluhan internet lambat (uplink {self.opd}): "
                 f"{self.verdict.upper()}."]  # fmt: skip
        lines += [p.line() for p in self.ports] or ["Tidak ada port uplink di inventaris."]
        lines += [x.line() for x in self.losses]
        lines.append(
            f"Padam 24 jam terakhir ({', '.join(self.devices) or '-'}): {self.outages} kali "
            f"({duration_text(self.downtime)}). "
            f"Tiket aktif di uplink: {', '.join(sorted(self.open_kinds)) or '-'}."
        )
        return "\n".join(lines)


class SlowEvidence:
    """The complaint hook: ``(opd, device, description) -> (note, data)`` for a slow complaint."""

    def __init__(
        self, store: TicketStore, inventory: Inventory, now: Callable[[], datetime]
    ) -> None:
        """Read rollups and outages from ``store``; uplinks and contracts from ``inventory``."""
        self.store = store
        self.inventory = inventory
        self.now = now

    def __call__(
        self, opd: str, device: str, description: str
    ) -> tuple[str, dict[str, str]] | None:
        """The evidence note, or None when the complaint is not about slowness."""
        if not says_slow(description):
            return None
        found = self.gather(opd, device)
        return found.text(), {"bukti": "trafik_uplink", "verdict": found.verdict}

    def devices(self, opd: str, device: str) -> list[Device]:
        """The complaint's device (when named) and the OPD's uplink devices: the user's path."""
        names = dict.fromkeys([device] if device else [])
        names.update(dict.fromkeys(uplinks(self.inventory).get(opd, ())))
        return [self.inventory.devices[n] for n in names if n in self.inventory.devices]

    def gather(self, opd: str, device: str) -> Evidence:
        """Read the evidence of the uplink devices as of now."""
        now = self.now()
        ports, outages, downtime = [], 0, timedelta()
        for d in self.devices(opd, device):
            kept = set(stored_ports(self.store, d.name)) | {
                n for n, mark in d.ports.items() if mark.uplink
            }
            ports += [self._port(d, name, now) for name in sorted(kept)]
            f = device_figures(self.store, self.inventory, d.name, start=now - DAY, end=now,
                               as_of=now)  # fmt: skip
            outages, downtime = outages + f.outages, downtime + f.downtime
        names = [d.name for d in self.devices(opd, device)]
        kinds = sorted({t.kind for t in self.store.active() if t.device in names})
        losses = [self._loss(name, now) for name in names]
        return Evidence(opd, names, ports, outages, downtime, kinds, losses)

    def _loss(self, device: str, now: datetime) -> DeviceLoss:
        day = pingloss.read(self.store, device, start=now - DAY, end=now)
        recent, _ = pingloss.summary([b for b in day if b.start >= now - RECENT])
        average, worst = pingloss.summary(day)
        return DeviceLoss(device, recent, average, worst)

    def _port(self, device: Device, name: str, now: datetime) -> PortEvidence:
        mark = device.ports.get(name)
        bandwidth = mark.bandwidth_mbps * MEGA if mark and mark.bandwidth_mbps else None
        day = read(self.store, device.name, name, step=FINE, start=now - DAY, end=now)
        fresh = [r for r in day if r.start >= now - RECENT]
        return PortEvidence(device.name, name, bandwidth, fresh[-1] if fresh else None, day)
