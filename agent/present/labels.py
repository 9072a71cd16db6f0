"""Every Indonesian label of sigap's own enums, one table per fact, for every face (CLI, web, demo).

Tables are keyed by the enums' members and typed ``Mapping[str, str]``: a ``StrEnum`` member is
a ``str``, so the member and its stored slug (``"open"``) find the same entry. A unit test checks
that every member has a label. Labels of the documents the ticketing layer writes itself
(document kinds, complaint sources, roles, remediation results) live beside those documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collectors.model import SensorKind
from ticketing.faults import FaultKind
from ticketing.states import EventKind, TicketState

if TYPE_CHECKING:
    from collections.abc import Mapping

STATUS_LABEL: Final[Mapping[str, str]] = {
    TicketState.OPEN: "terbuka",
    TicketState.RECOVERING: "pemulihan",
    TicketState.RESOLVED: "selesai",
}
STATUS_STYLE: Final[Mapping[str, str]] = {
    TicketState.OPEN: "bold red",
    TicketState.RECOVERING: "yellow",
    TicketState.RESOLVED: "green",
}
# the ticket status as a notification sentence says it
STATUS_SENTENCE: Final[Mapping[str, str]] = {
    TicketState.OPEN: "terbuka (gangguan berlangsung)",
    TicketState.RECOVERING: "pulih, menunggu masa tahan",
    TicketState.RESOLVED: "selesai",
}
KIND_LABEL: Final[Mapping[str, str]] = {
    FaultKind.DEVICE_DOWN: "perangkat mati",
    FaultKind.FLAPPING: "naik-turun (flapping)",
    FaultKind.INTERFACE_DOWN: "interface putus",
    FaultKind.INTERFACE_DISABLED: "interface dinonaktifkan",
    FaultKind.DEVICE_REBOOTED: "perangkat restart",
    FaultKind.LINK_SATURATED: "link penuh",
    FaultKind.INTERFACE_ERRORS: "error interface",
    FaultKind.SNMP_UNREACHABLE: "SNMP tidak menjawab",
    FaultKind.LINK_LOST: "link hilang",
    FaultKind.CPU_HIGH: "CPU tinggi",
    FaultKind.DEVICE_OVERHEAT: "suhu perangkat tinggi",
    FaultKind.VOLTAGE_ABNORMAL: "tegangan tidak normal",
    FaultKind.PSU_FAILED: "catu daya (PSU) gagal",
    FaultKind.RADIO_DEGRADED: "sinyal radio lemah",
    FaultKind.PPPOE_DOWN: "PPPoE/WAN ISP putus",
    FaultKind.LOGIN_FAILURES: "percobaan login gagal berulang",
    FaultKind.CONFIG_CHANGED: "konfigurasi berubah",
    FaultKind.BACKUP_FAILED: "cadangan konfigurasi gagal",
    FaultKind.POLLER_DOWN: "Poller zona tidak melapor",
}
# narrow table columns
KIND_SHORT: Final[Mapping[str, str]] = {
    FaultKind.DEVICE_DOWN: "mati",
    FaultKind.FLAPPING: "flapping",
    FaultKind.INTERFACE_DOWN: "if putus",
    FaultKind.INTERFACE_DISABLED: "if nonaktif",
    FaultKind.DEVICE_REBOOTED: "restart",
    FaultKind.LINK_SATURATED: "link penuh",
    FaultKind.INTERFACE_ERRORS: "if error",
    FaultKind.SNMP_UNREACHABLE: "snmp diam",
    FaultKind.LINK_LOST: "link hilang",
    FaultKind.CPU_HIGH: "CPU tinggi",
    FaultKind.DEVICE_OVERHEAT: "panas",
    FaultKind.VOLTAGE_ABNORMAL: "tegangan",
    FaultKind.PSU_FAILED: "PSU gagal",
    FaultKind.RADIO_DEGRADED: "radio lemah",
    FaultKind.PPPOE_DOWN: "PPPoE putus",
    FaultKind.LOGIN_FAILURES: "login gagal",
    FaultKind.CONFIG_CHANGED: "konfig berubah",
    FaultKind.BACKUP_FAILED: "cadangan gagal",
    FaultKind.POLLER_DOWN: "poller diam",
}
# what a health sensor measures (collectors.model.SensorKind), for diagnose and the board
SENSOR_LABEL: Final[Mapping[str, str]] = {
    SensorKind.TEMPERATURE: "suhu",
    SensorKind.VOLTAGE: "tegangan",
    SensorKind.FAN: "kipas",
    SensorKind.PSU: "catu daya",
    SensorKind.POWER: "daya",
    SensorKind.CURRENT: "arus",
}
EVENT_LABEL: Final[Mapping[str, str]] = {
    EventKind.OPENED: "dibuka",
    EventKind.CLEARED: "pulih, menunggu hold-down",
    EventKind.RECURRED: "gangguan muncul lagi",
    EventKind.RESOLVED: "selesai",
    EventKind.REOPENED: "dibuka kembali",
    EventKind.ATTACHED: "perangkat terdampak",
    EventKind.DETACHED: "perangkat tidak lagi terdampak",
    EventKind.NOTE: "catatan",
    EventKind.SOP_STARTED: "SOP dimulai",
    EventKind.STEP_DONE: "langkah selesai",
    EventKind.ASSIGNED: "ditugaskan",
    EventKind.DECIDED: "keputusan",
    EventKind.ESCALATED: "eskalasi",
    EventKind.PROGRAM_ADDED: "program kegiatan",
    EventKind.REMEDIATION: "perbaikan otomatis",
}
# the live feed of `sigap demo`: one loud word per event worth watching, and its colour
EVENT_WORD: Final[Mapping[str, str]] = {
    EventKind.OPENED: "DIBUKA",
    EventKind.REOPENED: "DIBUKA LAGI",
    EventKind.RECURRED: "MUNCUL LAGI",
    EventKind.ATTACHED: "TERDAMPAK",
    EventKind.DETACHED: "DILEPAS",
    EventKind.CLEARED: "PULIH",
    EventKind.RESOLVED: "SELESAI",
    EventKind.REMEDIATION: "PERBAIKAN",
    EventKind.STEP_DONE: "LANGKAH SOP",
    EventKind.ASSIGNED: "DITUGASKAN",
    EventKind.DECIDED: "KEPUTUSAN",
}
EVENT_STYLE: Final[Mapping[str, str]] = {
    EventKind.OPENED: "bold red",
    EventKind.REOPENED: "bold red",
    EventKind.RECURRED: "red",
    EventKind.ATTACHED: "magenta",
    EventKind.DETACHED: "cyan",
    EventKind.CLEARED: "yellow",
    EventKind.RESOLVED: "bold green",
    EventKind.REMEDIATION: "bold blue",
}
