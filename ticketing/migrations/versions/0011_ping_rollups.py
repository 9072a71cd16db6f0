"""ICMP loss history: 5-minute loss per device (issue 19: the loss behind "internet lambat").

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ping_rollups",
        sa.Column("device", sa.String(128), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("loss_sum", sa.Float(), nullable=False),
        sa.Column("loss_max", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("device", "start", name=op.f("pk_ping_rollups")),
        sqlite_with_rowid=False,  # clustered by the key: no second copy of it
    )
    op.create_index(
        op.f("ix_ping_rollups_start"),
        "ping_rollups",
        ["start"],
        unique=False,
        postgresql_using="brin",  # rows arrive in time order: a BRIN index is a few pages
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ping_rollups_start"), table_name="ping_rollups")
    op.drop_table("ping_rollups")
