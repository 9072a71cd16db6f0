"""Remediation: the runs table (with transcripts), ``tickets.remediation``, a new event kind.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

The partial unique index ``uq_remediation_runs_running_device`` lets at most one run per
device be ``running`` across every process sharing the database.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
RUNNING_SQL = "status = 'running'"
RUN_STATUSES = ("running", "succeeded", "failed", "refused", "dry_run", "aborted")

_prev = importlib.import_module("ticketing.migrations.versions.0002_sop_workflow")
OLD_KINDS: tuple[str, ...] = _prev.NEW_KINDS
NEW_KINDS = (*OLD_KINDS, "remediation")


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("remediation", sa.String(16), nullable=True))
    op.create_table(
        "remediation_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(128), nullable=False),
        sa.Column("fault_key", sa.String(255), server_default="", nullable=False),
        sa.Column("playbook", sa.String(64), nullable=False),
        sa.Column("interface", sa.String(64), server_default="", nullable=False),
        sa.Column("actor", sa.String(200), server_default="sistem", nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("transcript", JSON_DOC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remediation_runs")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_remediation_runs_ticket_id_tickets"),
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint(
            _prev._slugs("status", *RUN_STATUSES),
            name=op.f("ck_remediation_runs_status"),
        ),
    )
    op.create_index(op.f("ix_remediation_runs_ticket_id"), "remediation_runs", ["ticket_id"])
    op.create_index(
        op.f("ix_remediation_runs_device_started_at"), "remediation_runs", ["device", "started_at"]
    )
    op.create_index(
        op.f("uq_remediation_runs_running_device"),
        "remediation_runs",
        ["device"],
        unique=True,
        sqlite_where=sa.text(RUNNING_SQL),
        postgresql_where=sa.text(RUNNING_SQL),
    )
    _prev._event_kinds(NEW_KINDS)


def downgrade() -> None:
    _prev._event_kinds(OLD_KINDS)
    op.drop_table("remediation_runs")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("remediation")
