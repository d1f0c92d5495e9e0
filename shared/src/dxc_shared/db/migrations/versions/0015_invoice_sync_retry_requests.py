"""invoice-sync: the retries asked for in the portal, applied by the connection's next run and
kept by message id so that a redelivered request is not applied twice.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoice_sync_retry_requests",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint(
            "connection_id", "message_id", name=op.f("pk_invoice_sync_retry_requests")
        ),
    )
    op.create_index(
        op.f("ix_invoice_sync_retry_requests_connection_id"),
        "invoice_sync_retry_requests",
        ["connection_id", "applied_at"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_invoice_sync_retry_requests_connection_id"),
        table_name="invoice_sync_retry_requests",
    )
    op.drop_table("invoice_sync_retry_requests")
