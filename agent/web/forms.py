"""Which form a person sees on a ticket: the active step's kind, if their role performs it.

Only a hint for the page: the POST handlers call the service, which checks the role again
(``ticketing.workflow.check_role``), so a forged form gets the service's refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from agent.config.sop import workflow_config
from ticketing.people import performs
from ticketing.sop import DocumentKind, StepKind

if TYPE_CHECKING:
    from agent.web.auth import User
    from agent.web.board import Board
    from ticketing.sop import SopStep
    from ticketing.views import TicketView


class FormKind(StrEnum):
    """The human step forms (as the CLI's ``sigap tiket`` commands)."""

    DISPOSISI = "disposisi"
    TUGASKAN = "tugaskan"
    TANGANI = "tangani"
    SELESAI = "selesai"


@dataclass(frozen=True, slots=True)
class StepForm:
    """The form shown for the active step."""

    kind: FormKind
    step: SopStep
    number: str
    version: int

    @property
    def wants_report(self) -> bool:
        """Whether the step produces a laporan (a text area for its content)."""
        return self.step.document in {DocumentKind.LAPORAN, DocumentKind.LAPORAN_PERMASALAHAN}


def form_kind(step: SopStep) -> FormKind:
    """The form that completes ``step``."""
    if step.kind is StepKind.DISPOSISI:
        return FormKind.DISPOSISI
    if step.kind is StepKind.PENUGASAN:
        return FormKind.TUGASKAN
    if step.decision:
        return FormKind.TANGANI
    return FormKind.SELESAI


def forms_for(board: Board, user: User, ticket: TicketView) -> StepForm | None:
    """The form ``user`` may fill on ``ticket`` now, or None."""
    if user.read_only or ticket.sop is None or ticket.sop_step is None:
        return None
    step = board.svc.sops.get(ticket.sop).step(ticket.sop_step)
    if not performs(user.role, step.performers):
        return None
    return StepForm(form_kind(step), step, ticket.number, ticket.version)


def may_report(board: Board, user: User) -> bool:
    """Whether ``user`` may record a complaint (the intake step of the complaint SOP)."""
    if user.read_only:
        return False
    sop = board.svc.sops.get(workflow_config(board.inventory).complaint_sop)
    return performs(user.role, sop.steps[0].performers)
