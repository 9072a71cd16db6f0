"""The OpenAPI 3.1 document of ``/api/v1`` (served at ``/api/v1/openapi.json``).

Request bodies come from the pydantic models of :mod:`agent.web.api` (the very models that
check them); responses are written here, and the tests validate real responses against them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from starlette.responses import JSONResponse
from starlette.routing import Route

from agent.web import api, api_bodies

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

REF: Final = "#/components/schemas/{model}"
NULLABLE_TEXT: Final = {"type": ["string", "null"]}
TIME: Final = {"type": ["string", "null"], "format": "date-time"}

TICKET: Final = {
    "type": "object",
    "required": ["nomor", "perangkat", "jenis", "opd", "status", "dibuka", "versi"],
    "properties": {
        "nomor": {"type": "string"},
        "perangkat": {"type": "string"},
        "jenis": {"type": "string"},
        "opd": {"type": "string"},
        "ringkasan": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "recovering", "resolved"]},
        "dibuka": {"type": "string", "format": "date-time"},
        "pulih": TIME,
        "selesai": TIME,
        "sop": NULLABLE_TEXT,
        "langkah": {"type": ["integer", "null"]},
        "teknisi": NULLABLE_TEXT,
        "versi": {"type": "integer"},
    },
}
ROW: Final = {
    "allOf": [{"$ref": REF.format(model="Tiket")}],
    "properties": {
        "langkah_label": NULLABLE_TEXT,
        "langkah_peran": NULLABLE_TEXT,
        "tenggat": TIME,
        "terlambat": {"type": "boolean"},
    },
    "required": ["terlambat"],
}
PAGE: Final = {
    "type": "object",
    "required": ["tiket", "hal", "per_hal", "jumlah", "halaman"],
    "additionalProperties": False,
    "properties": {
        "tiket": {"type": "array", "items": {"$ref": REF.format(model="BarisTiket")}},
        "hal": {"type": "integer", "minimum": 1},
        "per_hal": {"type": "integer", "minimum": 1, "maximum": api.MAX_PER_PAGE},
        "jumlah": {"type": "integer", "minimum": 0},
        "halaman": {"type": "integer", "minimum": 1},
    },
}
STEP: Final = {
    "type": "object",
    "required": ["posisi", "kegiatan", "peran"],
    "properties": {
        "posisi": {"type": "integer"},
        "kegiatan": {"type": "string"},
        "peran": {"type": "string"},
        "mulai": TIME,
        "tenggat": TIME,
        "selesai": TIME,
        "oleh": NULLABLE_TEXT,
    },
}
DETAIL: Final = {
    "allOf": [{"$ref": REF.format(model="Tiket")}],
    "required": ["uraian", "langkah_sop"],
    "properties": {
        "uraian": {"type": "string"},
        "langkah_sop": {"type": "array", "items": {"$ref": REF.format(model="LangkahSop")}},
    },
}
WINDOW: Final = {
    "type": "object",
    "required": ["judul"],
    "properties": {
        "judul": {"type": "string"},
        "mulai": TIME,
        "selesai": TIME,
        "hari": {"type": "array", "items": {"type": "string"}},
        "dari": NULLABLE_TEXT,
        "sampai": NULLABLE_TEXT,
    },
}
DEVICE: Final = {
    "type": "object",
    "required": ["nama", "alamat", "opd", "keadaan", "jendela"],
    "properties": {
        "nama": {"type": "string"},
        "alamat": {"type": "string", "format": "ipv4"},
        "opd": {"type": "string"},
        "peran": {"type": "string"},
        "platform": {"type": "string"},
        "induk": NULLABLE_TEXT,
        "keadaan": {
            "type": "string",
            "enum": ["normal", "mati", "tak_terjangkau"],
            "description": "Keadaan terakhir yang diketahui (bukan keadaan sekarang bila "
            "terpantau false).",
        },
        "zona": {"type": "string", "description": "Zona poller perangkat (pusat: NOC)."},
        "terpantau": {
            "type": "boolean",
            "description": "false: poller zonanya tidak melapor, tidak ada yang memantaunya.",
        },
        "tiket": NULLABLE_TEXT,
        "pemeliharaan_sekarang": NULLABLE_TEXT,
        "jendela": {"type": "array", "items": {"$ref": REF.format(model="Jendela")}},
    },
}
DEVICES: Final = {
    "type": "object",
    "required": ["perangkat", "versi_inventaris"],
    "properties": {
        "perangkat": {"type": "array", "items": {"$ref": REF.format(model="Perangkat")}},
        "versi_inventaris": NULLABLE_TEXT,
    },
}
EDIT: Final = {
    "type": "object",
    "required": ["versi_inventaris", "muat_ulang", "diff"],
    "properties": {
        "versi_inventaris": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "muat_ulang": {"type": "string"},
        "diff": {"type": "string"},
        "judul": {"type": "string"},
    },
}
ERROR: Final = {
    "type": "object",
    "required": ["galat"],
    "properties": {
        "galat": {"type": "string"},
        "rincian": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"tempat": {"type": "string"}, "pesan": {"type": "string"}},
            },
        },
    },
}
RESPONSES: Final = {
    "Tiket": TICKET,
    "BarisTiket": ROW,
    "HalamanTiket": PAGE,
    "LangkahSop": STEP,
    "DetailTiket": DETAIL,
    "Jendela": WINDOW,
    "Perangkat": DEVICE,
    "DaftarPerangkat": DEVICES,
    "HasilUbah": EDIT,
    "Galat": ERROR,
}
BODIES: Final = (
    api_bodies.Lapor,
    api_bodies.Disposisi,
    api_bodies.Tugaskan,
    api_bodies.Tangani,
    api_bodies.Selesai,
    api_bodies.Jendela,
    api_bodies.BatalJendela,
)


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": REF.format(model=name)}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "permintaan tidak terbaca",
        401: "token tidak ada, tidak sah atau dicabut",
        403: "peran tidak berwenang",
        404: "tidak ditemukan",
        409: "versi usang (tiket atau inventaris berubah)",
        413: "isi terlalu besar",
        422: "isi tidak sesuai skema atau inventaris tidak lolos pemeriksaan",
    }
    return {str(c): _json("Galat", text[c]) for c in codes}


def _post(body: str, ok: str, status: int = 200, summary: str = "") -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref(body)}},
            },
            "responses": {
                str(status): _json(ok, "berhasil"),
                **_errors(400, 401, 403, 404, 409, 413, 422),
            },
        }
    }


def _paths() -> dict[str, Any]:
    p = api.PREFIX
    page_params = [
        {"name": n, "in": "query", "required": False, "schema": s}
        for n, s in (
            ("status", {"type": "string", "enum": ["open", "recovering", "resolved"]}),
            ("opd", {"type": "string"}),
            ("perangkat", {"type": "string"}),
            ("sop", {"type": "string"}),
            ("hal", {"type": "integer", "minimum": 1}),
            ("per_hal", {"type": "integer", "minimum": 1, "maximum": api.MAX_PER_PAGE}),
        )
    ]
    tiket = {
        "get": {
            "summary": "Daftar tiket (terbaru dulu), disaring dan per halaman",
            "parameters": page_params,
            "responses": {"200": _json("HalamanTiket", "satu halaman"), **_errors(400, 401)},
        },
        **_post("Lapor", "Tiket", 201, "Catat pengaduan"),
    }
    paths: dict[str, Any] = {
        f"{p}/tiket": tiket,
        f"{p}/tiket/{{nomor}}": {
            "get": {
                "summary": "Satu tiket dengan langkah SOP-nya",
                "parameters": [
                    {"name": "nomor", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": _json("DetailTiket", "tiket"), **_errors(401, 404)},
            }
        },
        f"{p}/perangkat": {
            "get": {
                "summary": "Perangkat dan keadaannya",
                "responses": {"200": _json("DaftarPerangkat", "perangkat"), **_errors(401)},
            }
        },
        f"{p}/pemeliharaan": _post("Jendela", "HasilUbah", 201, "Buka jendela pemeliharaan"),
        f"{p}/pemeliharaan/batal": _post("BatalJendela", "HasilUbah", 200, "Batalkan jendela"),
    }
    for name, model in api.ACTIONS.items():
        paths[f"{p}/aksi/{name}"] = _post(model.__name__, "Tiket", 200, f"Langkah SOP: {name}")
    return paths


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    schemas: dict[str, Any] = dict(RESPONSES)
    for model in BODIES:
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return {
        "openapi": "3.1.0",
        "info": {"title": "sigap API", "version": "1"},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"token": []}],
        "paths": _paths(),
    }


def serve(_request: Request) -> Response:
    """``/api/v1/openapi.json`` (no token needed: the schema is no secret)."""
    return JSONResponse(document())


ROUTE: Final = Route(f"{api.PREFIX}/openapi.json", serve)
