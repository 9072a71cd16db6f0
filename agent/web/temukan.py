"""``/admin/temukan``: the discovery scan on the board, accepted line by line (issue 21).

A Kasi (or up) types the ranges (the CLI's limits: /16 at most unless ``paksa`` is ticked; an
inventory describing the lab is scanned only from inside the lab NOC), the board runs the
``scanner`` handed in by ``agent.wiring`` (``agent.discovery.service.scan`` over fresh
collectors, in its own event loop on a worker thread: never the board's loop) and shows each
proposed device with its markers and a checkbox, plus the diff. "Terima yang dipilih" posts
the chosen names with the inventory version the scan was made on.

One write path: ``service.accepted()`` only builds the text; the admin edit service
(``InventoryEditor.apply_text``) writes it under its lock, version check (409 when stale),
``sigap check``, backup, audit row and daemon reload, as every other admin form.

The proposals wait in memory (the last :data:`KEEP` scans, per board process) under a random
id; a board restart forgets them (scan again).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Final

from starlette.exceptions import HTTPException
from starlette.routing import Route

from agent.admin.edits import version_of
from agent.discovery import service, targets
from agent.errors import AgentError
from agent.web.admin import VERSION_FIELD, admin_of, editor_of, form_text, may_administer, written
from agent.web.board import posted
from agent.web.inputs import acting

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.datastructures import FormData
    from starlette.requests import Request
    from starlette.responses import Response

    from agent.config.model import Inventory
    from agent.discovery.model import Proposal
    from agent.web.auth import User
    from agent.web.board import Board

logger = logging.getLogger(__name__)

KEEP: Final = 8
PAGE: Final = "/admin/temukan"


class Proposals:
    """The last :data:`KEEP` proposals by id, and the one scan allowed at a time."""

    def __init__(self) -> None:
        """Empty."""
        self._kept: OrderedDict[str, Proposal] = OrderedDict()
        self._lock = threading.Lock()
        self.running = threading.Lock()

    def keep(self, proposal: Proposal) -> str:
        """Keep ``proposal``; return its id (the oldest is forgotten past :data:`KEEP`)."""
        key = secrets.token_urlsafe(16)
        with self._lock:
            self._kept[key] = proposal
            while len(self._kept) > KEEP:
                self._kept.popitem(last=False)
        return key

    def get(self, key: str) -> Proposal | None:
        """The proposal kept under ``key``, or None."""
        with self._lock:
            return self._kept.get(key)


def ranges_of(form: FormData) -> str:
    """The ``rentang`` field as the CLI's comma list; 400 when too long or with controls."""
    value = form.get("rentang", "")
    if not isinstance(value, str):
        raise HTTPException(400, "Isian 'rentang' harus teks.")
    if len(value) > targets.MAX_TEXT:
        raise HTTPException(
            400, f"Isian 'rentang' terlalu panjang (maks. {targets.MAX_TEXT} karakter)."
        )
    text = value.replace("\r\n", ",").replace("\n", ",")
    if not text.isprintable():
        raise HTTPException(400, "Isian 'rentang' berisi karakter kendali.")
    if not text.strip(", "):
        raise HTTPException(400, "Isian 'rentang' wajib diisi, contoh 10.52.10.0/24.")
    return text


def _web_words(message: str) -> str:
    """The CLI's refusal in the board's words (a box, not an option)."""
    forced = message.replace("pakai --paksa", "centang kotak 'paksa'")
    return forced.replace("--paksa", "kotak 'paksa'").replace("--scan ", "")


def routes(scanner: Callable[[Inventory, str, bool], Proposal]) -> list[Route]:
    """The page and its two forms, over ``scanner`` (built by ``agent.wiring``)."""
    kept = Proposals()

    def page(request: Request) -> Response:
        """The form: ranges and the ``paksa`` box."""
        board, _user = admin_of(request)
        return board.render(request, "admin_temukan.html", {"found": None, "rentang": ""})

    def scan(request: Request, form: FormData) -> Response:
        """Scan, then show the proposal (this request waits for the scan)."""
        return _scan(request, form, scanner, kept)

    def accept(request: Request, form: FormData) -> Response:
        """Write the ticked proposals through the admin edit service."""
        return _accept(request, form, kept)

    return [
        Route(PAGE, page),
        Route(PAGE, posted(scan), methods=["POST"]),
        Route(f"{PAGE}/terima", posted(accept), methods=["POST"]),
    ]


def _kasi(request: Request, form: FormData) -> tuple[Board, User]:
    board, user = acting(request, form)
    if not may_administer(user):
        raise HTTPException(403, "Halaman admin hanya untuk Kasi ke atas.")
    return board, user


def _scan(
    request: Request,
    form: FormData,
    scanner: Callable[[Inventory, str, bool], Proposal],
    kept: Proposals,
) -> Response:
    board, user = _kasi(request, form)
    ranges = ranges_of(form)
    force = form.get("paksa") == "1"
    editor = editor_of(board)
    try:
        targets.parse_ranges(ranges, force=force)  # refused before anything is sent
        inventory = editor.snapshot().inventory  # the file now (ConfigError when broken)
    except AgentError as exc:
        raise HTTPException(400, _web_words(str(exc))) from exc
    if not kept.running.acquire(blocking=False):
        raise HTTPException(429, "Pemindaian lain sedang berjalan; tunggu lalu ulangi.")
    try:
        found = scanner(inventory, ranges, force)
    except AgentError as exc:
        raise HTTPException(400, _web_words(str(exc))) from exc
    except OSError as exc:  # e.g. no raw ICMP socket for this service
        logger.exception("discovery scan failed")
        raise HTTPException(503, f"Pemindaian gagal: {exc.strerror or exc}") from exc
    finally:
        kept.running.release()
    logger.info("discovery scan %s by %s: %d new", found.ranges, user.name, len(found.hosts))
    context = {
        "found": found,
        "key": kept.keep(found),
        "version": version_of(found.before),
        "rentang": ranges,
    }
    return board.render(request, "admin_temukan.html", context)


def _accept(request: Request, form: FormData, kept: Proposals) -> Response:
    board, user = _kasi(request, form)
    editor = editor_of(board)
    version = form_text(form, VERSION_FIELD, required=True)
    found = kept.get(form_text(form, "usulan", required=True))
    if found is None:
        raise HTTPException(404, "Usulan pemindaian tidak ada lagi; pindai ulang.")
    chosen = _chosen(form)
    unknown = set(chosen) - {h.name for h in found.hosts}
    if unknown:
        raise HTTPException(400, f"Perangkat {sorted(unknown)[0]!r} tidak ada di usulan.")
    if not chosen:
        raise HTTPException(400, "Pilih minimal satu perangkat.")
    if version != version_of(found.before):
        raise HTTPException(409, "Versi inventaris tidak cocok dengan usulan; pindai ulang.")
    summary = f"temukan {', '.join(found.ranges)}: terima {', '.join(chosen)}"
    return written(
        request,
        board,
        lambda: editor.apply_text(
            lambda _text: service.accepted(found, chosen, path=str(editor.path)),
            by=user.name,
            base_version=version,
            summary=summary,
        ),
        summary=summary,
        back="/admin",
    )


def _chosen(form: FormData) -> list[str]:
    """The ticked names (each one a clean one-line value), in the order sent, once each."""
    names: list[str] = []
    for value in form.getlist("pilih"):
        if not isinstance(value, str):
            raise HTTPException(400, "Isian 'pilih' harus teks.")
        name = value.strip()
        if not name.isprintable() or len(name) > targets.MAX_TEXT:
            raise HTTPException(400, "Isian 'pilih' berisi karakter kendali atau terlalu panjang.")
        if name and name not in names:
            names.append(name)
    return names
