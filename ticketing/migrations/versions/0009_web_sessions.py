"""Web board sessions that can be ended: a session epoch and a disabled mark per account.

Every session cookie carries the account's epoch at login; logout, a new password and
``sigap web pengguna nonaktifkan`` raise the epoch, so every older cookie stops working.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from collections.abc import Sequence

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("web_accounts") as batch:
        batch.add_column(
            sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("disabled_at", TS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_accounts") as batch:
        batch.drop_column("disabled_at")
        batch.drop_column("session_epoch")
