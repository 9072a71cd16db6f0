"""TicketService: the SOP workflow on top of TicketStore; what the CLI, agent and reports call.

The service is one object made of its parts (modules of this package), each a subclass of
:class:`ticketing.service.engine.StepEngine` (the shared context and step engine):

- ``steps``: start (with the standing order), complete, dispose, assign
- ``complaints``: report, open_complaint
- ``decisions``: handle, facts, finish_remediation
- ``program``: add_program, set_program_status, program
- ``escalation``: escalate_due
- ``engine``: steps, ticket, sops; closing a step and starting the next

Subclasses of one base rather than a facade forwarding to part objects: every part needs the
same context and the same step engine (a complaint's intake, a decision and an automatic
repair all complete steps), and callers hold one service; so each public method is written
once, with its one signature, in the module of its concern, and mypy checks every part
against the base. The parts do not call one another (the decision's Program Kegiatan entry
goes through :func:`ticketing.service.program.add_entry`), so their order below is free.

Every method is one transaction, reads the time from the injected ``now`` callable and
returns frozen views. Concurrent actions on one ticket are caught by the ticket's ``version``
column (SQLAlchemy's version counter): the loser gets ConcurrentUpdateError and may retry,
and a retry of a step someone else finished gets StepStateError instead of a double entry.
``expected_version`` (from ``TicketView.version``) lets a user interface refuse an action
taken on a stale screen.
"""

from __future__ import annotations

from ticketing.service.complaints import Complaints
from ticketing.service.decisions import Decisions, decision_note
from ticketing.service.escalation import Escalation
from ticketing.service.program import MANAGERS, ProgramDraft, ProgramRegister
from ticketing.service.steps import SopSteps

__all__ = ["MANAGERS", "ProgramDraft", "TicketService", "decision_note"]


class TicketService(SopSteps, Complaints, Decisions, ProgramRegister, Escalation):
    """SOP actions on tickets: start, dispose, assign, decide, complete, escalate, program."""
