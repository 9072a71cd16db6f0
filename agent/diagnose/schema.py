"""JSON Schema of ``sigap diagnose --json`` (``sigap diagnose --schema`` prints it).

Scripts may rely on every field listed here; new fields may appear (``additionalProperties``
is left open at the top of each object only where a later version may add sections).
"""

from __future__ import annotations

from typing import Any, Final

from agent.diagnose.report import SCHEMA_ID

_NUM_OR_NULL: Final = {"type": ["number", "null"]}
_STR_OR_NULL: Final = {"type": ["string", "null"]}


def _obj(props: dict[str, Any], *, closed: bool = True) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(props),
        "properties": props,
        "additionalProperties": not closed,
    }


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [{"type": "null"}, schema]}


_PING: Final = _obj(
    {
        "sent": {"type": "integer", "minimum": 0},
        "received": {"type": "integer", "minimum": 0},
        "loss": {"type": "number", "minimum": 0, "maximum": 1},
        "min_ms": _NUM_OR_NULL,
        "avg_ms": _NUM_OR_NULL,
        "max_ms": _NUM_OR_NULL,
        "jitter_ms": _NUM_OR_NULL,
        "errors": {"type": "array", "items": {"type": "string"}},
    }
)
_INTERFACE: Final = _obj(
    {
        "index": {"type": "integer"},
        "name": {"type": "string"},
        "alias": {"type": "string"},
        "admin": {"enum": ["up", "down", "unknown"]},
        "oper": {"enum": ["up", "down", "unknown"]},
        "speed_mbps": {"type": ["integer", "null"]},
        "in_bps": _NUM_OR_NULL,
        "out_bps": _NUM_OR_NULL,
        "utilisation": _NUM_OR_NULL,
        "errors_per_s": _NUM_OR_NULL,
        "discards_per_s": _NUM_OR_NULL,
        "status": {"enum": ["ok", "catatan", "masalah"]},
        "issues": {"type": "array", "items": {"type": "string"}},
    }
)
_SNMP: Final = _obj(
    {
        "ok": {"type": "boolean"},
        "reason": {"type": "string"},
        "sys_name": {"type": "string"},
        "sys_descr": {"type": "string"},
        "uptime_s": _NUM_OR_NULL,
        "sample_s": _NUM_OR_NULL,
        "interfaces": {"type": "array", "items": _INTERFACE},
    }
)
_MTU: Final = _obj(
    {
        "path_mtu": {"type": ["integer", "null"]},
        "probes": {
            "type": "array",
            "items": _obj(
                {
                    "size": {"type": "integer"},
                    "ok": {"type": "boolean"},
                    "detail": {"type": "string"},
                }
            ),
        },
    }
)
_SSH: Final = _obj(
    {
        "ok": {"type": "boolean"},
        "reason": {"type": "string"},
        "commands": {
            "type": "array",
            "items": _obj(
                {
                    "command": {"type": "string"},
                    "output": {"type": "string"},
                    "elapsed_ms": {"type": "integer"},
                }
            ),
        },
    }
)
_TICKET: Final = _obj(
    {
        "number": {"type": "string"},
        "status": {"enum": ["open", "recovering", "resolved"]},
        "kind": {"type": "string"},
        "summary": {"type": "string"},
        "opened_at": {"type": "string", "format": "date-time"},
        "resolved_at": _STR_OR_NULL,
        "sop": _STR_OR_NULL,
        "step": {"type": "string"},
        "affected": {"type": "boolean"},
    }
)
_TICKETS: Final = _obj(
    {
        "ok": {"type": "boolean"},
        "reason": {"type": "string"},
        "items": {"type": "array", "items": _TICKET},
    }
)
_HARDWARE: Final = _obj(
    {
        "ok": {"type": "boolean"},
        "reason": {"type": "string"},
        "cpu_pct": _NUM_OR_NULL,
        "memory_pct": _NUM_OR_NULL,
        "sensors": {
            "type": "array",
            "items": _obj(
                {
                    "kind": {"enum": ["temperature", "voltage", "fan", "psu", "power", "current"]},
                    "name": {"type": "string"},
                    "value": _NUM_OR_NULL,
                    "ok": {"type": ["boolean", "null"]},
                }
            ),
        },
        "radios": {
            "type": "array",
            "items": _obj(
                {
                    "interface": {"type": "string"},
                    "peer": {"type": "string"},
                    "signal_dbm": _NUM_OR_NULL,
                    "snr_db": _NUM_OR_NULL,
                    "tx_ccq_pct": _NUM_OR_NULL,
                    "rx_ccq_pct": _NUM_OR_NULL,
                    "tx_rate_bps": {"type": ["integer", "null"]},
                    "rx_rate_bps": {"type": ["integer", "null"]},
                    "peers": {"type": "integer", "minimum": 1},
                }
            ),
        },
        "notes": {"type": "array", "items": {"type": "string"}},
    }
)
_FINDING: Final = {
    "type": "object",
    "required": ["severity", "section", "text"],
    "properties": {
        "severity": {"enum": ["masalah", "catatan"]},
        "section": {
            "enum": [
                "icmp",
                "path",
                "mtu",
                "snmp",
                "interface",
                "ssh",
                "tickets",
                "hardware",
                "radio",
            ]
        },
        "text": {"type": "string"},
        "interface": {"type": "string"},
    },
    "additionalProperties": False,
}
_HEALTH: Final = {"enum": ["healthy", "degraded", "down", "unreachable"]}
_DEVICE: Final = _obj(
    {
        "name": {"type": "string"},
        "address": {"type": "string"},
        "opd": {"type": "string"},
        "platform": {"type": "string"},
        "role": {"type": "string"},
        "in_inventory": {"type": "boolean"},
        "health": _HEALTH,
        "verdict": {"type": "string", "minLength": 1},
        "findings": {"type": "array", "items": _FINDING},
        "ping": _PING,
        "path": {
            "type": "array",
            "items": _obj(
                {"name": {"type": "string"}, "address": {"type": "string"}, "ping": _PING}
            ),
        },
        "broken_at": _STR_OR_NULL,
        "mtu": _nullable(_MTU),
        "snmp": _nullable(_SNMP),
        "ssh": _nullable(_SSH),
        "tickets": _nullable(_TICKETS),
        "hardware": _nullable(_HARDWARE),
    }
)
SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"urn:{SCHEMA_ID.replace('/', ':')}",
    "title": "sigap diagnose --json",
    **_obj(
        {
            "schema": {"const": SCHEMA_ID},
            "target": {"type": "string"},
            "kind": {"enum": ["device", "opd", "address"]},
            "at": {"type": "string", "format": "date-time"},
            "duration_s": {"type": "number", "minimum": 0},
            "health": _HEALTH,
            "exit_code": {"enum": [0, 1, 2]},
            "verdict": {"type": "string", "minLength": 1},
            "devices": {"type": "array", "minItems": 1, "items": _DEVICE},
        }
    ),
}
