"""Traffic history: 5-minute and hourly rollups per port (issue 19).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "traffic_rollups",
        sa.Column("device", sa.String(128), nullable=False),
        sa.Column("interface", sa.String(128), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("covered_s", sa.Float(), nullable=False),
        sa.Column("in_avg", sa.Float(), nullable=True),
        sa.Column("out_avg", sa.Float(), nullable=True),
        sa.Column("in_p95", sa.Float(), nullable=True),
        sa.Column("out_p95", sa.Float(), nullable=True),
        sa.Column("util_max", sa.Float(), nullable=True),
        sa.Column("errors", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint(
            "device", "interface", "step", "start", name=op.f("pk_traffic_rollups")
        ),
        sqlite_with_rowid=False,  # clustered by the key: no second copy of it
    )
    op.create_index(
        op.f("ix_traffic_rollups_step_start"),
        "traffic_rollups",
        ["step", "start"],
        unique=False,
        postgresql_using="brin",  # rows arrive in time order: a BRIN index is a few pages
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_traffic_rollups_step_start"), table_name="traffic_rollups")
    op.drop_table("traffic_rollups")
