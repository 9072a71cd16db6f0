"""``sigap notifikasi``: test message, queue, delivery worker, requeue, the monthly report.

``uji`` sends at once (not through the outbox) and shows each address's result; ``antar``
runs the delivery worker alone until SIGTERM/SIGINT (the daemon runs the same loop);
``laporan-bulanan`` queues the month's report to the Kabid and Kadis (once per month).
"""

from __future__ import annotations

import json
import signal
import uuid
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.table import Table
from rich.text import Text

from agent.cli.options import DEFAULT_INVENTORY, DbOpt, InventoryOpt, console, load
from agent.errors import AgentError
from agent.present.terminal import data
from ticketing.states import DeliveryStatus

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable, Callable
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from agent.config.model import Inventory
    from agent.notify.monthly import Queued
    from agent.notify.routing import Address
    from agent.notify.worker import SendResult
    from ticketing.outbox.types import ChannelCounts, QueueItem

notifikasi_app = typer.Typer(
    help="Notifikasi (Apprise): uji, antrian, antar / notifications.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add ``notifikasi`` to ``app``."""
    app.add_typer(notifikasi_app, name="notifikasi")


RESULT_TEXT: Final = {True: ("terkirim", "green"), False: ("gagal", "red")}


def _local(at: datetime, tz: ZoneInfo) -> str:
    from agent.present.render import local  # rich tables on use

    return local(at, tz)


def _targets(inventory: Inventory, kepada: str | None) -> list[Address]:
    from agent.wiring import router_for

    router = router_for(inventory)
    people = (
        router.recipients.select(kepada) if kepada else [p for p in inventory.people if p.apprise]
    )
    if not people:
        raise AgentError(f"tidak ada penerima untuk {kepada!r} (peran, opd:NAMA, atau nama orang)")
    addresses = [a for p in people for a in router.recipients.addresses(p)]
    if not addresses:
        names = ", ".join(p.name for p in people)
        raise AgentError(f"{names}: tidak punya alamat apprise di inventory")
    return addresses


@notifikasi_app.command("uji")
def uji(
    kepada: Annotated[
        str | None,
        typer.Option("--kepada", help="Peran (kasi, kabid...), opd:NAMA atau nama orang."),
    ] = None,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
) -> None:
    """Kirim pesan uji sekarang dan tampilkan hasil tiap penerima / send a test message."""
    from agent.wiring import apprise_sender, renderer_for
    from collectors.model import utc_now
    from ticketing.outbox.types import MessageContext  # SQLAlchemy on use

    inventory = load(inventory_path)
    renderer = renderer_for(inventory)
    sender = apprise_sender()
    table = Table("penerima", "peran", "saluran", "alamat", "hasil", "keterangan")
    failed = 0
    ref = f"uji-{uuid.uuid4().hex[:8]}"
    for address in _targets(inventory, kepada):
        ctx = MessageContext(
            ref=ref, kind="test", recipient=address.person.name, channel=address.channel,
            at=utc_now(),
        )  # fmt: skip
        text = renderer.render(ctx, email=address.is_email)
        result: SendResult = sender.send_blocking(address.url, text.title, text.body)
        failed += not result.ok
        table.add_row(
            address.person.name,
            address.person.role,
            address.channel,
            data(sender.private(address.url)),
            Text(*RESULT_TEXT[result.ok]),
            data(result.error),
        )
    console.print(table)
    if failed:
        raise typer.Exit(1)


@notifikasi_app.command("antrian")
def antrian(
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
    semua: Annotated[bool, typer.Option("--semua", help="Termasuk yang terkirim.")] = False,
    limit: Annotated[int, typer.Option(help="Paling banyak sekian baris.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="JSON untuk skrip.")] = False,
) -> None:
    """Pesan yang menunggu atau gagal, dan jumlah per saluran / pending and failed deliveries."""
    from agent.wiring import open_store
    from ticketing.outbox.queue import Outbox

    inventory = load(inventory_path)
    statuses = list(DeliveryStatus) if semua else None
    with open_store(inventory, db, migrate=True) as store:
        box = Outbox(store)
        items, counts = box.queue(statuses=statuses, limit=limit), box.stats()
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "items": [_item_json(i) for i in items],
                    "stats": {c: vars_of(n) for c, n in counts.items()},
                }
            )
        )
        return
    _print_queue(items, counts, inventory)


def vars_of(counts: ChannelCounts) -> dict[str, int]:
    """Counts as a plain dict."""
    return {"sent": counts.sent, "failed": counts.failed, "pending": counts.pending}


def _item_json(item: QueueItem) -> dict[str, object]:
    return {
        "id": item.id,
        "ref": item.ref,
        "kind": item.kind,
        "ticket": item.ticket,
        "recipient": item.recipient,
        "channel": item.channel,
        "status": item.status.value,
        "attempts": item.attempts,
        "due_at": item.due_at.isoformat(),
        "sent_at": item.sent_at.isoformat() if item.sent_at else None,
        "last_error": item.last_error,
    }


def _print_queue(
    items: list[QueueItem], counts: dict[str, ChannelCounts], inventory: Inventory
) -> None:
    out = console
    if not items:
        out.print("Antrian kosong: tidak ada pesan yang menunggu atau gagal.")
    else:
        table = Table("ref", "jenis", "tiket", "penerima", "saluran", "status", "coba", "jadwal")
        table.add_column("galat", overflow="fold")
        for i in items:
            status = i.status.value + (" (dikirim)" if i.leased else "")
            table.add_row(
                data(i.ref),
                data(i.kind),
                data(i.ticket or "-"),
                data(i.recipient),
                data(i.channel),
                status,
                str(i.attempts),
                _local(i.due_at, inventory.tz),
                data(i.last_error),
            )
        out.print(table)
    summary = ", ".join(
        f"{c}: {n.sent} terkirim, {n.pending} menunggu, {n.failed} gagal" for c, n in counts.items()
    )
    out.print(f"Per saluran: {summary or '-'}")


@notifikasi_app.command("antar")
def antar(
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
    poll: Annotated[float, typer.Option(help="Detik antar pemeriksaan antrian.")] = 1.0,
) -> None:
    """Jalankan pengirim notifikasi sampai SIGTERM/SIGINT / run the delivery worker alone."""
    import asyncio

    from agent.wiring import build_notifier, open_store

    inventory = load(inventory_path)
    with open_store(inventory, db, migrate=True) as store:
        notifier = build_notifier(inventory, store, poll=poll)
        asyncio.run(_run_until_signal(notifier.run))
    console.print("pengirim notifikasi berhenti")


async def _run_until_signal(run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    import asyncio

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await run(stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def _previous_month(now: datetime, inventory: Inventory) -> str:
    local_now = now.astimezone(inventory.tz)
    year, month = (
        (local_now.year, local_now.month - 1) if local_now.month > 1 else (local_now.year - 1, 12)
    )
    return f"{year:04d}-{month:02d}"


@notifikasi_app.command("laporan-bulanan")
def laporan_bulanan(
    bulan: Annotated[
        str | None, typer.Option(help="Bulan, mis. 2026-11 (bawaan: bulan lalu).")
    ] = None,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Antrikan laporan bulanan ke Kabid dan Kadis (sekali per bulan) / queue the monthly report."""
    from agent.history.availability import month_scope
    from agent.notify.monthly import build_report, queue_monthly_blocking, report_data
    from agent.wiring import open_store, router_for, ticket_service
    from collectors.model import utc_now
    from ticketing.reports.monthly import parse_month

    inventory = load(inventory_path)
    now = utc_now()
    label = bulan or _previous_month(now, inventory)
    try:
        year, month = parse_month(label)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--bulan") from exc
    with open_store(inventory, db, migrate=True) as store:
        svc = ticket_service(inventory, store, utc_now)
        scope = month_scope(inventory, year, month)
        report = build_report(store, svc, year, month, tz=inventory.tz, now=now, scope=scope)
        data = report_data(report, tz=inventory.tz, office=inventory.office_name)
        queued = queue_monthly_blocking(store, router_for(inventory), report, data=data, now=now)
    _print_queued(queued, inventory, data["rekap"])


def _print_queued(queued: Queued, inventory: Inventory, rekap: str) -> None:
    out = console
    if not queued.added and not queued.existing:
        raise AgentError(
            "tidak ada penerima laporan bulanan (rute laporan_bulanan, alamat apprise)"
        )
    out.print(
        f"Laporan bulanan {queued.label}: {len(queued.added)} pesan diantrikan, "
        f"{len(queued.existing)} sudah diantrikan sebelumnya",
        markup=False,
    )
    people = {p.name: p for p in inventory.people}
    table = Table("penerima", "peran", "saluran", "status", "jadwal")
    for plan, status in [(p, "baru") for p in queued.added] + [
        (p, "sudah ada") for p in queued.existing
    ]:
        role = people[plan.recipient].role if plan.recipient in people else "-"
        due = _local(plan.due_at, inventory.tz)
        table.add_row(data(plan.recipient), role, data(plan.channel), status, due)
    out.print(table)
    out.print(rekap, markup=False)
    out.print("Dikirim oleh `sigap run` atau `sigap notifikasi antar`.", markup=False)


@notifikasi_app.command("ulang")
def ulang(
    ids: Annotated[list[int], typer.Argument(help="Nomor baris (angka dari ref sigap-N).")],
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Antrikan lagi pesan yang gagal / requeue failed deliveries."""
    from agent.wiring import open_store
    from collectors.model import utc_now
    from ticketing.outbox.queue import Outbox

    inventory = load(inventory_path)
    with open_store(inventory, db) as store:
        n = Outbox(store).requeue(ids, now=utc_now())
    console.print(f"{n} pesan diantrikan lagi")
