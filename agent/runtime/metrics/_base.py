"""What every metric group shares: the namespace, bounded labels, and the state they keep."""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Final

from prometheus_client import Counter, Gauge

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics import MetricWrapperBase

NAMESPACE: Final = "sigap"
OTHER: Final = "other"


def bounded(value: str, allowed: frozenset[str]) -> str:
    """Return ``value`` when it is one of ``allowed``, else ``other`` (labels stay bounded)."""
    return value if value in allowed else OTHER


def gauge(registry: CollectorRegistry, name: str, doc: str, labels: list[str]) -> Gauge:
    """A sigap gauge (``sigap_`` + ``name``) on ``registry``."""
    return Gauge(name, doc, labels, namespace=NAMESPACE, registry=registry)


def counter(registry: CollectorRegistry, name: str, doc: str, labels: list[str]) -> Counter:
    """A sigap counter (``sigap_`` + ``name`` + ``_total``) on ``registry``."""
    return Counter(name, doc, labels, namespace=NAMESPACE, registry=registry)


def discard(metric: MetricWrapperBase, *labels: str) -> None:
    """Remove one labelled child if present (prometheus_client raises KeyError otherwise)."""
    with contextlib.suppress(KeyError):
        metric.remove(*labels)


class MetricGroup:
    """The state the groups of :class:`agent.runtime.metrics.Metrics` share (one lock, OPDs)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._opd: dict[str, str] = {}  # device -> OPD, from the inventory (set_devices)
