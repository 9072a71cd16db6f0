"""Backup service and repository (issue 22) with a scripted fetch (the SSH side is tested in
the lab): one commit per change with device, time and trigger; no commit when nothing
changed; history and diffs; the night spread and its concurrency bound; failure state and
the third failed night; serialised with remediation through the shared device guard."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry

from agent.backup.repo import ConfigRepo, RepoError
from agent.backup.service import (
    SCHEDULE,
    BackupResult,
    BackupService,
    by_remediation,
    by_user,
)
from agent.config.model import BackupSettings, Device, PingSettings, RemediationSettings
from agent.remediation.guard import DeviceGuard
from agent.remediation.ssh import SshFailure
from agent.runtime.metrics.backup import build_backup_metrics

pytestmark = pytest.mark.unit

WITA = ZoneInfo("Asia/Makassar")
T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
BODY = "/system identity set name={name}\n/interface ethernet set [ find default-name=ether2 ]{x}\n"


class Clock:
    """An injected clock whose sleep moves time, never the wall."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)
        await asyncio.sleep(0)


class Devices:
    """Scripted configurations and failures; counts sessions in flight."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.fail: dict[str, SshFailure] = {}
        self.in_flight = 0
        self.peak = 0
        self.gate: asyncio.Event | None = None

    async def fetch(self, device: Device) -> str:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.001)
            if self.gate is not None:
                await self.gate.wait()
            if device.name in self.fail:
                raise self.fail[device.name]
            return self.texts.get(device.name, BODY.format(name=device.name, x=""))
        finally:
            self.in_flight -= 1


class Sink:
    def __init__(self) -> None:
        self.changes: list[BackupResult] = []
        self.fails: list[BackupResult] = []

    async def changed(self, device: Device, result: BackupResult) -> None:
        self.changes.append(result)

    async def failing(self, device: Device, result: BackupResult) -> None:
        self.fails.append(result)


def dev(name: str) -> Device:
    return Device(
        name=name, address="127.0.0.1", opd="Dinas Uji", site="", role="router",
        platform="mikrotik_routeros", parent=None, ping=PingSettings(),
    )  # fmt: skip


def build(
    tmp_path: Path, devices: Devices, clock: Clock, **kw: object
) -> tuple[BackupService, Sink, CollectorRegistry]:
    sink, registry = Sink(), CollectorRegistry()
    settings = BackupSettings(tmp_path / "konfigurasi", **kw)  # type: ignore[arg-type]
    service = BackupService(
        settings, RemediationSettings(), DeviceGuard(), now=clock, sink=sink,
        metrics=build_backup_metrics(registry), fetch=devices.fetch,
    )  # fmt: skip
    return service, sink, registry


async def test_one_commit_per_change_none_without_change(tmp_path: Path) -> None:
    devices, clock = Devices(), Clock(T0)
    service, sink, registry = build(tmp_path, devices, clock)
    first = await service.backup_many([dev("ros"), dev("ios")], SCHEDULE)
    assert [r.ok and r.rev is not None for r in first] == [True, True]
    again = await service.backup_many([dev("ros"), dev("ios")], SCHEDULE)
    assert [r.rev for r in again] == [None, None]
    devices.texts["ros"] = BODY.format(name="ros", x=" disabled=yes")
    clock.at += timedelta(hours=1)
    changed = await service.backup(dev("ros"), by_user("Teknisi Uji"))
    assert changed.rev is not None
    assert "+/interface ethernet set [ find default-name=ether2 ] disabled=yes" in changed.diff
    assert "-/interface ethernet set [ find default-name=ether2 ]\n" in changed.diff
    history = service.repo.history_blocking("ros")
    assert [v.trigger for v in history] == ["pengguna Teknisi Uji", "jadwal"]
    assert history[0].at == clock.at
    assert sorted(r.device for r in sink.changes) == ["ios", "ros", "ros"]  # two at once
    assert registry.get_sample_value("sigap_config_changes_total", {"trigger": "pengguna"}) == 1
    assert registry.get_sample_value("sigap_config_backup_ok", {"device": "ros"}) == 1


async def test_diff_between_any_two_versions_shows_what_to_restore(tmp_path: Path) -> None:
    devices, clock = Devices(), Clock(T0)
    service, _, _ = build(tmp_path, devices, clock)
    for x in ("", " disabled=yes", ' comment="ke AP"'):
        devices.texts["ros"] = BODY.format(name="ros", x=x)
        await service.backup(dev("ros"), SCHEDULE)
        clock.at += timedelta(days=1)
    versions = service.repo.history_blocking("ros")
    assert len(versions) == 3
    oldest, newest = versions[-1].rev, versions[0].rev
    diff = service.repo.diff_blocking("ros", oldest[:8], newest[:8])
    assert '+/interface ethernet set [ find default-name=ether2 ] comment="ke AP"' in diff
    assert service.repo.show_blocking("ros", oldest[:8]) == BODY.format(name="ros", x="")
    with pytest.raises(RepoError):
        service.repo.diff_blocking("ros", "--output=/tmp/x")
    with pytest.raises(RepoError):
        service.repo.resolve_blocking("ros", "HEAD~1")
    with pytest.raises(RepoError):
        ConfigRepo(tmp_path).history_blocking("../etc/passwd")


async def test_the_night_is_spread_and_bounded(tmp_path: Path) -> None:
    devices, clock = Devices(), Clock(T0)  # 16:00 WITA: the night starts at 01:00 tomorrow
    service, _, _ = build(tmp_path, devices, clock, max_concurrent=3, night_hours=2.0)
    fleet = [dev(f"d{i:03d}") for i in range(40)]
    plan = service.night_plan(fleet, clock(), WITA)
    start = datetime(2026, 12, 4, 1, 0, tzinfo=WITA)
    assert plan[0][0] == start
    assert plan[-1][0] == start + timedelta(hours=2) * 39 / 40
    assert [d.name for _, d in plan] == sorted(d.name for d in fleet)
    devices.gate = asyncio.Event()  # nobody finishes until all are started: the bound shows
    night = asyncio.create_task(service.run_night(plan, sleep=clock.sleep))
    for _ in range(200):
        await asyncio.sleep(0)
    assert devices.peak == 3
    devices.gate.set()
    results = await night
    assert len(results) == 40
    assert all(r.ok and r.rev for r in results)
    assert clock.at == plan[-1][0].astimezone(UTC)


async def test_failures_are_state_and_the_third_night_is_reported(tmp_path: Path) -> None:
    devices, clock = Devices(), Clock(T0)
    service, sink, registry = build(tmp_path, devices, clock)
    devices.fail["ros"] = SshFailure("host_key", "kunci host SSH BERUBAH; ditolak")
    for night in range(4):
        result = await service.backup(dev("ros"), SCHEDULE, nightly=True)
        assert (result.kind, result.failed_nights) == ("host_key", night + 1)
        await service.backup(dev("ros"), by_user("x"))  # on demand: does not count a night
    assert [r.failed_nights for r in sink.fails] == [3]
    state = service.status.read_blocking()["ros"]
    assert (state.ok, state.kind, state.failed_nights) == (False, "host_key", 4)
    assert registry.get_sample_value("sigap_config_backup_ok", {"device": "ros"}) == 0
    assert registry.get_sample_value("sigap_config_backups_total", {"result": "host_key"}) == 8
    del devices.fail["ros"]
    assert (await service.backup(dev("ros"), SCHEDULE, nightly=True)).ok
    assert service.status.read_blocking()["ros"].failed_nights == 0


async def test_backup_waits_for_a_remediation_on_the_same_device(tmp_path: Path) -> None:
    devices, clock = Devices(), Clock(T0)
    service, _, _ = build(tmp_path, devices, clock)
    order: list[str] = []
    async with service.guard.hold("ros", "remediation"):
        task = asyncio.create_task(
            service.backup(dev("ros"), by_remediation("GJ/2026/0001", after=False))
        )
        for _ in range(20):
            await asyncio.sleep(0.001)
        assert not task.done()
        assert service.guard.owner("ros") == "remediation"
        order.append("remediation done")
    await task
    order.append("backup done")
    assert order == ["remediation done", "backup done"]
    other = await service.backup(dev("ios"), SCHEDULE)  # another device is never held up
    assert other.ok


async def test_an_empty_or_hostile_answer_is_a_failure_not_a_commit(tmp_path: Path) -> None:
    devices, clock = Devices(), Clock(T0)
    service, _, _ = build(tmp_path, devices, clock)
    devices.texts["ros"] = "\r\n  \r\n"
    result = await service.backup(dev("ros"), SCHEDULE)
    assert (result.kind, result.rev) == ("protocol", None)
    devices.texts["ros"] = "\x00\x1b[2J\udcff password=S_x_S\n" * 1000
    result = await service.backup(dev("ros"), SCHEDULE)
    assert result.ok
    assert "S_x_S" not in service.repo.show_blocking("ros", result.rev or "")


async def test_a_night_is_planned_at_its_office_time_even_after_midnight(tmp_path: Path) -> None:
    service, _, _ = build(tmp_path, Devices(), Clock(T0), night_start=time(1, 0))
    late = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)  # 01:30 WITA: tonight's start has passed
    plan = service.night_plan([dev("a")], late, WITA)
    assert plan[0][0] == datetime(2026, 12, 5, 1, 0, tzinfo=WITA)


def test_the_history_lives_beside_the_sqlite_database_unless_written(tmp_path: Path) -> None:
    from agent.config.load import load_inventory
    from agent.wiring import backup_directory

    path = tmp_path / "inventory.yaml"
    path.write_text(
        "office: {name: Uji}\nhosts:\n  r: {address: 10.0.0.1, role: router, opd: Uji}\n"
    )
    inventory = load_inventory(path)
    db = f"sqlite:///{tmp_path}/state/sigap.db"
    assert backup_directory(inventory, db) == tmp_path / "state" / "konfigurasi"
    assert backup_directory(inventory, "postgresql+psycopg://x/y") == Path(
        "/var/lib/sigap/konfigurasi"
    )
    path.write_text(
        "office: {name: Uji}\nbackup: {directory: cfg}\n"
        "hosts:\n  r: {address: 10.0.0.1, role: router, opd: Uji}\n"
    )
    assert backup_directory(load_inventory(path), db) == tmp_path / "cfg"


async def test_each_change_is_pushed_to_the_office_remote(tmp_path: Path) -> None:
    import subprocess

    bare = tmp_path / "kantor.git"
    await asyncio.to_thread(subprocess.run, ["git", "init", "-q", "--bare", str(bare)], check=True)
    devices, clock = Devices(), Clock(T0)
    service, _, _ = build(tmp_path, devices, clock, remote=str(bare))
    assert (await service.backup(dev("ros"), SCHEDULE)).rev
    log = await asyncio.to_thread(
        subprocess.run, ["git", "-C", str(bare), "log", "--format=%s", "main"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert log.stdout == "ros: konfigurasi (jadwal)\n"


async def test_an_unreachable_remote_costs_the_push_not_the_change(tmp_path: Path) -> None:
    devices, clock = Devices(), Clock(T0)
    remote = "https://sigap:S3cretTok3n@127.0.0.1:9/kantor.git"
    service, sink, _ = build(tmp_path, devices, clock, remote=remote)
    result = await service.backup(dev("ros"), SCHEDULE)
    assert result.ok
    assert result.rev
    assert result.reason.startswith("push gagal")
    assert "S3cretTok3n" not in result.reason
    assert [r.device for r in sink.changes] == ["ros"]  # the change still reaches the ticket
