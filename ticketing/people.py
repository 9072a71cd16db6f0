"""People the SOP names, as plain data: ticketing takes them from the caller, never from agent."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Protocol

from ticketing.errors import UnknownPersonError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


class Role(StrEnum):
    """Roles of the inventory's ``people`` (same slugs as ``agent.config.model.Person.role``)."""

    KADIS = "kadis"
    KABID = "kabid"
    KASI = "kasi"
    ADMIN = "admin"  # the NOC lead: administers the inventory (issue 21), acts as a Kasi
    TEKNISI = "teknisi"
    PJ_OPD = "pj_opd"


ROLE_TITLES: Final[Mapping[Role, str]] = {
    Role.KADIS: "Kepala Dinas",
    Role.KABID: "Kabid Kominfo",
    Role.KASI: "Kepala Seksi Jaringan",
    Role.ADMIN: "Admin NOC",
    Role.TEKNISI: "Teknisi Jaringan",
    Role.PJ_OPD: "Penanggung jawab jaringan OPD",
}

# Escalation runs up this chain (issue 5). The OPD's penanggung jawab shares the technician's
# lane in the seed's third table ("Penanggung jawab Jaringan/ teknisi"), so it ranks with it.
CHAIN: Final[tuple[Role, ...]] = (Role.TEKNISI, Role.KASI, Role.KABID, Role.KADIS)
RANK: Final[Mapping[Role, int]] = {
    **{r: i for i, r in enumerate(CHAIN)},
    Role.PJ_OPD: 0,
    Role.ADMIN: CHAIN.index(Role.KASI),
}
# a role that may also do another's steps: the NOC lead (admin) stands above the Kasi
ACTS_AS: Final[Mapping[Role, Role]] = {Role.ADMIN: Role.KASI}


def performs(role: Role, performers: Iterable[Role]) -> bool:
    """Whether ``role`` may do a step of ``performers`` (itself, or the role it acts as)."""
    allowed = set(performers)
    return role in allowed or ACTS_AS.get(role) in allowed


SYSTEM: Final = "sistem"


class PersonLike(Protocol):
    """Anything with a name, a role slug and an OPD (e.g. ``agent.config.model.Person``)."""

    @property
    def name(self) -> str:
        """Display name, unique in the directory."""
        ...

    @property
    def role(self) -> str:
        """Role slug (see :class:`Role`)."""
        ...

    @property
    def opd(self) -> str:
        """OPD the person belongs to."""
        ...


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who may act on a ticket."""

    name: str
    role: Role
    opd: str = ""


class Directory:
    """People by name (case-insensitive), built from plain data."""

    def __init__(self, people: Iterable[PersonLike]) -> None:
        """Index ``people``; unknown role slugs raise ValueError naming the person."""
        self._by_key: dict[str, Person] = {}
        for p in people:
            try:
                role = Role(p.role)
            except ValueError as exc:
                known = ", ".join(r.value for r in Role)
                raise ValueError(f"person {p.name!r}: unknown role {p.role!r} ({known})") from exc
            self._by_key[p.name.casefold()] = Person(p.name, role, p.opd)

    def get(self, name: str) -> Person:
        """Return the person called ``name``; raise UnknownPersonError."""
        person = self._by_key.get(name.casefold())
        if person is None:
            raise UnknownPersonError(name, sorted(p.name for p in self._by_key.values()))
        return person

    def with_role(self, role: Role) -> list[Person]:
        """Return everyone with ``role``, by name."""
        return sorted((p for p in self._by_key.values() if p.role is role), key=lambda p: p.name)
