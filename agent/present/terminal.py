"""The terminal edge: outside text as rich ``Text`` (never markup); a console that shows it.

A ticket's subject, an SNMP ifAlias or a device's SSH output reaches rich tables. As a ``str``
rich parses it as markup (``[/x]`` raises MarkupError, ``[link=...]`` adds a hyperlink) and
writes its ESC sequences to the terminal. Views wrap such text in :func:`data` (shown by
:func:`ticketing.display.shown`, no markup). :func:`safe_console` is every console the CLI
prints through: markup and emoji codes off unless a line asks for them (``Text.from_markup``),
and every text segment it writes passes :func:`ticketing.display.shown` once more, so a
control character in a forgotten ``str`` is shown, never sent (rich's own styles and cursor
controls are not text segments and pass unchanged).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.segment import Segment
from rich.text import Text

from ticketing.display import shown

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rich.console import ConsoleOptions, RenderableType


def data(text: str | None, style: str = "") -> Text:
    """Outside text for a rich view: control characters visible, no markup, ``""`` for None."""
    return Text(shown(text or ""), style=style)


class SafeConsole(Console):
    """A rich console whose written text is always :func:`~ticketing.display.shown`."""

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        """Render as rich does; text segments shown (control segments are rich's own)."""
        for segment in super().render(renderable, options):
            if segment.control or segment.text.isprintable():
                yield segment
            else:
                yield Segment(shown(segment.text), segment.style, segment.control)


def safe_console(**options: Any) -> SafeConsole:
    """A :class:`SafeConsole`: no highlighting, markup or emoji codes unless ``options`` say."""
    settings: dict[str, Any] = {"highlight": False, "markup": False, "emoji": False}
    return SafeConsole(**(settings | options))
