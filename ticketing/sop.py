"""SOPs as data: load and validate ``ticketing/sop/*.yaml`` into frozen ``Sop`` objects.

A SOP file mirrors one table of the office's SOP (issue 5, DESIGN.md section 6): the printed
step numbers are kept as labels, the steps run in the order they are written. Engine metadata
(``jenis``, ``disposisi_tetap``, ``keputusan``, ``boleh_24x7``, ``dokumen``) sits beside the
verbatim seed text. Every problem of a file is reported at once, each naming file, step, field::

    gangguan-internet.yaml: 2 masalah
      langkah[2] (no. 3): pelaksana: peran 'camat' tidak dikenal (kadis, kabid, kasi, ...)
      langkah[4] (no. 5): waktu: mutu baku '' tidak terbaca (contoh: 10 menit, 1 jam, 1 hari)
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ticketing.errors import SopError
from ticketing.people import RANK, Role

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

SOP_DIR: Final = Path(__file__).with_name("sop")
TITLE_CHARS: Final = 50
TIME_RE: Final = re.compile(r"\A\s*(\d+)\s*(menit|jam|hari)\s*\Z", re.IGNORECASE)
STEP_KEYS: Final = frozenset(
    {
        "no",
        "kegiatan",
        "lajur",
        "pelaksana",
        "kelengkapan",
        "waktu",
        "output",
        "keterangan",
        "tafsiran",
        "jenis",
        "dokumen",
        "boleh_24x7",
        "keputusan",
        "disposisi_tetap",
    }
)
SOP_KEYS: Final = frozenset({"kode", "judul", "sumber", "catatan", "langkah"})


class TimeUnit(StrEnum):
    """Units of a mutu baku as the SOP writes them."""

    MENIT = "menit"
    JAM = "jam"
    HARI = "hari"


class StepKind(StrEnum):
    """What a step does for the engine."""

    PENERIMAAN = "penerimaan"  # the report or complaint comes in (first step)
    PENERUSAN = "penerusan"  # a report is passed on to the Kasi (no disposition letter)
    DISPOSISI = "disposisi"  # Kadis/Kabid dispose the matter down the line
    PENUGASAN = "penugasan"  # the Kasi assigns a technician
    PENANGANAN = "penanganan"  # checking, analysis, repair
    PENYELESAIAN = "penyelesaian"  # the work is declared done
    LAPORAN = "laporan"  # the closing report


class DocumentKind(StrEnum):
    """Documents a step can produce (issue 5)."""

    SURAT_DISPOSISI = "surat_disposisi"
    NOTA_DINAS = "nota_dinas"
    REGISTER_GANGGUAN = "register_gangguan"
    LAPORAN_PERMASALAHAN = "laporan_permasalahan"
    LAPORAN = "laporan"


@dataclass(frozen=True, slots=True)
class TimeStandard:
    """A mutu baku such as "10 menit", "1 jam", "1 hari"."""

    amount: int
    unit: TimeUnit

    @classmethod
    def parse(cls, text: str) -> TimeStandard:
        """Parse "N menit|jam|hari"; raise ValueError naming the accepted forms."""
        match = TIME_RE.match(text)
        if match is None or int(match[1]) <= 0:
            raise ValueError(f"mutu baku {text!r} tidak terbaca (contoh: 10 menit, 1 jam, 1 hari)")
        return cls(int(match[1]), TimeUnit(match[2].lower()))

    @property
    def clock(self) -> timedelta:
        """Length as elapsed time (a "hari" counted as 24 hours, for 24x7 steps)."""
        minutes = {TimeUnit.MENIT: 1, TimeUnit.JAM: 60, TimeUnit.HARI: 24 * 60}[self.unit]
        return timedelta(minutes=self.amount * minutes)

    def __str__(self) -> str:
        """As the SOP writes it."""
        return f"{self.amount} {self.unit.value}"


@dataclass(frozen=True, slots=True)
class SopStep:
    """One row of a SOP table, with the engine's reading of it."""

    position: int  # 1-based order in the file (the order the steps run)
    label: str  # the number printed in the seed (may repeat or skip)
    kegiatan: str
    lanes: tuple[Role, ...]  # lajur: where the flowchart puts the step (marks or reading)
    performers: tuple[Role, ...]  # pelaksana: roles that may complete the step
    kelengkapan: str
    standard: TimeStandard
    waktu: str  # verbatim
    output: str
    keterangan: str
    tafsiran: str  # how the engine reads the row (why these roles)
    kind: StepKind
    document: DocumentKind | None
    may_run_24x7: bool
    decision: bool
    standing: bool  # completed by "sistem" under a standing disposition

    @property
    def lowest_performer(self) -> Role:
        """The lowest-ranked performer: escalation starts above it."""
        return min(self.performers, key=lambda r: RANK[r])

    @property
    def title(self) -> str:
        """Short reference for messages: "no. 3 (Kepala Seksi memerintah ...)"."""
        short = TITLE_CHARS
        text = self.kegiatan if len(self.kegiatan) <= short else self.kegiatan[: short - 3] + "..."
        return f"no. {self.label} ({text})"


@dataclass(frozen=True, slots=True)
class Sop:
    """A validated SOP: a code, a title and its steps in order."""

    code: str
    title: str
    source: str
    note: str
    steps: tuple[SopStep, ...]
    path: str

    def step(self, position: int) -> SopStep:
        """Return the step at 1-based ``position``."""
        return self.steps[position - 1]

    @property
    def decision_step(self) -> SopStep | None:
        """The step where sederhana/kompleks is decided, if any."""
        return next((s for s in self.steps if s.decision), None)


# -- validation -----------------------------------------------------------------------------


class _Problems:
    """Collects (file, step, field, message) tuples while a file is checked."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[tuple[str, str, str, str]] = []

    def add(self, step: str, field: str, message: str) -> None:
        self.items.append((self.file, step, field, message))


def _enum_list(raw: Any, enum: type[Role], where: tuple[_Problems, str, str]) -> tuple[Role, ...]:
    problems, step, field = where
    if not isinstance(raw, list) or not raw:
        problems.add(step, field, f"harus daftar peran yang tidak kosong (didapat {raw!r})")
        return ()
    out: list[Role] = []
    for item in raw:
        try:
            out.append(enum(item))
        except ValueError:
            known = ", ".join(r.value for r in enum)
            problems.add(step, field, f"peran {item!r} tidak dikenal ({known})")
    return tuple(out)


def _text(raw: Mapping[str, Any], key: str, problems: _Problems, step: str) -> str:
    value = raw.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str | int):
        problems.add(step, key, f"harus teks (didapat {value!r})")
        return ""
    return str(value)


def _flag(raw: Mapping[str, Any], key: str, problems: _Problems, step: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        problems.add(step, key, f"harus true/false (didapat {value!r})")
        return False
    return value


def _step(raw: Any, index: int, problems: _Problems) -> SopStep | None:
    """Check one ``langkah`` entry; None when it is unusable (problems recorded)."""
    where = f"langkah[{index}]"
    if not isinstance(raw, dict):
        problems.add(where, "", f"harus pemetaan (didapat {raw!r})")
        return None
    label = _text(raw, "no", problems, where)
    step = f"{where} (no. {label})" if label else where
    for key in sorted(set(raw) - STEP_KEYS):
        problems.add(
            step, key, f"kunci tidak dikenal (yang dikenal: {', '.join(sorted(STEP_KEYS))})"
        )
    if not _text(raw, "kegiatan", problems, step):
        problems.add(step, "kegiatan", "wajib diisi")
    performers = _enum_list(raw.get("pelaksana"), Role, (problems, step, "pelaksana"))
    lanes = _enum_list(raw.get("lajur", raw.get("pelaksana")), Role, (problems, step, "lajur"))
    waktu = _text(raw, "waktu", problems, step)
    standard = None
    try:
        standard = TimeStandard.parse(waktu)
    except ValueError as exc:
        problems.add(step, "waktu", str(exc) if waktu else "mutu baku (waktu) wajib diisi")
    kind = None
    try:
        kind = StepKind(str(raw.get("jenis")))
    except ValueError:
        known = ", ".join(k.value for k in StepKind)
        problems.add(step, "jenis", f"jenis {raw.get('jenis')!r} tidak dikenal ({known})")
    document = None
    if raw.get("dokumen") is not None:
        try:
            document = DocumentKind(raw["dokumen"])
        except ValueError:
            known = ", ".join(k.value for k in DocumentKind)
            problems.add(step, "dokumen", f"dokumen {raw['dokumen']!r} tidak dikenal ({known})")
    flags = [_flag(raw, k, problems, step) for k in ("boleh_24x7", "keputusan", "disposisi_tetap")]
    if standard is None or kind is None or not performers or not lanes:
        return None
    return SopStep(
        position=index + 1,
        label=label,
        kegiatan=_text(raw, "kegiatan", problems, step),
        lanes=lanes,
        performers=performers,
        kelengkapan=_text(raw, "kelengkapan", problems, step),
        standard=standard,
        waktu=waktu,
        output=_text(raw, "output", problems, step),
        keterangan=_text(raw, "keterangan", problems, step),
        tafsiran=_text(raw, "tafsiran", problems, step),
        kind=kind,
        document=document,
        may_run_24x7=flags[0],
        decision=flags[1],
        standing=flags[2],
    )


def _check_whole(sop: Sop, problems: _Problems) -> None:
    """Rules across steps: the first step is the intake, at most one decision step."""
    if sop.steps and sop.steps[0].kind is not StepKind.PENERIMAAN:
        problems.add("langkah[0]", "jenis", "langkah pertama harus 'penerimaan'")
    if sum(s.decision for s in sop.steps) > 1:
        problems.add("", "langkah", "paling banyak satu langkah keputusan (keputusan: true)")


def parse_sop(data: Any, file: str) -> Sop:
    """Validate the parsed YAML of one SOP file; raise SopError listing every problem."""
    problems = _Problems(file)
    if not isinstance(data, dict):
        raise SopError([(file, "", "", f"harus pemetaan di tingkat atas (didapat {data!r})")])
    for key in sorted(set(data) - SOP_KEYS):
        problems.add("", key, f"kunci tidak dikenal (yang dikenal: {', '.join(sorted(SOP_KEYS))})")
    code = _text(data, "kode", problems, "")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", code):
        problems.add("", "kode", f"kode {code!r} harus slug huruf kecil (contoh: pemeliharaan)")
    raw_steps = data.get("langkah")
    if not isinstance(raw_steps, list) or not raw_steps:
        problems.add("", "langkah", "wajib berisi daftar langkah")
        raw_steps = []
    steps = [_step(raw, i, problems) for i, raw in enumerate(raw_steps)]
    sop = Sop(
        code=code,
        title=_text(data, "judul", problems, ""),
        source=_text(data, "sumber", problems, ""),
        note=_text(data, "catatan", problems, ""),
        steps=tuple(s for s in steps if s is not None),
        path=file,
    )
    _check_whole(sop, problems)
    if problems.items:
        raise SopError(problems.items)
    return sop


def load_sop(path: Path) -> Sop:
    """Read and validate one SOP file."""
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise SopError([(path.name, "", "", f"tidak bisa dibaca: {exc}")]) from exc
    return parse_sop(data, path.name)


class SopRegistry:
    """SOPs by code; duplicate codes are rejected naming both files."""

    def __init__(self, sops: Iterable[Sop]) -> None:
        """Index ``sops`` by code."""
        self._by_code: dict[str, Sop] = {}
        for sop in sops:
            other = self._by_code.get(sop.code)
            if other is not None:
                msg = f"kode {sop.code!r} sudah dipakai oleh {other.path}"
                raise SopError([(sop.path, "", "kode", msg)])
            self._by_code[sop.code] = sop

    @classmethod
    def from_dir(cls, directory: Path = SOP_DIR) -> SopRegistry:
        """Load every ``*.yaml`` of ``directory`` (problems of all files reported together)."""
        sops: list[Sop] = []
        problems: list[tuple[str, str, str, str]] = []
        for path in sorted(directory.glob("*.yaml")):
            try:
                sops.append(load_sop(path))
            except SopError as exc:
                problems.extend(exc.problems)
        if problems:
            raise SopError(problems)
        return cls(sops)

    def get(self, code: str) -> Sop:
        """Return the SOP ``code``; raise SopError listing the known codes."""
        try:
            return self._by_code[code]
        except KeyError:
            msg = f"SOP {code!r} tidak ada (yang ada: {', '.join(sorted(self._by_code))})"
            raise SopError([("", "", "kode", msg)]) from None

    def __iter__(self) -> Iterator[Sop]:
        """SOPs by code."""
        return iter(sorted(self._by_code.values(), key=lambda s: s.code))

    def __contains__(self, code: object) -> bool:
        """Whether a SOP with this code exists."""
        return code in self._by_code


@functools.cache
def bundled() -> SopRegistry:
    """The SOPs shipped in ``ticketing/sop``: package data, loaded and validated once a process.

    Every SOP and step is frozen and nothing changes the registry, so one shared copy is safe;
    the config checks, the ticket service and each notification read it.
    """
    return SopRegistry.from_dir(SOP_DIR)
