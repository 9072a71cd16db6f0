"""Prometheus counters of the trap and syslog receivers (issue 20), on the daemon's registry.

One group of the metric catalogue (:mod:`agent.runtime.metrics`), built on the daemon's
registry by ``agent.wiring`` when receivers are configured. Labels are bounded: the
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

from typing import TYPE_CHECKING, Final

from prometheus_client import CollectorRegistry, Counter, Gauge

if TYPE_CHECKING:
    from collections.abc import Callable

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
        # labels() costs ~15 us a call (lock, tuple checks): children are looked up once
        self._children: dict[tuple[int | str, ...], Callable[[], None]] = {}

    def _inc(self, counter: Counter, *labels: str) -> None:
        key: tuple[int | str, ...] = (id(counter), *labels)
        inc = self._children.get(key)
        if inc is None:
            inc = self._children[key] = counter.labels(*labels).inc
        inc()

    def receive(self, channel: str, source_class: str) -> None:
        """Count one message heard from a source of ``source_class``."""
        self._inc(self.received, channel, source_class)

    def limit(self, channel: str, source_class: str) -> None:
        """Count one message over its source's rate."""
        self._inc(self.rate_limited, channel, source_class)

    def match(self, channel: str, action: str) -> None:
        """Count one message a rule acted on."""
        self._inc(self.matched, channel, action)

    def drop(self, channel: str, reason: str) -> None:
        """Count one message dropped for ``reason`` (a slug of :data:`DROP_REASONS`)."""
        self._inc(self.dropped, channel, reason if reason in DROP_REASONS else "other")

    def value(self, name: str, **labels: str) -> float:
        """Read one sample back (tests, ``sigap`` diagnostics); 0 when never counted."""
        got = self.registry.get_sample_value(name, labels)
        return got if got is not None else 0.0
