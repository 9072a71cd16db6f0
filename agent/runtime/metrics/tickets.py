"""Ticket, database, intake, remediation, notification and outbox metrics (see the package).

What it imports (``agent.intake.stats``/``mail`` for the intake counters and their bounded
result slugs, ``ticketing``) never imports ``agent.runtime`` back.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy.exc import SQLAlchemyError

from agent.intake import stats as intake_stats
from agent.intake.mail import Rejection
from agent.runtime.metrics._base import NAMESPACE, MetricGroup, bounded, counter, gauge
from ticketing.gauges import TicketGauges, ticket_gauges
from ticketing.intake import Outcome
from ticketing.models import RunStatus
from ticketing.views import OpenOutcome

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from datetime import datetime

    from ticketing.store import TicketStore

logger = logging.getLogger(__name__)

NOTIFY_RESULTS: Final = frozenset({"sent", "failed", "skipped"})
REMEDIATION_RESULTS: Final = frozenset(s.value for s in RunStatus) - {RunStatus.RUNNING.value}
OPEN_OUTCOMES: Final = frozenset(
    {OpenOutcome.OPENED.value, OpenOutcome.REOPENED.value, OpenOutcome.RECURRED.value}
)
INTAKE_CHANNELS: Final = frozenset({"email", "wa"})
INTAKE_RESULTS: Final = frozenset({*(o.value for o in Outcome), *(r.value for r in Rejection)})


class _TicketCollector:
    """Serves the last ticket snapshot (swapped atomically; read inline on scrape)."""

    def __init__(self) -> None:
        self.snapshot: TicketGauges | None = None

    def describe(self) -> Iterable[GaugeMetricFamily]:
        """Name the families up front so the registry can reject a clash at register time."""
        return list(self._families(None))

    def collect(self) -> Iterable[GaugeMetricFamily]:
        """Yield the families of the current snapshot."""
        return list(self._families(self.snapshot))

    @staticmethod
    def _families(snap: TicketGauges | None) -> Iterator[GaugeMetricFamily]:
        open_ = GaugeMetricFamily(
            f"{NAMESPACE}_tickets_open",
            "Tickets whose SOP is in progress, by SOP and active step",
            labels=["sop", "step", "label"],
        )
        overdue = GaugeMetricFamily(
            f"{NAMESPACE}_sop_step_overdue",
            "Active SOP steps past their due time, by SOP and step",
            labels=["sop", "step", "label"],
        )
        active = GaugeMetricFamily(
            f"{NAMESPACE}_tickets_active",
            "Tickets whose fault is open or recovering, by fault kind and status",
            labels=["kind", "status"],
        )
        if snap is not None:
            for step in snap.steps:
                labels = [step.sop, step.step, step.label]
                open_.add_metric(labels, step.open)
                overdue.add_metric(labels, step.overdue)
            for count in snap.active:
                active.add_metric([count.kind, count.status], count.count)
        yield from (open_, overdue, active)


class IntakeCollector:
    """Serves the intake counters (``agent.intake.stats``: an in-memory snapshot per scrape)."""

    def __init__(self, read: Callable[[], Mapping[tuple[str, str], int]]) -> None:
        """``read`` returns the counters by (channel, result)."""
        self.read = read

    def describe(self) -> Iterable[CounterMetricFamily]:
        """Name the family up front so the registry can reject a clash at register time."""
        return [self._family()]

    def collect(self) -> Iterable[CounterMetricFamily]:
        """One sample per (channel, result); unknown values are folded into ``other``."""
        totals: dict[tuple[str, str], int] = {}
        for (channel, result), n in self.read().items():
            key = (bounded(channel, INTAKE_CHANNELS), bounded(result, INTAKE_RESULTS))
            totals[key] = totals.get(key, 0) + n
        family = self._family()
        for labels, n in sorted(totals.items()):
            family.add_metric(list(labels), n)
        return [family]

    @staticmethod
    def _family() -> CounterMetricFamily:
        return CounterMetricFamily(
            f"{NAMESPACE}_intake_messages",
            "Complaint messages taken in (created, joined, duplicate) or rejected, by channel",
            labels=["channel", "result"],
        )


def intake_registry(
    intake: Callable[[], Mapping[tuple[str, str], int]] = intake_stats.stats,
) -> CollectorRegistry:
    """A registry of the intake counters alone (``sigap intake``'s own /metrics)."""
    registry = CollectorRegistry()
    registry.register(IntakeCollector(intake))
    return registry


class TicketMetrics(MetricGroup):
    """What the ticket side reports: tickets, the database, remediation, notifications, queues."""

    def _define_tickets(self, registry: CollectorRegistry) -> None:
        self._outbox: dict[str, int] = {}
        self.database_up: bool | None = None  # None until the first ticket refresh
        self.tickets_opened = counter(
            registry,
            "tickets_opened",
            "Tickets opened, reopened or recurred, by fault kind",
            ["kind", "outcome"],
        )
        self.tickets_resolved = counter(
            registry,
            "tickets_resolved",
            "Tickets resolved after their hold-down, by fault kind",
            ["kind"],
        )
        self.database_up_gauge = gauge(
            registry, "database_up", "1 when the last ticket database read succeeded", []
        )
        self._tickets = _TicketCollector()
        registry.register(self._tickets)
        self.remediation = counter(
            registry,
            "remediation",
            "Remediation runs by playbook and result",
            ["playbook", "result"],
        )
        self.notifications = counter(
            registry, "notifications", "Notifications by channel and result", ["channel", "result"]
        )
        self.outbox_depth = gauge(registry, "outbox_depth", "Items waiting in a queue", ["queue"])
        self.outbox_age = gauge(
            registry,
            "outbox_oldest_age_seconds",
            "Age of the oldest item waiting (0 when empty)",
            ["queue"],
        )

    def ticket_opened(self, kind: str, outcome: str) -> None:
        """Count a ticket the store opened/reopened/recurred (``existing`` is not counted)."""
        if outcome == OpenOutcome.EXISTING.value:
            return
        self.tickets_opened.labels(kind, bounded(str(outcome), OPEN_OUTCOMES)).inc()

    def ticket_resolved(self, kind: str) -> None:
        """Count a ticket resolved after its hold-down."""
        self.tickets_resolved.labels(kind).inc()

    def set_ticket_gauges(self, snapshot: TicketGauges) -> None:
        """Publish a ticket snapshot (swapped whole: a scrape never sees half of one)."""
        self._tickets.snapshot = snapshot

    def refresh_tickets_blocking(self, store: TicketStore, now: datetime) -> bool:
        """Read the ticket gauges from ``store`` (blocking: run on the store thread).

        A database error is logged once per outage and reported as ``sigap_database_up 0``;
        the previous snapshot stays published. Returns whether the database answered.
        """
        try:
            snapshot = ticket_gauges(store, now=now)
        except SQLAlchemyError as exc:
            if self.database_up is not False:
                logger.warning("ticket database unreachable: %s", exc.__class__.__name__)
            self.set_database_up(up=False)
            return False
        if self.database_up is False:
            logger.info("ticket database reachable again")
        self.set_ticket_gauges(snapshot)
        self.set_database_up(up=True)
        return True

    def set_database_up(self, *, up: bool) -> None:
        """Record whether the ticket database answers (``sigap_database_up``, /healthz)."""
        self.database_up = up
        self.database_up_gauge.set(int(up))

    def remediation_finished(self, playbook: str, result: str) -> None:
        """Count a finished remediation run; ``result`` is a RunStatus slug."""
        self.remediation.labels(playbook, bounded(str(result), REMEDIATION_RESULTS)).inc()

    def notification_sent(self, channel: str, result: str) -> None:
        """Count a notification; ``channel`` is its kind (e.g. telegram, email), never a URL.

        ``result`` is ``sent``, ``failed`` or ``skipped``.
        """
        self.notifications.labels(channel, bounded(result, NOTIFY_RESULTS)).inc()

    def set_outbox(self, queue: str, depth: int, oldest_age: float = 0.0) -> None:
        """Publish the depth of a queue (``tickets``, ``notifications``) and its oldest item."""
        with self._lock:
            self._outbox[queue] = depth
        self.outbox_depth.labels(queue).set(depth)
        self.outbox_age.labels(queue).set(oldest_age if depth else 0.0)

    @property
    def outbox_total(self) -> int:
        """Items waiting in every queue (for /healthz)."""
        with self._lock:
            return sum(self._outbox.values())
