"""Indonesian message templates: editable text files, validated at load, rendered per channel.

A template is ``<kind>.<style>.txt`` (style ``chat``: short, for Telegram/WhatsApp/json;
``email``: fuller). Its first line is ``Judul: ...`` (the title / e-mail subject), then a blank
line, then the body. Placeholders are ``$nama`` or ``${nama}`` (Python ``string.Template``;
``$$`` is a literal dollar) and must be one of :data:`VARIABLES`. The office may copy the
bundled folder, edit it and point ``notifications.templates_dir`` at it: files there replace
the bundled file of the same name, the rest stay bundled. Kinds without a template of their
own use ``umum`` (generic); ``reopened`` uses ``opened``. Messages to the reporter of a
complaint (recipient ``pelapor:...``, :mod:`agent.notify.reporter`) use ``pelapor_<kind>``;
the WhatsApp message of a step that became active (recipient ``aksi:...``,
:mod:`agent.chat.routes`) uses ``aksi_langkah``, its buttons added by :mod:`agent.chat`.

Placeholder values carry outside text (complaint subjects and senders, SNMP names, device
output): each is :func:`ticketing.display.shown` before it is filled in, and the title is one
line, so no message carries a control or bidi character nor a forged header line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Final

from agent.present.labels import STATUS_SENTENCE
from collectors.model import utc_now
from ticketing.calendar import zone_abbreviation
from ticketing.display import shown
from ticketing.errors import SopError
from ticketing.outbox.types import MessageContext, Rendered
from ticketing.people import ROLE_TITLES, Role
from ticketing.sop import StepKind, bundled

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from zoneinfo import ZoneInfo

BUNDLED_DIR: Final = Path(__file__).with_name("templates")
STYLES: Final = ("chat", "email")
REQUIRED: Final = (
    "opened",
    "attached",
    "resolved",
    "escalated",
    "remediation",
    "assigned",
    "reminder",
    "test",
    "umum",
    "pelapor_opened",
    "pelapor_resolved",
    "laporan_bulanan",
    "aksi_langkah",
)
REPORTER_PREFIX: Final = "pelapor:"
PROMPT_PREFIX: Final = "aksi:"  # a step's WhatsApp buttons (agent.chat.routes)
ALIASES: Final[Mapping[str, str]] = {"reopened": "opened", "recurred": "opened"}
TITLE_PREFIX: Final = "Judul:"
CHAT_LIST_MAX: Final = 10
VARIABLES: Final[Mapping[str, str]] = {
    "nomor": "nomor tiket, mis. GJ/2026/0001",
    "perangkat": "perangkat utama tiket",
    "opd": "OPD tempat perangkat",
    "ringkasan": "ringkasan gangguan",
    "status": "status tiket sekarang",
    "sejak": "waktu tiket dibuka (waktu kantor)",
    "waktu": "waktu kejadian yang diberitahukan",
    "lama": "lama gangguan sampai sekarang / sampai selesai",
    "kejadian": "uraian kejadian dari log tiket",
    "terdampak_jumlah": "jumlah perangkat terdampak di belakangnya",
    "terdampak_daftar": "daftar perangkat terdampak",
    "langkah": "langkah SOP yang berjalan",
    "tenggat": "tenggat langkah SOP",
    "teknisi": "teknisi yang ditugaskan",
    "tindakan": "apa yang sudah dilakukan sigap",
    "tingkat": "tingkat eskalasi",
    "peran": "jabatan tujuan eskalasi",
    "terlambat": "keterlambatan langkah yang dieskalasi",
    "pengingat_ke": "pengingat ke berapa",
    "perintah": "perintah untuk melihat rincian",
    "tautan": "tautan ke tiket (bila diatur) atau perintah",
    "penerima": "nama penerima",
    "kantor": "nama singkat kantor",
    "ref": "kode unik pesan (penerima dapat membuang duplikat)",
    "pelapor": "nama pelapor pengaduan",
    "standar_waktu": "mutu baku waktu langkah 1 SOP (pengaduan masuk), mis. 10 menit",
    "standar_penanganan": "mutu baku waktu langkah penanganan SOP, mis. 1 hari",
    "bulan": "laporan bulanan: bulannya, mis. November 2026",
    "rekap": "laporan bulanan: ringkasan (tiket, MTTA/MTTR, kepatuhan SOP, OPD terbanyak)",
    "laporan": "laporan bulanan: isi lengkap (Markdown, seperti sigap laporan bulanan)",
}


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """One problem of a template file."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        """``opened.chat.txt line 3: unknown placeholder $nmor``."""
        where = f" line {self.line}" if self.line else ""
        return f"{self.file}{where}: {self.message}"


class TemplateError(ValueError):
    """Raised when template files are missing or invalid; ``.problems`` lists each one."""

    def __init__(self, problems: list[TemplateProblem]) -> None:
        """Keep every problem."""
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """A parsed template file."""

    title: Template
    body: Template


def _parse(name: str, text: str) -> tuple[MessageTemplate | None, list[TemplateProblem]]:
    lines = text.splitlines()
    if not lines or not lines[0].startswith(TITLE_PREFIX):
        return None, [TemplateProblem(name, 1, f"the first line must start with {TITLE_PREFIX!r}")]
    problems = []
    for number, line in enumerate(lines, start=1):
        tpl = Template(line)
        if not tpl.is_valid():
            problems.append(TemplateProblem(name, number, "invalid $ placeholder (use $$ for $)"))
            continue
        for ident in tpl.get_identifiers():
            if ident not in VARIABLES:
                known = ", ".join(sorted(VARIABLES))
                problems.append(
                    TemplateProblem(name, number, f"unknown placeholder ${ident} (known: {known})")
                )
    title = lines[0][len(TITLE_PREFIX) :].strip()
    body = "\n".join(lines[1:]).strip("\n") + "\n"
    return MessageTemplate(Template(title), Template(body)), problems


def load_templates(override: Path | None = None) -> dict[str, MessageTemplate]:
    """Read the bundled templates and ``override``'s files; raise TemplateError listing all."""
    files = {p.name: p for p in sorted(BUNDLED_DIR.glob("*.txt"))}
    if override is not None:
        if not override.is_dir():
            raise TemplateError([TemplateProblem(str(override), None, "not a folder")])
        files |= {p.name: p for p in sorted(override.glob("*.txt"))}
    out: dict[str, MessageTemplate] = {}
    problems: list[TemplateProblem] = []
    for name, path in files.items():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(TemplateProblem(str(path), None, f"cannot read: {exc}"))
            continue
        parsed, found = _parse(str(path) if override else name, text)
        problems += found
        if parsed is not None:
            out[name.removesuffix(".txt")] = parsed
    for kind in REQUIRED:
        for style in STYLES:
            if f"{kind}.{style}" not in out:
                problems.append(TemplateProblem(f"{kind}.{style}.txt", None, "missing"))
    if problems:
        raise TemplateError(problems)
    return out


def local_text(at: datetime | None, tz: ZoneInfo) -> str:
    """``26/11/2026 14:05 WITA`` (``-`` for None)."""
    if at is None:
        return "-"
    zone = zone_abbreviation(tz) or tz.key
    return f"{at.astimezone(tz):%d/%m/%Y %H:%M} {zone}"


def duration_text(seconds: float) -> str:
    """``2 jam 5 menit``, ``40 detik``."""
    total = max(int(seconds), 0)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} hari"] if days else []
    parts += [f"{hours} jam"] if hours else []
    parts += [f"{minutes} menit"] if minutes else []
    if not parts:
        parts = [f"{secs} detik"]
    return " ".join(parts)


class Renderer:
    """Turns a :class:`ticketing.outbox.MessageContext` into title and body for its channel."""

    def __init__(
        self,
        templates: Mapping[str, MessageTemplate],
        *,
        tz: ZoneInfo,
        office: str = "Diskominfo",
        link: str = "",
        now: datetime | None = None,
    ) -> None:
        """Use ``templates`` (see :func:`load_templates`); ``now`` fixes ``lama`` in tests."""
        self.templates = templates
        self.tz = tz
        self.office = office
        self.link = link
        self._now = now

    def template(self, kind: str, *, email: bool) -> MessageTemplate:
        """The template of ``kind`` in the channel's style (fallback: alias, then ``umum``)."""
        style = "email" if email else "chat"
        for name in (kind, ALIASES.get(kind, ""), "umum"):
            tpl = self.templates.get(f"{name}.{style}")
            if tpl is not None:
                return tpl
        raise KeyError(f"no template for {kind}.{style}")

    def render(self, ctx: MessageContext, *, email: bool) -> Rendered:
        """Fill the template of ``ctx.kind`` (``pelapor_<kind>`` for a complaint's reporter)."""
        values = {k: shown(v) for k, v in self.values(ctx, email=email).items()}
        kind = f"pelapor_{ctx.kind}" if ctx.recipient.startswith(REPORTER_PREFIX) else ctx.kind
        if ctx.recipient.startswith(PROMPT_PREFIX):
            kind = "aksi_langkah"
        tpl = self.template(kind, email=email)
        title = " ".join(tpl.title.substitute(values).split())  # one line: a subject
        body = tpl.body.substitute(values)
        return Rendered(title, body)

    def __call__(self, ctx: MessageContext) -> Rendered:
        """:meth:`ticketing.outbox.Outbox.claim`'s render callback: style chosen by channel."""
        return self.render(ctx, email=ctx.channel in {"mailto", "mailtos", "email"})

    def values(self, ctx: MessageContext, *, email: bool) -> dict[str, str]:
        """Every placeholder's text for ``ctx``."""
        data = dict(ctx.data or {})
        number = ctx.number or "-"
        command = f"sigap tiket show {number}" if ctx.number else "sigap tiket list"
        link = self.link.replace("{nomor}", number) if self.link and ctx.number else command
        end = ctx.resolved_at or self._now or utc_now()
        return {
            "nomor": number,
            "perangkat": ctx.device or "-",
            "opd": ctx.opd or "-",
            "ringkasan": ctx.summary or "-",
            "status": STATUS_SENTENCE.get(ctx.status, ctx.status or "-"),
            "sejak": local_text(ctx.opened_at, self.tz),
            "waktu": local_text(ctx.at, self.tz),
            "lama": duration_text((end - ctx.opened_at).total_seconds()) if ctx.opened_at else "-",
            "kejadian": ctx.detail or "-",
            "terdampak_jumlah": str(len(ctx.affected)),
            "terdampak_daftar": self._list(ctx.affected, email=email),
            "langkah": self._step(ctx),
            "tenggat": local_text(ctx.step_due, self.tz),
            "teknisi": ctx.assignee or "belum ditugaskan",
            "tindakan": self._actions(ctx),
            "tingkat": str(data.get("level", "-")),
            "peran": _role_title(str(data.get("role", ""))),
            "terlambat": duration_text(float(data.get("late_by_s", 0))),
            "pengingat_ke": str(data.get("nth", "-")),
            "perintah": command,
            "tautan": link,
            "penerima": _recipient(ctx.recipient),
            "kantor": self.office,
            "ref": ctx.ref,
            "pelapor": ctx.reporter or "Bapak/Ibu",
            "bulan": str(data.get("bulan", "-")),
            "rekap": str(data.get("rekap", "-")),
            "laporan": str(data.get("laporan", "-")),
            **_standards(ctx.sop),
        }

    @staticmethod
    def _list(devices: tuple[str, ...], *, email: bool) -> str:
        if not devices:
            return "-"
        if email:
            return "\n".join(f"  - {d}" for d in devices)
        shown = ", ".join(devices[:CHAT_LIST_MAX])
        more = len(devices) - CHAT_LIST_MAX
        return shown + (f", dan {more} lainnya" if more > 0 else "")

    @staticmethod
    def _step(ctx: MessageContext) -> str:
        if ctx.step_label is None:
            return "-"
        who = _role_title(ctx.step_role or "")
        title = f"no. {ctx.step_label}"
        if ctx.sop:
            try:
                steps = bundled().get(ctx.sop).steps
                step = next(s for s in steps if s.label == ctx.step_label)
                title = step.title
            except (SopError, LookupError, StopIteration):  # a renamed SOP: the label
                pass
        return f"{title}, oleh {who}"

    @staticmethod
    def _actions(ctx: MessageContext) -> str:
        done = []
        if ctx.source == "agent":
            done.append("tiket dibuka otomatis oleh pemantauan")
        if ctx.affected:
            done.append(f"{len(ctx.affected)} perangkat di belakangnya digabung ke tiket ini")
        if ctx.assignee:
            done.append(f"teknisi {ctx.assignee} ditugaskan")
        if ctx.remediation:
            done.append(f"remediasi otomatis: {ctx.remediation}")
        return "; ".join(done) if done else "-"


def _standards(sop: str | None) -> dict[str, str]:
    """``standar_waktu`` (step 1) and ``standar_penanganan`` (first handling step) of a SOP."""
    out = {"standar_waktu": "-", "standar_penanganan": "-"}
    if not sop:
        return out
    try:
        steps = bundled().get(sop).steps
    except SopError:
        return out
    out["standar_waktu"] = steps[0].waktu if steps else "-"
    handling = next((s for s in steps if s.kind is StepKind.PENANGANAN), None)
    out["standar_penanganan"] = handling.waktu if handling else "-"
    return out


def _role_title(slug: str) -> str:
    try:
        return ROLE_TITLES[Role(slug)]
    except ValueError:
        return slug or "-"


def _recipient(recipient: str) -> str:
    """The person's name (``aksi:<step>:<name>`` -> ``<name>``)."""
    if recipient.startswith(PROMPT_PREFIX):
        return recipient.removeprefix(PROMPT_PREFIX).partition(":")[2]
    return recipient
