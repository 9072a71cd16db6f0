"""The device zoo as a lab (issue 18): every recording in ``../shared/devices`` served by snmpsim.

Shared by ``tests/integration/test_device_zoo.py`` and by ``python -m tests.zoo_lab`` (as
root), which prints the closing note's table: recording -> what ``sigap poll-once`` shows.
Lab name ``z<pid>``, prefix 10.67.0.0/16: used by no other lab.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from labnet import zoo
from labnet.lab import Lab
from tests.recordings import DEVICES
from tests.zoo_expect import ZOO

if TYPE_CHECKING:
    from collections.abc import Iterator

LAB = Lab(f"z{os.getpid() % 100000}")
PREFIX = "10.67.0.0/16"
NOC = "10.67.255.254"
SIGAP = [sys.executable, "-m", "agent"]
V3 = zoo.ZooV3("routeros_rb760igs")  # polled over SNMPv3 (SHA/AES-128)
WRONG = "vrp_5720"  # written as cisco_ios in the inventory: the mismatch is reported
RIGHT = "ios_2960x"  # written as cisco_ios: agrees
RESPONDER = Path(sys.executable).with_name("snmpsim-command-responder")


def host(recording: str) -> str:
    """The inventory name of a recording's device (its community: a valid host name)."""
    return zoo.community(recording)


def inventory_text(devices: list[zoo.ZooDevice]) -> str:
    """The zoo's inventory: no platform written except on WRONG and RIGHT."""
    lines = [
        "office: {name: Kebun Binatang Perangkat}",
        f"lab: {{prefixes: [{PREFIX}], noc_address: {NOC}}}",
        "defaults:",
        "  role: router",
        "  opd: Diskominfo",
        '  snmp: {version: "2c", timeout: 2s, retries: 1}',
        "hosts:",
    ]
    for d in devices:
        lines += [f"  {d.community}:", f"    address: {d.address}"]
        if d.recording == V3.recording:
            lines.append(
                '    snmp: {version: "3", user: zoo, auth_protocol: sha, auth_key_file: '
                "v3-auth, priv_protocol: aes128, priv_key_file: v3-priv}"
            )
        else:
            lines.append(f"    snmp: {{community_file: secrets/{d.community}}}")
        if d.recording in (WRONG, RIGHT):
            lines.append("    platform: cisco_ios")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def running(work: Path) -> Iterator[tuple[Path, list[zoo.ZooDevice]]]:
    """Bring the zoo up (inventory and secrets under ``work``); always tear it down."""
    spec, devices = zoo.plan(sorted(ZOO), PREFIX, NOC)
    folder = work / "inventory"
    (folder / "secrets").mkdir(parents=True)
    for d in devices:
        (folder / "secrets" / d.community).write_text(d.community + "\n")
    (folder / "v3-auth").write_text(V3.auth_key + "\n")
    (folder / "v3-priv").write_text(V3.priv_key + "\n")
    inventory = folder / "inventory.yaml"
    inventory.write_text(inventory_text(devices))
    try:
        LAB.up(spec)
        zoo.serve(LAB, devices, DEVICES, work / "snmpsim", V3)
        yield inventory, devices
    finally:
        LAB.down()


def sigap(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run the sigap CLI inside the zoo's NOC namespace."""
    return subprocess.run(
        LAB.noc_argv([*SIGAP, *args]), capture_output=True, text=True, timeout=timeout, check=False
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "-"


def table(inventory: Path) -> str:
    """Markdown: recording -> vendor, model, OS, interfaces as ``sigap poll-once`` shows them."""
    out = [
        "| recording | sigap host | vendor | model | OS | interfaces (count: ifIndex `name`) |",
        "|---|---|---|---|---|---|",
    ]
    for recording in sorted(ZOO):
        done = sigap("poll-once", host(recording), "-i", str(inventory), "--json")
        data = json.loads(done.stdout)
        p = data.get("platform") or {}
        rows = (data.get("snmp") or {}).get("interfaces") or []
        notable = [r for r in rows if r["index"] in ZOO[recording]["names"]] or rows[:3]
        names = ", ".join(f"{r['index']} `{r['name'] or r['descr']}`" for r in notable)
        more = ", ..." if len(rows) > len(notable) else ""
        system = " ".join(x for x in (p.get("os", ""), p.get("version", "")) if x)
        note = f" (inventory: {p['inventory']}, {p['status']})" if p.get("inventory") else ""
        vendor, model = str(p.get("vendor", "")), str(p.get("model", ""))
        cells = (recording, host(recording), vendor, model, system + note)
        cells += (f"{len(rows)}: {names}{more}",)
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="sigap-zoo-") as tmp, running(Path(tmp)) as env:
        print(table(env[0]))
