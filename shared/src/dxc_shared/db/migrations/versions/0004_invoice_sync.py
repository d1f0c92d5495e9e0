"""invoice-sync: per-connection leases and the ledger of invoice exports.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoice_sync_leases",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rerun_requested", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_invoice_sync_leases")),
    )
    op.create_table(
        "invoice_sync_exports",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("dynamics_invoice_id", sa.String(length=36), nullable=False),
        sa.Column("dynamics_version", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("xero_invoice_id", sa.String(length=36), nullable=True),
        sa.Column("xero_invoice_number", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "connection_id", "dynamics_invoice_id", name=op.f("pk_invoice_sync_exports")
        ),
    )
    op.create_index(
        op.f("ix_invoice_sync_exports_connection_id"),
        "invoice_sync_exports",
        ["connection_id", "state"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_invoice_sync_exports_connection_id"), table_name="invoice_sync_exports")
    op.drop_table("invoice_sync_exports")
    op.drop_table("invoice_sync_leases")
