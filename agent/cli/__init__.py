"""``sigap`` command line: the only place that prints and turns exceptions into exit codes.

Exit codes: 0 ok, 1 operational error (``AgentError``, ticketing, lab), 2 configuration or
usage error (``ConfigError``), 130 interrupted. Tracebacks only with ``--debug``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from typer.exceptions import TyperException

from agent.cli.diagnose import register as register_diagnose
from agent.cli.intake import intake_app
from agent.cli.notifikasi import notifikasi_app
from agent.cli.remediasi import remediasi_app
from agent.cli.tiket import laporan_app, program_app, show_ticket, tiket_sop_app
from agent.cli.topology import register as register_topology
from agent.cli.web import web_app
from agent.config.load import load_inventory
from agent.errors import AgentError, ConfigError
from agent.lab import control as labctl
from agent.present.labels import STATUS_LABEL
from agent.present.render import local, ticket_table, ticket_to_json
from agent.runtime import logfmt
from collectors.errors import CollectorError
from collectors.model import utc_now
from labnet.errors import LabError
from ticketing.errors import TicketingError
from ticketing.states import TicketState  # noqa: TC001 - typer reads annotations at runtime

if TYPE_CHECKING:
    from agent.config.model import Inventory

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)  # errors: never re-wrap
logger = logging.getLogger("agent.cli")

DEFAULT_INVENTORY = "inventory.yaml"

app = typer.Typer(
    help="sigap: pemantauan jaringan OPD dan tiket gangguan (Diskominfo Lombok Tengah).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
tiket_app = typer.Typer(help="Tiket gangguan / trouble tickets.", no_args_is_help=True)
lab_app = typer.Typer(
    help="Simulated OPD network in network namespaces (root only).", no_args_is_help=True
)
app.add_typer(tiket_app, name="tiket")
app.add_typer(lab_app, name="lab")
tiket_app.add_typer(tiket_sop_app)  # lapor, disposisi, tugaskan, tangani, selesai
app.add_typer(program_app, name="program-kegiatan")
app.add_typer(laporan_app, name="laporan")
app.add_typer(notifikasi_app, name="notifikasi")
app.add_typer(remediasi_app, name="remediasi")
register_topology(app)  # discover, peta (issue 11)
app.add_typer(intake_app, name="intake")
app.add_typer(web_app, name="web")  # the web ticket board (issue 10)
register_diagnose(app)  # diagnose, poll-once (issue 9)

InventoryOpt = Annotated[
    Path,
    typer.Option(
        "--inventory", "-i", envvar="SIGAP_INVENTORY", help="Inventory file (inventory.yaml)."
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="SIGAP_DB_URL",
        help="Database URL (sqlite:///path or postgresql+psycopg://...). "
        "Default: inventory daemon.database, else sqlite:////var/lib/sigap/sigap.db.",
    ),
]


class _State:
    debug: bool = False


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", envvar="SIGAP_LOG_LEVEL")] = "INFO",
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            envvar="SIGAP_LOG_FORMAT",
            help="auto (journal under systemd, else text), text, journal or json.",
        ),
    ] = "auto",
) -> None:
    _State.debug = debug
    if log_format not in logfmt.FORMATS:
        raise typer.BadParameter(
            f"expected one of {', '.join(logfmt.FORMATS)}", param_hint="--log-format"
        )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logfmt.formatter(log_format))
    logging.basicConfig(
        level=logging.DEBUG if debug else getattr(logging, log_level.upper(), logging.INFO),
        handlers=[handler],
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


# ---------------------------------------------------------------- check / run


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="Inventory file to validate.")] = Path(
        DEFAULT_INVENTORY
    ),
) -> None:
    """Validate the inventory; list every problem with its line (exit 2 on problems)."""
    inventory = load_inventory(file)
    routers = sum(1 for d in inventory.devices.values() if d.role == "router")
    console.print(
        f"{file}: OK - {len(inventory.devices)} devices ({routers} routers), "
        f"{len(inventory.opds())} OPD, {len(inventory.people)} people"
    )
    if inventory.warnings:
        count = len(inventory.warnings)
        console.print(f"{file}: {count} warning{'s' if count != 1 else ''}", markup=False)
        for warning in inventory.warnings:
            console.print(f"  {warning}", markup=False, soft_wrap=True)


@app.command()
def run(
    inventory_path: InventoryOpt = Path(DEFAULT_INVENTORY),
    db: DbOpt = None,
    ready_file: Annotated[
        Path | None, typer.Option(help="Write this file once every device was polled.")
    ] = None,
    hold_down: Annotated[
        float | None, typer.Option(help="Override tickets.hold_down (seconds).")
    ] = None,
) -> None:
    """Run the monitoring daemon (foreground; systemd runs it as a service)."""
    from prometheus_client import CollectorRegistry  # noqa: PLC0415

    from agent.notify.wiring import notifier_for  # noqa: PLC0415
    from agent.remediation.runner import for_daemon  # noqa: PLC0415
    from agent.runtime.daemon import Daemon  # noqa: PLC0415 - keep `sigap check` light
    from agent.runtime.metrics import Metrics  # noqa: PLC0415
    from agent.topology.watcher import for_daemon as topology_for  # noqa: PLC0415
    from agent.wiring import (  # noqa: PLC0415
        open_store,
        snmp_collector,
        ticket_service,
    )
    from collectors.ping import PingCollector  # noqa: PLC0415

    inventory = load_inventory(inventory_path)
    labctl.refuse_lab_inventory_outside_lab(inventory)
    store = open_store(inventory, db, hold_down=hold_down)
    uses_snmp = any(d.snmp is not None for d in inventory.devices.values())
    service = ticket_service(inventory, store, utc_now)
    repairs = any(d.remediation.enabled for d in inventory.devices.values())

    def reload() -> Inventory:
        fresh = load_inventory(inventory_path)
        labctl.refuse_lab_inventory_outside_lab(fresh)
        return fresh

    snmp = snmp_collector() if uses_snmp else None
    daemon = Daemon(
        inventory,
        store,
        PingCollector(),
        ready_file=ready_file,
        snmp=snmp,
        service=service,
        remediator=for_daemon(inventory, store, service, utc_now) if repairs else None,
        notifier=lambda d: notifier_for(inventory, store, run_blocking=d.writer.call),
        metrics=Metrics(CollectorRegistry()),
        reload=reload,
        topology=topology_for(snmp) if snmp is not None else None,  # issue 11
    )
    try:
        asyncio.run(daemon.run())
    finally:
        store.close()


# ---------------------------------------------------------------- tiket


@tiket_app.command("list")
def tiket_list(
    inventory_path: InventoryOpt = Path(DEFAULT_INVENTORY),
    db: DbOpt = None,
    status: Annotated[
        list[TicketState] | None,
        typer.Option("--status", "-s", help="open / recovering / resolved (repeatable)."),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts.")] = False,
) -> None:
    """Daftar tiket / list tickets."""
    from agent.wiring import open_store  # noqa: PLC0415 - SQLAlchemy only when needed

    inventory = load_inventory(inventory_path)
    with open_store(inventory, db) as store:
        tickets = store.list(status=status or None, limit=limit)
    if as_json:
        console.print_json(json.dumps([ticket_to_json(t) for t in tickets]))
        return
    if not tickets:
        console.print("Tidak ada tiket.")
        return
    console.print(ticket_table(tickets, inventory.tz, console.width))


@tiket_app.command("show")
def tiket_show(
    number: Annotated[str, typer.Argument(help="Ticket number, e.g. GJ/2026/0001.")],
    inventory_path: InventoryOpt = Path(DEFAULT_INVENTORY),
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts.")] = False,
    transkrip: Annotated[
        bool, typer.Option("--transkrip/--tanpa-transkrip", help="Transkrip perbaikan otomatis.")
    ] = True,
) -> None:
    """Rincian tiket / show one ticket: devices, SOP timeline, events, remediation transcripts."""
    show_ticket(number, inventory_path, db, as_json=as_json, transcripts=transkrip)


# ---------------------------------------------------------------- lab


@lab_app.command("up")
def lab_up(inventory_path: InventoryOpt = Path(DEFAULT_INVENTORY)) -> None:
    """Build the lab network described by the inventory (idempotent)."""
    inventory = load_inventory(inventory_path)
    status = labctl.up(inventory)
    console.print(
        f"lab up: {len(status.devices)} devices, agent namespace {status.noc_netns} "
        f"(no route out of the lab); guard table {labctl.lab().name}_guard in the root namespace"
    )


@lab_app.command("down")
def lab_down() -> None:
    """Remove the lab: namespaces, links, guard, state (also after a crash)."""
    labctl.lab().down()
    console.print("lab down")


@lab_app.command("status")
def lab_status() -> None:
    """Show whether the lab is up and which faults are injected."""
    status = labctl.lab().status()
    if not status.is_up:
        console.print("lab down" + "".join(f"\n  {p}" for p in status.problems))
        raise typer.Exit(1)
    table = Table("device", "fault", title=f"lab {status.name}: {len(status.devices)} devices")
    for name, faults in sorted(status.faults.items()):
        if faults.any:
            table.add_row(name, labctl.describe_faults(faults))
    console.print(table if table.row_count else f"lab up: {len(status.devices)} devices, no faults")
    for problem in status.problems:
        console.print(f"[yellow]problem:[/] {problem}")


@lab_app.command("fail")
def lab_fail(device: str) -> None:
    """Make DEVICE silently dead (its children become unreachable too)."""
    labctl.lab().fail(device)
    console.print(f"{device}: failed")


@lab_app.command("restore")
def lab_restore(device: str) -> None:
    """Undo every fault injected on DEVICE."""
    labctl.lab().restore(device)
    console.print(f"{device}: restored")


@lab_app.command("link-down")
def lab_link_down(device: str) -> None:
    """Take DEVICE's uplink down."""
    labctl.lab().link_down(device)
    console.print(f"{device}: uplink down")


@lab_app.command("loss")
def lab_loss(
    device: str, pct: Annotated[int, typer.Argument(min=0, max=100, help="Percent lost.")]
) -> None:
    """Drop PCT % of packets arriving at DEVICE (0 removes the loss)."""
    labctl.lab().loss(device, pct)
    console.print(f"{device}: {pct}% loss")


@lab_app.command("ports")
def lab_ports(device: str) -> None:
    """List DEVICE's uplink and LAN ports (their ifName in SNMP)."""
    handle = labctl.lab()
    console.print(
        f"{device}: uplink {handle.uplink(device)}; LAN {', '.join(handle.ports(device))}"
    )


@lab_app.command("if-down")
def lab_if_down(device: str, port: str) -> None:
    """Set PORT of DEVICE administratively down (ifAdminStatus down)."""
    labctl.lab().if_down(device, port)
    console.print(f"{device} {port}: admin down")


@lab_app.command("if-up")
def lab_if_up(device: str, port: str) -> None:
    """Set PORT of DEVICE administratively up again."""
    labctl.lab().if_up(device, port)
    console.print(f"{device} {port}: admin up")


@lab_app.command("unplug")
def lab_unplug(device: str, port: str) -> None:
    """Pull the cable of PORT (admin up, oper down)."""
    labctl.lab().unplug(device, port)
    console.print(f"{device} {port}: unplugged")


@lab_app.command("plug")
def lab_plug(device: str, port: str) -> None:
    """Plug the cable of PORT back in."""
    labctl.lab().plug(device, port)
    console.print(f"{device} {port}: plugged in")


@lab_app.command("snmp-stop")
def lab_snmp_stop(device: str) -> None:
    """Stop DEVICE's SNMP agent (ping still answers)."""
    labctl.lab().snmp_stop(device)
    console.print(f"{device}: snmpd stopped")


@lab_app.command("snmp-start")
def lab_snmp_start(device: str) -> None:
    """Start DEVICE's SNMP agent again."""
    labctl.lab().snmp_start(device)
    console.print(f"{device}: snmpd started")


@lab_app.command("snmp-restart")
def lab_snmp_restart(device: str) -> None:
    """Restart DEVICE's SNMP agent (sysUpTime resets; not a reboot of the device)."""
    labctl.lab().snmp_restart(device)
    console.print(f"{device}: snmpd restarted")


@lab_app.command(
    "exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def lab_exec(ctx: typer.Context) -> None:
    """Run a command inside the lab's NOC namespace, e.g. `sigap lab exec -- sigap run`."""
    if not ctx.args:
        raise typer.BadParameter("give the command to run after --")
    argv = labctl.lab().noc_argv(ctx.args)
    os.execvp(argv[0], argv)  # noqa: S606 - fixed argv, no shell


# ---------------------------------------------------------------- demo


@app.command()
def demo(
    inventory_path: InventoryOpt = Path(DEFAULT_INVENTORY),
    keep: Annotated[bool, typer.Option("--keep", help="Leave the lab and agent data.")] = False,
    hold_down: Annotated[float, typer.Option(help="Hold-down for the demo (s).")] = 10.0,
) -> None:
    """Lab + agent + scripted outages: watch tickets open, attach and close (< 3 min)."""
    from agent.lab.demo import Demo  # noqa: PLC0415

    inventory = load_inventory(inventory_path)
    ok = Demo(inventory, console, keep=keep, hold_down=hold_down).run()
    if not ok:
        raise typer.Exit(1)


# ---------------------------------------------------------------- helpers


def main() -> None:
    """Entry point of the ``sigap`` console script."""
    try:
        code = app(standalone_mode=False)
    except ConfigError as exc:
        err_console.print(str(exc), markup=False)
        code = 2
    except typer.Exit as exc:
        code = exc.exit_code
    except TyperException as exc:  # usage errors (bad option, missing argument)
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(f"error: {exc.format_message()}", markup=False)
        code = 2
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("interrupted")
        code = 130
    except SQLAlchemyError as exc:  # e.g. the database is unreachable: say where, no traceback
        if _State.debug:
            logger.exception("database error")
        err_console.print(f"error: database: {exc.__class__.__name__}: {exc}", markup=False)
        code = 1
    except (AgentError, CollectorError, TicketingError, LabError) as exc:
        if _State.debug:
            logger.exception("failed")
        err_console.print(f"error: {exc}", markup=False)
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["STATUS_LABEL", "app", "local", "main"]
