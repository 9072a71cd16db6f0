"""Device events: traps and syslog lines kept per device for a bounded time (issue 20).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("device", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=True),
        sa.Column("app", sa.String(64), server_default="", nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(48), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_messages")),
    )
    op.create_index(
        op.f("ix_device_messages_device"), "device_messages", ["device", "at"], unique=False
    )
    op.create_index(
        op.f("ix_device_messages_at"),
        "device_messages",
        ["at"],
        unique=False,
        postgresql_using="brin",
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_device_messages_at"), table_name="device_messages")
    op.drop_index(op.f("ix_device_messages_device"), table_name="device_messages")
    op.drop_table("device_messages")
