"""Load ``inventory.yaml``: validate everything, report every problem at once, resolve eagerly.

The one entry point of :mod:`agent.config`. The steps live beside it: :mod:`.source` reads the
YAML with its lines, :mod:`.checks` finds every problem of the file as written (wording them with
:mod:`.wording`), :mod:`.build` resolves hosts, groups and defaults into the frozen
:mod:`.model` (precedence: :mod:`.precedence`).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from agent.config.build import build_inventory
from agent.config.checks import Checker
from agent.config.source import YamlSyntaxError, load_source
from agent.errors import ConfigError, Problem

if TYPE_CHECKING:
    from collections.abc import Mapping

    from agent.config.model import Inventory


def load_inventory(path: str | Path, *, env: Mapping[str, str] | None = None) -> Inventory:
    """Read, validate and resolve an inventory file; :class:`ConfigError` lists every problem."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(file), [Problem("(file)", f"cannot read: {exc.strerror}")]) from exc
    return load_inventory_text(text, file, env=env)


def load_inventory_text(
    text: str, file: Path, *, env: Mapping[str, str] | None = None
) -> Inventory:
    """Validate and resolve ``text`` as if it were ``file`` (same problems as `sigap check`).

    The admin pages check an edit with this before it is written (``agent.admin.edits``).
    """
    try:
        source = load_source(text)
    except YamlSyntaxError as exc:
        raise ConfigError(str(file), [Problem("(yaml)", str(exc), exc.line)]) from exc
    environ = os.environ if env is None else env
    checker = Checker(source, environ, file.parent)
    model = checker.run()
    if checker.problems or model is None:
        raise ConfigError(str(file), checker.problems)
    inventory, problems = build_inventory(file, model, source, environ)
    if problems:
        raise ConfigError(str(file), problems)
    warnings = sorted(checker.warnings, key=lambda p: (p.line or 0, p.path))
    return replace(inventory, warnings=tuple(w.render() for w in warnings))
