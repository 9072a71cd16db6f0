"""Remediation on a device whose inventory writes no platform: detected over SNMP (issue 18)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import pytest

from agent.config.load import load_inventory
from agent.remediation.interfaces import SnmpPlatforms
from agent.remediation.playbooks import load_playbooks
from agent.remediation.runner import Remediator
from tests.recordings import snmprec

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from agent.config.model import Device, Inventory
    from collectors.model import InterfaceRow, SnmpTarget
    from collectors.snmp import TableColumns

pytestmark = pytest.mark.unit

INVENTORY = """
office: {name: Uji}
people:
  - {name: Kadis, role: kadis}
  - {name: Teknisi, role: teknisi}
sop:
  standing_disposition: {signer: Kadis, reference: 1/2026, technician: Teknisi}
defaults:
  role: switch
  snmp: {version: "2c", community_env: C}
  ssh: {user: sigap, password_env: P}
  remediation: {enabled: true, playbooks: [aktifkan-port]}
hosts:
  sw: {address: 10.9.0.1}
  plain: {address: 10.9.0.2, snmp: {enabled: false}}
"""
TICKET = SimpleNamespace(fault_key="sw/interface_disabled/Gi1/0/1", device="sw")


class Recording:
    """A column walker answering from a real-device recording (or failing with a reason)."""

    def __init__(self, name: str | None) -> None:
        self.name = name
        self.walks = 0

    async def walk_columns(self, target: SnmpTarget, oids: Sequence[str]) -> TableColumns | str:
        self.walks += 1
        return "timeout" if self.name is None else snmprec(self.name, oids)


class NoReader:
    async def interfaces(self, device: Device) -> Mapping[str, InterfaceRow] | None:
        return None


def _inventory(tmp_path: Path) -> Inventory:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY)
    return load_inventory(path, env={"C": "komunitas", "P": "sandi"})


def _runner(inventory: Inventory, walker: Recording | None) -> Remediator:
    return Remediator(
        inventory,
        load_playbooks(),
        cast("Any", None),
        cast("Any", None),
        NoReader(),
        now=lambda: datetime.now(UTC),
        platforms=SnmpPlatforms(walker) if walker is not None else None,
    )


def test_platform_may_be_omitted_and_is_detected_once(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path)
    assert inventory.devices["sw"].platform == ""
    walker = Recording("ios_2960x")
    runner = _runner(inventory, walker)
    try:
        assert runner.wants(cast("Any", TICKET))  # decided after detection, in consider
        device = asyncio.run(runner._detect(inventory.devices["sw"]))
        again = asyncio.run(runner._detect(inventory.devices["sw"]))
        assert walker.walks == 1
    finally:
        runner.close()
    assert device.platform == again.platform == "cisco_ios"
    assert runner.wants(cast("Any", TICKET))
    assert runner.book.select(device, "interface_disabled", "Gi1/0/1") is not None


def test_undetectable_or_no_reader_means_no_playbook(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path)
    silent = _runner(inventory, Recording(None))
    without = _runner(inventory, None)
    try:
        device = asyncio.run(silent._detect(inventory.devices["sw"]))
        assert device.platform == ""
        assert not without.wants(cast("Any", TICKET))
    finally:
        silent.close()
        without.close()


def test_snmp_off_detects_nothing(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path)
    walker = Recording("ios_2960x")
    found = asyncio.run(SnmpPlatforms(walker).platform(inventory.devices["plain"]))
    assert (found, walker.walks) == ("", 0)


def test_a_written_platform_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY.replace("  role: switch\n", "  role: switch\n  platform: huawei\n"))
    inventory = load_inventory(path, env={"C": "komunitas", "P": "sandi"})
    walker = Recording("ios_2960x")
    runner = _runner(inventory, walker)
    try:
        device = asyncio.run(runner._detect(inventory.devices["sw"]))
    finally:
        runner.close()
    assert (device.platform, walker.walks) == ("huawei", 0)
