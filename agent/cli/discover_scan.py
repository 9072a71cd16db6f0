"""``sigap discover --scan CIDR[,CIDR...]``: find new devices and propose inventory entries.

The work is :func:`agent.discovery.service.scan`; this module builds the collectors, shows the
proposal (one block per device, then the unified diff) and, with ``--apply``, writes it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from agent.cli.options import err_console, load, write_inventory
from agent.present.terminal import SafeConsole, safe_console

PROGRESS_EVERY_S = 15

if TYPE_CHECKING:
    from pathlib import Path

    from agent.config.model import Inventory
    from agent.discovery.model import Proposal


def _propose(inventory: Inventory, ranges: str, *, force: bool, rate: int) -> Proposal:
    import asyncio

    from agent.discovery.probe import Limits
    from agent.discovery.service import scan  # the scan stack on use
    from agent.discovery.targets import parse_ranges
    from agent.wiring import scan_collectors
    from collectors.model import utc_now

    count = sum(n.num_addresses for n in parse_ranges(ranges, force=force))
    err_console.print(
        f"Memindai {count} alamat, {rate} per detik (sekitar {count // rate + 2} detik)...",
        markup=False,
    )
    limits = Limits(rate=rate)
    every = rate * PROGRESS_EVERY_S

    def progress(sent: int) -> None:
        if sent % every < rate and sent >= every:  # about every PROGRESS_EVERY_S seconds
            err_console.print(f"  {sent} alamat sudah di-ping...", markup=False)

    async def run() -> Proposal:
        async with scan_collectors() as (pinger, walker):
            return await scan(
                inventory, ranges, pinger=pinger, walker=walker, at=utc_now(), force=force,
                limits=limits, progress=progress,
            )  # fmt: skip

    return asyncio.run(run())


def _show(found: Proposal, out: SafeConsole) -> None:
    out.print(
        f"Dipindai: {', '.join(found.ranges)} ({found.probed} alamat di luar inventory); "
        f"perangkat inventory yang menjawab: {len(found.known_seen)}",
        markup=False,
    )
    if not found.hosts:
        out.print("Tidak ada perangkat baru.", markup=False)
        return
    out.print(f"Perangkat baru ({len(found.hosts)}):", markup=False)
    for h in found.hosts:
        parent = h.parent or "-"
        out.print(
            f"  {h.name} {h.address}  {h.role}  {h.platform or '-'}  induk {parent}  "
            f"OPD {h.opd.opd if h.opd else '-'}",
            markup=False,
        )
        for marker in h.markers:
            out.print(f"      - {marker}", markup=False)


def scan_cmd(
    inventory_path: Path,
    ranges: str,
    *,
    force: bool,
    rate: int,
    do_apply: bool,
    yes: bool,
    as_json: bool,
    db: str | None = None,
) -> None:
    """Scan, show the proposal and its diff, and write it when asked."""
    from agent.discovery import yamlout

    inventory = load(inventory_path)
    found = _propose(inventory, ranges, force=force, rate=rate)
    out = safe_console(soft_wrap=True)
    if as_json:
        out.print_json(json.dumps(found.to_json()))
    else:
        _show(found, out)
        if found.diff:
            out.print(found.diff, markup=False)
    if not do_apply or not found.hosts:
        return
    problems = yamlout.problems_of(inventory_path, found.text)
    if problems:
        out.print(f"Usulan tidak lolos `sigap check`; tidak ditulis:\n{problems}", markup=False)
        raise typer.Exit(1)
    if not yes and not typer.confirm(f"Tulis {len(found.hosts)} perangkat ke {inventory_path}?"):
        out.print("Dibatalkan; inventory tidak diubah.", markup=False)
        raise typer.Exit(1)
    reload = write_inventory(
        inventory, db, found.before, found.text,
        summary=f"sigap discover --scan {ranges}: {len(found.hosts)} perangkat baru",
    )  # fmt: skip
    (err_console if as_json else out).print(
        f"{inventory_path}: {len(found.hosts)} perangkat ditulis (cadangan dan jejak audit "
        f"tersimpan); `sigap check` bersih. {reload}",
        markup=False,
    )
