"""Pure build plan of a lab: names, ``ip -batch`` lines and nftables rulesets (no I/O).

Routing scheme (unnumbered, ``onlink``): every device netns holds its address as a /32 on
``lo`` and forwards. A parent (a device, or the NOC for root devices) has one veth
``c<idx>`` per child; the child's end is ``up0``. The parent routes ``<child>/32 dev c<idx>``
and ``<descendant>/32 via <child> dev c<idx> onlink``; a child routes ``default via
<parent> dev up0 onlink``; a root device routes only ``<noc>/32 dev up0`` (no default), and
the NOC routes only lab addresses (no default). So a dead router really hides its subtree
and nothing in the lab has a path out of the machine.

Veth MAC addresses are derived from the index and every next hop gets a *permanent*
neighbour entry: no ARP at all, and permanent entries are exempt from the kernel's
neighbour garbage collection. (The ARP table is shared by all namespaces and capped by
``gc_thresh3``, 1,024 by default: with dynamic ARP a 1,000-device lab overflows it.)
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

from labnet.errors import LabError
from labnet.topology import parse_prefixes

if TYPE_CHECKING:
    from collections.abc import Mapping

    from labnet.topology import LabDevice, LabSpec

LAB_NAME_RE = re.compile(r"\A[a-z][a-z0-9]{0,15}\Z")
UPLINK = "up0"  # uplink name of a device without a known platform
FAULT_TABLE = "labnet"

# platform -> (uplink name, LAN port name pattern); Linux names cannot contain '/'
_PORT_NAMES: dict[str, tuple[str, str]] = {
    "mikrotik_routeros": ("ether1", "ether{n1}"),
    "cisco_ios": ("Gi0-0", "Gi0-{n}"),
    "cisco_xe": ("Gi0-0", "Gi0-{n}"),
    "linux": ("eth0", "eth{n}"),
}
_DEFAULT_PORT_NAMES = (UPLINK, "eth{n}")
# IOS names a port ``GigabitEthernet0/1`` in its tables and ifDescr, ``Gi0/1`` in ifName; a
# Linux name cannot hold '/': the kernel (and so ifName) has ``Gi0-1``, ifDescr the IOS name
_IOS_KERNEL_RE = re.compile(r"\AGi(\d+)-(\d+)\Z")
LAN_PORTS = 4
SWITCH_LAN_PORTS = 8
UPLINK_SPEED_BPS = 100_000_000
LINK_SPEED_BPS = 1_000_000_000
LAN_ALIASES = (
    "LAN OPD",
    "LAN pelayanan",
    "WiFi tamu",
    "CCTV",
    "LAN keuangan",
    "printer",
    "LAN rapat",
    "cadangan",
)


def check_lab_name(name: str) -> None:
    """Raise LabError unless ``name`` is a valid lab name ([a-z][a-z0-9]{0,15}, no dash)."""
    if not LAB_NAME_RE.match(name):
        raise LabError(
            f"lab name {name!r} must match [a-z][a-z0-9]{{0,15}} (no dash: it prefixes "
            "the namespace names)"
        )


def noc_netns(lab: str) -> str:
    """Return the NOC netns name of lab ``lab``."""
    return f"{lab}-noc"


def device_netns(lab: str, device: str) -> str:
    """Return the netns name of ``device`` in lab ``lab``."""
    return f"{lab}-{device}"


def guard_table(lab: str) -> str:
    """Return the name of the root-namespace guard table (family inet)."""
    return f"{lab}_guard"


def netns_prefix(lab: str) -> str:
    """Return the prefix shared by every netns of lab ``lab`` (used by crash cleanup)."""
    return f"{lab}-"


def wire_netns(lab: str) -> str:
    """Return the netns holding the hidden peer ends of every LAN port of lab ``lab``."""
    return f"{lab}-wire"


def uplink_name(platform: str) -> str:
    """Return the device-side name of the uplink for ``platform`` (``up0`` if unknown)."""
    return _PORT_NAMES.get(platform, _DEFAULT_PORT_NAMES)[0]


def lan_ports(dev: LabDevice) -> list[str]:
    """Return the LAN port names of ``dev`` (only devices with ``snmp`` or ``ssh`` have ports)."""
    if not (dev.snmp or dev.ssh):
        return []
    pattern = _PORT_NAMES.get(dev.platform, _DEFAULT_PORT_NAMES)[1]
    count = SWITCH_LAN_PORTS if dev.role == "switch" else LAN_PORTS
    return [pattern.format(n=n, n1=n + 1) for n in range(1, count + 1)]


def ios_name(kernel: str) -> str:
    """Return the IOS name of a lab interface (``Gi0-1`` -> ``GigabitEthernet0/1``; others kept)."""
    m = _IOS_KERNEL_RE.match(kernel)
    return f"GigabitEthernet{m.group(1)}/{m.group(2)}" if m else kernel


def if_descrs(dev: LabDevice) -> dict[str, str]:
    """Return kernel name -> ifDescr for the interfaces whose ifDescr is not the kernel name.

    Cisco devices: ifDescr is the IOS name of the uplink and LAN ports (as on a real IOS,
    where ifName is the short form); the rest keep net-snmp's kernel name.
    """
    if not dev.platform.startswith("cisco"):
        return {}
    ports = [uplink_name(dev.platform), *lan_ports(dev)]
    return {p: ios_name(p) for p in ports if ios_name(p) != p}


def port_peer(index: int, port_no: int) -> str:
    """Return the name of the hidden peer (in the wire netns) of LAN port ``port_no``."""
    return f"w{index}p{port_no}"


def port_peers(spec: LabSpec, device: str) -> dict[str, str]:
    """Return LAN port name -> hidden peer name for ``device``."""
    i = index_map(spec)[device]
    return {port: port_peer(i, n) for n, port in enumerate(lan_ports(spec.device(device)), 1)}


def child_link(index: int) -> str:
    """Return the parent-side veth name for the device with index ``index``."""
    return f"c{index}"


def parent_mac(index: int) -> str:
    """Return the MAC of the parent-side veth ``c<index>`` (locally administered)."""
    return "02:5a:00:" + _mac_tail(index)


def child_mac(index: int) -> str:
    """Return the MAC of the child-side veth ``up0`` of the device with index ``index``."""
    return "02:5a:01:" + _mac_tail(index)


def _mac_tail(index: int) -> str:
    """Return the last three MAC bytes encoding ``index`` (1..16,777,215)."""
    if not 0 < index < 1 << 24:
        raise LabError(f"device index {index} out of range for a MAC address")
    return ":".join(f"{(index >> shift) & 0xFF:02x}" for shift in (16, 8, 0))


def index_map(spec: LabSpec) -> dict[str, int]:
    """Return device name -> 1-based index (spec order); the index names its veth."""
    return {dev.name: i for i, dev in enumerate(spec.devices, start=1)}


def children_map(spec: LabSpec) -> dict[str | None, list[str]]:
    """Return parent name (None for the NOC) -> child names, in spec order."""
    out: dict[str | None, list[str]] = {None: []}
    for dev in spec.devices:
        out.setdefault(dev.name, [])
        out.setdefault(dev.parent, []).append(dev.name)
    return out


def descendants(children: Mapping[str | None, list[str]], device: str) -> list[str]:
    """Return every device below ``device`` (depth first, spec order); not ``device``."""
    out: list[str] = []
    stack = list(reversed(children.get(device, [])))
    while stack:  # bounded: a validated spec is a forest
        name = stack.pop()
        out.append(name)
        stack.extend(reversed(children.get(name, [])))
    return out


def creation_batch(lab: str, spec: LabSpec) -> list[str]:
    """Return root-namespace ``ip -batch`` lines creating every netns and every veth pair.

    Both veth ends are created directly inside their namespaces: nothing ever appears in
    the root namespace.
    """
    index = index_map(spec)
    noc = noc_netns(lab)
    lines = [f"netns add {noc}"]
    lines += [f"netns add {device_netns(lab, d.name)}" for d in spec.devices]
    for dev in spec.devices:
        parent_ns = noc if dev.parent is None else device_netns(lab, dev.parent)
        i = index[dev.name]
        lines.append(
            f"link add {child_link(i)} address {parent_mac(i)} netns {parent_ns} type veth "
            f"peer name {uplink_name(dev.platform)} address {child_mac(i)} "
            f"netns {device_netns(lab, dev.name)}"
        )
    return lines


def ports_creation_batch(lab: str, spec: LabSpec) -> list[str]:
    """Return root-namespace ``ip -batch`` lines creating the LAN ports of snmp devices.

    Each port is a veth pair: the port in the device netns, its peer hidden in the lab's
    wire netns (so IF-MIB shows only the port). Empty when no device runs snmpd.
    """
    if not spec.port_devices:
        return []
    wire = wire_netns(lab)
    lines = [f"netns add {wire}"]
    for dev in spec.port_devices:
        ns = device_netns(lab, dev.name)
        lines += [
            f"link add {port} netns {ns} type veth peer name {peer} netns {wire}"
            for port, peer in port_peers(spec, dev.name).items()
        ]
    return lines


def port_batch(spec: LabSpec, device: str) -> list[str]:
    """Return ``ip -batch`` lines (device netns) naming and raising its ports (aliases)."""
    dev = spec.device(device)
    index = index_map(spec)
    up = "NOC" if dev.parent is None else dev.parent
    lines = [f'link set {uplink_name(dev.platform)} alias "uplink ke {up}"']
    lines += [
        f'link set {child_link(index[kid])} alias "downlink ke {kid}"'
        for kid in children_map(spec).get(device, [])
    ]
    for n, port in enumerate(lan_ports(dev)):
        lines += [f'link set {port} alias "{LAN_ALIASES[n % len(LAN_ALIASES)]}"']
        lines += [f"link set {port} up"]
    return lines


def wire_batch(spec: LabSpec) -> list[str]:
    """Return ``ip -batch`` lines (wire netns) raising every hidden port peer."""
    return [
        f"link set {peer} up"
        for dev in spec.port_devices
        for peer in port_peers(spec, dev.name).values()
    ]


def downlink_routes(spec: LabSpec, device: str, *, noc_src: bool = False) -> list[str]:
    """Return the parent's ``ip`` route lines towards ``device`` and its whole subtree."""
    index = index_map(spec)
    children = children_map(spec)
    addr = {d.name: d.address for d in spec.devices}
    link = child_link(index[device])
    src = f" src {spec.noc_address}" if noc_src else ""
    lines = [
        f"neigh replace {addr[device]} lladdr {child_mac(index[device])} dev {link} nud permanent",
        f"route replace {addr[device]}/32 dev {link}{src}",
    ]
    aliases = {d.name: d.aliases for d in spec.devices}
    below = descendants(children, device)
    lines += [
        f"route replace {addr[d]}/32 via {addr[device]} dev {link} onlink{src}" for d in below
    ]
    lines += [
        f"route replace {alias}/32 via {addr[device]} dev {link} onlink{src}"
        for d in (device, *below)
        for alias in aliases[d]
    ]
    return lines


def uplink_routes(spec: LabSpec, device: str) -> list[str]:
    """Return the device's own lines up: default via its parent, or the NOC for a root."""
    dev = spec.device(device)
    mac = parent_mac(index_map(spec)[device])
    up = uplink_name(dev.platform)
    if dev.parent is None:
        return [
            f"neigh replace {spec.noc_address} lladdr {mac} dev {up} nud permanent",
            f"route replace {spec.noc_address}/32 dev {up}",
        ]
    parent = spec.device(dev.parent).address
    return [
        f"neigh replace {parent} lladdr {mac} dev {up} nud permanent",
        f"route replace default via {parent} dev {up} onlink",
    ]


def link_routes(spec: LabSpec, device: str) -> tuple[list[str], list[str]]:
    """Return (parent-side, device-side) lines re-creating the uplink of ``device``.

    Used after a link was set down (IPv4 drops the routes and neighbours of a downed
    device).
    """
    dev = spec.device(device)
    index = index_map(spec)
    parent_side = [f"link set {child_link(index[device])} up"]
    parent_side += downlink_routes(spec, device, noc_src=dev.parent is None)
    device_side = [f"link set {uplink_name(dev.platform)} up", *uplink_routes(spec, device)]
    return parent_side, device_side


def device_batch(spec: LabSpec, device: str) -> list[str]:
    """Return the ``ip -batch`` lines configuring ``device`` inside its own netns."""
    dev = spec.device(device)
    index = index_map(spec)
    children = children_map(spec)
    up = uplink_name(dev.platform)
    lines = ["link set lo up", f"addr add {dev.address}/32 dev lo", f"link set {up} up"]
    lines += [f"addr add {alias}/32 dev lo" for alias in dev.aliases]
    kids = children.get(device, [])
    lines += [f"link set {child_link(index[k])} up" for k in kids]
    for kid in kids:
        lines += downlink_routes(spec, kid)
    lines += uplink_routes(spec, device)
    return lines


def noc_batch(spec: LabSpec) -> list[str]:
    """Return the ``ip -batch`` lines configuring the NOC netns (lab routes only)."""
    index = index_map(spec)
    roots = [d.name for d in spec.devices if d.parent is None]
    lines = ["link set lo up", f"addr add {spec.noc_address}/32 dev lo"]
    lines += [f"link set {child_link(index[r])} up" for r in roots]
    for root in roots:
        lines += downlink_routes(spec, root, noc_src=True)
    return lines


def guard_ruleset(lab: str, prefixes: tuple[str, ...]) -> str:
    """Return an ``nft -f`` ruleset (re)installing the root-namespace guard atomically.

    Anything addressed to a lab prefix that would leave the root namespace through an
    interface other than ``lo`` is dropped (output and forward), so a mistake cannot
    send lab traffic to the real network.
    """
    nets = ipaddress.collapse_addresses(parse_prefixes(prefixes))
    elements = ", ".join(str(n) for n in nets)
    table = guard_table(lab)
    return (
        f"table inet {table}\n"
        f"delete table inet {table}\n"
        f"table inet {table} {{\n"
        f"  set lab {{ type ipv4_addr; flags interval; elements = {{ {elements} }}; }}\n"
        "  chain guard_out {\n"
        "    type filter hook output priority -300; policy accept;\n"
        '    ip daddr @lab oifname != "lo" counter drop\n'
        "  }\n"
        "  chain guard_fwd {\n"
        "    type filter hook forward priority -300; policy accept;\n"
        "    ip daddr @lab counter drop\n"
        "  }\n"
        "}\n"
    )


def guard_removal(lab: str) -> str:
    """Return an ``nft -f`` ruleset removing the guard (no error if it is absent)."""
    table = guard_table(lab)
    return f"table inet {table}\ndelete table inet {table}\n"


def fault_ruleset(*, failed: bool, loss_pct: int, uplink: str = UPLINK) -> str:
    """Return an ``nft -f`` ruleset for a device netns replacing its fault table.

    ``failed``: input, forward and output policy drop (the device and everything behind
    it go silent). ``loss_pct``: drop that share of packets arriving on the uplink, at
    random (``numgen random``), which also affects traffic forwarded to the subtree.
    With neither, the table is just removed.
    """
    if not 0 <= loss_pct <= 100:  # noqa: PLR2004
        raise LabError(f"loss percentage must be within 0..100, not {loss_pct}")
    head = f"table inet {FAULT_TABLE}\ndelete table inet {FAULT_TABLE}\n"
    if not failed and loss_pct == 0:
        return head
    body = [f"table inet {FAULT_TABLE} {{"]
    if failed:
        body += [
            f"  chain {hook} {{ type filter hook {hook} priority -300; policy drop; }}"
            for hook in ("input", "forward", "output")
        ]
    if loss_pct:
        body.append(
            "  chain loss { type filter hook prerouting priority -300; policy accept; "
            f'iifname "{uplink}" numgen random mod 100 < {loss_pct} counter drop; }}'
        )
    body.append("}")
    return head + "\n".join(body) + "\n"
