"""Platform detection (collectors.platform) on every real-device recording and on hostile input."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from collectors.platform import (
    COLUMNS,
    DOT11_VERSION,
    ENT_CLASS,
    ENT_DESCR,
    ENT_MODEL,
    MAX_TEXT,
    MTXR_LIC_VERSION,
    SYS_DESCR,
    SYS_OBJECT_ID,
    Platform,
    detect,
)
from tests.hostile_text import CORPUS
from tests.recordings import snmprec
from tests.zoo_expect import ZOO

if TYPE_CHECKING:
    from collectors._snmp.ber import Value
    from tests.hostile_text import Hostile

Cols = dict[str, dict[tuple[int, ...], "Value"]]

pytestmark = pytest.mark.unit

ROS = (1, 3, 6, 1, 4, 1, 14988, 1)


def _sys(descr: bytes, oid: tuple[int, ...] = (), extra: Cols | None = None) -> Cols:
    columns: Cols = {SYS_DESCR: {(0,): descr}, SYS_OBJECT_ID: {(0,): oid} if oid else {}}
    columns.update(extra or {})
    return columns


@pytest.mark.parametrize("name", sorted(ZOO))
def test_every_recording_detected_as_its_file_says(name: str) -> None:
    vendor, model, os_, version, device_type = ZOO[name]["platform"]
    assert detect(snmprec(name, COLUMNS)) == Platform(vendor, model, os_, version, device_type)


def test_routeros_version_from_the_licence_when_no_hardware_table() -> None:
    columns = _sys(b"RouterOS RB4011iGS+", ROS, {MTXR_LIC_VERSION: {(0,): b"7.16.1"}})
    found = detect(columns)
    assert (found.model, found.version) == ("RB4011iGS+", "7.16.1")


def test_routeros_sysdescr_just_router_still_mikrotik_by_object_id() -> None:
    found = detect(_sys(b"router", ROS))
    assert (found.vendor, found.model, found.device_type) == ("MikroTik", "", "mikrotik_routeros")


def test_multi_line_quoted_cisco_sysdescr() -> None:
    descr = b'"Cisco IOS Software, C3560 Software (C3560-IPSERVICESK9-M), Version 12.2(55)SE12,\r\n'
    descr += b'Technical Support: http://www.cisco.com/techsupport\r\nCompiled by x"'
    found = detect(_sys(descr, (1, 3, 6, 1, 4, 1, 9, 1, 634)))
    assert (found.os, found.version, found.device_type) == ("IOS", "12.2(55)SE12", "cisco_ios")


def test_ios_xe_and_nx_os_by_sysdescr() -> None:
    xe = detect(_sys(b"Cisco IOS Software [Amsterdam], Cisco IOS XE Software, Version 17.3.4a"))
    nx = detect(_sys(b"Cisco NX-OS(tm) n9000, Software (n9000-dk9), Version 9.3(8), RELEASE"))
    assert (xe.device_type, xe.version) == ("cisco_xe", "17.3.4a")
    assert (nx.device_type, nx.version) == ("cisco_nxos", "9.3(8)")


def test_chassis_row_wins_over_lower_indexed_rows() -> None:
    extra: Cols = {
        ENT_MODEL: {(1,): b"STACK", (1001,): b"WS-C2960X-24PS-L"},
        ENT_CLASS: {(1,): 11, (1001,): 3},
    }
    found = detect(_sys(b"Cisco IOS Software, Version 15.2(7)E8", (1, 3, 6, 1, 4, 1, 9, 1), extra))
    assert found.model == "WS-C2960X-24PS-L"


def test_edgeos_and_plain_linux() -> None:
    edge = detect(_sys(b"EdgeOS v2.0.9-hotfix.7.5622731.230615.0857"))
    linux = detect(_sys(b"Linux noc 6.1.0-lab-amd64 #1 SMP", (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)))
    assert (edge.vendor, edge.device_type) == ("Ubiquiti", "ubiquiti_edgerouter")
    assert (linux.os, linux.version, linux.device_type) == ("Linux", "6.1.0-lab-amd64", "linux")


def test_unknown_device_is_empty_not_an_error() -> None:
    found = detect(_sys(b"Acme Widget 3000", (1, 3, 6, 1, 4, 1, 99999, 1)))
    assert found == Platform()
    assert not found.known
    assert found.summary() == "tidak dikenal"


def test_summary_one_line() -> None:
    found = Platform("MikroTik", "RB760iGS", "RouterOS", "7.1.1", "mikrotik_routeros")
    assert found.summary() == "MikroTik RB760iGS, RouterOS 7.1.1 [mikrotik_routeros]"


# ---------------------------------------------------------------- hostile answers


@pytest.mark.parametrize(
    "columns",
    [
        {},
        {SYS_DESCR: {}},
        {SYS_DESCR: {(0,): None}, SYS_OBJECT_ID: {(0,): None}},
        {SYS_DESCR: {(0,): 42}, SYS_OBJECT_ID: {(0,): b"1.3.6.1.4.1.14988.1"}},  # wrong types
        {SYS_DESCR: {(0,): (1, 2, 3)}, SYS_OBJECT_ID: {(0,): 7}},
        {SYS_DESCR: {(0,): b"\xff\xfe\x00\x01"}},
        {SYS_DESCR: {(0,): b"\0RouterOS RB1"}},  # NUL first: nothing
    ],
)
def test_malformed_or_missing_columns_give_unknown(columns: Cols) -> None:
    assert detect(columns) == Platform()


def test_wrong_types_in_vendor_columns_are_skipped() -> None:
    columns = _sys(
        b"RouterOS RB1", ROS, {ENT_DESCR: {(65536,): 5}, MTXR_LIC_VERSION: {(0,): (1, 2)}}
    )
    found = detect(columns)
    assert found.device_type == "mikrotik_routeros"
    assert found.version == "1.2"  # an OID value read as its dotted text, never a crash


def test_huge_values_are_cut() -> None:
    columns = _sys(b"RouterOS " + b"X" * 100_000, ROS, {MTXR_LIC_VERSION: {(0,): b"7" * 10_000}})
    found = detect(columns)
    assert len(found.model) == MAX_TEXT
    assert len(found.version) == MAX_TEXT


def test_airos_needs_its_firmware_string() -> None:
    assert detect({DOT11_VERSION: {(7,): b"not a firmware"}}) == Platform()
    assert detect({DOT11_VERSION: {(7,): b"XW.ar934x.v6.3.2.12345"}}).os == "airOS"


@pytest.mark.parametrize("hostile", CORPUS, ids=lambda h: h.marker[:20])
def test_hostile_text_is_one_line_and_bounded(hostile: Hostile) -> None:
    raw = hostile.text.encode("utf-8", errors="surrogateescape")
    found = detect(_sys(b"RouterOS " + raw, ROS, {MTXR_LIC_VERSION: {(0,): b"7 " + raw}}))
    assert found.device_type == "mikrotik_routeros"
    for value in (found.model, found.version):
        assert "\n" not in value
        assert "\r" not in value
        assert len(value) <= MAX_TEXT


def test_a_cisco_that_runs_no_ios_is_cisco_without_a_device_type() -> None:
    descr = b"Cisco Adaptive Security Appliance Version 9.16(4)"
    found = detect(_sys(descr, (1, 3, 6, 1, 4, 1, 9, 1, 2113), {ENT_MODEL: {(1,): b"ASA5506"}}))
    assert found == Platform("Cisco", "ASA5506", "", "", "")
    assert not found.known
