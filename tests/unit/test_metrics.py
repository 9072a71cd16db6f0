"""agent.runtime.metrics on a fresh registry per test, read back (get_sample_value); ticket gauges
from a real SQLite store walked through TicketService."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from agent.detect.ping import DeviceState
from agent.runtime.metrics import Metrics, watch_loop_lag
from collectors.model import (
    HealthPoll,
    InterfaceRow,
    Observation,
    ProbeStatus,
    RadioLink,
    Sensor,
    SensorKind,
    SnmpPoll,
)
from ticketing.calendar import OfficeCalendar
from ticketing.faults import Fault, FaultKind
from ticketing.gauges import ticket_gauges
from ticketing.migrate import migrate
from ticketing.service import TicketService
from ticketing.store import TicketStore
from ticketing.workflow import StandingDisposition, WorkflowConfig

pytestmark = pytest.mark.unit

WITA = ZoneInfo("Asia/Makassar")
AT = datetime(2026, 11, 27, 8, 20, tzinfo=WITA).astimezone(UTC)


@dataclass(frozen=True)
class P:
    name: str
    role: str
    opd: str = "Diskominfo"


PEOPLE = [P("Lalu Kadis", "kadis"), P("Hj Kabid", "kabid"), P("Baiq Kasi", "kasi"),
          P("Teknisi Satu", "teknisi")]  # fmt: skip


@pytest.fixture
def registry():
    return CollectorRegistry()


@pytest.fixture
def metrics(registry):
    m = Metrics(registry, version="9.9.9")
    m.set_devices({"rtr-a": "Diskominfo", "sw-b": "RSUD Praya"})
    return m


def value(registry, name, **labels):
    return registry.get_sample_value(name, labels)


def test_build_info(registry, metrics):
    assert value(registry, "sigap_build_info", version="9.9.9", python=_python()) == 1


def _python():
    import platform

    return platform.python_version()


def test_device_state_is_a_state_set_with_up(registry, metrics):
    metrics.device_state("rtr-a", DeviceState.UP)
    labels = {"device": "rtr-a", "opd": "Diskominfo"}
    assert value(registry, "sigap_device_up", **labels) == 1
    assert value(registry, "sigap_device_state", state="up", **labels) == 1
    assert value(registry, "sigap_device_state", state="down", **labels) == 0
    metrics.device_state("rtr-a", DeviceState.UNREACHABLE)
    assert value(registry, "sigap_device_up", **labels) == 0
    assert value(registry, "sigap_device_state", state="unreachable", **labels) == 1
    assert value(registry, "sigap_device_state", state="up", **labels) == 0
    metrics.device_state("rtr-a", DeviceState.SUSPECT)
    assert value(registry, "sigap_device_up", **labels) == 1  # not confirmed down yet


def test_ping_rtt_and_loss_no_stale_rtt(registry, metrics):
    labels = {"device": "sw-b", "opd": "RSUD Praya"}
    metrics.observe_ping(Observation("sw-b", "ping", ProbeStatus.OK, AT, value=0.012, loss=1 / 3))
    assert value(registry, "sigap_icmp_rtt_seconds", **labels) == pytest.approx(0.012)
    assert value(registry, "sigap_icmp_loss_ratio", **labels) == pytest.approx(1 / 3)
    metrics.observe_ping(Observation("sw-b", "ping", ProbeStatus.TIMEOUT, AT))
    assert value(registry, "sigap_icmp_rtt_seconds", **labels) is None
    assert value(registry, "sigap_icmp_loss_ratio", **labels) == 1


def _poll(status=ProbeStatus.OK, *rows, duration=0.04):
    return SnmpPoll("rtr-a", AT, status, interfaces=tuple(rows), duration=duration)


def test_snmp_poll_and_interfaces(registry, metrics):
    metrics.observe_snmp(
        _poll(
            ProbeStatus.OK,
            InterfaceRow(1, name="ether1", admin_up=True, oper_up=True),
            InterfaceRow(2, name="ether2", admin_up=True, oper_up=False),
            InterfaceRow(3, descr="bridge", admin_up=False, oper_up=False),
        )
    )
    assert value(registry, "sigap_snmp_poll_success", device="rtr-a") == 1
    assert value(registry, "sigap_snmp_poll_duration_seconds", device="rtr-a") == 0.04
    assert value(registry, "sigap_snmp_polls_total", status="ok") == 1
    assert value(registry, "sigap_interface_oper_up", device="rtr-a", interface="ether1") == 1
    assert value(registry, "sigap_interface_oper_up", device="rtr-a", interface="ether2") == 0
    assert value(registry, "sigap_interface_admin_up", device="rtr-a", interface="bridge") == 0

    metrics.observe_snmp(_poll(ProbeStatus.TIMEOUT))  # interface states kept while SNMP fails
    assert value(registry, "sigap_snmp_poll_success", device="rtr-a") == 0
    assert value(registry, "sigap_snmp_polls_total", status="timeout") == 1
    assert value(registry, "sigap_interface_oper_up", device="rtr-a", interface="ether1") == 1

    metrics.observe_snmp(_poll(ProbeStatus.OK, InterfaceRow(1, name="ether1", oper_up=True)))
    assert value(registry, "sigap_interface_oper_up", device="rtr-a", interface="ether2") is None


def test_health_gauges_bounded_by_device_kind_and_interface(registry, metrics):
    sensors = (
        Sensor(SensorKind.TEMPERATURE, "cpu-temperature", 61.0),
        Sensor(SensorKind.TEMPERATURE, "board-temperature1", 40.0),
        Sensor(SensorKind.VOLTAGE, "jack-voltage", 24.1),
        Sensor(SensorKind.PSU, "psu1-state", 0.0, ok=True),
        Sensor(SensorKind.PSU, "psu2-state", 1.0, ok=False),
    )
    radios = tuple(
        RadioLink("wlan1", f"00:00:00:00:00:{k:02x}", -60.0 - k, tx_ccq_pct=80.0 - k, peers=3)
        for k in range(3)
    )
    poll = HealthPoll(
        "rtr-a",
        AT,
        ProbeStatus.OK,
        cpu_pct=12.5,
        memory_pct=40.0,
        sensors=sensors,
        radios=radios,
    )
    metrics.observe_health(poll)
    dev = {"device": "rtr-a"}
    assert value(registry, "sigap_health_poll_success", **dev) == 1
    assert value(registry, "sigap_device_cpu_percent", **dev) == 12.5
    assert value(registry, "sigap_device_memory_percent", **dev) == 40
    assert value(registry, "sigap_device_sensor", kind="temperature", stat="max", **dev) == 61
    assert value(registry, "sigap_device_sensor", kind="temperature", stat="min", **dev) == 40
    assert value(registry, "sigap_device_sensor", kind="voltage", stat="min", **dev) == 24.1
    assert value(registry, "sigap_device_sensor", kind="psu", stat="max", **dev) is None
    assert value(registry, "sigap_device_sensors_failed", kind="psu", **dev) == 1
    wlan = {"device": "rtr-a", "interface": "wlan1"}
    assert value(registry, "sigap_radio_signal_dbm", **wlan) == -62
    assert value(registry, "sigap_radio_ccq_percent", **wlan) == 78
    assert value(registry, "sigap_radio_peers", **wlan) == 3
    text = generate_latest(registry).decode()
    assert "00:00:00" not in text  # no label per client MAC
    metrics.observe_health(HealthPoll("rtr-a", AT, ProbeStatus.TIMEOUT, "timeout"))
    assert value(registry, "sigap_health_poll_success", **dev) == 0
    metrics.observe_health(HealthPoll("rtr-a", AT, ProbeStatus.OK))
    assert value(registry, "sigap_radio_signal_dbm", **wlan) is None  # the radio went away
    metrics.set_devices({"sw-b": "RSUD Praya"})
    assert 'device="rtr-a"' not in generate_latest(registry).decode()


def test_removed_device_loses_its_series(registry, metrics):
    metrics.device_state("sw-b", DeviceState.DOWN)
    metrics.observe_snmp(SnmpPoll("sw-b", AT, ProbeStatus.OK, interfaces=(InterfaceRow(1, "p1"),)))
    metrics.set_devices({"rtr-a": "Diskominfo"})
    text = generate_latest(registry).decode()
    assert 'device="sw-b"' not in text


def test_poll_histogram_and_overruns(registry, metrics):
    assert value(registry, "sigap_poll_overruns_total", probe="snmp") == 0  # present at start
    metrics.poll_finished("ping", 0.3, interval=5)
    metrics.poll_finished("ping", 6.0, interval=5)
    assert value(registry, "sigap_poll_duration_seconds_count", probe="ping") == 2
    assert value(registry, "sigap_poll_duration_seconds_bucket", probe="ping", le="0.5") == 1
    assert value(registry, "sigap_poll_overruns_total", probe="ping") == 1


def test_ticket_counters_and_bounded_labels(registry, metrics):
    metrics.ticket_opened("device_down", "opened")
    metrics.ticket_opened("device_down", "existing")  # not a new ticket
    metrics.ticket_opened("device_down", "reopened")
    metrics.ticket_resolved("device_down")
    assert value(registry, "sigap_tickets_opened_total", kind="device_down", outcome="opened") == 1
    assert (
        value(registry, "sigap_tickets_opened_total", kind="device_down", outcome="reopened") == 1
    )
    assert value(registry, "sigap_tickets_resolved_total", kind="device_down") == 1

    metrics.remediation_finished("bounce-port", "succeeded")
    metrics.remediation_finished("bounce-port", "Authentication failed for user admin")
    metrics.notification_sent("telegram", "failed")
    metrics.notification_sent("email", "timeout talking to 10.0.0.1")
    assert value(registry, "sigap_remediation_total", playbook="bounce-port", result="succeeded")
    assert value(registry, "sigap_remediation_total", playbook="bounce-port", result="other") == 1
    assert value(registry, "sigap_notifications_total", channel="telegram", result="failed") == 1
    assert value(registry, "sigap_notifications_total", channel="email", result="other") == 1
    assert "10.0.0.1" not in generate_latest(registry).decode()


def test_outbox_and_lag(registry, metrics):
    metrics.set_outbox("tickets", 3, oldest_age=12.5)
    metrics.set_outbox("notifications", 2, oldest_age=1.0)
    assert value(registry, "sigap_outbox_depth", queue="tickets") == 3
    assert value(registry, "sigap_outbox_oldest_age_seconds", queue="tickets") == 12.5
    assert metrics.outbox_total == 5
    metrics.set_outbox("tickets", 0, oldest_age=99)
    assert value(registry, "sigap_outbox_oldest_age_seconds", queue="tickets") == 0


async def test_watch_loop_lag_value(registry, metrics):
    seen = []
    original = metrics.set_scheduler_lag

    def record(seconds):
        seen.append(seconds)
        original(seconds)

    metrics.set_scheduler_lag = record
    task = asyncio.create_task(watch_loop_lag(metrics, interval=0.05))
    await asyncio.sleep(0.01)
    time.sleep(0.3)  # noqa: ASYNC251
    await asyncio.sleep(0.12)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert max(seen) >= 0.2


# -- ticket gauges from a real store ---------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    s = TicketStore(TicketStore.sqlite_url(tmp_path / "t.db"))
    migrate(s)
    yield s
    s.close()


def _service(store, now):
    return TicketService(
        store, people=PEOPLE, calendar=OfficeCalendar(), now=lambda: now,
        config=WorkflowConfig(standing=StandingDisposition("Lalu Kadis", "800/1/DKI/2026")),
    )  # fmt: skip


def test_ticket_gauges_count_steps_overdue_and_active(store):
    opened = datetime(2026, 11, 26, 9, 0, tzinfo=WITA).astimezone(UTC)  # Thursday
    svc = _service(store, opened)
    for name in ("kec-r1", "kec-r2"):
        number = store.open_fault(Fault(name, FaultKind.DEVICE_DOWN, "mati"), at=opened)
        svc.start(number.ticket.number)
    store.open_fault(Fault("sw-x", FaultKind.INTERFACE_DOWN, "turun", subject="p1"), at=opened)

    early = ticket_gauges(store, now=opened + timedelta(minutes=1))
    assert [(s.sop, s.step, s.label, s.open, s.overdue) for s in early.steps] == [
        ("pemeliharaan", "4", "3", 2, 0)  # position 4 is printed "3" in the SOP
    ]
    assert sorted((a.kind, a.status, a.count) for a in early.active) == [
        ("device_down", "open", 2),
        ("interface_down", "open", 1),
    ]
    late = ticket_gauges(store, now=opened + timedelta(days=7))
    assert [(s.step, s.open, s.overdue) for s in late.steps] == [("4", 2, 2)]
    assert ticket_gauges(store, now=opened).active  # a read-only transaction, repeatable


def test_refresh_tickets_publishes_and_reports_database(registry, metrics, store, tmp_path):
    opened = datetime(2026, 11, 26, 9, 0, tzinfo=WITA).astimezone(UTC)
    svc = _service(store, opened)
    svc.start(store.open_fault(Fault("a", FaultKind.DEVICE_DOWN, "mati"), at=opened).ticket.number)
    assert metrics.refresh_tickets_blocking(store, opened + timedelta(days=7))
    assert value(registry, "sigap_tickets_open", sop="pemeliharaan", step="4", label="3") == 1
    assert value(registry, "sigap_sop_step_overdue", sop="pemeliharaan", step="4", label="3") == 1
    assert value(registry, "sigap_tickets_active", kind="device_down", status="open") == 1
    assert value(registry, "sigap_database_up") == 1
    assert metrics.database_up is True

    broken = TicketStore(TicketStore.sqlite_url(tmp_path / "missing" / "no.db"))
    assert not metrics.refresh_tickets_blocking(broken, opened)
    assert value(registry, "sigap_database_up") == 0
    assert metrics.database_up is False
    # the last good snapshot stays published
    assert value(registry, "sigap_tickets_open", sop="pemeliharaan", step="4", label="3") == 1
    broken.close()


def test_one_registry_per_metrics_and_clash_is_refused(registry, metrics):
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Metrics(registry)


def test_intake_messages_counter_reads_stats_with_bounded_labels():
    from agent.intake.stats import IntakeStats

    stats = IntakeStats()
    registry = CollectorRegistry()
    Metrics(registry, version="1", intake=stats.snapshot)
    assert value(registry, "sigap_intake_messages_total", channel="email", result="created") is None
    stats.count("email", "created")
    stats.count("email", "created")
    stats.count("wa", "bad_signature")
    stats.count("email", "auto_reply")
    stats.count("fax", "weird <x@y>")  # never a free-text label
    stats.count("telegram", "created")
    assert value(registry, "sigap_intake_messages_total", channel="email", result="created") == 2
    assert value(registry, "sigap_intake_messages_total", channel="wa", result="bad_signature") == 1
    assert value(registry, "sigap_intake_messages_total", channel="email", result="auto_reply") == 1
    assert value(registry, "sigap_intake_messages_total", channel="other", result="other") == 1
    assert value(registry, "sigap_intake_messages_total", channel="other", result="created") == 1
    text = generate_latest(registry).decode()
    assert "# TYPE sigap_intake_messages_total counter" in text
    assert "weird" not in text
    assert "fax" not in text


def test_intake_messages_default_reads_the_process_wide_stats():
    from agent.intake.stats import STATS

    registry = CollectorRegistry()
    Metrics(registry, version="1")
    before = value(registry, "sigap_intake_messages_total", channel="wa", result="duplicate") or 0
    STATS.count("wa", "duplicate")
    assert value(registry, "sigap_intake_messages_total", channel="wa", result="duplicate") == (
        before + 1
    )
