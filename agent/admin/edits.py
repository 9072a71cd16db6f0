"""One way to change inventory.yaml from the board or the API: check, write, audit, reload.

:meth:`InventoryEditor.apply` runs a change (a function over the ruamel round-trip document,
``agent.admin.changes``) under a file lock:

1. the file's sha256 must still be the version the editor's page showed (``base_version``);
   otherwise :class:`EditConflictError` - the second of two editors never overwrites the first;
2. the changed text is validated by ``load_inventory_text``, the exact check of ``sigap check``
   (a :class:`~agent.errors.ConfigError` with the same messages);
3. the old file is copied to ``.sigap-backups/`` beside it, the new one written atomically
   (temp file in the same folder, then rename: a reader sees the old file or the new one);
4. an audit row (who, when, summary, diff, versions) goes to the ticket database;
5. the daemon is asked to reload (``Reloader``; SIGHUP by pid file in production).

Comments, key order and quoting are kept by ruamel's round trip, as ``sigap topologi
terapkan`` does (``agent.topology.apply``).
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import logging
import os
import re
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from agent.config.load import load_inventory_text
from agent.errors import AgentError, ConfigError, Problem
from agent.topology.apply import unified_diff
from ticketing.admin_log import EditView

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from pathlib import Path

    from agent.config.model import Inventory
    from ticketing.admin_log import AdminLog

logger = logging.getLogger(__name__)

BACKUPS: Final = ".sigap-backups"
KEEP_BACKUPS: Final = 50


class EditConflictError(AgentError):
    """Raised when the file changed since the version an edit was based on."""

    def __init__(self, based_on: str, current: str) -> None:
        """Keep both versions (the page shows the current one to start again from)."""
        self.based_on = based_on
        self.current = current
        super().__init__(
            "inventory.yaml sudah diubah orang lain sejak halaman ini dibuka "
            f"(versi {based_on[:12]}, sekarang {current[:12]}); muat ulang lalu ulangi."
        )


class Reloader(Protocol):
    """Asks the running daemon to load the inventory again."""

    def request(self) -> str:
        """Ask; return what happened, for the person (Indonesian)."""
        ...


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The file as it is now: text, version (sha256) and the resolved inventory."""

    text: str
    version: str
    inventory: Inventory


@dataclass(frozen=True, slots=True)
class EditResult:
    """What an applied edit did."""

    version: str
    diff: str
    inventory: Inventory
    reload: str
    audit_id: int


def version_of(text: str) -> str:
    """The version an editor bases a change on: sha256 of the file's bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


SEQUENCE_DASH: Final = re.compile(r"^(?P<indent> *)- ", re.MULTILINE)


def round_trip(text: str = "") -> YAML:
    """Ruamel's round-trip YAML, never re-wrapping lines, indenting lists as ``text`` does.

    ruamel writes a block list's dash at the parent key's column unless told otherwise;
    ``people:`` written as ``  - name: ...`` (dash indented two) would be re-indented in
    every edit's diff. The first block list of ``text`` decides (two spaces by default).
    """
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    found = SEQUENCE_DASH.search(text)
    offset = len(found.group("indent")) if found is not None else 2
    offset = offset if offset in {0, 2} else 2  # nested lists: the common case is 2
    yaml.indent(mapping=2, sequence=offset + 2, offset=offset)
    return yaml


class InventoryEditor:
    """Checked, audited, conflict-safe changes of one inventory file."""

    def __init__(
        self,
        path: Path,
        log: AdminLog,
        reloader: Reloader,
        *,
        now: Callable[[], datetime],
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Edit ``path``; audit into ``log``; ask ``reloader`` after each write."""
        self.path = path
        self.log = log
        self.reloader = reloader
        self.now = now
        self.env = env

    def snapshot(self) -> Snapshot:
        """The file now (ConfigError when it is broken as written)."""
        text = self.path.read_text(encoding="utf-8")
        return Snapshot(text, version_of(text), self._check(text))

    def apply(
        self,
        change: Callable[[CommentedMap], None],
        *,
        by: str,
        base_version: str,
        summary: str,
    ) -> EditResult:
        """Apply ``change`` to the file at ``base_version`` as ``by`` (see the module doc)."""
        return self.apply_text(
            lambda text: self._changed(text, change),
            by=by,
            base_version=base_version,
            summary=summary,
        )

    def apply_text(
        self,
        change: Callable[[str], str],
        *,
        by: str,
        base_version: str,
        summary: str,
    ) -> EditResult:
        """As :meth:`apply`, ``change`` mapping the file's text to the new text.

        The board's scan acceptance (``/admin/temukan``) writes ``service.accepted()``'s
        text this way: the same lock, version check, ``sigap check``, backup, audit, reload.
        """
        with self._locked():
            before = self.path.read_text(encoding="utf-8")
            current = version_of(before)
            if base_version != current:
                raise EditConflictError(base_version, current)
            after = change(before)
            diff = unified_diff(before, after, self.path.name)
            if not diff:
                raise AgentError("Tidak ada yang berubah.")
            inventory = self._check(after)
            self._backup(before)
            write_atomically(self.path, after)
        version = version_of(after)
        reload = self.reloader.request()
        audit = EditView(0, self.now(), by, summary, diff, current, version, reload)
        audit_id = self.log.record_edit(audit)
        logger.info("inventory edited by %s: %s (%s)", by, summary, reload)
        return EditResult(version, diff, inventory, reload, audit_id)

    def _changed(self, text: str, change: Callable[[CommentedMap], None]) -> str:
        yaml = round_trip(text)
        doc = yaml.load(text)
        if not isinstance(doc, CommentedMap):
            raise ConfigError(self.path.name, [Problem("(file)", "expected a mapping")])
        change(doc)
        out = io.StringIO()
        yaml.dump(doc, out)
        lead = text[: len(text) - len(text.lstrip("\n"))]  # ruamel drops leading blank lines
        return lead + out.getvalue().lstrip("\n")

    def _check(self, text: str) -> Inventory:
        return load_inventory_text(text, self.path, env=self.env)

    def _locked(self) -> _FileLock:
        return _FileLock(self.path.with_name(f".{self.path.name}.lock"))

    def _backup(self, text: str) -> None:
        folder = self.path.parent / BACKUPS
        folder.mkdir(mode=0o750, exist_ok=True)
        stamp = self.now().strftime("%Y%m%dT%H%M%S%fZ")
        (folder / f"{self.path.stem}-{stamp}{self.path.suffix}").write_text(text, "utf-8")
        old = sorted(folder.glob(f"{self.path.stem}-*{self.path.suffix}"))
        for stale in old[:-KEEP_BACKUPS]:
            stale.unlink(missing_ok=True)


class _FileLock:
    """An exclusive ``flock`` on a lock file beside the inventory (other processes too)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *_exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: temp file in the same folder, fsync, rename."""
    tmp = path.with_name(f".{path.name}.sigap-new")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    shutil.copymode(path, tmp)
    tmp.replace(path)
