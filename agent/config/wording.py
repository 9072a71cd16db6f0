"""Word the problems of the file: dotted paths, pydantic errors as 'expected ... (got ...)'."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any, get_args, get_origin

from agent.config import schema

if TYPE_CHECKING:
    from agent.config.source import Path as YPath


def dotted(path: YPath) -> str:
    """``("hosts", "x", "maintenance", 0)`` -> ``hosts.x.maintenance[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def did_you_mean(name: str, known: Any) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or ''."""
    match = difflib.get_close_matches(name, [k for k in known if isinstance(k, str)], n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def describe(err: Any) -> str:
    """Turn one pydantic error into 'what was expected (got value)'."""
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden":
        return f"unknown key {err['loc'][-1]!r}" + _allowed(err["loc"])
    if kind == "missing":
        return "required key is missing"
    if kind == "ip_v4_address":
        return f"expected an IPv4 address (got {value!r})"
    message = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    message = message.replace("Input should be", "expected", 1)
    message = message[0].lower() + message[1:] if message else message
    return f"{message} (got {value!r})"


def _allowed(loc: tuple[Any, ...]) -> str:
    """List the keys allowed where an unknown key was found, when the location is a model."""
    model: Any = schema.InventoryFile
    container = False  # the previous field was a dict or list: this part is a key or index
    for part in loc[:-1]:
        fields = getattr(model, "model_fields", {})
        if container:
            container = False
        elif part in fields:
            annotation = fields[part].annotation
            model = _model_of(annotation)
            container = _is_container(annotation)
        else:
            return ""
    fields = getattr(model, "model_fields", None)
    return f" (allowed: {', '.join(fields)})" if fields and not container else ""


def _is_container(annotation: Any) -> bool:
    if get_origin(annotation) in (dict, list):
        return True
    return any(_is_container(a) for a in get_args(annotation))


def _model_of(annotation: Any) -> Any:
    """Find the pydantic model inside ``X | None``, ``list[X]`` or ``dict[str, X]``."""
    if hasattr(annotation, "model_fields"):
        return annotation
    for arg in reversed(get_args(annotation)):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
