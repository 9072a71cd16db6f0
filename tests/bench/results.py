"""RESULTS.md is shared by the benchmarks: each one replaces only its own ``# heading`` section."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def replace_section(heading: str, body: str, path: Path = RESULTS) -> None:
    """Put ``# heading`` + ``body`` in place of the section starting with that heading.

    A section runs from its ``# `` heading line to the next ``# `` heading line; sections of
    other benchmarks keep their text and order; a new section goes at the end.
    """
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    sections = re.split(r"(?m)^(?=# )", old)
    new = f"# {heading.removeprefix('# ')}\n\n{body.strip()}\n"
    key = new.splitlines()[0].split(":")[0]
    for i, section in enumerate(sections):
        if section.splitlines()[:1] and section.splitlines()[0].split(":")[0] == key:
            sections[i] = new + "\n"
            break
    else:
        sections.append(("\n" if old and not old.endswith("\n\n") else "") + new)
    path.write_text("".join(sections).rstrip("\n") + "\n", encoding="utf-8")
