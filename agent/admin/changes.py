"""The inventory changes the admin pages and the API offer, as functions over the YAML document.

Each function returns a change for :meth:`agent.admin.edits.InventoryEditor.apply`: it edits
the ruamel round-trip document in place and raises :class:`ChangeError` for what cannot be
done at all (a host that is not there). Everything else - a bad address, an unknown OPD
parent, a window whose end is before its start - is left to the editor's check, which words it
exactly as ``sigap check`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from agent.errors import AgentError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

HOST_FIELDS: Final = ("opd", "site", "role", "platform", "address", "parent", "description")
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ChangeError(AgentError):
    """Raised when a change names something the file does not have (host, window, person)."""


def _hosts(doc: CommentedMap) -> CommentedMap:
    hosts = doc.get("hosts")
    if not isinstance(hosts, CommentedMap):
        raise ChangeError("inventory.yaml tidak punya `hosts:`")
    return hosts


def _host(doc: CommentedMap, name: str) -> CommentedMap:
    host = _hosts(doc).get(name)
    if not isinstance(host, CommentedMap):
        raise ChangeError(f"Perangkat {name!r} tidak ada di inventaris.")
    return host


def _set_fields(host: CommentedMap, fields: Mapping[str, str]) -> None:
    """Set the given fields; an empty value removes the key (inherited again)."""
    for key, value in fields.items():
        if key not in HOST_FIELDS:
            raise ChangeError(f"Isian {key!r} tidak dikenal ({', '.join(HOST_FIELDS)}).")
        if value:
            host[key] = value
        elif key in host:
            del host[key]


def add_host(name: str, fields: Mapping[str, str]) -> Callable[[CommentedMap], None]:
    """A new host ``name`` with ``fields`` (address at least; the check says what is missing)."""

    def change(doc: CommentedMap) -> None:
        hosts = _hosts(doc)
        if name in hosts:
            raise ChangeError(f"Perangkat {name!r} sudah ada.")
        host = CommentedMap()
        _set_fields(host, {k: v for k, v in fields.items() if v})
        hosts[name] = host

    return change


def edit_host(name: str, fields: Mapping[str, str]) -> Callable[[CommentedMap], None]:
    """Change fields of host ``name`` (moving it to another OPD is ``{"opd": ...}``)."""

    def change(doc: CommentedMap) -> None:
        _set_fields(_host(doc, name), fields)

    return change


def retire_host(name: str) -> Callable[[CommentedMap], None]:
    """Remove host ``name`` (its open tickets stay; children naming it fail the check)."""

    def change(doc: CommentedMap) -> None:
        _host(doc, name)
        del _hosts(doc)[name]

    return change


def mark_port(
    name: str, port: str, *, required_up: bool, uplink: bool
) -> Callable[[CommentedMap], None]:
    """Mark interface ``port`` of host ``name`` required-up and/or uplink (both off: unmark)."""

    def change(doc: CommentedMap) -> None:
        host = _host(doc, name)
        ports = host.get("interfaces")
        if not isinstance(ports, CommentedMap):
            ports = CommentedMap()
            host["interfaces"] = ports
        mark = ports.get(port)
        if not isinstance(mark, CommentedMap):
            mark = CommentedMap()
            mark.fa.set_flow_style()
        for key, value in (("required_up", required_up), ("uplink", uplink)):
            if value:
                mark[key] = True
            elif key in mark:
                del mark[key]
        if mark:
            ports[port] = mark
        elif port in ports:
            del ports[port]
        if not ports:
            del host["interfaces"]

    return change


def _windows(host: CommentedMap) -> CommentedSeq:
    windows = host.get("maintenance")
    if not isinstance(windows, CommentedSeq):
        windows = CommentedSeq()
        host["maintenance"] = windows
    return windows


def _unique(windows: CommentedSeq, title: str) -> None:
    if any(isinstance(w, CommentedMap) and w.get("name") == title for w in windows):
        raise ChangeError(f"Jendela pemeliharaan {title!r} sudah ada; pakai nama lain.")


def add_window(
    name: str, title: str, start: datetime, end: datetime
) -> Callable[[CommentedMap], None]:
    """A one-off maintenance window on host ``name`` (aware datetimes, written in ISO 8601)."""

    def change(doc: CommentedMap) -> None:
        windows = _windows(_host(doc, name))
        _unique(windows, title)
        window = CommentedMap()
        window["name"] = title
        window["start"] = start.isoformat(timespec="minutes")
        window["end"] = end.isoformat(timespec="minutes")
        windows.append(window)

    return change


def add_weekly(
    name: str, title: str, days: list[str], start: str, end: str
) -> Callable[[CommentedMap], None]:
    """A weekly window on host ``name``: ``days`` (mon..sun), ``HH:MM`` office time."""

    def change(doc: CommentedMap) -> None:
        windows = _windows(_host(doc, name))
        _unique(windows, title)
        weekly = CommentedMap()
        weekly["days"] = CommentedSeq(days)
        weekly["days"].fa.set_flow_style()
        weekly["start"], weekly["end"] = start, end
        weekly.fa.set_flow_style()
        window = CommentedMap()
        window["name"] = title
        window["weekly"] = weekly
        windows.append(window)

    return change


def cancel_window(name: str, title: str) -> Callable[[CommentedMap], None]:
    """Remove the window called ``title`` from host ``name``."""

    def change(doc: CommentedMap) -> None:
        host = _host(doc, name)
        windows = host.get("maintenance")
        found = [
            i
            for i, w in enumerate(windows if isinstance(windows, CommentedSeq) else [])
            if isinstance(w, CommentedMap) and w.get("name") == title
        ]
        if not found or not isinstance(windows, CommentedSeq):
            raise ChangeError(f"Jendela pemeliharaan {title!r} tidak ada di {name}.")
        del windows[found[0]]
        if not windows:
            del host["maintenance"]

    return change


def set_person(
    person: str, fields: Mapping[str, str], *, create: bool
) -> Callable[[CommentedMap], None]:
    """Add (``create``) or change a person of ``people:`` (role, jabatan, opd, email, phone)."""

    def change(doc: CommentedMap) -> None:
        people = doc.get("people")
        if not isinstance(people, CommentedSeq):
            people = CommentedSeq()
            doc["people"] = people
        found = next(
            (p for p in people if isinstance(p, CommentedMap) and p.get("name") == person), None
        )
        if create == (found is not None):
            raise ChangeError(f"Orang {person!r} {'sudah' if create else 'tidak'} ada.")
        row = found if found is not None else CommentedMap(name=person)
        for key, value in fields.items():
            if key not in {"role", "jabatan", "opd", "email", "phone"}:
                raise ChangeError(f"Isian {key!r} tidak dikenal.")
            if value:
                row[key] = value
            elif key in row:
                del row[key]
        if found is None:
            people.append(row)

    return change
