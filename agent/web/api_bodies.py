"""The request bodies of the JSON API (:mod:`agent.web.api`): what each endpoint accepts.

Strict pydantic models (:class:`agent.web.api_io.Body`): unknown keys, wrong types, values
too long for their column and control characters are refused with 422 before a handler runs.
The same models are the request schemas of the OpenAPI document (:mod:`agent.web.openapi`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from agent.web.api_io import Body, OneLine, Required, RequiredText, Text


class Lapor(Body):
    """A complaint (as ``sigap tiket lapor``)."""

    sumber: Literal["surat", "email", "wa"]
    opd: Required
    pelapor: Required
    uraian: RequiredText
    perangkat: OneLine = ""
    via_pj: bool = False


class Aksi(Body):
    """An SOP action on ticket ``nomor`` at the ``versi`` the caller read."""

    nomor: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9/_-]+$")
    versi: int = Field(ge=0, le=2**31 - 1)


class Disposisi(Aksi):
    """Disposisi (Kadis/Kabid)."""

    isi: RequiredText
    sifat: Literal["biasa", "segera", "sangat_segera"] = "biasa"
    nomor_agenda: OneLine = ""


class Tugaskan(Aksi):
    """Tugaskan teknisi (Kasi)."""

    teknisi: Required
    catatan: Text = ""


class Tangani(Aksi):
    """Sederhana, or kompleks with a Program Kegiatan entry (teknisi)."""

    keputusan: Literal["sederhana", "kompleks"]
    alasan: Text = ""
    catatan: Text = ""
    usulan: Text = ""
    biaya: int = Field(default=0, ge=0, le=10**15)
    prioritas: Literal["tinggi", "sedang", "rendah"] = "sedang"
    tahun: int | None = Field(default=None, ge=2000, le=2100)


class Selesai(Aksi):
    """Complete the active step (with the laporan text where the step produces one)."""

    catatan: Text = ""
    laporan: Text = ""


class Jendela(Body):
    """A one-off maintenance window: from ``mulai`` (default now) for ``durasi_jam`` hours."""

    versi_inventaris: str = Field(pattern=r"^[0-9a-f]{64}$")
    perangkat: Required
    judul: OneLine = ""
    mulai: AwareDatetime | None = None
    durasi_jam: int = Field(default=2, ge=1, le=744)


class BatalJendela(Body):
    """Cancel a maintenance window by its name."""

    versi_inventaris: str = Field(pattern=r"^[0-9a-f]{64}$")
    perangkat: Required
    judul: Required
