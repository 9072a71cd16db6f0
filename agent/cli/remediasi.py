"""``sigap remediasi list|jalankan``: playbooks, the allow-list, technician-triggered runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.table import Table

from agent.cli.options import DEFAULT_INVENTORY, DbOpt, InventoryOpt, NumberArg, load
from agent.errors import AgentError
from agent.present.terminal import SafeConsole, data, safe_console
from ticketing.people import Role
from ticketing.states import RunStatus

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from rich.text import Text

    from agent.config.model import Inventory
    from agent.remediation.runner import Outcome
    from ticketing.remediation import RunView

remediasi_app = typer.Typer(
    help="Perbaikan otomatis lewat SSH / remediation playbooks.", no_args_is_help=True
)
MAX_NAMES: Final = 6
RUNNERS: Final = frozenset({Role.TEKNISI.value, Role.KASI.value})


def register(app: typer.Typer) -> None:
    """Add ``remediasi`` to ``app``."""
    app.add_typer(remediasi_app, name="remediasi")


def _console() -> SafeConsole:
    return safe_console(soft_wrap=True)


@remediasi_app.command("list")
def remediasi_list(inventory_path: InventoryOpt = DEFAULT_INVENTORY) -> None:
    """Daftar playbook dan daftar izin per perangkat / playbooks and the allow-list."""
    from agent.remediation.playbooks import load_playbooks  # on use

    inventory = load(inventory_path)
    book = load_playbooks(inventory.remediation.playbooks_dir)
    out = _console()
    table = Table("playbook", "gangguan", "platform", "uraian", title="Playbook")
    for p in book:
        kinds = ", ".join([p.fault.value, *sorted(p.also)])
        table.add_row(p.name, kinds, ", ".join(sorted(p.platforms)), p.title)
    out.print(table)
    groups: dict[tuple[tuple[str, ...], bool], list[str]] = {}
    for d in inventory.devices.values():
        if d.remediation.enabled:
            groups.setdefault((d.remediation.playbooks, d.remediation.dry_run), []).append(d.name)
    allow = Table("playbook diizinkan", "mode", "perangkat", title="Daftar izin (inventaris)")
    for (names, dry), devices in sorted(groups.items()):
        shown = ", ".join(devices[:MAX_NAMES])
        more = f" +{len(devices) - MAX_NAMES} lagi" if len(devices) > MAX_NAMES else ""
        mode = "uji kering" if dry else "jalan"
        allow.add_row(", ".join(names) or "-", mode, f"{len(devices)}: {shown}{more}")
    out.print(allow if allow.row_count else "Perbaikan otomatis tidak aktif di perangkat mana pun.")
    s = inventory.remediation
    out.print(
        f"Batas: {s.max_runs_per_fault_per_day}x per gangguan per hari, {s.max_concurrent} sesi "
        f"bersamaan; kunci host: {s.known_hosts} ({s.host_key_policy})"
    )


@remediasi_app.command("jalankan")
def remediasi_jalankan(
    number: NumberArg,
    oleh: Annotated[str, typer.Option("--oleh", help="Teknisi/Kasi yang menjalankan.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Hanya catat apa yang akan dijalankan.")
    ] = False,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Jalankan playbook tiket (penjaga yang sama dengan agen) / run a ticket's playbook."""
    import asyncio

    from agent.lab.control import refuse_lab_inventory_outside_lab

    inventory = load(inventory_path)
    person = next((p for p in inventory.people if p.name == oleh), None)
    if person is None or person.role not in RUNNERS:
        raise AgentError(f"{oleh!r} bukan teknisi atau kasi di people {inventory.path.name}")
    refuse_lab_inventory_outside_lab(inventory)
    outcome = asyncio.run(_run(inventory, db, number, oleh, dry_run=dry_run))
    out = _console()
    if outcome.status is None:
        raise AgentError(f"{number}: tidak ada playbook: {outcome.reason}")
    out.print(
        f"{number}: {outcome.playbook} -> {outcome.status.value}"
        + (f" ({outcome.reason})" if outcome.reason else "")
    )
    for line in outcome.lines:
        out.print(f"  akan dikirim: {line}")
    if outcome.status not in (RunStatus.SUCCEEDED, RunStatus.DRY_RUN):
        raise typer.Exit(1)


async def _run(
    inventory: Inventory, db: str | None, number: str, actor: str, *, dry_run: bool
) -> Outcome:
    from agent.remediation.interfaces import SnmpInterfaces, SnmpPlatforms
    from agent.remediation.playbooks import load_playbooks
    from agent.remediation.runner import Remediator
    from agent.wiring import open_store, snmp_collector, ticket_service
    from collectors.model import utc_now
    from ticketing.remediation import RemediationLog

    with open_store(inventory, db, migrate=True) as store:
        ticket = store.get(number)
        snmp = snmp_collector()
        await snmp.start()
        remediator = Remediator(
            inventory,
            load_playbooks(inventory.remediation.playbooks_dir),
            RemediationLog(store),
            ticket_service(inventory, store, utc_now),
            SnmpInterfaces(snmp),
            now=utc_now,
            platforms=SnmpPlatforms(snmp),  # a platform the inventory omits (issue 18)
        )
        try:
            return await remediator.consider(ticket, actor=actor, dry_run=dry_run or None)
        finally:
            remediator.close()
            await snmp.close()


def runs_section(runs: list[RunView], tz: ZoneInfo, *, transcripts: bool = True) -> Text:
    """Text of ``tiket show``'s remediation section: each run, its reason and transcript."""
    from agent.remediation.transcript import render
    from ticketing.remediation import WORDS  # SQLAlchemy: the store is open

    out = ["Perbaikan otomatis:"]
    for r in runs:
        when = r.started_at.astimezone(tz).strftime("%d-%m-%Y %H:%M:%S")
        line = f"  #{r.id} {when} {r.playbook} {r.interface} oleh {r.actor}: {WORDS[r.status]}"
        out.append(line + (f" - {r.reason}" if r.reason else ""))
        if transcripts and r.transcript:
            out += [f"    {t}" for t in render(r.transcript).splitlines()]
    return data("\n".join(out))  # device output: "[...]" prompts are text, ESC is shown


def runs_json(runs: list[RunView]) -> list[dict[str, object]]:
    """The runs as JSON-ready dicts (``tiket show --json``)."""
    return [
        {
            "id": r.id,
            "playbook": r.playbook,
            "interface": r.interface,
            "actor": r.actor,
            "status": r.status.value,
            "reason": r.reason,
            "started_at": r.started_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "transcript": list(r.transcript),
        }
        for r in runs
    ]
