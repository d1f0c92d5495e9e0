"""invoice-sync: change-tracking cursors and the ledger of cancellations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoice_sync_change_cursors",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("delta_link", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_invoice_sync_change_cursors")),
    )
    op.create_table(
        "invoice_sync_cancellations",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("dynamics_invoice_id", sa.String(length=36), nullable=False),
        sa.Column("xero_invoice_id", sa.String(length=36), nullable=False),
        sa.Column("invoice_number", sa.String(length=255), nullable=True),
        sa.Column("deleted_in_dynamics", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("xero_credit_note_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "connection_id", "dynamics_invoice_id", name=op.f("pk_invoice_sync_cancellations")
        ),
    )
    op.create_index(
        op.f("ix_invoice_sync_cancellations_connection_id"),
        "invoice_sync_cancellations",
        ["connection_id", "state"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_invoice_sync_cancellations_connection_id"),
        table_name="invoice_sync_cancellations",
    )
    op.drop_table("invoice_sync_cancellations")
    op.drop_table("invoice_sync_change_cursors")
