"""Every Prometheus metric sigap exports, defined once against an injected registry.

One concept: sigap's metric catalogue (STYLE point 15: every metric in one module, against an
injected registry), with one typed method per thing the daemon reports; its length is the
table below. The only other piece here, :func:`watch_loop_lag`, feeds one of these metrics.
What it imports (``agent.detect.ping`` for the states, ``agent.intake.stats``/``mail`` for
the intake counters and their bounded result slugs, ``ticketing``) never imports
``agent.runtime`` back.

Production builds one ``Metrics(CollectorRegistry())`` and serves that registry (see
:mod:`agent.runtime.httpd`); tests build their own and read it back with
``registry.get_sample_value(...)``. The daemon reports what happened through the typed methods
below; nothing here polls, sleeps or touches the database except
:meth:`Metrics.refresh_tickets_blocking`, which runs on the daemon's store thread.

Traffic series (``..`` = device, opd, interface) exist only for the ports a device's
``snmp.traffic`` selects (default: the ports marked in the inventory), so 2,000 access ports
do not become 2,000 x 9 series. Labels are bounded: device, OPD, interface, probe, fault
kind, SOP code and step label, playbook, notification channel and fixed result slugs. Ticket
numbers, addresses and error texts never become labels (an unknown result is counted as
``other``).

=====================================================  ========================================
metric                                                 set by
=====================================================  ========================================
``sigap_build_info{version,python}``                   construction
``sigap_device_up{device,opd}``                        :meth:`Metrics.device_state`
``sigap_device_state{device,opd,state}`` (state set)   :meth:`Metrics.device_state`
``sigap_icmp_rtt_seconds{device,opd}``                 :meth:`Metrics.observe_ping`
``sigap_icmp_loss_ratio{device,opd}``                  :meth:`Metrics.observe_ping`
``sigap_snmp_poll_success{device}``                    :meth:`Metrics.observe_snmp`
``sigap_snmp_poll_duration_seconds{device}``           :meth:`Metrics.observe_snmp`
``sigap_snmp_polls_total{status}``                     :meth:`Metrics.observe_snmp`
``sigap_interface_oper_up{device,interface}``          :meth:`Metrics.observe_snmp`
``sigap_interface_admin_up{device,interface}``         :meth:`Metrics.observe_snmp`
``sigap_health_poll_success{device}``                  :meth:`Metrics.observe_health`
``sigap_device_cpu_percent{device}``                   :meth:`Metrics.observe_health`
``sigap_device_memory_percent{device}``                :meth:`Metrics.observe_health`
``sigap_device_sensor{device,kind,stat}`` (min/max)    :meth:`Metrics.observe_health`
``sigap_device_sensors_failed{device,kind}``           :meth:`Metrics.observe_health`
``sigap_radio_signal_dbm{device,interface}`` (weakest) :meth:`Metrics.observe_health`
``sigap_radio_ccq_percent{device,interface}`` (worst)  :meth:`Metrics.observe_health`
``sigap_radio_peers{device,interface}``                :meth:`Metrics.observe_health`
``sigap_interface_bits_per_second{..,direction}``      :meth:`Metrics.observe_traffic`
``sigap_interface_utilisation_ratio{..,direction}``    :meth:`Metrics.observe_traffic`
``sigap_interface_bandwidth_bits_per_second{..}``      :meth:`Metrics.observe_traffic`
``sigap_interface_errors_per_second{..,direction}``    :meth:`Metrics.observe_traffic`
``sigap_interface_discards_per_second{..,direction}``  :meth:`Metrics.observe_traffic`
``sigap_poll_duration_seconds{probe}`` (histogram)     :meth:`Metrics.poll_finished`
``sigap_poll_overruns_total{probe}``                   :meth:`Metrics.poll_finished`
``sigap_scheduler_lag_seconds``                        :func:`watch_loop_lag`
``sigap_tickets_opened_total{kind,outcome}``           :meth:`Metrics.ticket_opened`
``sigap_tickets_resolved_total{kind}``                 :meth:`Metrics.ticket_resolved`
``sigap_tickets_open{sop,step,label}``                 :meth:`Metrics.refresh_tickets_blocking`
``sigap_sop_step_overdue{sop,step,label}``             :meth:`Metrics.refresh_tickets_blocking`
``sigap_tickets_active{kind,status}``                  :meth:`Metrics.refresh_tickets_blocking`
``sigap_database_up``                                  :meth:`Metrics.refresh_tickets_blocking`
``sigap_remediation_total{playbook,result}``           :meth:`Metrics.remediation_finished`
``sigap_notifications_total{channel,result}``          :meth:`Metrics.notification_sent`
``sigap_outbox_depth{queue}``                          :meth:`Metrics.set_outbox`
``sigap_outbox_oldest_age_seconds{queue}``             :meth:`Metrics.set_outbox`
``sigap_intake_messages_total{channel,result}``        read on scrape from ``agent.intake.stats``
=====================================================  ========================================
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
import threading
from functools import partial
from importlib import metadata
from typing import TYPE_CHECKING, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy.exc import SQLAlchemyError

from agent.detect.ping import DeviceState
from agent.intake import stats as intake_stats
from agent.intake.mail import Rejection
from collectors.model import SensorKind
from ticketing.gauges import TicketGauges, ticket_gauges
from ticketing.intake import Outcome
from ticketing.models import RunStatus
from ticketing.views import OpenOutcome

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from datetime import datetime

    from prometheus_client.metrics import MetricWrapperBase

    from collectors.counters import PortRates
    from collectors.model import HealthPoll, InterfaceRow, Observation, RadioLink, SnmpPoll
    from ticketing.store import TicketStore

logger = logging.getLogger(__name__)

NAMESPACE: Final = "sigap"
PROBES: Final = ("ping", "snmp", "health")
# one round of one device: ping is ~count x spacing + timeout, SNMP a few GETBULKs
POLL_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
NOTIFY_RESULTS: Final = frozenset({"sent", "failed", "skipped"})
REMEDIATION_RESULTS: Final = frozenset(s.value for s in RunStatus) - {RunStatus.RUNNING.value}
OPEN_OUTCOMES: Final = frozenset(
    {OpenOutcome.OPENED.value, OpenOutcome.REOPENED.value, OpenOutcome.RECURRED.value}
)
OTHER: Final = "other"
INTAKE_CHANNELS: Final = frozenset({"email", "wa"})
INTAKE_RESULTS: Final = frozenset({*(o.value for o in Outcome), *(r.value for r in Rejection)})
DOWN_STATES: Final = frozenset({DeviceState.DOWN, DeviceState.UNREACHABLE})
DIRECTIONS: Final = ("in", "out")


def _version() -> str:
    try:
        return metadata.version("sigap")
    except metadata.PackageNotFoundError:
        return "unknown"


def _bounded(value: str, allowed: frozenset[str]) -> str:
    """Return ``value`` when it is one of ``allowed``, else ``other`` (labels stay bounded)."""
    return value if value in allowed else OTHER


def _gauge(registry: CollectorRegistry, name: str, doc: str, labels: list[str]) -> Gauge:
    """A sigap gauge (``sigap_`` + ``name``) on ``registry``."""
    return Gauge(name, doc, labels, namespace=NAMESPACE, registry=registry)


def _discard(metric: MetricWrapperBase, *labels: str) -> None:
    """Remove one labelled child if present (prometheus_client raises KeyError otherwise)."""
    with contextlib.suppress(KeyError):
        metric.remove(*labels)


def interface_name(row: InterfaceRow) -> str:
    """The label of an interface: ifName, else ifDescr, else its ifIndex."""
    return row.name or row.descr or f"ifIndex{row.index}"


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


class _IntakeCollector:
    """Serves the intake counters (``agent.intake.stats``: an in-memory snapshot per scrape)."""

    def __init__(self, read: Callable[[], Mapping[tuple[str, str], int]]) -> None:
        self.read = read

    def describe(self) -> Iterable[CounterMetricFamily]:
        """Name the family up front so the registry can reject a clash at register time."""
        return [self._family()]

    def collect(self) -> Iterable[CounterMetricFamily]:
        """One sample per (channel, result); unknown values are folded into ``other``."""
        totals: dict[tuple[str, str], int] = {}
        for (channel, result), n in self.read().items():
            key = (_bounded(channel, INTAKE_CHANNELS), _bounded(result, INTAKE_RESULTS))
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
    registry.register(_IntakeCollector(intake))
    return registry


class Metrics:
    """sigap's metrics on one registry, with one typed method per thing the daemon reports."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        version: str | None = None,
        intake: Callable[[], Mapping[tuple[str, str], int]] = intake_stats.stats,
    ) -> None:
        """Create (and register) every metric; ``version`` defaults to the installed one.

        ``intake`` reads the intake counters (default: the process-wide ones).
        """
        self.registry = registry
        self._lock = threading.Lock()
        self._opd: dict[str, str] = {}
        self._interfaces: dict[str, set[str]] = {}
        self._radios: dict[str, set[str]] = {}
        self._traffic_ports: dict[str, set[str]] = {}
        # labelled children of the traffic gauges: labels() costs ~14 us, a dict lookup 0.1
        self._children: dict[tuple[int, tuple[str, ...]], Gauge] = {}
        self._outbox: dict[str, int] = {}
        self.database_up: bool | None = None  # None until the first ticket refresh
        self.scheduler_lag = 0.0
        self._define_devices(registry)
        self._define_traffic(registry)
        self._define_polls(registry)
        self._define_health(registry)
        self._define_tickets(registry)
        self._define_actions(registry)
        registry.register(_IntakeCollector(intake))
        build = Info("build", "sigap version", namespace=NAMESPACE, registry=registry)
        build.info({"version": version or _version(), "python": platform.python_version()})

    # -- definitions --------------------------------------------------------------------

    def _define_devices(self, registry: CollectorRegistry) -> None:
        ns, dev = NAMESPACE, ["device", "opd"]
        self.device_up = Gauge(
            "device_up",
            "1 up (or suspect), 0 down or unreachable",
            dev,
            namespace=ns,
            registry=registry,
        )
        self.device_state_info = Gauge(
            "device_state",
            "Detector state of each device (1 for the current state)",
            [*dev, "state"],
            namespace=ns,
            registry=registry,
        )
        self.icmp_rtt = Gauge(
            "icmp_rtt_seconds",
            "Average ICMP round-trip time of the last round",
            dev,
            namespace=ns,
            registry=registry,
        )
        self.icmp_loss = Gauge(
            "icmp_loss_ratio",
            "Share of echoes lost in the last round (0..1)",
            dev,
            namespace=ns,
            registry=registry,
        )
        self.interface_oper_up = Gauge(
            "interface_oper_up",
            "ifOperStatus is up(1)",
            ["device", "interface"],
            namespace=ns,
            registry=registry,
        )
        self.interface_admin_up = Gauge(
            "interface_admin_up",
            "ifAdminStatus is up(1)",
            ["device", "interface"],
            namespace=ns,
            registry=registry,
        )

    def _define_health(self, registry: CollectorRegistry) -> None:
        gauge = partial(_gauge, registry)
        self.health_success = gauge(
            "health_poll_success", "1 when the last health poll answered", ["device"]
        )
        self.cpu_percent = gauge("device_cpu_percent", "CPU load (%)", ["device"])
        self.memory_percent = gauge("device_memory_percent", "Memory in use (%)", ["device"])
        self.sensor = gauge(
            "device_sensor",
            "Lowest/highest sensor reading of a kind (C, V, rpm, W, A)",
            ["device", "kind", "stat"],
        )
        self.sensors_failed = gauge(
            "device_sensors_failed", "Fans/PSUs reporting failure", ["device", "kind"]
        )
        self.radio_signal = gauge(
            "radio_signal_dbm", "Weakest signal on a radio interface", ["device", "interface"]
        )
        self.radio_ccq = gauge(
            "radio_ccq_percent", "Worst CCQ on a radio interface", ["device", "interface"]
        )
        self.radio_peers = gauge(
            "radio_peers", "Registered peers on a radio interface", ["device", "interface"]
        )

    def _define_traffic(self, registry: CollectorRegistry) -> None:
        gauge, port = partial(_gauge, registry), ["device", "opd", "interface"]
        self.traffic_bps = gauge(
            "interface_bits_per_second", "Traffic over the last poll interval", [*port, "direction"]
        )
        self.traffic_util = gauge(
            "interface_utilisation_ratio",
            "Traffic / bandwidth (the inventory's bandwidth:, else ifHighSpeed)",
            [*port, "direction"],
        )
        self.traffic_bandwidth = gauge(
            "interface_bandwidth_bits_per_second", "What utilisation is measured against", port
        )
        self.traffic_errors = gauge(
            "interface_errors_per_second", "ifIn/OutErrors per second", [*port, "direction"]
        )
        self.traffic_discards = gauge(
            "interface_discards_per_second", "ifIn/OutDiscards per second", [*port, "direction"]
        )

    def _define_polls(self, registry: CollectorRegistry) -> None:
        ns = NAMESPACE
        self.snmp_success = Gauge(
            "snmp_poll_success",
            "1 when the last SNMP poll returned data",
            ["device"],
            namespace=ns,
            registry=registry,
        )
        self.snmp_duration = Gauge(
            "snmp_poll_duration_seconds",
            "Duration of the last SNMP poll",
            ["device"],
            namespace=ns,
            registry=registry,
        )
        self.snmp_polls = Counter(
            "snmp_polls", "SNMP polls by outcome", ["status"], namespace=ns, registry=registry
        )
        self.poll_duration = Histogram(
            "poll_duration_seconds",
            "One poll round of one device, queueing included",
            ["probe"],
            namespace=ns,
            registry=registry,
            buckets=POLL_BUCKETS,
        )
        self.poll_overruns = Counter(
            "poll_overruns",
            "Poll rounds that took longer than the device's interval",
            ["probe"],
            namespace=ns,
            registry=registry,
        )
        self.scheduler_lag_seconds = Gauge(
            "scheduler_lag_seconds",
            "How late the event loop woke up a timer, last check",
            namespace=ns,
            registry=registry,
        )
        for probe in PROBES:  # export zeros before the first round, so rate() works at once
            self.poll_duration.labels(probe)
            self.poll_overruns.labels(probe)

    def _define_tickets(self, registry: CollectorRegistry) -> None:
        ns = NAMESPACE
        self.tickets_opened = Counter(
            "tickets_opened",
            "Tickets opened, reopened or recurred, by fault kind",
            ["kind", "outcome"],
            namespace=ns,
            registry=registry,
        )
        self.tickets_resolved = Counter(
            "tickets_resolved",
            "Tickets resolved after their hold-down, by fault kind",
            ["kind"],
            namespace=ns,
            registry=registry,
        )
        self.database_up_gauge = Gauge(
            "database_up",
            "1 when the last ticket database read succeeded",
            namespace=ns,
            registry=registry,
        )
        self._tickets = _TicketCollector()
        registry.register(self._tickets)

    def _define_actions(self, registry: CollectorRegistry) -> None:
        ns = NAMESPACE
        self.remediation = Counter(
            "remediation",
            "Remediation runs by playbook and result",
            ["playbook", "result"],
            namespace=ns,
            registry=registry,
        )
        self.notifications = Counter(
            "notifications",
            "Notifications by channel and result",
            ["channel", "result"],
            namespace=ns,
            registry=registry,
        )
        self.outbox_depth = Gauge(
            "outbox_depth",
            "Items waiting in a queue",
            ["queue"],
            namespace=ns,
            registry=registry,
        )
        self.outbox_age = Gauge(
            "outbox_oldest_age_seconds",
            "Age of the oldest item waiting (0 when empty)",
            ["queue"],
            namespace=ns,
            registry=registry,
        )

    # -- devices ------------------------------------------------------------------------

    def set_devices(self, opd_of: Mapping[str, str]) -> None:
        """Declare the monitored devices (name -> OPD); series of removed devices are dropped.

        Call at start and after every inventory reload.
        """
        with self._lock:
            gone = {name: opd for name, opd in self._opd.items() if opd_of.get(name) != opd}
            self._opd = dict(opd_of)
        for name, opd in gone.items():
            self._forget_device(name, opd)

    def _forget_device(self, name: str, opd: str) -> None:
        for metric in (self.device_up, self.icmp_rtt, self.icmp_loss):
            _discard(metric, name, opd)
        for state in DeviceState:
            _discard(self.device_state_info, name, opd, state.value)
        _discard(self.snmp_success, name)
        _discard(self.snmp_duration, name)
        for interface in self._interfaces.pop(name, set()):
            _discard(self.interface_oper_up, name, interface)
            _discard(self.interface_admin_up, name, interface)
        for interface in self._traffic_ports.pop(name, set()):
            self._forget_port(name, opd, interface)
        self._forget_health(name)

    def _forget_health(self, name: str) -> None:
        for metric in (self.health_success, self.cpu_percent, self.memory_percent):
            _discard(metric, name)
        for kind in SensorKind:
            _discard(self.sensors_failed, name, kind.value)
            for stat in ("min", "max"):
                _discard(self.sensor, name, kind.value, stat)
        for interface in self._radios.pop(name, set()):
            for metric in (self.radio_signal, self.radio_ccq, self.radio_peers):
                _discard(metric, name, interface)

    def device_state(self, device: str, state: DeviceState) -> None:
        """Record the detector's state of ``device`` (call on every StateChanged)."""
        opd = self._opd.get(device, "")
        for each in DeviceState:
            self.device_state_info.labels(device, opd, each.value).set(int(each is state))
        if state is DeviceState.UNKNOWN:
            _discard(self.device_up, device, opd)
        else:
            self.device_up.labels(device, opd).set(0 if state in DOWN_STATES else 1)

    def observe_ping(self, observation: Observation) -> None:
        """Record one ping round: RTT when answered, loss always."""
        labels = (observation.device, self._opd.get(observation.device, ""))
        loss = observation.loss if observation.loss is not None else float(observation.failed)
        self.icmp_loss.labels(*labels).set(loss)
        if observation.ok and observation.value is not None:
            self.icmp_rtt.labels(*labels).set(observation.value)
        else:  # a stale RTT would look like a live one
            _discard(self.icmp_rtt, *labels)

    def observe_snmp(self, poll: SnmpPoll) -> None:
        """Record one SNMP poll: success, duration, interface states (kept while SNMP fails)."""
        self.snmp_success.labels(poll.device).set(int(poll.ok))
        self.snmp_duration.labels(poll.device).set(poll.duration)
        self.snmp_polls.labels(poll.status.value).inc()
        if not poll.ok:
            return
        seen: set[str] = set()
        for row in poll.interfaces:
            name = interface_name(row)
            seen.add(name)
            if row.oper_up is not None:
                self.interface_oper_up.labels(poll.device, name).set(int(row.oper_up))
            if row.admin_up is not None:
                self.interface_admin_up.labels(poll.device, name).set(int(row.admin_up))
        with self._lock:
            gone = self._interfaces.get(poll.device, set()) - seen
            self._interfaces[poll.device] = seen
        for name in gone:
            _discard(self.interface_oper_up, poll.device, name)
            _discard(self.interface_admin_up, poll.device, name)

    def observe_health(self, poll: HealthPoll) -> None:
        """Record one health poll: CPU, memory, sensors by kind, radios by interface."""
        self.health_success.labels(poll.device).set(int(poll.ok))
        if not poll.ok:
            return
        for metric, value in (
            (self.cpu_percent, poll.cpu_pct),
            (self.memory_percent, poll.memory_pct),
        ):
            if value is not None:
                metric.labels(poll.device).set(value)
        for kind in SensorKind:
            values = [  # readings; state sensors (fan/PSU ok or failed) are counted below
                s.value
                for s in poll.sensors
                if s.kind is kind and s.value is not None and s.ok is None
            ]
            if values:
                self.sensor.labels(poll.device, kind.value, "min").set(min(values))
                self.sensor.labels(poll.device, kind.value, "max").set(max(values))
            states = [s for s in poll.sensors if s.kind is kind and s.ok is not None]
            if states:
                failed = sum(1 for s in states if s.ok is False)
                self.sensors_failed.labels(poll.device, kind.value).set(failed)
        self._observe_radios(poll)

    def _observe_radios(self, poll: HealthPoll) -> None:
        by_iface: dict[str, list[RadioLink]] = {}
        for link in poll.radios:
            by_iface.setdefault(link.interface, []).append(link)
        for name, links in by_iface.items():
            signals = [x.signal_dbm for x in links if x.signal_dbm is not None]
            ccqs = [c for x in links for c in (x.tx_ccq_pct, x.rx_ccq_pct) if c is not None]
            if signals:
                self.radio_signal.labels(poll.device, name).set(min(signals))
            if ccqs:
                self.radio_ccq.labels(poll.device, name).set(min(ccqs))
            self.radio_peers.labels(poll.device, name).set(max(x.peers for x in links))
        with self._lock:
            gone = self._radios.get(poll.device, set()) - by_iface.keys()
            self._radios[poll.device] = set(by_iface)
        for name in gone:
            for metric in (self.radio_signal, self.radio_ccq, self.radio_peers):
                _discard(metric, poll.device, name)

    def observe_traffic(self, device: str, rates: Mapping[str, PortRates]) -> None:
        """Publish the rates of ``device``'s exported ports; a port not in ``rates`` is dropped.

        An unknown value (a counter reset, the first poll) removes its series: a stale rate
        would look like a live one.
        """
        opd = self._opd.get(device, "")
        for interface, r in rates.items():
            labels = (device, opd, interface)
            self._put(self.traffic_bandwidth, labels, r.bandwidth_bps)
            for direction, values in (
                ("in", (r.in_bps, r.in_utilisation, r.in_errors, r.in_discards)),
                ("out", (r.out_bps, r.out_utilisation, r.out_errors, r.out_discards)),
            ):
                for metric, value in zip(self._per_direction(), values, strict=True):
                    self._put(metric, (*labels, direction), value)
        with self._lock:
            gone = self._traffic_ports.get(device, set()) - set(rates)
            self._traffic_ports[device] = set(rates)
        for interface in gone:
            self._forget_port(device, opd, interface)

    def _per_direction(self) -> tuple[Gauge, ...]:
        return (self.traffic_bps, self.traffic_util, self.traffic_errors, self.traffic_discards)

    def _forget_port(self, device: str, opd: str, interface: str) -> None:
        self._put(self.traffic_bandwidth, (device, opd, interface), None)
        for metric in self._per_direction():
            for direction in DIRECTIONS:
                self._put(metric, (device, opd, interface, direction), None)

    def _put(self, metric: Gauge, labels: tuple[str, ...], value: float | None) -> None:
        """Set one labelled child (cached), or remove it when the value is unknown."""
        key = (id(metric), labels)
        if value is None:
            if self._children.pop(key, None) is not None:
                _discard(metric, *labels)
            return
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        child.set(value)

    # -- scheduling ---------------------------------------------------------------------

    def poll_finished(self, probe: str, seconds: float, interval: float) -> None:
        """Record one poll round (``probe`` is ping or snmp) and whether it overran."""
        probe = probe if probe in PROBES else OTHER
        self.poll_duration.labels(probe).observe(seconds)
        if seconds > interval:
            self.poll_overruns.labels(probe).inc()

    def set_scheduler_lag(self, seconds: float) -> None:
        """Record how late the event loop ran a timer (see :func:`watch_loop_lag`)."""
        self.scheduler_lag = seconds
        self.scheduler_lag_seconds.set(seconds)

    # -- tickets ------------------------------------------------------------------------

    def ticket_opened(self, kind: str, outcome: str) -> None:
        """Count a ticket the store opened/reopened/recurred (``existing`` is not counted)."""
        if outcome == OpenOutcome.EXISTING.value:
            return
        self.tickets_opened.labels(kind, _bounded(str(outcome), OPEN_OUTCOMES)).inc()

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

    # -- actions ------------------------------------------------------------------------

    def remediation_finished(self, playbook: str, result: str) -> None:
        """Count a finished remediation run; ``result`` is a RunStatus slug."""
        self.remediation.labels(playbook, _bounded(str(result), REMEDIATION_RESULTS)).inc()

    def notification_sent(self, channel: str, result: str) -> None:
        """Count a notification; ``channel`` is its kind (e.g. telegram, email), never a URL.

        ``result`` is ``sent``, ``failed`` or ``skipped``.
        """
        self.notifications.labels(channel, _bounded(result, NOTIFY_RESULTS)).inc()

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


async def watch_loop_lag(metrics: Metrics, *, interval: float = 1.0) -> None:
    """Measure how late ``asyncio.sleep(interval)`` wakes up, forever (run as a task).

    A loop blocked by a synchronous call shows up here long before the watchdog fires.
    """
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(interval)
        metrics.set_scheduler_lag(max(0.0, loop.time() - started - interval))
