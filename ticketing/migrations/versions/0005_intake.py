"""Complaint intake: the message ledger, kept attachments, ticket links, reporter contact.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

``intake_messages`` is written in the transaction that creates or joins the ticket; its
unique (channel, message_id) is the dedup key of e-mail (Message-ID) and WhatsApp (wamid).
``ticket_links`` links a complaint to the monitoring ticket that already had the fault.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ticket_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["tickets.id"],
        name=op.f(f"fk_{table}_{column}_tickets"),
        ondelete="RESTRICT",
    )


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(
            sa.Column("reporter_contact", sa.String(200), server_default="", nullable=False)
        )
    op.create_table(
        "intake_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("sender", sa.String(200), nullable=False),
        sa.Column("subject", sa.Text(), server_default="", nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("data", JSON_DOC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_messages")),
        sa.UniqueConstraint("channel", "message_id", name=op.f("uq_intake_messages_channel")),
        _ticket_fk("intake_messages", "ticket_id"),
    )
    op.create_index(op.f("ix_intake_messages_ticket_id"), "intake_messages", ["ticket_id"])
    op.create_index(
        op.f("ix_intake_messages_sender_received_at"),
        "intake_messages",
        ["sender", "received_at"],
    )
    op.create_table(
        "intake_attachments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_attachments")),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["intake_messages.id"],
            name=op.f("fk_intake_attachments_message_id_intake_messages"),
            ondelete="RESTRICT",
        ),
    )
    op.create_index(op.f("ix_intake_attachments_message_id"), "intake_attachments", ["message_id"])
    op.create_table(
        "ticket_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("linked_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_links")),
        sa.UniqueConstraint("ticket_id", "linked_id", name=op.f("uq_ticket_links_ticket_id")),
        _ticket_fk("ticket_links", "ticket_id"),
        _ticket_fk("ticket_links", "linked_id"),
    )
    op.create_index(op.f("ix_ticket_links_linked_id"), "ticket_links", ["linked_id"])


def downgrade() -> None:
    op.drop_table("ticket_links")
    op.drop_table("intake_attachments")
    op.drop_table("intake_messages")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("reporter_contact")
