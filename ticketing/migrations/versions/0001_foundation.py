"""Foundation: tickets, append-only events, attached devices, number counters.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

SQLite batch migrations recreate tables: a later revision that batch-alters
``ticket_events`` must create the append-only triggers again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_STATUS = "status IN ('open', 'recovering')"
ATTACHED_AFFECTED = "detached_at IS NULL AND role = 'affected'"
TS = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

SQLITE_TRIGGERS = (
    """CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
    BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END""",
    """CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
    BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END""",
)
PG_TRIGGERS = (
    """CREATE FUNCTION ticket_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'ticket_events is append-only'; END $$""",
    """CREATE TRIGGER ticket_events_no_change BEFORE UPDATE OR DELETE ON ticket_events
    FOR EACH ROW EXECUTE FUNCTION ticket_events_append_only()""",
)


def _slugs(column: str, *values: str) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("fault_key", sa.String(255), nullable=True),
        sa.Column("device", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("opd", sa.String(200), server_default="", nullable=False),
        sa.Column("summary", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), server_default="agent", nullable=False),
        sa.Column("sop", sa.String(64), nullable=True),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("cleared_at", TS, nullable=True),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("reopen_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("number", name=op.f("uq_tickets_number")),
        sa.CheckConstraint(
            _slugs("status", "open", "recovering", "resolved"), name=op.f("ck_tickets_status")
        ),
    )
    op.create_index(op.f("ix_tickets_device"), "tickets", ["device"])
    op.create_index(op.f("ix_tickets_status_opened_at"), "tickets", ["status", "opened_at"])
    op.create_index(
        op.f("uq_tickets_active_fault_key"),
        "tickets",
        ["fault_key"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_STATUS),
        postgresql_where=sa.text(ACTIVE_STATUS),
    )

    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), server_default="sistem", nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.Column("data", JSON_DOC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_events_ticket_id_tickets"),
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint(
            _slugs(
                "kind",
                "opened",
                "cleared",
                "recurred",
                "resolved",
                "reopened",
                "attached",
                "detached",
                "note",
            ),
            name=op.f("ck_ticket_events_kind"),
        ),
    )
    op.create_index(op.f("ix_ticket_events_ticket_id_id"), "ticket_events", ["ticket_id", "id"])

    op.create_table(
        "ticket_devices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("attached_at", TS, nullable=False),
        sa.Column("detached_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_devices")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_devices_ticket_id_tickets"),
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint(_slugs("role", "root", "affected"), name=op.f("ck_ticket_devices_role")),
    )
    op.create_index(op.f("ix_ticket_devices_ticket_id"), "ticket_devices", ["ticket_id"])
    op.create_index(
        op.f("uq_ticket_devices_attached_device"),
        "ticket_devices",
        ["device"],
        unique=True,
        sqlite_where=sa.text(ATTACHED_AFFECTED),
        postgresql_where=sa.text(ATTACHED_AFFECTED),
    )

    op.create_table(
        "ticket_counters",
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year", name=op.f("pk_ticket_counters")),
    )

    dialect = op.get_bind().dialect.name
    for ddl in {"sqlite": SQLITE_TRIGGERS, "postgresql": PG_TRIGGERS}.get(dialect, ()):
        op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ticket_events_no_change ON ticket_events")
        op.execute("DROP FUNCTION IF EXISTS ticket_events_append_only()")
    op.drop_table("ticket_counters")
    op.drop_table("ticket_devices")
    op.drop_table("ticket_events")
    op.drop_table("tickets")
