"""Zone pollers' device leases (issue 23): which poller of a zone polls which device.

One row per device of a cluster: the zone it was leased in, the owning poller (``""`` when
free) and when the lease runs out (the database's clock). ``agent.zones.leases`` renews,
claims (``SELECT ... FOR UPDATE SKIP LOCKED``) and releases them; only on PostgreSQL (the
table exists on SQLite so that one schema serves both, but zone pollers refuse SQLite).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "device_leases",
        sa.Column("cluster", sa.String(48), nullable=False),
        sa.Column("device", sa.String(128), nullable=False),
        sa.Column("zone", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(64), server_default="", nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("cluster", "device", name=op.f("pk_device_leases")),
    )
    op.create_index(
        "ix_device_leases_cluster_zone", "device_leases", ["cluster", "zone"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_device_leases_cluster_zone", table_name="device_leases")
    op.drop_table("device_leases")
