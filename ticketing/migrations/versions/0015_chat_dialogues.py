"""WhatsApp SOP actions: the short dialogue a button may start, and the channel of a step.

``chat_dialogues`` holds a button's question waiting for typed text (isi, usulan, biaya);
``ticket_steps.completed_via`` names the channel a person completed a step through
("whatsapp"; "" for the board and the CLI), for the timeline.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "chat_dialogues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("argument", sa.String(200), server_default="", nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("answers", JSON_DOC, nullable=True),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_dialogues")),
        sa.UniqueConstraint("phone", name=op.f("uq_chat_dialogues_phone")),
    )
    with op.batch_alter_table("ticket_steps") as batch:
        batch.add_column(
            sa.Column("completed_via", sa.String(16), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket_steps") as batch:
        batch.drop_column("completed_via")
    op.drop_table("chat_dialogues")
