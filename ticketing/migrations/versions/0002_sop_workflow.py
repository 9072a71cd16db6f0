"""SOP workflow: ticket steps, Program Kegiatan, complaint fields, new event kinds.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

SQLite rebuilds ``ticket_events`` to change its CHECK constraint, which drops the append-only
triggers: they are created again here (see the note in 0001).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
OLD_KINDS = (
    "opened",
    "cleared",
    "recurred",
    "resolved",
    "reopened",
    "attached",
    "detached",
    "note",
)
NEW_KINDS = (
    *OLD_KINDS,
    "sop_started",
    "step_done",
    "assigned",
    "decided",
    "escalated",
    "program_added",
)
SQLITE_TRIGGERS = (
    """CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
    BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END""",
    """CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
    BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END""",
)


def _slugs(column: str, *values: str) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _event_kinds(kinds: tuple[str, ...]) -> None:
    """Replace the CHECK constraint on ticket_events.kind."""
    name = "ck_ticket_events_kind"
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ticket_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS ticket_events_no_delete")
        with op.batch_alter_table("ticket_events", recreate="always") as batch:
            batch.drop_constraint(op.f(name), type_="check")
            batch.create_check_constraint(op.f(name), _slugs("kind", *kinds))
        for ddl in SQLITE_TRIGGERS:
            op.execute(ddl)
        return
    op.drop_constraint(op.f(name), "ticket_events", type_="check")
    op.create_check_constraint(op.f(name), "ticket_events", _slugs("kind", *kinds))


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("reporter", sa.String(200), server_default="", nullable=False))
        batch.add_column(sa.Column("description", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("sop_step", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sop_done_at", TS, nullable=True))
        batch.add_column(sa.Column("assignee", sa.String(200), nullable=True))
        batch.add_column(sa.Column("complexity", sa.String(16), nullable=True))
        batch.add_column(
            sa.Column("complexity_reason", sa.Text(), server_default="", nullable=False)
        )

    op.create_table(
        "ticket_steps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(8), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("roles", sa.String(80), nullable=False),
        sa.Column("person", sa.String(200), nullable=True),
        sa.Column("all_hours", sa.Boolean(), nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("completed_by", sa.String(200), nullable=True),
        sa.Column("late_by_s", sa.Integer(), nullable=True),
        sa.Column("document_kind", sa.String(32), nullable=True),
        sa.Column("document", JSON_DOC, nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("escalation_level", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_steps")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_steps_ticket_id_tickets"),
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint("ticket_id", "position", name=op.f("uq_ticket_steps_ticket_id")),
    )

    op.create_table(
        "program_kegiatan",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("opd", sa.String(200), server_default="", nullable=False),
        sa.Column("device", sa.String(128), server_default="", nullable=False),
        sa.Column("problem", sa.Text(), server_default="", nullable=False),
        sa.Column("proposed_action", sa.Text(), server_default="", nullable=False),
        sa.Column("estimated_cost", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("budget_year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_kegiatan")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_program_kegiatan_ticket_id_tickets"),
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint(
            _slugs("status", "usulan", "disetujui", "dianggarkan", "selesai"),
            name=op.f("ck_program_kegiatan_status"),
        ),
    )
    op.create_index(op.f("ix_program_kegiatan_budget_year"), "program_kegiatan", ["budget_year"])
    _event_kinds(NEW_KINDS)


def downgrade() -> None:
    _event_kinds(OLD_KINDS)
    op.drop_table("program_kegiatan")
    op.drop_table("ticket_steps")
    with op.batch_alter_table("tickets") as batch:
        for column in (
            "complexity_reason",
            "complexity",
            "assignee",
            "sop_done_at",
            "sop_step",
            "description",
            "reporter",
        ):
            batch.drop_column(column)
