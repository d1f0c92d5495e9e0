"""payment-sync: connections (tenant map, reference-data schedule) and Xero read cursors.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_sync_connections",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("xero_tenant_id", sa.String(length=64), nullable=True),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("syncable", sa.Boolean(), nullable=False),
        sa.Column("xero_short_code", sa.String(length=32), nullable=True),
        sa.Column("reference_data_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reference_data_refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_payment_sync_connections")),
    )
    op.create_index(
        op.f("ix_payment_sync_connections_xero_tenant_id"),
        "payment_sync_connections",
        ["xero_tenant_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payment_sync_connections_syncable"),
        "payment_sync_connections",
        ["syncable", "reference_data_due_at"],
        unique=False,
    )
    op.create_table(
        "payment_sync_cursors",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("modified_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "resource", name=op.f("pk_payment_sync_cursors")),
    )


def downgrade() -> None:
    op.drop_table("payment_sync_cursors")
    op.drop_index(
        op.f("ix_payment_sync_connections_syncable"), table_name="payment_sync_connections"
    )
    op.drop_index(
        op.f("ix_payment_sync_connections_xero_tenant_id"), table_name="payment_sync_connections"
    )
    op.drop_table("payment_sync_connections")
