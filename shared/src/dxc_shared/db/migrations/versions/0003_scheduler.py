"""scheduler: when each connection is next due.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connection_schedules",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("syncable", sa.Boolean(), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_connection_schedules")),
    )
    op.create_index(
        op.f("ix_connection_schedules_syncable"),
        "connection_schedules",
        ["syncable", "next_due_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_connection_schedules_syncable"), table_name="connection_schedules")
    op.drop_table("connection_schedules")
