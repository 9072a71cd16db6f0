"""The device's configuration versions in the web board (issue 22): ``/perangkat/NAME/konfigurasi``.

A page of its own (template ``konfigurasi.html`` in this package's folder), so the device
page of issue 19 can link to it or include it. It lists the saved versions (time, trigger)
and shows a unified diff: by default the last change, or ``?dari=REV&ke=REV`` (hex prefixes
from the list; anything else is a 400). Every line is text in the template: autoescaped and
passed through the board's ``visible`` filter, so a device's configuration never acts in a
browser. The handler is a plain ``def`` (git runs in Starlette's thread pool).
``agent.wiring.build_web_app`` mounts :func:`routes` with the history's directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from starlette.exceptions import HTTPException
from starlette.routing import Route

from agent.backup.repo import ConfigRepo, RepoError
from agent.backup.status import StatusFile
from agent.web.board import board_of
from agent.web.inputs import path_text, query_text

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

TEMPLATES: Final = Path(__file__).with_name("templates")
MAX_VERSIONS: Final = 200
MAX_DIFF_LINES: Final = 5000


def line_class(line: str) -> str:
    """CSS class of one unified-diff line."""
    if line.startswith(("+++", "---", "diff ", "index ")):
        return "meta"
    return {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "ctx")


def routes(directory: Path) -> list[BaseRoute]:
    """The page, reading the history under ``directory``."""
    repo = ConfigRepo(directory / "repo")
    status = StatusFile(directory / "status.json")

    def config_page(request: Request) -> Response:
        """Versions of one device's configuration and a diff between two of them."""
        board = board_of(request)
        user = board.require(request)
        name = path_text(request, "name")
        device = board.inventory.devices.get(name)
        if device is None or not user.sees(device.opd):
            raise HTTPException(404, f"Perangkat {name} tidak ada di inventaris.")
        old = query_text(request, "dari") or None
        new = query_text(request, "ke") or None
        try:
            versions = repo.history_blocking(name)[:MAX_VERSIONS]
            diff = repo.diff_blocking(name, old, new)
        except RepoError as exc:
            raise HTTPException(400, str(exc)) from exc
        lines = diff.splitlines()
        cut = len(lines) > MAX_DIFF_LINES
        context = {
            "d": device,
            "state": status.read_blocking().get(name),  # the last backup: worked, or why not
            "versions": versions,
            "diff": [(line_class(x), x) for x in lines[:MAX_DIFF_LINES]],
            "cut": cut,
            "dari": old or "",
            "ke": new or "",
        }
        return board.render(request, "konfigurasi.html", context)

    return [Route("/perangkat/{name}/konfigurasi", config_page)]
