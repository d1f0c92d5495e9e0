"""invoice-sync: the reason each handed-over invoice was last told it is not sent (so a Skipped
sync history row is written once per cause, not on every run).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoice_sync_skips_told",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("dynamics_invoice_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("told_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "connection_id", "dynamics_invoice_id", name=op.f("pk_invoice_sync_skips_told")
        ),
    )


def downgrade() -> None:
    op.drop_table("invoice_sync_skips_told")
