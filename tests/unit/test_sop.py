"""SOP files: the bundled tables load faithfully; invalid files fail naming file, step, field."""

from __future__ import annotations

import pytest

from ticketing.errors import SopError
from ticketing.people import Role
from ticketing.sop import (
    DocumentKind,
    SopRegistry,
    StepKind,
    TimeStandard,
    TimeUnit,
    bundled,
    load_sop,
)

pytestmark = pytest.mark.unit

MINIMAL = """\
kode: {code}
judul: Uji
langkah:
  - no: "1"
    kegiatan: Pengaduan masuk
    pelaksana: [{role}]
    waktu: {waktu}
    jenis: penerimaan
"""


def test_bundled_sops_are_the_three_seed_tables():
    sops = {s.code: s for s in bundled()}
    assert set(sops) == {"gangguan-internet", "gangguan-internet-pj", "pemeliharaan"}
    pem = sops["pemeliharaan"]
    assert [s.label for s in pem.steps] == ["1", "2", "2", "3", "4", "5", "8"]
    assert [s.position for s in pem.steps] == [1, 2, 3, 4, 5, 6, 7]
    assert [str(s.standard) for s in pem.steps] == [
        "5 menit", "15 menit", "1 jam", "1 jam", "2 jam", "15 menit", "15 menit",
    ]  # fmt: skip
    assert pem.step(4).output == "lapop"  # kept verbatim
    assert [s.standing for s in pem.steps] == [True, True, False, False, False, False, False]
    assert pem.decision_step is pem.step(4)


def test_table_one_keeps_text_marks_and_documents():
    sop = bundled().get("gangguan-internet")
    step2 = sop.step(2)
    assert step2.kegiatan == (
        "Disposisi dari Kepala Dinas kepada Kabid Kominfo, Kabid Kominfo memerintahkan Kasi "
        "Jaringan utk ditindak lanjuti"
    )
    assert step2.lanes == (Role.KASI, Role.KABID)  # where the □ marks sit
    assert step2.document is DocumentKind.SURAT_DISPOSISI
    assert step2.kind is StepKind.DISPOSISI
    assert sop.step(4).standard == TimeStandard(1, TimeUnit.HARI)
    assert sop.step(4).decision
    assert sop.step(4).may_run_24x7
    assert sop.step(1).kelengkapan == "- surat/email/wa"
    assert [s.document for s in sop.steps] == [
        None, DocumentKind.SURAT_DISPOSISI, DocumentKind.NOTA_DINAS, None, DocumentKind.LAPORAN,
    ]  # fmt: skip


def test_time_standard_parse():
    assert TimeStandard.parse("10 menit") == TimeStandard(10, TimeUnit.MENIT)
    assert str(TimeStandard.parse("2 Jam")) == "2 jam"
    with pytest.raises(ValueError, match="tidak terbaca"):
        TimeStandard.parse("segera")


def test_unknown_role_names_file_step_and_field(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text(MINIMAL.format(code="x", role="camat", waktu="10 menit"), encoding="utf-8")
    with pytest.raises(SopError) as info:
        load_sop(path)
    assert ("x.yaml", "langkah[0] (no. 1)", "pelaksana") in [p[:3] for p in info.value.problems]
    assert "peran 'camat' tidak dikenal" in str(info.value)


def test_missing_time_standard(tmp_path):
    path = tmp_path / "y.yaml"
    path.write_text(MINIMAL.format(code="y", role="kasi", waktu='""'), encoding="utf-8")
    with pytest.raises(SopError) as info:
        load_sop(path)
    assert info.value.problems == [
        ("y.yaml", "langkah[0] (no. 1)", "waktu", "mutu baku (waktu) wajib diisi")
    ]


def test_unknown_document_and_several_problems_at_once(tmp_path):
    text = MINIMAL.format(code="z", role="kasi", waktu="1 minggu") + "    dokumen: faks\n"
    path = tmp_path / "z.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SopError) as info:
        load_sop(path)
    fields = {p[2] for p in info.value.problems}
    assert fields == {"waktu", "dokumen"}


def test_duplicate_codes_rejected(tmp_path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(
            MINIMAL.format(code="sama", role="kasi", waktu="5 menit"), encoding="utf-8"
        )
    with pytest.raises(SopError, match=r"sudah dipakai oleh a\.yaml"):
        SopRegistry.from_dir(tmp_path)


def test_unknown_code_lists_known():
    with pytest.raises(SopError, match="yang ada: gangguan-internet, gangguan-internet-pj"):
        bundled().get("tidak-ada")
