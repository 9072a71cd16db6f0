"""``sigap lab ...``: the simulated OPD network in network namespaces (root only)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from agent.cli.options import DEFAULT_INVENTORY, InventoryOpt, console, load

if TYPE_CHECKING:
    from labnet.lab import Lab

lab_app = typer.Typer(
    help="Simulated OPD network in network namespaces (root only).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add ``lab`` to ``app``."""
    app.add_typer(lab_app, name="lab")


def _lab() -> Lab:
    """The lab of this machine (labnet is imported by the lab commands only)."""
    from agent.lab.control import lab  # labnet on use

    return lab()


@lab_app.command("up")
def lab_up(inventory_path: InventoryOpt = DEFAULT_INVENTORY) -> None:
    """Build the lab network described by the inventory (idempotent)."""
    from agent.lab.control import up  # labnet on use

    status = up(load(inventory_path))
    console.print(
        f"lab up: {len(status.devices)} devices, agent namespace {status.noc_netns} "
        f"(no route out of the lab); guard table {_lab().name}_guard in the root namespace"
    )


@lab_app.command("down")
def lab_down() -> None:
    """Remove the lab: namespaces, links, guard, state (also after a crash)."""
    _lab().down()
    console.print("lab down")


@lab_app.command("status")
def lab_status() -> None:
    """Show whether the lab is up and which faults are injected."""
    from agent.lab.control import describe_faults  # labnet on use

    status = _lab().status()
    if not status.is_up:
        console.print("lab down" + "".join(f"\n  {p}" for p in status.problems))
        raise typer.Exit(1)
    table = Table("device", "fault", title=f"lab {status.name}: {len(status.devices)} devices")
    for name, faults in sorted(status.faults.items()):
        if faults.any:
            table.add_row(name, describe_faults(faults))
    console.print(table if table.row_count else f"lab up: {len(status.devices)} devices, no faults")
    for problem in status.problems:
        console.print(Text.assemble(("problem:", "yellow"), f" {problem}"))


@lab_app.command("fail")
def lab_fail(device: str) -> None:
    """Make DEVICE silently dead (its children become unreachable too)."""
    _lab().fail(device)
    console.print(f"{device}: failed")


@lab_app.command("restore")
def lab_restore(device: str) -> None:
    """Undo every fault injected on DEVICE."""
    _lab().restore(device)
    console.print(f"{device}: restored")


@lab_app.command("link-down")
def lab_link_down(device: str) -> None:
    """Take DEVICE's uplink down."""
    _lab().link_down(device)
    console.print(f"{device}: uplink down")


@lab_app.command("loss")
def lab_loss(
    device: str, pct: Annotated[int, typer.Argument(min=0, max=100, help="Percent lost.")]
) -> None:
    """Drop PCT % of packets arriving at DEVICE (0 removes the loss)."""
    _lab().loss(device, pct)
    console.print(f"{device}: {pct}% loss")


@lab_app.command("ports")
def lab_ports(device: str) -> None:
    """List DEVICE's uplink and LAN ports (their ifName in SNMP)."""
    handle = _lab()
    console.print(
        f"{device}: uplink {handle.uplink(device)}; LAN {', '.join(handle.ports(device))}"
    )


@lab_app.command("if-down")
def lab_if_down(device: str, port: str) -> None:
    """Set PORT of DEVICE administratively down (ifAdminStatus down)."""
    _lab().if_down(device, port)
    console.print(f"{device} {port}: admin down")


@lab_app.command("if-up")
def lab_if_up(device: str, port: str) -> None:
    """Set PORT of DEVICE administratively up again."""
    _lab().if_up(device, port)
    console.print(f"{device} {port}: admin up")


@lab_app.command("unplug")
def lab_unplug(device: str, port: str) -> None:
    """Pull the cable of PORT (admin up, oper down)."""
    _lab().unplug(device, port)
    console.print(f"{device} {port}: unplugged")


@lab_app.command("plug")
def lab_plug(device: str, port: str) -> None:
    """Plug the cable of PORT back in."""
    _lab().plug(device, port)
    console.print(f"{device} {port}: plugged in")


@lab_app.command("snmp-stop")
def lab_snmp_stop(device: str) -> None:
    """Stop DEVICE's SNMP agent (ping still answers)."""
    _lab().snmp_stop(device)
    console.print(f"{device}: snmpd stopped")


@lab_app.command("snmp-start")
def lab_snmp_start(device: str) -> None:
    """Start DEVICE's SNMP agent again."""
    _lab().snmp_start(device)
    console.print(f"{device}: snmpd started")


@lab_app.command("snmp-restart")
def lab_snmp_restart(device: str) -> None:
    """Restart DEVICE's SNMP agent (sysUpTime resets; not a reboot of the device)."""
    _lab().snmp_restart(device)
    console.print(f"{device}: snmpd restarted")


@lab_app.command("health")
def lab_health(
    device: str,
    *,
    temperature: Annotated[int | None, typer.Option(help="cpu-temperature in C.")] = None,
    voltage: Annotated[float | None, typer.Option(help="Supply voltage in V.")] = None,
    signal: Annotated[int | None, typer.Option(help="Radio signal in dBm.")] = None,
    ccq: Annotated[int | None, typer.Option(min=0, max=100, help="Radio CCQ in %.")] = None,
    psu_ok: Annotated[bool | None, typer.Option("--psu-ok/--psu-fail")] = None,
) -> None:
    """Change what RouterOS DEVICE reports in MIKROTIK-MIB (health and its radio uplink)."""
    wanted = {
        "temperature_c": temperature,
        "voltage_v": voltage,
        "signal_dbm": signal,
        "ccq_pct": ccq,
        "psu_ok": psu_ok,
    }
    changes = {k: v for k, v in wanted.items() if v is not None}
    _lab().health(device, **changes)
    console.print(f"{device}: " + ", ".join(f"{k}={v}" for k, v in changes.items()))


@lab_app.command(
    "exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def lab_exec(ctx: typer.Context) -> None:
    """Run a command inside the lab's NOC namespace, e.g. `sigap lab exec -- sigap run`."""
    if not ctx.args:
        raise typer.BadParameter("give the command to run after --")
    argv = _lab().noc_argv(ctx.args)
    os.execvp(argv[0], argv)  # noqa: S606 - fixed argv, no shell
