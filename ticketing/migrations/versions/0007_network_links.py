"""Topology re-discovery: the links the daemon remembers and unknown neighbours (issue 11).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "network_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("a", sa.String(64), nullable=False),
        sa.Column("a_port", sa.String(128), nullable=False),
        sa.Column("b", sa.String(64), nullable=False),
        sa.Column("b_port", sa.String(128), nullable=False),
        sa.Column("protocols", sa.String(64), server_default="", nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("lost_at", TS, nullable=True),
        sa.Column("fault_key", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_links")),
        sa.UniqueConstraint("a", "a_port", "b", "b_port", name=op.f("uq_network_links_a")),
    )
    op.create_table(
        "network_neighbours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seen_by", sa.String(64), nullable=False),
        sa.Column("port", sa.String(128), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("remote_port", sa.String(128), server_default="", nullable=False),
        sa.Column("protocol", sa.String(16), nullable=False),
        sa.Column("platform", sa.Text(), server_default="", nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_neighbours")),
        sa.UniqueConstraint(
            "seen_by", "port", "name", "address", name=op.f("uq_network_neighbours_seen_by")
        ),
    )


def downgrade() -> None:
    op.drop_table("network_neighbours")
    op.drop_table("network_links")
