"""Intake hardening (issue 17): quarantined messages, random acknowledgement Message-IDs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "intake_rejections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(255), server_default="", nullable=False),
        sa.Column("sender", sa.String(200), server_default="", nullable=False),
        sa.Column("subject", sa.Text(), server_default="", nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_rejections")),
        sa.UniqueConstraint("channel", "digest", name=op.f("uq_intake_rejections_channel")),
    )
    op.create_table(
        "mail_thread_ids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_thread_ids")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_mail_thread_ids_ticket_id")),
        sa.UniqueConstraint("message_id", name=op.f("uq_mail_thread_ids_message_id")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_mail_thread_ids_ticket_id_tickets"),
            ondelete="RESTRICT",
        ),
    )


def downgrade() -> None:
    op.drop_table("mail_thread_ids")
    op.drop_table("intake_rejections")
