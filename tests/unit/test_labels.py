"""agent.present.labels: one Indonesian label per enum member, found by member and by slug."""

from __future__ import annotations

import pytest

from agent.present.labels import (
    EVENT_LABEL,
    KIND_LABEL,
    KIND_SHORT,
    SENSOR_LABEL,
    STATUS_LABEL,
    STATUS_SENTENCE,
)
from collectors.model import SensorKind
from ticketing.faults import FaultKind
from ticketing.states import EventKind, TicketState

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("table", "enum"),
    [
        (STATUS_LABEL, TicketState),
        (STATUS_SENTENCE, TicketState),
        (KIND_LABEL, FaultKind),
        (KIND_SHORT, FaultKind),
        (EVENT_LABEL, EventKind),
        (SENSOR_LABEL, SensorKind),
    ],
)
def test_every_member_has_a_label(table: dict[str, str], enum: type) -> None:
    assert set(table) == set(enum)
    assert all(label.strip() for label in table.values())


def test_member_and_slug_find_the_same_label() -> None:
    assert STATUS_LABEL["open"] == STATUS_LABEL[TicketState.OPEN] == "terbuka"
    assert KIND_LABEL["device_down"] == KIND_LABEL[FaultKind.DEVICE_DOWN] == "perangkat mati"
