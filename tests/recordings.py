"""Real-device test data beside the project (``../shared/devices``): SNMP recordings, CLI outputs.

The files are read where they are, never copied into the project (their provenance is in
``SOURCES.md`` there). A test that needs them skips when the folder is absent;
``SIGAP_DEVICES_DIR`` points elsewhere.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterable

    from collectors.snmp import SnmpValue, TableColumns

DEVICES = Path(
    os.environ.get("SIGAP_DEVICES_DIR", Path(__file__).resolve().parents[2] / "shared" / "devices")
)
CLI = DEVICES / "cli"
_INTEGER_TAGS = frozenset({"2", "65", "66", "67", "70"})  # Integer32, Counter32, Gauge32, ...


def need(path: Path) -> Path:
    """Return ``path``; skip the test when the recordings are not there."""
    if not path.exists():
        pytest.skip(f"real-device recordings not found: {path}")
    return path


def value_of(tag: str, text: str) -> SnmpValue:
    """Decode one snmprec value as the collector hands it over (bytes, int, OID arcs)."""
    if tag in _INTEGER_TAGS:
        return int(text)
    if tag == "4x":
        return bytes.fromhex(text)
    if tag == "6":
        return tuple(int(x) for x in text.split("."))
    if tag == "64":
        return ipaddress.IPv4Address(text).packed
    return text.encode()


def snmprec(name: str, columns: Iterable[str]) -> TableColumns:
    """Return the given columns of ``<name>.snmprec`` as a column walk returns them."""
    wanted = sorted(columns, key=len, reverse=True)  # longest prefix first
    out: TableColumns = {column: {} for column in wanted}
    for line in need(DEVICES / f"{name}.snmprec").read_text().splitlines():
        oid, tag, text = line.split("|", 2)
        column = next((c for c in wanted if oid.startswith(c + ".")), None)
        if column is not None:
            index = tuple(int(x) for x in oid[len(column) + 1 :].split("."))
            out[column][index] = value_of(tag, text)
    return out


def cli_outputs(platform: str, command: str) -> list[Path]:
    """Return the real outputs of ``command`` (words joined by ``_``) on ``platform``."""
    found = sorted(need(CLI).glob(f"{platform}__{command}__*.raw"))
    assert found, f"no {platform} {command} outputs in {CLI}"
    return found
