"""Topology discovery (issue 11): neighbour-table parsers on recorded tables, links, parents,
the inventory round trip, link_lost detection, the map data and page, multi-arc walks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from agent.topology import mibs
from agent.topology.apply import unified_diff, with_parents
from agent.topology.changes import LinkWatch
from agent.topology.graph import Known, discover
from agent.topology.mapdata import MapDevice, layout, map_json
from agent.topology.maphtml import render_map_html
from agent.topology.model import DeviceScan, Link, Neighbour
from collectors._snmp import ber as _ber
from collectors._snmp.ber import Pdu, encode_oid_content, parse_oid
from collectors._snmp.walk import walk_table
from ticketing.faults import FaultKind
from ticketing.states import TicketState
from ticketing.views import AffectedView, TicketView

if TYPE_CHECKING:
    from collectors.snmp import SnmpValue, TableColumns

pytestmark = pytest.mark.unit

REM = "1.0.8802.1.1.2.1.4.1.1."


def cols(rows: dict[str, SnmpValue]) -> TableColumns:
    """Turn ``{full dotted OID: value}`` into column -> index -> value for known columns."""
    out: TableColumns = {}
    for oid, value in rows.items():
        col = next(
            c for c in sorted(mibs.COLUMNS, key=len, reverse=True) if oid.startswith(c + ".")
        )
        index = tuple(int(x) for x in oid[len(col) + 1 :].split("."))
        out.setdefault(col, {})[index] = value
    return out


# rtr-setda in the lab (lldpd 1.0.16 under net-snmp 5.9.3), recorded with snmpbulkwalk -On
LAB_SETDA = cols(
    {
        "1.3.6.1.2.1.31.1.1.1.1.2": b"Gi0-0",
        "1.3.6.1.2.1.31.1.1.1.1.3": b"c8",
        "1.3.6.1.2.1.31.1.1.1.1.4": b"Gi0-1",
        REM + "5.100.2.1": bytes.fromhex("025a01000003"),
        REM + "5.600.3.2": bytes.fromhex("025a01000008"),
        REM + "6.100.2.1": 5,
        REM + "6.600.3.2": 5,
        REM + "7.100.2.1": b"c7",
        REM + "7.600.3.2": b"Gi0-0",
        REM + "8.100.2.1": b"downlink ke rtr-setda",
        REM + "8.600.3.2": b"uplink ke rtr-setda",
        REM + "9.100.2.1": b"rtr-dist-praya",
        REM + "9.600.3.2": b"sw-setda",
        "1.0.8802.1.1.2.1.4.2.1.3.100.2.1.1.4.10.52.10.1": 2,
    }
)
# RouterOS 6.38+: single-integer lldpRemTable index (no local port), MAC port ID
ROS6 = cols(
    {
        REM + "6.1": 3,
        REM + "7.1": bytes.fromhex("4c5e0c112233"),
        REM + "8.1": b"ether5",
        REM + "9.1": b"sw-core",
        "1.0.8802.1.1.2.1.4.2.1.3.1.1.4.10.52.0.2": 2,
    }
)
# RouterOS v7: three-part index, port IDs with the bridge prefix
ROS7 = cols(
    {
        REM + "6.0.3.1": 5,
        REM + "7.0.3.1": b"bridge/ether2",
        REM + "9.0.3.1": b"rtr-opd",
    }
)
MTXR = cols(
    {
        mibs.MTXR_IP + ".7": bytes([10, 52, 20, 10]),
        mibs.MTXR_MAC + ".7": bytes.fromhex("4c5e0c445566"),
        mibs.MTXR_PLATFORM + ".7": b"MikroTik",
        mibs.MTXR_IDENTITY + ".7": b"rtr-camat",
        mibs.MTXR_INTERFACE + ".7": 4,
    }
)
CDP = cols(
    {
        mibs.CDP_ADDRESS + ".10001.3": bytes([10, 52, 0, 1]),
        mibs.CDP_DEVICE_ID + ".10001.3": b"rtr-core.loteng.go.id",
        mibs.CDP_DEVICE_PORT + ".10001.3": b"GigabitEthernet0/1",
        mibs.CDP_PLATFORM + ".10001.3": b"cisco C2911",
    }
)


def test_recorded_lab_lldp_table() -> None:
    found = mibs.lldp(LAB_SETDA)
    assert found == [
        Neighbour("lldp", 2, "rtr-dist-praya", "c7", "10.52.10.1", "02:5a:01:00:00:03"),
        Neighbour("lldp", 3, "sw-setda", "Gi0-0", "", "02:5a:01:00:00:08"),
    ]
    assert mibs.if_names(LAB_SETDA)[3] == "c8"


def test_routeros_single_integer_index_has_no_local_port() -> None:
    (n,) = mibs.lldp(ROS6)
    assert n.local_port is None
    assert n.remote_name == "sw-core"
    assert n.remote_port == "ether5"  # MAC port ID: the port description names it
    assert n.remote_address == "10.52.0.2"


def test_routeros_v7_bridge_prefix_is_stripped() -> None:
    (n,) = mibs.lldp(ROS7)
    assert (n.local_port, n.remote_port) == (3, "ether2")
    assert mibs.clean_port("Gi0/1") == "Gi0/1"


def test_mikrotik_and_cdp_tables() -> None:
    (m,) = mibs.mikrotik(MTXR)
    assert (m.local_port, m.remote_name, m.remote_address) == (4, "rtr-camat", "10.52.20.10")
    (c,) = mibs.cdp(CDP)
    assert (c.local_port, c.remote_name, c.remote_port) == (
        10001,
        "rtr-core.loteng.go.id",
        "GigabitEthernet0/1",
    )


KNOWN = {
    "core": Known("core", "10.52.0.1", None, core=True),
    "dist": Known("dist", "10.52.10.1", "core"),
    "opd": Known("opd", "10.52.11.1", None),  # parent removed by hand
    "sw": Known("sw", "10.52.11.2", "core"),  # wrong hand-written parent
}


def scans() -> list[DeviceScan]:
    return [
        DeviceScan("core", {2: "ether1", 5: "c2"}, (Neighbour("lldp", 5, "dist", "ether1"),)),
        DeviceScan(
            "dist",
            {2: "ether1", 3: "c3"},
            (Neighbour("lldp", 2, "core", "c2"), Neighbour("mndp", 3, "OPD", remote_address="")),
        ),
        DeviceScan(
            "opd",
            {2: "ether1", 4: "c4"},
            (
                Neighbour("lldp", 2, "dist", "c3"),
                Neighbour("lldp", 4, "", "eth0", remote_address="10.52.11.2"),
                Neighbour("lldp", 4, "printer-lantai2", "eth0", "10.52.11.99"),
            ),
        ),
        DeviceScan("sw", {}, (), error="timeout"),
    ]


def test_links_parents_conflicts_and_unknown_neighbours() -> None:
    found = discover(scans(), KNOWN)
    assert [link.key for link in found.links] == [
        ("core", "c2", "dist", "ether1"),
        ("dist", "c3", "opd", "ether1"),  # MNDP (no remote port) merged with LLDP
        ("opd", "c4", "sw", "eth0"),  # matched by management address
    ]
    assert found.links[1].protocols == ("lldp", "mndp")
    status = {p.device: (p.proposed, p.status) for p in found.parents}
    assert status == {
        "core": (None, "root"),
        "dist": ("core", "same"),
        "opd": ("dist", "new"),
        "sw": ("opd", "conflict"),
    }
    assert found.changes() == {"opd": "dist"}
    assert [(u.seen_by, u.port, u.name) for u in found.unknown] == [
        ("opd", "c4", "printer-lantai2")
    ]
    assert found.silent == {"sw": "timeout"}
    assert found.to_json()["parents"][2]["via"] == "dist c3 <-> opd ether1"


INVENTORY = """\
# the district network
hosts:
  core:
    address: 10.52.0.1   # NOC
  opd:
    address: 10.52.11.1
    opd: "Dinas X"
  quick: {address: 10.52.11.3, opd: Y}
"""


def test_apply_keeps_comments_order_and_quotes() -> None:
    after = with_parents(INVENTORY, {"opd": "core", "quick": "opd"})
    assert after == INVENTORY.replace(
        "    address: 10.52.11.1\n", "    address: 10.52.11.1\n    parent: core\n"
    ).replace("{address: 10.52.11.3, opd: Y}", "{address: 10.52.11.3, parent: opd, opd: Y}")
    diff = unified_diff(INVENTORY, after, "inventory.yaml")
    assert "+    parent: core" in diff
    with pytest.raises(Exception, match="hand-written"):
        with_parents(after, {"opd": "dist"})


def test_link_lost_only_while_both_ends_answer() -> None:
    watch = LinkWatch(parents={"opd": "dist", "dist": "core"})
    first = discover(scans(), KNOWN)
    assert watch.update(first, {"core", "dist", "opd", "sw"}).lost == ()
    cut = [
        s if s.device != "opd" else DeviceScan("opd", s.if_names, s.neighbours[1:]) for s in scans()
    ]
    cut[1] = DeviceScan("dist", cut[1].if_names, cut[1].neighbours[:1])
    second = discover(cut, KNOWN)
    # opd down: not a link fault (device_down owns it)
    assert watch.update(second, {"core", "dist", "sw"}).lost == ()
    events = watch.update(second, {"core", "dist", "opd", "sw"})
    (fault,) = events.lost
    assert (fault.device, fault.kind, fault.subject) == ("dist", FaultKind.LINK_LOST, "c3")
    assert watch.update(second, {"core", "dist", "opd", "sw"}).lost == ()  # once
    assert watch.update(first, {"core", "dist", "opd", "sw"}).restored == (fault.key,)


def test_new_unknown_neighbour_is_reported_once() -> None:
    watch = LinkWatch(parents={})
    found = discover(scans(), KNOWN)
    watch.update(discover(scans()[:2], KNOWN), set(KNOWN))
    assert [u.name for u in watch.update(found, set(KNOWN)).new_unknown] == ["printer-lantai2"]
    assert watch.update(found, set(KNOWN)).new_unknown == ()


DEVICES = [
    MapDevice("core", "10.52.0.1", "Diskominfo", "NOC", "router", None),
    MapDevice("dist", "10.52.10.1", "Diskominfo", "POP", "router", "core"),
    MapDevice("opd", "10.52.11.1", "Setda", "Kantor", "router", "dist"),
    MapDevice("sw", "10.52.11.2", "Setda", "Kantor", "switch", "opd"),
    MapDevice("pkm", "10.52.12.1", "Puskesmas", "Desa", "router", "dist"),
]
AT = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def ticket(device: str, kind: str, affected: tuple[str, ...] = ()) -> TicketView:
    return TicketView(
        1, "GJ/2026/0001", f"{device}/{kind}", device, kind, "", f"{device} mati",
        TicketState.OPEN, AT, None, None, 0,
        tuple(AffectedView(a, AT, None) for a in affected),
    )  # fmt: skip


def test_map_states_badges_and_a_stable_layout() -> None:
    data = map_json(DEVICES, [ticket("opd", "device_down", ("sw",))], title="Peta", at=AT)
    state = {n["id"]: n["state"] for n in data["nodes"]}
    assert state == {"core": "up", "dist": "up", "opd": "down", "sw": "unreachable", "pkm": "up"}
    assert data["counts"] == {"down": 1, "unreachable": 1, "warning": 0, "up": 3, "unmonitored": 0}
    assert [n["tickets"][0]["number"] for n in data["nodes"] if n["tickets"]] == ["GJ/2026/0001"]
    assert data["links"][2] == {
        "a": "opd", "a_port": "", "b": "sw", "b_port": "", "source": "inventory", "state": "down"
    }  # fmt: skip
    calm = map_json(DEVICES, [], at=AT)
    assert [(n["x"], n["y"]) for n in calm["nodes"]] == [(n["x"], n["y"]) for n in data["nodes"]]
    pos = layout(DEVICES)
    assert pos["core"][1] < pos["dist"][1] < pos["opd"][1] < pos["sw"][1]
    assert pos["dist"][0] == (pos["pkm"][0] + pos["opd"][0]) // 2  # centred over children


def test_unmonitored_devices_keep_their_tickets_as_badges_but_no_current_state() -> None:
    # opd and sw are in a zone whose poller is silent (issue 23); opd was down when last heard
    down = ticket("opd", "device_down", ("sw",))
    data = map_json(DEVICES, [down], at=AT, unmonitored={"opd", "sw", "not-on-the-map"})
    state = {n["id"]: n["state"] for n in data["nodes"]}
    assert state == {
        "core": "up", "dist": "up", "opd": "unmonitored", "sw": "unmonitored", "pkm": "up"
    }  # fmt: skip
    assert data["counts"] == {"down": 0, "unreachable": 0, "warning": 0, "up": 3, "unmonitored": 2}
    assert [n["tickets"][0]["number"] for n in data["nodes"] if n["tickets"]] == ["GJ/2026/0001"]
    links = {(r["a"], r["b"]): r["state"] for r in data["links"]}
    assert links[("dist", "opd")] == "unmonitored"
    assert links[("opd", "sw")] == "unmonitored"
    assert links[("dist", "pkm")] == "up"
    html = render_map_html(data)
    assert 'class="node st-unmonitored" data-device="opd"' in html
    assert "tak terpantau" in html  # the legend


def test_map_page_is_self_contained_and_escapes() -> None:
    devices = [*DEVICES, MapDevice("x", "10.52.13.1", "</script><b>", "", "router", "core")]
    links = [Link("core", "c2", "dist", "ether1", ("lldp",))]
    html = render_map_html(map_json(devices, [ticket("opd", "device_down")], links=links))
    assert html.startswith("<!doctype html>")
    assert '<g class="node st-down" data-device="opd" data-state="down"' in html
    assert ">c2</text>" in html
    assert ">ether1</text>" in html
    assert "</script><b>" not in html
    assert "src=" not in html
    assert 'href="http' not in html
    assert 'name="viewport"' in html


class TableAgent:
    """GETBULK over a sorted MIB with multi-arc indexes, capped at ``cap`` varbinds."""

    def __init__(self, mib: dict[str, SnmpValue], cap: int = 7) -> None:
        self.items = sorted((parse_oid(k), v) for k, v in mib.items())
        self.cap = cap

    def next(self, oid: tuple[int, ...]) -> tuple[bytes, int, SnmpValue]:
        for key, value in self.items:
            if key > oid:
                tag = _ber.INTEGER if isinstance(value, int) else _ber.OCTET_STRING
                return encode_oid_content(key), tag, value
        return encode_oid_content(oid), _ber.END_OF_MIB_VIEW, None

    async def bulk(self, nonrep: list[bytes], reps: list[bytes], max_rep: int) -> Pdu | str:
        out = []
        cursor = [_ber.decode_oid(o) for o in reps]
        for _ in range(min(max_rep, self.cap // len(reps))):
            row = [self.next(o) for o in cursor]
            out.extend(row)
            cursor = [_ber.decode_oid(o) for o, _t, _v in row]
        return Pdu(_ber.RESPONSE, 1, 0, 0, out)


def test_walk_table_follows_multi_arc_indexes_past_the_agent_cap() -> None:
    mib: dict[str, SnmpValue] = {
        f"{REM}9.{t}.{p}.1": f"n{p}".encode() for t in (0, 100) for p in range(1, 9)
    }
    mib.update({f"{REM}7.0.{p}.1": f"e{p}".encode() for p in range(1, 9)})
    mib["1.3.6.1.2.1.1.1.0"] = b"after the table"
    agent = TableAgent(mib)
    prefixes = [encode_oid_content(parse_oid(REM + c)) for c in ("7", "9")]
    result = asyncio.run(walk_table(agent.bulk, prefixes, 50))
    assert not isinstance(result, str)
    (ports, names), budget = result
    assert len(ports) == 8
    assert len(names) == 16
    assert names[(100, 8, 1)] == b"n8"
    assert budget <= 7
