"""A technician closes their step by text: "selesai GJ/2026/0012 <catatan>", with a photo.

The number names the ticket; its active step must be one the technician performs (the
assigned one, when there is one). A decision step closes as sederhana (handled directly);
any other step is completed with ``{"isi": catatan}`` as its document, plus ``foto``
(the wamid, type and size) when a picture came with the message. The picture is fetched,
capped and type-checked first (:mod:`agent.chat.media`); a refused picture refuses the whole
message, so nothing changes. After the service call the picture is kept in the intake
ledger under the wamid, where the board finds it (``/foto/<langkah>/<nomor>``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from agent.chat.media import MediaError
from ticketing import storable
from ticketing.chat import record_action
from ticketing.errors import ConcurrentUpdateError, InvalidRoleError, StepStateError
from ticketing.workflow import Complexity

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from agent.chat.prompts import Prompter
    from agent.config.model import Person
    from agent.intake.handler import WaMessage
    from ticketing.chat import Photo
    from ticketing.store import TicketStore

NUMBER: Final = re.compile(r"([A-Za-z]{1,10}/\d{4}/\d{1,8})\b\s*(.*)", re.DOTALL)
NOTE_MAX: Final = 1000
VIA: Final = "whatsapp"


class CloseOut:
    """Handles ``selesai <nomor> <catatan>`` (blocking)."""

    def __init__(
        self,
        prompter: Prompter,
        store: TicketStore,
        *,
        now: Callable[[], datetime],
        fetch: Callable[[str], Photo] | None,
    ) -> None:
        """Act through ``prompter.service``; ``fetch`` downloads a media id (None: no photos)."""
        self.prompter = prompter
        self.store = store
        self.now = now
        self.fetch = fetch

    def handle(
        self,
        wa: WaMessage,
        phone: str,
        person: Person,
        rest: str,
        say: Callable[[str, str, str], str],
    ) -> str:
        """Close the technician's step named in ``rest``; answer through ``say``."""
        found = NUMBER.fullmatch(rest.strip())
        if found is None:
            return say(phone, "Format: selesai GJ/2026/0012 catatan singkat", "refused:format")
        number, note = found.group(1).upper(), storable.line(found.group(2), NOTE_MAX)
        a = self.prompter.active(number)
        if a is None or person.role != "teknisi" or not self.prompter.may_act(person, a):
            text = f"Tidak ada langkah tiket {number} yang menunggu Anda; tidak ada perubahan."
            return say(phone, text, "refused:role")
        photo = None
        if wa.media:
            if self.fetch is None:
                return say(phone, "Foto tidak dapat diterima di sini.", "refused:photo")
            try:
                photo = self.fetch(wa.media)
            except MediaError as exc:
                return say(phone, f"Foto ditolak: {exc}; tidak ada perubahan.", "refused:photo")
        svc, v = self.prompter.service, a.ticket.version
        try:
            if a.step.decision:
                svc.handle(
                    number,
                    by=person.name,
                    complexity=Complexity.SEDERHANA,
                    notes=note,
                    expected_version=v,
                    via=VIA,
                )
            else:
                doc: dict[str, object] = {"isi": note or "selesai"}
                if photo is not None:
                    doc["foto"] = {
                        "wamid": wa.wamid,
                        "jenis": photo.content_type,
                        "ukuran": len(photo.content),
                    }
                svc.complete(
                    number, by=person.name, notes=note, document=doc, expected_version=v, via=VIA
                )
        except (InvalidRoleError, StepStateError, ConcurrentUpdateError) as exc:
            return say(phone, f"Tidak diproses: {exc}", "refused:stale")
        record_action(
            self.store,
            wamid=wa.wamid,
            number=number,
            phone=phone,
            at=self.now(),
            what=f"selesai langkah {a.step.position}",
            photo=photo,
        )
        kept = " Foto tersimpan." if photo is not None else ""
        return say(
            phone, f"Tersimpan: langkah {a.step.title} tiket {number} selesai.{kept}", "done"
        )
