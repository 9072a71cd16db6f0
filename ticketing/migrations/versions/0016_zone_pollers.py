"""Zone pollers (issue 23): their heartbeats and the batches of probe results they ship.

``zone_pollers`` holds one row per poller node (upserted every lease/3); ``zone_observations``
the batches the leader reads into its detector (and deletes as it reads them).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "zone_pollers",
        sa.Column("node", sa.String(48), nullable=False),
        sa.Column("cluster", sa.String(48), nullable=False),
        sa.Column("zones", sa.Text(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("inventory_sha", sa.String(64), server_default="", nullable=False),
        sa.Column("buffered", sa.Integer(), server_default="0", nullable=False),
        sa.Column("dropped", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_zone_pollers")),
    )
    op.create_table(
        "zone_observations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("node", sa.String(48), nullable=False),
        sa.Column("cluster", sa.String(48), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("payload", JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zone_observations")),
    )
    op.create_index(
        op.f("ix_zone_observations_cluster"), "zone_observations", ["cluster", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_zone_observations_cluster"), table_name="zone_observations")
    op.drop_table("zone_observations")
    op.drop_table("zone_pollers")
