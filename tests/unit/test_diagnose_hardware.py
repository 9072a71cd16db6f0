"""diagnose's health and radio section: Indonesian findings, the verdict line, JSON, terminal."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from agent.config.model import Device, HealthSettings, PingSettings
from agent.diagnose import hardware, render, verdict
from agent.diagnose.report import DeviceReport, Diagnosis, Health, PingStats, Severity
from agent.diagnose.schema import SCHEMA
from collectors.model import HealthPoll, ProbeStatus, RadioLink, Sensor, SensorKind
from tests.hostile_text import CORPUS, unsafe

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 3, tzinfo=UTC)
DEV = Device("ptp", "10.0.2.9", "Puskesmas", "", "router", "mikrotik_routeros", "", PingSettings())
UP = PingStats(3, 3, (0.001, 0.002, 0.001))
S = HealthSettings()


def poll(**kw: object) -> HealthPoll:
    return HealthPoll("ptp", T0, ProbeStatus.OK, **kw)  # type: ignore[arg-type]


SICK = poll(
    cpu_pct=97.0,
    memory_pct=40.0,
    sensors=(
        Sensor(SensorKind.TEMPERATURE, "cpu-temperature", 78.0),
        Sensor(SensorKind.VOLTAGE, "jack-voltage", 8.7),
        Sensor(SensorKind.VOLTAGE, "2pin-voltage", 0.0),
        Sensor(SensorKind.PSU, "psu2-state", 1.0, ok=False),
    ),
    radios=(
        RadioLink("wlan1", "", -79.0, tx_ccq_pct=45.0, rx_ccq_pct=70.0),
        *(RadioLink("wlan2", f"aa:bb:cc:00:00:0{k}", -60.0 - 10 * k, peers=3) for k in range(3)),
    ),
)


def texts(found) -> list[tuple[str, str]]:
    return [(f.severity.value, f.text) for f in found]


def test_findings_name_each_problem_in_indonesian() -> None:
    found = hardware.findings(SICK, S)
    assert texts(found) == [
        ("masalah", "CPU tinggi: 97% (batas 90%)"),
        ("masalah", "suhu tinggi: cpu-temperature 78 °C (batas 70 °C)"),
        ("masalah", "tegangan tidak normal: jack-voltage 8.7 V (wajar 10-57 V)"),
        ("masalah", "catu daya gagal: psu2-state"),
        ("masalah", "sinyal radio lemah: wlan1 -79 dBm (batas -75 dBm)"),
        ("masalah", "kualitas radio (CCQ) rendah: wlan1 45% (batas 60%)"),
        ("catatan", "sinyal radio lemah pada 1 dari 3 klien wlan2 (terlemah -80 dBm)"),
    ]


def test_healthy_figures_give_no_findings_and_a_failed_poll_a_note() -> None:
    fine = poll(cpu_pct=5.0, sensors=(Sensor(SensorKind.TEMPERATURE, "t", -10.0),))
    assert hardware.findings(fine, S) == []
    failed = HealthPoll("ptp", T0, ProbeStatus.TIMEOUT, "timeout")
    (note,) = hardware.findings(failed, S)
    assert (note.severity, note.text) == (
        Severity.NOTE,
        "kesehatan perangkat tidak terbaca: timeout",
    )


def report_of(p: HealthPoll) -> DeviceReport:
    hw = p
    health, text, findings = verdict.judge(DEV, UP, (), None, hardware.findings(hw, S))
    return DeviceReport(
        "ptp",
        "10.0.2.9",
        "Puskesmas",
        "mikrotik_routeros",
        "router",
        True,
        health,
        text,
        UP,
        findings=findings,
        hardware=hw,
    )


def test_verdict_and_json_and_terminal() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    report = report_of(SICK)
    assert report.health is Health.DEGRADED
    assert (
        report.verdict
        == "Perangkat merespons ping, tetapi CPU tinggi: 97% (batas 90%) (+5 lainnya)"
    )
    data = Diagnosis("ptp", "device", T0, 0.2, (report,)).to_json()
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.FormatChecker())
    hw = data["devices"][0]["hardware"]
    assert hw["cpu_pct"] == 97.0
    assert hw["radios"][0] == {
        "interface": "wlan1",
        "peer": "",
        "signal_dbm": -79.0,
        "snr_db": None,
        "tx_ccq_pct": 45.0,
        "rx_ccq_pct": 70.0,
        "tx_rate_bps": None,
        "rx_rate_bps": None,
        "peers": 1,
    }
    console = Console(record=True, width=200, color_system=None)
    console.print(render.device(report, ZoneInfo("Asia/Makassar")))
    out = console.export_text()
    assert "KESEHATAN  CPU 97% · memori 40% · suhu cpu-temperature 78 °C" in out
    assert "catu daya psu2-state GAGAL" in out
    assert "RADIO  wlan1: sinyal -79 dBm, CCQ 45%" in out
    assert "RADIO  wlan2: 3 klien, sinyal -80..-60 dBm" in out
    assert "sinyal radio lemah" in out


@pytest.mark.parametrize("hostile", CORPUS[:-1], ids=range(len(CORPUS) - 1))
def test_device_text_in_the_section_is_shown_not_obeyed(hostile) -> None:
    p = poll(
        sensors=(Sensor(SensorKind.TEMPERATURE, hostile.text, 90.0),),
        radios=(RadioLink(hostile.text, "", -90.0),),
    )
    console = Console(record=True, width=400, color_system=None)
    console.print(render.device(report_of(p), ZoneInfo("Asia/Makassar")))
    out = console.export_text()
    assert hostile.marker in out
    assert unsafe(out) == []
