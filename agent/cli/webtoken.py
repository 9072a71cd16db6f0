"""``sigap web token buat|cabut|daftar``: per-person tokens of the JSON API (issue 21).

The token is printed once by ``buat`` and only its sha256 is stored; ``cabut`` revokes it at
once (the next request with it gets 401).
"""

from __future__ import annotations

from typing import Annotated

import typer

from agent.cli.options import (
    DEFAULT_INVENTORY,
    DbOpt,
    InventoryOpt,
    load,
    unknown_person_message,
)
from agent.errors import AgentError

token_app = typer.Typer(help="Token API / JSON API tokens (/api/v1).", no_args_is_help=True)


def register(web: typer.Typer) -> None:
    """Add ``token`` to ``sigap web``."""
    web.add_typer(token_app, name="token")


@token_app.command("buat")
def create(
    name: Annotated[str, typer.Argument(help="Nama orang (people di inventory).")],
    label: Annotated[str, typer.Option("--label", help="Untuk apa (mis. SP4N-LAPOR).")] = "",
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Buat token API untuk seseorang; token hanya ditampilkan sekali."""
    from agent.admin.tokens import new_token
    from agent.web.auth import find_person
    from agent.wiring import open_store
    from collectors.model import utc_now
    from ticketing.admin_log import AdminLog

    inventory = load(inventory_path)
    person = find_person(inventory, name)
    if person is None:
        raise AgentError(unknown_person_message(name, inventory))
    token, hashed = new_token()
    store = open_store(inventory, db, migrate=True)
    try:
        token_id = AdminLog(store).add_token(person.name, label, hashed, at=utc_now())
    finally:
        store.close()
    typer.echo(f"token API #{token_id} untuk {person.name} ({person.role}); simpan sekarang,")
    typer.echo("token ini tidak dapat ditampilkan lagi:")
    typer.echo(token)


@token_app.command("cabut")
def revoke(
    token_id: Annotated[int, typer.Argument(help="Nomor token (lihat: sigap web token daftar).")],
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Cabut token API: permintaan berikutnya dengan token itu ditolak (401)."""
    from agent.wiring import open_store
    from collectors.model import utc_now
    from ticketing.admin_log import AdminLog

    store = open_store(load(inventory_path), db, migrate=True)
    try:
        done = AdminLog(store).revoke_token(token_id, at=utc_now())
    finally:
        store.close()
    if done is None:
        raise AgentError(f"tidak ada token aktif #{token_id} (lihat: sigap web token daftar)")
    typer.echo(f"token API #{done.id} milik {done.name} dicabut")


@token_app.command("daftar")
def list_tokens(inventory_path: InventoryOpt = DEFAULT_INVENTORY, db: DbOpt = None) -> None:
    """Daftar token API (tanpa tokennya)."""
    from agent.wiring import open_store
    from ticketing.admin_log import AdminLog

    store = open_store(load(inventory_path), db, migrate=True)
    try:
        tokens = AdminLog(store).tokens()
    finally:
        store.close()
    for t in tokens:
        state = f"dicabut {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "aktif"
        typer.echo(f"#{t.id:<4} {t.name:30} {t.label[:30]:30} {t.created_at:%Y-%m-%d} {state}")
