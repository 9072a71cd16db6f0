"""Unit tests of labnet's spec validation and pure build plan (no root, no network)."""

from __future__ import annotations

import pytest

from labnet import plan
from labnet.errors import LabError, LabSpecError
from labnet.topology import LabDevice, LabSpec, tree_spec

pytestmark = pytest.mark.unit

NOC = "10.52.255.254"
PREFIXES = ("10.52.0.0/16",)


def spec_of(*devices: LabDevice, noc: str = NOC, prefixes: tuple[str, ...] = PREFIXES) -> LabSpec:
    return LabSpec(devices=devices, noc_address=noc, prefixes=prefixes)


def small() -> LabSpec:
    return spec_of(
        LabDevice("core", "10.52.0.1", None),
        LabDevice("dist1", "10.52.0.2", "core"),
        LabDevice("dist2", "10.52.0.3", "core"),
        LabDevice("opd1", "10.52.1.1", "dist1"),
        LabDevice("opd2", "10.52.1.2", "dist1"),
    )


def test_valid_small_spec() -> None:
    spec = small()
    assert plan.index_map(spec) == {"core": 1, "dist1": 2, "dist2": 3, "opd1": 4, "opd2": 5}


@pytest.mark.parametrize(
    ("devices", "message"),
    [
        ((LabDevice("a", "10.52.0.1", "ghost"),), "unknown parent 'ghost'"),
        (
            (LabDevice("a", "10.52.0.1", "b"), LabDevice("b", "10.52.0.2", "a")),
            "parent cycle",
        ),
        ((LabDevice("a", "10.52.0.1", "a"),), "parent cycle: a -> a"),
        (
            (LabDevice("a", "10.52.0.1", None), LabDevice("a", "10.52.0.2", None)),
            "duplicate device name 'a'",
        ),
        (
            (LabDevice("a", "10.52.0.1", None), LabDevice("b", "10.52.0.1", None)),
            "duplicate address 10.52.0.1",
        ),
        ((LabDevice("a", "10.53.0.1", None),), "not inside the lab prefixes"),
        ((LabDevice("a", NOC, None),), "duplicate address"),
        ((LabDevice("A", "10.52.0.1", None),), "must match"),
        ((LabDevice("noc", "10.52.0.1", None),), "reserved"),
        ((LabDevice("a", "10.52.0.300", None),), "not an IPv4 address"),
        ((), "at least one device"),
    ],
)
def test_invalid_specs(devices: tuple[LabDevice, ...], message: str) -> None:
    with pytest.raises(LabSpecError, match=message):
        spec_of(*devices)


def test_cycle_below_a_valid_root() -> None:
    with pytest.raises(LabSpecError, match=r"parent cycle: (b -> c -> b|c -> b -> c)"):
        spec_of(
            LabDevice("a", "10.52.0.1", None),
            LabDevice("b", "10.52.0.2", "c"),
            LabDevice("c", "10.52.0.3", "b"),
        )


def test_noc_must_be_inside_guarded_prefixes() -> None:
    with pytest.raises(LabSpecError, match="noc_address"):
        spec_of(LabDevice("a", "10.52.0.1", None), noc="10.99.0.1")


@pytest.mark.parametrize("prefix", ["8.8.8.0/24", "127.0.0.0/8", "10.52.0.1/16", "10.0.0.0/7"])
def test_bad_prefixes(prefix: str) -> None:
    with pytest.raises(LabSpecError, match="prefix"):
        spec_of(LabDevice("a", "10.52.0.1", None), prefixes=(prefix,))


def test_spec_json_roundtrip() -> None:
    spec = small()
    assert LabSpec.from_json(spec.to_json()) == spec
    with pytest.raises(LabSpecError, match="malformed"):
        LabSpec.from_json({"devices": [{}]})


def test_tree_spec_counts_and_names() -> None:
    spec = tree_spec((50, 20))
    assert len(spec.devices) == 1051
    assert spec.devices[0].parent is None
    assert spec.device("d7-3").parent == "d7"
    assert NOC not in {d.address for d in spec.devices}


def test_lab_names() -> None:
    plan.check_lab_name("sigap")
    plan.check_lab_name("t12345")
    for bad in ("", "Sigap", "a-b", "1ab", "x" * 17):
        with pytest.raises(LabError, match="lab name"):
            plan.check_lab_name(bad)


def test_descendants_depth_first() -> None:
    children = plan.children_map(small())
    assert plan.descendants(children, "core") == ["dist1", "opd1", "opd2", "dist2"]
    assert plan.descendants(children, "opd1") == []
    assert children[None] == ["core"]


def test_creation_batch_puts_nothing_in_root_namespace() -> None:
    lines = plan.creation_batch("lab", small())
    assert lines[:2] == ["netns add lab-noc", "netns add lab-core"]
    links = [line for line in lines if line.startswith("link add")]
    assert len(links) == 5
    assert links[0] == (
        "link add c1 address 02:5a:00:00:00:01 netns lab-noc type veth "
        "peer name up0 address 02:5a:01:00:00:01 netns lab-core"
    )
    assert links[3].endswith(
        "netns lab-dist1 type veth peer name up0 address 02:5a:01:00:00:04 netns lab-opd1"
    )
    assert all(" netns " in line for line in links)


def test_macs_are_unique_and_bounded() -> None:
    assert plan.parent_mac(0x010203) == "02:5a:00:01:02:03"
    assert plan.child_mac(1) != plan.parent_mac(1)
    with pytest.raises(LabError):
        plan.parent_mac(0)


def test_noc_batch_routes_only_lab_addresses() -> None:
    lines = plan.noc_batch(small())
    assert f"addr add {NOC}/32 dev lo" in lines
    routes = [line for line in lines if line.startswith("route")]
    assert not any("default" in r for r in routes)
    assert routes[0] == f"route replace 10.52.0.1/32 dev c1 src {NOC}"
    assert f"route replace 10.52.1.2/32 via 10.52.0.1 dev c1 onlink src {NOC}" in routes
    assert len(routes) == 5
    assert "neigh replace 10.52.0.1 lladdr 02:5a:01:00:00:01 dev c1 nud permanent" in lines


def test_router_batch() -> None:
    lines = plan.device_batch(small(), "core")
    assert lines[:3] == ["link set lo up", "addr add 10.52.0.1/32 dev lo", "link set up0 up"]
    assert "link set c2 up" in lines
    assert "link set c3 up" in lines
    assert "route replace 10.52.0.2/32 dev c2" in lines
    assert "route replace 10.52.1.1/32 via 10.52.0.2 dev c2 onlink" in lines
    assert "route replace 10.52.1.2/32 via 10.52.0.2 dev c2 onlink" in lines
    assert "route replace 10.52.0.3/32 dev c3" in lines
    # a root device: a way back to the NOC only, never a default route
    assert lines[-1] == f"route replace {NOC}/32 dev up0"
    assert not any("default" in line for line in lines)


def test_leaf_batch() -> None:
    lines = plan.device_batch(small(), "opd2")
    assert lines == [
        "link set lo up",
        "addr add 10.52.1.2/32 dev lo",
        "link set up0 up",
        "neigh replace 10.52.0.2 lladdr 02:5a:00:00:00:05 dev up0 nud permanent",
        "route replace default via 10.52.0.2 dev up0 onlink",
    ]


def test_link_routes_restore_both_sides() -> None:
    parent, device = plan.link_routes(small(), "dist1")
    assert parent[0] == "link set c2 up"
    assert "route replace 10.52.1.1/32 via 10.52.0.2 dev c2 onlink" in parent
    assert device[0] == "link set up0 up"
    assert device[-1] == "route replace default via 10.52.0.1 dev up0 onlink"
    root_parent, _ = plan.link_routes(small(), "core")
    assert root_parent[-1].endswith(f"src {NOC}")


def test_guard_ruleset() -> None:
    text = plan.guard_ruleset("lab", ("10.52.0.0/16", "10.52.1.0/24", "10.60.0.0/16"))
    assert text.startswith("table inet lab_guard\ndelete table inet lab_guard\n")
    assert "elements = { 10.52.0.0/16, 10.60.0.0/16 }" in text
    assert 'ip daddr @lab oifname != "lo" counter drop' in text
    assert "hook forward" in text
    assert plan.guard_removal("lab") == "table inet lab_guard\ndelete table inet lab_guard\n"


def test_fault_rulesets() -> None:
    none = plan.fault_ruleset(failed=False, loss_pct=0)
    assert none == "table inet labnet\ndelete table inet labnet\n"
    dead = plan.fault_ruleset(failed=True, loss_pct=0)
    for hook in ("input", "forward", "output"):
        assert f"hook {hook} priority -300; policy drop;" in dead
    lossy = plan.fault_ruleset(failed=False, loss_pct=30)
    assert 'iifname "up0" numgen random mod 100 < 30 counter drop' in lossy
    assert "policy drop" not in lossy
    with pytest.raises(LabError, match=r"0\.\.100"):
        plan.fault_ruleset(failed=False, loss_pct=101)
