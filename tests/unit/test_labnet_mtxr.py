"""labnet.mtxr: the lab's MIKROTIK-MIB pass_persist helper (protocol, values, hostile input)."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import pytest

from labnet import mtxr, snmpd

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

B = ".1.3.6.1.4.1.14988.1.1"


def talk(path: Path, script: str) -> list[str]:
    out = io.StringIO()
    mtxr.serve(path, io.StringIO(script), out)
    return out.getvalue().splitlines()


def test_protocol_get_getnext_walk_and_set(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    mtxr.write(path, mtxr.Values(radio_ifindex=7, temperature_c=82, signal_dbm=-78))
    lines = talk(
        path,
        f"PING\nget\n{B}.3.100.1.3.17\ngetnext\n{B}.1.1.1.4\ngetnext\n{B}.3.100.1.4.7401\n"
        f"get\n{B}.3.100.1.3.99\nset\n{B}.3.100.1.3.17\ninteger 1\n",
    )
    assert lines == [
        "PONG",
        f"{B}.3.100.1.3.17", "gauge", "82",
        f"{B}.1.1.1.4.7", "integer", "-78",
        "NONE",
        "NONE",
        "not-writable",
    ]  # fmt: skip


def test_a_walk_of_the_subtree_visits_every_row_in_order(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    mtxr.write(path, mtxr.Values(radio_ifindex=3))
    oid, seen = B, []
    for _ in range(100):
        (answer, *_rest) = talk(path, f"getnext\n{oid}\n")
        if answer == "NONE":
            break
        seen.append(answer)
        oid = answer
    assert len(seen) == 9 + 5  # three gauges (name, value, unit), five station columns
    assert seen == sorted(seen, key=lambda o: tuple(int(x) for x in o.strip(".").split(".")))


def test_values_file_changes_are_seen_and_defaults_without_it(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    assert talk(path, f"get\n{B}.3.100.1.3.17\n") == [f"{B}.3.100.1.3.17", "gauge", "45"]
    mtxr.write(path, mtxr.Values(temperature_c=90))
    assert talk(path, f"get\n{B}.3.100.1.3.17\n")[2] == "90"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2]",
        '{"temperature_c": "hot"}',
        '{"signal_dbm": null, "x": 1}',
        "{" * 10000,
    ],
)
def test_broken_values_file_gives_defaults(tmp_path: Path, text: str) -> None:
    path = tmp_path / "health.json"
    path.write_text(text)
    assert mtxr.read(path) == mtxr.Values()


@pytest.mark.parametrize("oid", ["", "garbage", ".1.3.x", "\x00", "1." * 5000])
def test_hostile_requests_answer_none(tmp_path: Path, oid: str) -> None:
    assert talk(tmp_path / "h.json", f"get\n{oid}\n") == ["NONE"]


def test_fault_values_keep_their_types(tmp_path: Path) -> None:
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"voltage_v": 12, "psu_ok": False, "ccq_pct": 40.5}))
    values = mtxr.read(path)
    assert (values.voltage_v, values.psu_ok, values.ccq_pct) == (12, False, 95)


def test_only_routeros_agents_get_the_helper(tmp_path: Path) -> None:
    (line,) = snmpd.mtxr_lines("mikrotik_routeros", tmp_path)
    assert line.startswith(f"pass_persist {B} ")
    assert line.endswith(f"-I {mtxr.__file__} {tmp_path / 'health.json'}")
    assert snmpd.mtxr_lines("cisco_ios", tmp_path) == []
