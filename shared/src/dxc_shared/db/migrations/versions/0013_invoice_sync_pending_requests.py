"""invoice-sync: the Xero request behind each `pending` batch, kept until Xero's answer is
recorded, so a worker taking over re-sends it exactly (same body, same Idempotency-Key).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoice_sync_pending_requests",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("invoice_ids", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "connection_id", "idempotency_key", name=op.f("pk_invoice_sync_pending_requests")
        ),
    )


def downgrade() -> None:
    op.drop_table("invoice_sync_pending_requests")
