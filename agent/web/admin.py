"""The board's admin pages (issue 21): devices, ports, maintenance windows, people.

Every change goes through ``agent.admin.edits.InventoryEditor`` (checked as ``sigap check``,
written atomically with a backup, audited, the daemon asked to reload); the pages only turn a
form into one of the changes of ``agent.admin.changes``. Pages are for role Kasi and up
(kasi, admin, kabid, kadis); people and roles for the admin and the Kadis only. Every form
carries the CSRF token and the inventory version the page was built from
(``versi_inventaris``): an edit based on an older file is refused with 409.

A maintenance window is two clicks: "Admin" in the menu, then "Pemeliharaan 2 jam" on the
device's row (a one-off window from now, office time).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agent.admin import changes
from agent.admin.edits import EditConflictError
from agent.errors import AgentError, ConfigError
from agent.web.actions import ticket_url
from agent.web.board import board_of, posted
from agent.web.inputs import SEE_OTHER, acting, clean, form_int, path_text
from ticketing.admin_log import AdminLog, Silences
from ticketing.errors import TicketNotFoundError
from ticketing.people import RANK, Role
from ticketing.states import TicketState

if TYPE_CHECKING:
    from collections.abc import Callable

    from ruamel.yaml.comments import CommentedMap
    from starlette.datastructures import FormData
    from starlette.requests import Request

    from agent.admin.edits import EditResult, InventoryEditor, Snapshot
    from agent.web.auth import User
    from agent.web.board import Board

logger = logging.getLogger(__name__)

NAV: Final = ("/admin", "Admin")
PEOPLE_ADMINS: Final = frozenset({Role.ADMIN, Role.KADIS})
ONE_CLICK_HOURS: Final = 2
MAX_HOURS: Final = 31 * 24
VERSION_FIELD: Final = "versi_inventaris"
Edit = tuple["Callable[[CommentedMap], None]", str, str]  # change, summary, page to go back to


def may_administer(user: User) -> bool:
    """Whether ``user`` may use the admin pages: Kasi and up (never an OPD contact)."""
    return user.role is not Role.PJ_OPD and RANK[user.role] >= RANK[Role.KASI]


def admin_of(request: Request) -> tuple[Board, User]:
    """The board and the signed-in person; 403 below Kasi."""
    board = board_of(request)
    user = board.require(request)
    if not may_administer(user):
        raise HTTPException(403, "Halaman admin hanya untuk Kasi ke atas.")
    return board, user


def editor_of(board: Board) -> InventoryEditor:
    """The board's inventory editor; 503 when the server has none."""
    if board.editor is None:
        raise HTTPException(503, "Penyunting inventaris tidak disiapkan di server ini.")
    return board.editor


def _fresh(request: Request, board: Board) -> Snapshot:
    """The file now; the board switches to it (someone may have edited it by hand)."""
    try:
        snap = editor_of(board).snapshot()
    except ConfigError as exc:
        raise HTTPException(500, f"inventory.yaml bermasalah:\n{exc}") from exc
    request.app.state.board = replace(board, inventory=snap.inventory)
    return snap


def admin_page(request: Request) -> Response:
    """Devices with their windows, the one-click window, a new device, the latest edits."""
    board, _user = admin_of(request)
    snap = _fresh(request, board)
    now = board.now()
    inventory = snap.inventory
    rows = [
        (d, d.in_maintenance(now, inventory.tz))
        for d in sorted(inventory.devices.values(), key=lambda d: (d.opd, d.name))
    ]
    context = {
        "rows": rows,
        "version": snap.version,
        "edits": AdminLog(board.store).edits(10),
        "flash": request.session.pop("flash", None),
        "hours": ONE_CLICK_HOURS,
        "opds": sorted({d.opd for d in inventory.devices.values() if d.opd}),
    }
    return board.render(request, "admin.html", context)


def admin_device(request: Request) -> Response:
    """One device: its fields, ports, maintenance windows (add, cancel)."""
    board, _user = admin_of(request)
    snap = _fresh(request, board)
    name = path_text(request, "name")
    device = snap.inventory.devices.get(name)
    if device is None:
        raise HTTPException(404, f"Perangkat {name} tidak ada di inventaris.")
    context = {
        "d": device,
        "version": snap.version,
        "fields": changes.HOST_FIELDS,
        "weekdays": changes.WEEKDAYS,
        "flash": request.session.pop("flash", None),
        "now_local": board.now().astimezone(board.tz).strftime("%Y-%m-%dT%H:%M"),
    }
    return board.render(request, "admin_device.html", context)


def admin_people(request: Request) -> Response:
    """People and their roles (admin and Kadis only)."""
    board, user = admin_of(request)
    if user.role not in PEOPLE_ADMINS:
        raise HTTPException(403, "Orang dan peran hanya diatur oleh admin atau Kadis.")
    snap = _fresh(request, board)
    context = {
        "people": snap.inventory.people,
        "version": snap.version,
        "roles": [r.value for r in Role],
        "flash": request.session.pop("flash", None),
        "accounts": set(board.accounts.names()),
        "disabled": set(board.accounts.disabled_names()),
    }
    return board.render(request, "admin_people.html", context)


def _edit(
    request: Request, form: FormData, build: Callable[[Board, User, FormData], Edit]
) -> Response:
    """CSRF, who, rights, version; then the change through the editor (one transaction)."""
    board, user = acting(request, form)
    if not may_administer(user):
        raise HTTPException(403, "Halaman admin hanya untuk Kasi ke atas.")
    editor = editor_of(board)
    version = form_text(form, VERSION_FIELD, required=True)
    change, summary, back = build(board, user, form)
    return written(
        request,
        board,
        lambda: editor.apply(change, by=user.name, base_version=version, summary=summary),
        summary=summary,
        back=back,
    )


def written(
    request: Request, board: Board, write: Callable[[], EditResult], *, summary: str, back: str
) -> Response:
    """Run one editor ``write``; its refusals as 409 (stale version) or 400, then ``back``."""
    try:
        result = write()
    except EditConflictError as exc:
        raise HTTPException(409, str(exc)) from exc
    except ConfigError as exc:
        raise HTTPException(
            400, f"Perubahan ditolak, inventaris tidak lolos pemeriksaan:\n{exc}"
        ) from exc
    except AgentError as exc:
        raise HTTPException(400, str(exc)) from exc
    request.app.state.board = replace(board, inventory=result.inventory)
    request.session["flash"] = f"Tersimpan: {summary}. {result.reload}."
    return RedirectResponse(back, status_code=SEE_OTHER)


def form_text(form: FormData, key: str, *, required: bool = False) -> str:
    """A one-line value for the YAML: 400 when too long (200) or holding any hidden character.

    Stricter than a ticket form's text (``agent.web.inputs.form_text`` keeps line breaks and
    bidi marks): what goes into inventory.yaml is a name, an address, a time.
    """
    value = form.get(key, "")
    text = clean(value, key, what="Isian") if isinstance(value, str) else ""
    if required and not text:
        raise HTTPException(400, f"Isian '{key}' wajib diisi.")
    return text


def _device_page(name: str) -> str:
    return f"/admin/perangkat/{name}"


def _fields(form: FormData, *, blanks: bool) -> dict[str, str]:
    """Host fields sent in ``form`` (``blanks``: an empty one clears the key)."""
    return {
        key: form_text(form, key)
        for key in changes.HOST_FIELDS
        if key in form and (blanks or form_text(form, key))
    }


def _add_device(_board: Board, _user: User, form: FormData) -> Edit:
    name = form_text(form, "nama", required=True)
    return changes.add_host(name, _fields(form, blanks=False)), f"perangkat baru {name}", "/admin"


def _change_device(_board: Board, _user: User, form: FormData) -> Edit:
    name = form_text(form, "perangkat", required=True)
    fields = _fields(form, blanks=True)
    summary = f"ubah {name}: " + ", ".join(f"{k}={v or '-'}" for k, v in fields.items())
    return changes.edit_host(name, fields), summary, _device_page(name)


def _retire_device(_board: Board, _user: User, form: FormData) -> Edit:
    name = form_text(form, "perangkat", required=True)
    return changes.retire_host(name), f"pensiunkan {name}", "/admin"


def _mark_port(_board: Board, _user: User, form: FormData) -> Edit:
    name = form_text(form, "perangkat", required=True)
    port = form_text(form, "port", required=True)
    required, uplink = form_text(form, "wajib_up") == "1", form_text(form, "uplink") == "1"
    change = changes.mark_port(name, port, required_up=required, uplink=uplink)
    summary = f"port {name}/{port}: wajib up={required}, uplink={uplink}"
    return change, summary, _device_page(name)


def _start(board: Board, form: FormData) -> datetime:
    """``mulai``: "sekarang" (or empty) or ``YYYY-MM-DDTHH:MM`` in office time."""
    text = form_text(form, "mulai")
    if text in {"", "sekarang"}:
        return board.now().astimezone(board.tz).replace(second=0, microsecond=0)
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise HTTPException(400, "Isian 'mulai' harus YYYY-MM-DDTHH:MM atau 'sekarang'.") from exc
    return at.replace(tzinfo=board.tz) if at.tzinfo is None else at


def _add_window(board: Board, _user: User, form: FormData) -> Edit:
    name = form_text(form, "perangkat", required=True)
    days = [d for d in form.getlist("hari") if isinstance(d, str)]
    if days:
        return _add_weekly(form, name, days)
    start = _start(board, form)
    hours = form_int(form, "durasi", ONE_CLICK_HOURS) or ONE_CLICK_HOURS
    if not 1 <= hours <= MAX_HOURS:
        raise HTTPException(400, f"Isian 'durasi' harus antara 1 dan {MAX_HOURS} jam.")
    title = form_text(form, "judul") or f"pemeliharaan {start:%d/%m/%Y %H:%M}"
    change = changes.add_window(name, title, start, start + timedelta(hours=hours))
    return change, f"jendela pemeliharaan {name}: {title} ({hours} jam)", _back(form, name)


def _add_weekly(form: FormData, name: str, days: list[str]) -> Edit:
    unknown = [d for d in days if d not in changes.WEEKDAYS]
    if unknown:
        raise HTTPException(400, f"Isian 'hari' harus {', '.join(changes.WEEKDAYS)}.")
    start, end = form_text(form, "dari", required=True), form_text(form, "sampai", required=True)
    title = form_text(form, "judul", required=True)
    change = changes.add_weekly(name, title, days, start, end)
    return change, f"jendela mingguan {name}: {title}", _device_page(name)


def _back(form: FormData, name: str) -> str:
    return "/admin" if form_text(form, "kembali") == "admin" else _device_page(name)


def _cancel_window(_board: Board, _user: User, form: FormData) -> Edit:
    name = form_text(form, "perangkat", required=True)
    title = form_text(form, "judul", required=True)
    change = changes.cancel_window(name, title)
    return change, f"batalkan jendela {name}: {title}", _back(form, name)


def _set_person(_board: Board, user: User, form: FormData) -> Edit:
    if user.role not in PEOPLE_ADMINS:
        raise HTTPException(403, "Orang dan peran hanya diatur oleh admin atau Kadis.")
    name = form_text(form, "nama", required=True)
    fields = {
        k: form_text(form, k) for k in ("role", "jabatan", "opd", "email", "phone") if k in form
    }
    create = form_text(form, "baru") == "1"
    change = changes.set_person(name, fields, create=create)
    return change, f"{'orang baru' if create else 'ubah orang'} {name}", "/admin/orang"


def _silence_target(request: Request, form: FormData) -> tuple[Board, User, str]:
    board, user = acting(request, form)
    if not may_administer(user):
        raise HTTPException(403, "Membungkam notifikasi hanya untuk Kasi ke atas.")
    return board, user, form_text(form, "nomor", required=True)


@posted
def silence(request: Request, form: FormData) -> Response:
    """Hold an open ticket's notifications for ``jam`` hours, with a reason (Kasi and up)."""
    board, user, number = _silence_target(request, form)
    reason = form_text(form, "alasan", required=True)
    hours = form_int(form, "jam", 4)
    if hours is None or not 1 <= hours <= MAX_HOURS:
        raise HTTPException(400, f"Isian 'jam' harus antara 1 dan {MAX_HOURS}.")
    now = board.now()
    try:
        if board.store.get(number).status is TicketState.RESOLVED:
            raise HTTPException(400, f"Tiket {number} sudah selesai.")
        Silences(board.store).silence(
            number, by=user.name, reason=reason, until=now + timedelta(hours=hours), at=now
        )
    except TicketNotFoundError as exc:
        raise HTTPException(404, f"Tiket {number} tidak ditemukan.") from exc
    logger.info("notifications of %s silenced by %s for %d h: %s", number, user.name, hours, reason)
    request.session["flash"] = f"Notifikasi {number} dibungkam {hours} jam oleh {user.name}."
    return RedirectResponse(ticket_url(number), status_code=SEE_OTHER)


@posted
def unsilence(request: Request, form: FormData) -> Response:
    """End the silence of a ticket's notifications (the held ones go out)."""
    board, user, number = _silence_target(request, form)
    ended = Silences(board.store).cancel(number, at=board.now())
    logger.info("notifications of %s unsilenced by %s (%d)", number, user.name, ended)
    request.session["flash"] = f"Notifikasi {number} aktif lagi."
    return RedirectResponse(ticket_url(number), status_code=SEE_OTHER)


@posted
def disable_account(request: Request, form: FormData) -> Response:
    """Disable a person's web account: every session ends, logins refused (admin, Kadis)."""
    board, user = acting(request, form)
    if user.role not in PEOPLE_ADMINS:
        raise HTTPException(403, "Akun web hanya diatur oleh admin atau Kadis.")
    name = form_text(form, "nama", required=True)
    if name == user.name:
        raise HTTPException(400, "Akun sendiri tidak dapat dinonaktifkan dari sini.")
    if not board.accounts.disable(name, at=board.now()):
        raise HTTPException(404, f"{name} tidak punya akun web.")
    logger.info("web account of %s disabled by %s", name, user.name)
    request.session["flash"] = f"Akun web {name} dinonaktifkan; semua sesinya berakhir."
    return RedirectResponse("/admin/orang", status_code=SEE_OTHER)


def _post(build: Callable[[Board, User, FormData], Edit]) -> Callable[[Request], Any]:
    def handler(request: Request, form: FormData) -> Response:
        return _edit(request, form, build)

    handler.__name__ = handler.__qualname__ = build.__name__.lstrip("_")
    handler.__doc__ = build.__doc__
    return posted(handler)


ROUTES: Final = [
    Route("/admin", admin_page),
    Route("/admin/orang", admin_people),
    Route("/admin/perangkat/{name}", admin_device),
    Route("/admin/perangkat", _post(_add_device), methods=["POST"]),
    Route("/admin/ubah", _post(_change_device), methods=["POST"]),
    Route("/admin/pensiun", _post(_retire_device), methods=["POST"]),
    Route("/admin/port", _post(_mark_port), methods=["POST"]),
    Route("/admin/jendela", _post(_add_window), methods=["POST"]),
    Route("/admin/jendela/batal", _post(_cancel_window), methods=["POST"]),
    Route("/admin/orang", _post(_set_person), methods=["POST"]),
    Route("/admin/akun/nonaktifkan", disable_account, methods=["POST"]),
    Route("/admin/bungkam", silence, methods=["POST"]),
    Route("/admin/bungkam/batal", unsilence, methods=["POST"]),
]
