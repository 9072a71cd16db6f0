"""Prometheus counters of the trap and syslog receivers (issue 20), on the daemon's registry.

Kept out of :mod:`agent.runtime.metrics` (which is being split). Labels are bounded: the
channel (``syslog``/``trap``), the source class (the device's role from the inventory, or
``unknown``), the rule action and fixed drop reasons; never an address or a text.

============================================================  ===============================
metric                                                        meaning
============================================================  ===============================
``sigap_events_received_total{channel,source_class}``         every datagram / TCP message
``sigap_events_matched_total{channel,action}``                a rule (or trap kind) acted
``sigap_events_dropped_total{channel,reason}``                not kept; reason is a slug
``sigap_events_rate_limited_total{channel,source_class}``     over the per-source rate
``sigap_events_stored_total``                                 rows written to the database
``sigap_events_queue_depth``                                  messages waiting for the store
============================================================  ===============================
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge

DROP_REASONS: Final = frozenset(
    {
        "unknown_source", "malformed", "queue_full", "wrong_community", "usm",
        "too_long", "framing", "store_failed", "connections",
    }
)  # fmt: skip


class EventMetrics:
    """The receivers' counters; one instance per daemon, on the daemon's registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """Create and register the counters (a private registry when none is given)."""
        reg = registry if registry is not None else CollectorRegistry()
        self.registry = reg
        self.received = Counter(
            "sigap_events_received", "Trap/syslog messages received",
            ["channel", "source_class"], registry=reg,
        )  # fmt: skip
        self.matched = Counter(
            "sigap_events_matched", "Messages a rule acted on", ["channel", "action"], registry=reg
        )
        self.dropped = Counter(
            "sigap_events_dropped", "Messages not kept", ["channel", "reason"], registry=reg
        )
        self.rate_limited = Counter(
            "sigap_events_rate_limited", "Messages over the per-source rate",
            ["channel", "source_class"], registry=reg,
        )  # fmt: skip
        self.stored = Counter("sigap_events_stored", "Messages written", registry=reg)
        self.depth = Gauge("sigap_events_queue_depth", "Messages waiting", registry=reg)

    def drop(self, channel: str, reason: str) -> None:
        """Count one message dropped for ``reason`` (a slug of :data:`DROP_REASONS`)."""
        self.dropped.labels(channel, reason if reason in DROP_REASONS else "other").inc()

    def value(self, name: str, **labels: str) -> float:
        """Read one sample back (tests, ``sigap`` diagnostics); 0 when never counted."""
        got = self.registry.get_sample_value(name, labels)
        return got if got is not None else 0.0
