"""portal-api: empty runs folded, each invoice's outcome and history, notification
preferences and what was sent.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("portal_sync_runs") as batch:
        batch.add_column(sa.Column("empty_runs", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "portal_invoices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=True),
        sa.Column("customer_name", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("xero_invoice_id", sa.String(length=64), nullable=True),
        sa.Column("xero_url", sa.String(length=512), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["portal_connections.id"],
            name=op.f("fk_portal_invoices_connection_id_portal_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_invoices")),
        sa.UniqueConstraint(
            "connection_id", "record_id", name=op.f("uq_portal_invoices_connection_id_record_id")
        ),
    )
    op.create_index(
        "ix_portal_invoices_connection_id_updated_at",
        "portal_invoices",
        ["connection_id", "updated_at"],
    )
    op.create_table(
        "portal_invoice_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["portal_invoices.id"],
            name=op.f("fk_portal_invoice_events_invoice_id_portal_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_invoice_events")),
    )
    op.create_index(
        op.f("ix_portal_invoice_events_invoice_id"), "portal_invoice_events", ["invoice_id"]
    )
    op.create_table(
        "portal_notification_preferences",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("reauthorisation", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.Boolean(), nullable=False),
        sa.Column("trial_ending", sa.Boolean(), nullable=False),
        sa.Column("billing", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["portal_users.id"],
            name=op.f("fk_portal_notification_preferences_user_id_portal_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_portal_notification_preferences")),
    )
    op.create_table(
        "portal_notifications_sent",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["portal_users.id"],
            name=op.f("fk_portal_notifications_sent_user_id_portal_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["portal_connections.id"],
            name=op.f("fk_portal_notifications_sent_connection_id_portal_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_notifications_sent")),
    )
    op.create_index(
        "ix_portal_notifications_sent_user_id_sent_at",
        "portal_notifications_sent",
        ["user_id", "sent_at"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_portal_notifications_sent_user_id_sent_at", table_name="portal_notifications_sent"
    )
    op.drop_table("portal_notifications_sent")
    op.drop_table("portal_notification_preferences")
    op.drop_index(op.f("ix_portal_invoice_events_invoice_id"), table_name="portal_invoice_events")
    op.drop_table("portal_invoice_events")
    op.drop_index("ix_portal_invoices_connection_id_updated_at", table_name="portal_invoices")
    op.drop_table("portal_invoices")
    with op.batch_alter_table("portal_sync_runs") as batch:
        batch.drop_column("empty_runs")
