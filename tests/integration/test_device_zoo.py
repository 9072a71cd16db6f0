"""The device zoo (issue 18): every real-device recording served by snmpsim in a lab of its own.

One lab device namespace answers on one address per recording in ``../shared/devices``
(labnet.zoo); everything sigap sends goes from the lab's NOC namespace. Each recording is
polled by the real ``SnmpCollector`` (v2c, and v3 SHA/AES for the RB760iGS), then by
``sigap poll-once``, ``sigap discover`` (with ``--apply``) and ``sigap diagnose``; what they
must show is ``tests/zoo_expect.py``, written by reading the files. Skips only when the
recordings are absent; fails under CI=true when the lab or snmpsim cannot run.

The per-recording ``sigap`` commands mostly wait (process start, snmpsim round trips, pings):
``runs`` gives each distinct command one run, started two at a time ahead of the tests that
read them (the in-process collector tests and ``discover`` run alone).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from agent.config.load import load_inventory
from collectors._snmp.transport import open_udp_socket
from collectors.model import SnmpAuth, SnmpTarget, SnmpVersion
from collectors.platform import COLUMNS, Platform, detect
from collectors.snmp import SnmpCollector
from labnet import zoo
from labnet.netns import entered
from tests.conftest import require_lab_capabilities, unavailable
from tests.recordings import DEVICES, need
from tests.zoo_expect import ZOO
from tests.zoo_lab import LAB, RESPONDER, RIGHT, V3, WRONG, host, running, sigap

if TYPE_CHECKING:
    import socket
    import subprocess
    from collections.abc import Iterator
    from pathlib import Path

    from collectors.model import SnmpPoll

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def zoo_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[zoo.ZooDevice]]]:
    """The zoo lab up with snmpsim answering; yields the inventory and the devices."""
    need(DEVICES)
    require_lab_capabilities()
    if not RESPONDER.exists():
        unavailable(f"{RESPONDER} missing: pip install -e '.[dev]' (snmpsim, pysmi)")
    with running(tmp_path_factory.mktemp("zoo")) as env:
        yield env


class Runs:
    """``sigap`` in the zoo's NOC: one run per distinct command, the selected tests' commands
    started on two threads at the first request; ``drain`` waits for every one started."""

    def __init__(self, pool: ThreadPoolExecutor, planned: list[tuple[str, ...]]) -> None:
        self.pool, self.planned = pool, planned
        self.started: dict[tuple[str, ...], Future[subprocess.CompletedProcess[str]]] = {}

    def _start(self, args: tuple[str, ...]) -> Future[subprocess.CompletedProcess[str]]:
        if args not in self.started:
            self.started[args] = self.pool.submit(sigap, *args)
        return self.started[args]

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        for planned in self.planned:
            self._start(planned)
        self.planned = []
        return self._start(args).result()

    def drain(self) -> None:
        for future in list(self.started.values()):
            future.result()


def _commands(name: str, recording: str, inventory: Path) -> list[tuple[str, ...]]:
    """The ``sigap`` commands that the test ``name`` runs for ``recording``."""
    if name in (
        "test_poll_once_shows_platform_and_interfaces",
        "test_poll_once_shows_health_and_radio",
    ):
        poll = ("poll-once", host(recording), "-i", str(inventory))
        return [(*poll, "--json"), poll]
    if name == "test_diagnose_every_recording":
        return [("diagnose", host(recording), "-i", str(inventory), "-c", "1", "--json")]
    return []


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, zoo_env: tuple[Path, list[zoo.ZooDevice]]
) -> Iterator[Runs]:
    """The module's ``sigap`` runs, planned from the tests this session selected."""
    inventory, _ = zoo_env
    planned: list[tuple[str, ...]] = []
    for item in request.session.items:
        spec = getattr(item, "callspec", None)
        mine = getattr(item, "module", None) is request.module
        if mine and spec is not None and "recording" in spec.params:
            name = getattr(item, "originalname", item.name)
            planned += [
                c for c in _commands(name, spec.params["recording"], inventory) if c not in planned
            ]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="zoo-sigap") as pool:
        handle = Runs(pool, planned)
        try:
            yield handle
        finally:
            for future in handle.started.values():
                future.cancel()


def _target(device: zoo.ZooDevice) -> SnmpTarget:
    if device.recording == V3.recording:
        auth = SnmpAuth(
            SnmpVersion.V3,
            user=V3.user,
            auth_protocol="sha",
            auth_key=V3.auth_key,
            priv_protocol="aes128",
            priv_key=V3.priv_key,
        )
    else:
        auth = SnmpAuth(SnmpVersion.V2C, community=device.community)
    return SnmpTarget(host(device.recording), device.address, auth, timeout=2.0, retries=1)


def _noc_socket(rcvbuf: int) -> socket.socket:
    with entered(LAB.noc_netns):
        return open_udp_socket(rcvbuf)


async def _poll_all(devices: list[zoo.ZooDevice]) -> dict[str, tuple[SnmpPoll, Platform | str]]:
    async with SnmpCollector(socket_factory=_noc_socket) as collector:

        async def one(device: zoo.ZooDevice) -> tuple[SnmpPoll, Platform | str]:
            target = _target(device)
            poll = await collector.poll(target)
            columns = await collector.walk_columns(target, COLUMNS)
            return poll, columns if isinstance(columns, str) else detect(columns)

        results = await asyncio.gather(*(one(d) for d in devices))
    return {d.recording: r for d, r in zip(devices, results, strict=True)}


def _shown_name(row: Any) -> str:
    """ifName, or ifDescr where the agent has no ifXTable (airOS)."""
    name = row["name"] if isinstance(row, dict) else row.name
    descr = row["descr"] if isinstance(row, dict) else row.descr
    return str(name or descr)


def test_collector_polls_every_recording(zoo_env: tuple[Path, list[zoo.ZooDevice]]) -> None:
    _, devices = zoo_env
    results = asyncio.run(_poll_all(devices))
    wrong = {}
    for recording, (poll, found) in results.items():
        expect = ZOO[recording]
        rows = {r.index: r for r in poll.interfaces}
        got = {
            "status": poll.status.value,
            "interfaces": len(rows),
            "names": {i: _shown_name(rows[i]) for i in expect["names"] if i in rows},
            "platform": found if isinstance(found, str) else tuple(vars_of(found)),
            "sys_name": poll.system.name if poll.system else None,
        }
        want = {
            "status": "ok",
            "interfaces": expect["interfaces"],
            "names": expect["names"],
            "platform": expect["platform"],
            "sys_name": expect["sys_name"],
        }
        if got != want:
            wrong[recording] = (got, want, poll.detail)
    assert wrong == {}


def vars_of(found: Platform) -> tuple[str, str, str, str, str]:
    """The platform as the expectation table writes it."""
    return (found.vendor, found.model, found.os, found.version, found.device_type)


def test_v3_is_answered_by_its_recording(zoo_env: tuple[Path, list[zoo.ZooDevice]]) -> None:
    _, devices = zoo_env
    (device,) = [d for d in devices if d.recording == V3.recording]
    poll, found = asyncio.run(_poll_all([device]))[V3.recording]
    assert poll.status.value == "ok", poll.detail
    assert isinstance(found, Platform)
    assert found.model == "RB760iGS"
    bad = zoo.ZooDevice(V3.recording, device.address, device.community)
    target = _target(bad)
    wrong_key = SnmpTarget(
        target.name,
        target.address,
        SnmpAuth(SnmpVersion.V3, user="zoo", auth_protocol="sha", auth_key="wrong-key-123"),
        timeout=1.0,
        retries=0,
    )

    async def poll_wrong() -> SnmpPoll:
        async with SnmpCollector(socket_factory=_noc_socket) as collector:
            return await collector.poll(wrong_key)

    assert asyncio.run(poll_wrong()).status.value != "ok"  # a wrong key is refused


@pytest.mark.parametrize("recording", sorted(ZOO))
def test_poll_once_shows_platform_and_interfaces(
    zoo_env: tuple[Path, list[zoo.ZooDevice]], runs: Runs, recording: str
) -> None:
    inventory, _ = zoo_env
    out = runs("poll-once", host(recording), "-i", str(inventory), "--json")
    assert out.returncode in (0, 1, 2), out.stderr
    assert "Traceback" not in out.stderr
    data = json.loads(out.stdout)
    expect = ZOO[recording]
    assert data["snmp"]["status"] == "ok", data["snmp"]
    rows = {r["index"]: r for r in data["snmp"]["interfaces"]}
    assert len(rows) == expect["interfaces"]
    assert {i: _shown_name(rows[i]) for i in expect["names"]} == expect["names"]
    platform = data["platform"]
    got = tuple(platform[k] for k in ("vendor", "model", "os", "version", "device_type"))
    assert got == expect["platform"]
    status = {WRONG: "conflict", RIGHT: "same"}.get(recording, "new")
    assert platform["status"] == status
    text = runs("poll-once", host(recording), "-i", str(inventory))
    assert f"vendor={json.dumps(expect['platform'][0])}" in text.stdout
    if recording == WRONG:
        assert "peringatan: inventory menulis platform cisco_ios" in text.stdout


# What each recording's health section must show through snmpsim and `sigap poll-once`
# (values read from the .snmprec files; docs/health-radio.md has the whole table)
HEALTH = {
    "routeros_crs317": {"cpu_pct": 16.5, "memory_pct": 4.6, "failed": {"psu2-state"}},
    "ios_2960x": {"cpu_pct": 53.0},
    "vrp_ar169sfp": {"cpu_pct": 24.0, "memory_pct": 58.0},
    "routeros_station": {"signal_dbm": -47.0},
    "airos_airos8": {"signal_dbm": -70.0, "tx_ccq_pct": 33.0},
    "routeros_wifi": {"signal_dbm": -54.0},
}


@pytest.mark.parametrize("recording", sorted(HEALTH))
def test_poll_once_shows_health_and_radio(
    zoo_env: tuple[Path, list[zoo.ZooDevice]], runs: Runs, recording: str
) -> None:
    inventory, _ = zoo_env
    out = runs("poll-once", host(recording), "-i", str(inventory), "--json")
    assert "Traceback" not in out.stderr
    health = json.loads(out.stdout)["health"]
    assert health["status"] == "ok", health
    want = HEALTH[recording]
    for key in ("cpu_pct", "memory_pct"):
        if key in want:
            assert health[key] == pytest.approx(want[key], abs=0.05), key
    failed = {s["name"] for s in health["sensors"] if s["ok"] is False}
    assert failed == want.get("failed", set())
    if "signal_dbm" in want:
        [radio] = [r for r in health["radios"] if r["signal_dbm"] == want["signal_dbm"]]
        if "tx_ccq_pct" in want:
            assert radio["tx_ccq_pct"] == want["tx_ccq_pct"]
    text = runs("poll-once", host(recording), "-i", str(inventory)).stdout
    assert "health: " in text


def test_discover_shows_and_applies_platforms(
    zoo_env: tuple[Path, list[zoo.ZooDevice]], runs: Runs, tmp_path: Path
) -> None:
    inventory, devices = zoo_env
    runs.drain()  # discover polls every recording at once: alone, as a deployment would
    out = sigap("discover", "-i", str(inventory), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["silent"] == {}
    found = {p["device"]: p for p in data["platforms"]}
    for d in devices:
        p = found[d.community]
        got = tuple(p[k] for k in ("vendor", "model", "os", "version", "device_type"))
        assert got == ZOO[d.recording]["platform"], d.recording
    assert found[host(WRONG)]["status"] == "conflict"
    assert found[host(RIGHT)]["status"] == "same"
    text = sigap("discover", "-i", str(inventory))
    assert "Platform (vendor, model, OS):" in text.stdout
    assert "BEDA (platform tulisan tangan dipakai)" in text.stdout
    copy = tmp_path / "inventory.yaml"
    shutil.copytree(inventory.parent, tmp_path, dirs_exist_ok=True)
    db = f"sqlite:///{tmp_path / 'sigap.db'}"
    applied = sigap("discover", "-i", str(copy), "--apply", "--yes", "--db", db)
    assert applied.returncode == 0, applied.stderr
    written = load_inventory(copy).devices
    assert {n: d.platform for n, d in written.items()} == {
        host(r): "cisco_ios" if r in (WRONG, RIGHT) else e["platform"][4] for r, e in ZOO.items()
    }
    again = sigap("discover", "-i", str(copy), "--apply", "--yes", "--db", db)
    assert "Tidak ada induk atau platform baru" in again.stdout


@pytest.mark.parametrize("recording", sorted(ZOO))
def test_diagnose_every_recording(
    zoo_env: tuple[Path, list[zoo.ZooDevice]], runs: Runs, recording: str
) -> None:
    inventory, _ = zoo_env
    out = runs("diagnose", host(recording), "-i", str(inventory), "-c", "1", "--json")
    assert out.returncode in (0, 1, 2), out.stderr
    assert "Traceback" not in out.stderr
    data = json.loads(out.stdout)
    assert data["target"] == host(recording)
