"""Every Prometheus metric sigap exports, defined once against an injected registry.

sigap's metric catalogue (STYLE point 15: every metric in one place, against an injected
registry), with one typed method per thing the daemon reports. The place is this package: the
table below is the catalogue, and each group of it is one module (``devices``: device state,
ping, SNMP polls, interface states and the poll scheduler; ``health``: CPU, memory, sensors,
radios; ``traffic``: per-port rates; ``tickets``: tickets, database, intake, remediation,
notifications, queues; ``cluster``: active/standby; ``leases``: a zone poller's device
leases; ``events``: the trap and syslog receivers, ``backup``: configuration backup and
``zones``: zone pollers (issue 23), each built beside :class:`Metrics` on its registry,
with its own table).
:class:`Metrics` joins the other groups on one registry. At 700 lines and with more groups
coming, one file stopped being readable. Nothing here imports ``agent.runtime`` outside
this package.

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
``sigap_ha_leader{node}``                              :meth:`Metrics.watch_leadership`
``sigap_ha_lease_age_seconds{node}`` (leader only)     :meth:`Metrics.watch_leadership`
``sigap_poller_leases{node,zone}``                     :meth:`Metrics.poller_leases`
``sigap_poller_lease_changes_total{node,zone,change}``  :meth:`Metrics.poller_lease_changes`
=====================================================  ========================================
"""

from __future__ import annotations

import platform
from importlib import metadata
from typing import TYPE_CHECKING

from prometheus_client import Info

from agent.intake import stats as intake_stats
from agent.runtime.metrics._base import NAMESPACE
from agent.runtime.metrics.cluster import ClusterMetrics
from agent.runtime.metrics.devices import DeviceMetrics, watch_loop_lag
from agent.runtime.metrics.health import HealthMetrics
from agent.runtime.metrics.leases import LeaseMetrics
from agent.runtime.metrics.tickets import IntakeCollector, TicketMetrics, intake_registry
from agent.runtime.metrics.traffic import TrafficMetrics
from agent.runtime.metrics.zones import ZoneMetrics

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from prometheus_client import CollectorRegistry

__all__ = ["Metrics", "intake_registry", "watch_loop_lag"]


def _version() -> str:
    try:
        return metadata.version("sigap")
    except metadata.PackageNotFoundError:
        return "unknown"


class Metrics(
    DeviceMetrics,
    HealthMetrics,
    TrafficMetrics,
    TicketMetrics,
    ClusterMetrics,
    LeaseMetrics,
    ZoneMetrics,
):
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
        super().__init__()
        self.registry = registry
        self._define_devices(registry)
        self._define_traffic(registry)
        self._define_health(registry)
        self._define_tickets(registry)
        self._define_leases(registry)
        registry.register(IntakeCollector(intake))
        build = Info("build", "sigap version", namespace=NAMESPACE, registry=registry)
        build.info({"version": version or _version(), "python": platform.python_version()})

    def set_devices(self, opd_of: Mapping[str, str]) -> None:
        """Declare the monitored devices (name -> OPD); series of removed devices are dropped.

        Call at start and after every inventory reload.
        """
        with self._lock:
            gone = {name: opd for name, opd in self._opd.items() if opd_of.get(name) != opd}
            self._opd = dict(opd_of)
        for name, opd in gone.items():
            self._forget_device_series(name, opd)
            self._forget_traffic(name, opd)
            self._forget_health(name)
