"""The monthly report through the outbox: ``sigap notifikasi laporan-bulanan [--bulan]``.

The recap is the one ``sigap laporan bulanan`` writes (``ticketing.reports.query``); here it
becomes template data: ``rekap`` (a few lines, the chat message) and ``laporan`` (the whole Markdown
document, in the e-mail). Who receives it is the route ``laporan_bulanan`` (default: the Kabid
and the Kadis; quiet hours respected). Queuing is idempotent per month and address: the dedup
key is ``laporan_bulanan:<YYYY-MM>:<person>:<address>``, so running the command twice (or
from a timer every day of the month) sends each person the month's report once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ticketing.outbox.queue import Outbox
from ticketing.outbox.types import MONTHLY_REPORT, EventFacts
from ticketing.reports.availability import pct_text
from ticketing.reports.documents import monthly_doc
from ticketing.reports.query import month_report
from ticketing.reports.render import duration_text, month_title, percent, rupiah, to_markdown

if TYPE_CHECKING:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from ticketing.availability import AvailabilityReport, Scope
    from ticketing.outbox.types import Planned, Router
    from ticketing.reports.monthly import MonthlyReport
    from ticketing.service import TicketService
    from ticketing.store import TicketStore

TOP_OPD: Final = 3


@dataclass(frozen=True, slots=True)
class Queued:
    """What ``laporan-bulanan`` did: the month, the rows queued now, those queued before."""

    label: str
    added: tuple[Planned, ...]
    existing: tuple[Planned, ...]


def build_report(
    store: TicketStore,
    svc: TicketService,
    year: int,
    month: int,
    *,
    tz: ZoneInfo,
    now: datetime,
    scope: Scope | None = None,
) -> MonthlyReport:
    """The recap of ``year``-``month`` as of ``now`` (as ``sigap laporan bulanan``)."""
    program = svc.program()
    return month_report(
        store, svc.sops, program, year=year, month=month, tz=tz, as_of=now, scope=scope
    )


def summary_text(report: MonthlyReport) -> str:
    """The chat-sized recap: tickets, MTTA/MTTR, SOP compliance, busiest OPDs, programme."""
    lines = [
        f"Tiket dibuka {report.total}, selesai {report.resolved}",
        f"MTTA {duration_text(report.mtta.mean)}, MTTR {duration_text(report.mttr.mean)}",
        f"Kepatuhan SOP {percent(report.compliance_percent)}",
    ]
    if report.by_opd:
        top = ", ".join(f"{opd} ({n})" for opd, n in report.by_opd[:TOP_OPD])
        lines.append(f"OPD terbanyak: {top}")
    if report.availability is not None:
        lines.append(availability_line(report.availability))
    if report.program:
        cost = rupiah(report.program_cost)
        lines.append(f"Program Kegiatan baru {len(report.program)} ({cost})")
    return "\n".join(f"- {line}" for line in lines)


def availability_line(found: AvailabilityReport) -> str:
    """``Ketersediaan: 2 dari 36 OPD di bawah 99.5%: Inspektorat 99.10%, ...``."""
    below = found.below_target()
    head = f"Ketersediaan: {len(below)} dari {len(found.opds)} OPD di bawah {found.target:g}%"
    worst = ", ".join(f"{f.name} {pct_text(f.percent)}" for f in below[:TOP_OPD])
    return f"{head}: {worst}" if worst else head


def report_data(report: MonthlyReport, *, tz: ZoneInfo, office: str) -> dict[str, str]:
    """Template data of the message: ``bulan``, ``rekap``, ``laporan``."""
    return {
        "bulan": month_title(report.year, report.month),
        "rekap": summary_text(report),
        "laporan": to_markdown(monthly_doc(report, tz=tz, office=office)),
    }


def queue_monthly_blocking(
    store: TicketStore,
    router: Router,
    report: MonthlyReport,
    *,
    data: dict[str, str],
    now: datetime,
) -> Queued:
    """Queue the report to everyone its route names, once per month and address."""
    plans = list(router.plan(EventFacts(MONTHLY_REPORT, now, 0, "", "", "", None, {})))
    added = Outbox(store).enqueue_once(MONTHLY_REPORT, plans, at=now, key=report.label, data=data)
    existing = tuple(p for p in plans if p not in added)
    return Queued(report.label, tuple(added), existing)
