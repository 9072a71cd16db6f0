"""Issue 18 glue without a network: zoo lab plan (aliases, communities, snmpsim argv), the
platform proposals of discovery, and ``--apply`` writing a detected platform."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from agent.cli.topology import _console as discover_console
from agent.cli.topology import _print as print_discovery
from agent.config import schema
from agent.topology import apply
from agent.topology.graph import Known, discover
from agent.topology.model import DeviceScan, platform_status
from collectors.platform import FAMILIES, Platform
from labnet import plan, zoo
from labnet.errors import LabError, LabSpecError
from labnet.topology import LabDevice, LabSpec
from tests.hostile_text import CORPUS, unsafe
from tests.zoo_expect import ZOO

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

NOC = "10.58.255.254"
PREFIX = "10.58.0.0/16"
ROS = Platform("MikroTik", "RB760iGS", "RouterOS", "7.1.1", "mikrotik_routeros")


def test_every_detected_device_type_is_an_inventory_platform() -> None:
    assert {f.device_type for f in FAMILIES if f.device_type} <= set(schema.PLATFORMS)


def test_communities_are_safe_and_distinct_for_every_recording() -> None:
    names = {zoo.community(n) for n in ZOO}
    assert len(names) == len(ZOO)
    assert all(n.isalnum() and n.islower() for n in names)
    assert zoo.community("routeros_rb5009upr+s+") == "routerosrb5009uprs"


@pytest.mark.parametrize("bad", ["", "+._-", "SELF"])
def test_unusable_community_refused(bad: str) -> None:
    with pytest.raises(LabError):
        zoo.community(bad)


def test_zoo_plan_one_device_one_alias_per_recording() -> None:
    spec, devices = zoo.plan(["routeros", "ios_2960x", "vrp_5720"], PREFIX, NOC)
    (device,) = spec.devices
    assert (device.name, device.address) == (zoo.ZOO_DEVICE, "10.58.0.1")
    assert device.aliases == ("10.58.0.2", "10.58.0.3", "10.58.0.4")
    assert [(d.address, d.community) for d in devices] == [
        ("10.58.0.2", "routeros"),
        ("10.58.0.3", "ios2960x"),
        ("10.58.0.4", "vrp5720"),
    ]
    assert LabSpec.from_json(spec.to_json()) == spec


def test_zoo_plan_refuses_colliding_communities_and_small_prefixes() -> None:
    with pytest.raises(LabError, match="both give community"):
        zoo.plan(["ios_2960x", "ios-2960x"], PREFIX, NOC)
    with pytest.raises(LabError, match="too small"):
        zoo.plan(["a1", "b1", "c1"], "10.58.0.0/30", "10.58.0.2")


def test_aliases_are_on_lo_and_routed_from_the_noc() -> None:
    spec, _ = zoo.plan(["routeros", "ruijie"], PREFIX, NOC)
    lines = plan.device_batch(spec, zoo.ZOO_DEVICE)
    assert "addr add 10.58.0.2/32 dev lo" in lines
    assert "addr add 10.58.0.3/32 dev lo" in lines
    noc = plan.noc_batch(spec)
    assert f"route replace 10.58.0.3/32 via 10.58.0.1 dev c1 onlink src {NOC}" in noc


def test_aliases_validated_like_addresses() -> None:
    with pytest.raises(LabSpecError, match="not inside"):
        LabSpec((LabDevice("z", "10.58.0.1", None, aliases=("10.59.0.1",)),), NOC, (PREFIX,))
    with pytest.raises(LabSpecError, match="duplicate address"):
        LabSpec((LabDevice("z", "10.58.0.1", None, aliases=("10.58.0.1",)),), NOC, (PREFIX,))


def test_snmpsim_argv_and_data_copied_under_communities(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "routeros_rb5009upr+s+.snmprec").write_text("1.3.6.1.2.1.1.1.0|4|RouterOS x\n")
    _, devices = zoo.plan(["routeros_rb5009upr+s+"], PREFIX, NOC)
    v3 = zoo.ZooV3("routeros_rb5009upr+s+")
    zoo.prepare(source, devices, tmp_path / "data", v3)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [
        "routerosrb5009uprs.snmprec",
        "self.snmprec",
    ]
    argv = zoo.argv(devices, tmp_path / "data", tmp_path / "cache", tmp_path / "log", v3)
    assert argv[0].endswith("snmpsim-command-responder")
    assert "--agent-udpv4-endpoint=10.58.0.2:161" in argv
    assert "--v3-auth-proto=SHA" in argv
    assert "--v3-priv-proto=AES" in argv


@pytest.mark.parametrize(
    ("current", "found", "status"),
    [
        ("mikrotik_routeros", ROS, "same"),
        ("", ROS, "new"),
        ("cisco_ios", ROS, "conflict"),
        ("cisco_ios", Platform("Cisco", "ISR4321/K9", "IOS-XE", "17.6.4", "cisco_xe"), "same"),
        ("huawei", Platform(), "unknown"),
        ("", Platform(), "unknown"),
    ],
)
def test_platform_status(current: str, found: Platform, status: str) -> None:
    assert platform_status(current, found) == status


def test_discovery_proposes_platforms_only_where_none_is_written() -> None:
    known = {
        "a": Known("a", "10.0.0.1", None, core=True, platform=""),
        "b": Known("b", "10.0.0.2", "a", platform="cisco_ios"),
        "c": Known("c", "10.0.0.3", "a", platform="mikrotik_routeros"),
    }
    scans = [
        DeviceScan("a", {}, (), platform=ROS),
        DeviceScan("b", {}, (), platform=ROS),
        DeviceScan("c", {}, (), platform=ROS),
        DeviceScan("d", {}, (), error="timeout"),
    ]
    found = discover(scans, known)
    assert {p.device: p.status for p in found.platforms} == {
        "a": "new",
        "b": "conflict",
        "c": "same",
    }
    assert found.platform_changes() == {"a": "mikrotik_routeros"}
    (first, *_) = found.to_json()["platforms"]
    assert first == {
        "device": "a",
        "current": "",
        "status": "new",
        "vendor": "MikroTik",
        "model": "RB760iGS",
        "os": "RouterOS",
        "version": "7.1.1",
        "device_type": "mikrotik_routeros",
    }


def test_apply_writes_a_platform_after_the_address_and_never_overwrites() -> None:
    text = "hosts:\n  a:  # inti\n    address: 10.0.0.1\n    role: router\n"
    after = apply.with_keys(text, "platform", {"a": "huawei"})
    assert after == (
        "hosts:\n  a:  # inti\n    address: 10.0.0.1\n    platform: huawei\n    role: router\n"
    )
    with pytest.raises(Exception, match="already has a platform"):
        apply.with_keys(after, "platform", {"a": "cisco_ios"})


def test_discover_shows_hostile_platform_text_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    known = {f"d{i}": Known(f"d{i}", f"10.0.0.{i}", None) for i in range(len(CORPUS))}
    scans = [
        DeviceScan(f"d{i}", {}, (), platform=Platform(h.text, h.text, "RouterOS", h.text, "linux"))
        for i, h in enumerate(CORPUS)
    ]
    print_discovery(discover(scans, known), discover_console())
    out = capsys.readouterr().out
    assert "Platform (vendor, model, OS):" in out
    assert unsafe(out) == []
    assert [h.marker for h in CORPUS if h.marker not in out] == []
