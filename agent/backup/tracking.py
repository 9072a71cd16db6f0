"""What a configuration change and a failing backup become: ticket events and tickets.

:class:`TicketSink` is the backup service's sink. A change is written as a ``konfigurasi
berubah`` note with the diff (capped at :data:`MAX_DIFF_CHARS`) on the device's active
ticket, else on a low-priority ``config_changed`` ticket (one open per device: the rate
limit). The diff names the exact lines, so a port shut by hand shows as
``+/interface ethernet set [ find default-name=ether2 ] disabled=yes``. A change seen by the
backup taken right after a remediation run is attributed to that run. The third failed night
in a row opens a ``backup_failed`` ticket with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from ticketing.config_changes import note_change
from ticketing.faults import Fault, FaultKind

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime

    from agent.backup.service import BackupResult
    from agent.config.model import Device
    from ticketing.store import TicketStore

MAX_DIFF_CHARS: Final = 16000
AFTER_REMEDIATION: Final = "(sesudah)"


def changed_lines(diff: str) -> tuple[int, int]:
    """Lines added and removed in a unified diff."""
    body = [ln for ln in diff.splitlines() if not ln.startswith(("+++", "---"))]
    return sum(ln.startswith("+") for ln in body), sum(ln.startswith("-") for ln in body)


def describe(result: BackupResult) -> str:
    """The note's one-line Indonesian text."""
    added, removed = changed_lines(result.diff)
    who = (
        f"oleh {result.trigger.removesuffix(AFTER_REMEDIATION).strip()}"
        if result.trigger.startswith("remediasi") and result.trigger.endswith(AFTER_REMEDIATION)
        else f"ditemukan saat pencadangan ({result.trigger})"
    )
    return f"konfigurasi berubah {who}: +{added} -{removed} baris, versi {(result.rev or '')[:10]}"


class TicketSink:
    """Changes and repeated failures to the ticket store (through the store thread)."""

    def __init__(
        self,
        store: TicketStore,
        *,
        call: Callable[[Callable[[], Any]], Awaitable[Any]],
        now: Callable[[], datetime],
    ) -> None:
        """``call`` runs a blocking store function (the daemon's store thread)."""
        self.store = store
        self.call = call
        self.now = now

    async def changed(self, device: Device, result: BackupResult) -> None:
        """Note the change with its diff on the device's ticket (or a new low one)."""
        diff = result.diff
        if len(diff) > MAX_DIFF_CHARS:
            diff = diff[:MAX_DIFF_CHARS] + f"\n[... dipotong: diff {len(result.diff)} karakter]"
        data = {"rev": result.rev or "", "pemicu": result.trigger, "diff": diff}
        at = self.now()
        words = result.trigger.split()
        prefer = words[1] if len(words) > 1 and words[0] in ("tiket", "remediasi") else None
        await self.call(
            lambda: note_change(
                self.store, device.name, at=at, detail=describe(result), data=data,
                opd=device.opd, prefer=prefer,
            )
        )  # fmt: skip

    async def failing(self, device: Device, result: BackupResult) -> None:
        """Open the ``backup_failed`` ticket of the device."""
        summary = (
            f"cadangan konfigurasi {device.name} gagal {result.failed_nights} malam "
            f"berturut-turut: {result.reason}"
        )
        fault = Fault(device.name, FaultKind.BACKUP_FAILED, summary, opd=device.opd)
        at = self.now()
        await self.call(lambda: self.store.open_fault(fault, at=at))
