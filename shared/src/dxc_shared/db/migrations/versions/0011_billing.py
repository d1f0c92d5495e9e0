"""Billing that is right: paid periods and dunning on subscriptions, charges recorded with
their idempotency keys (the receipts), invoices exported per month against the plan's limit,
and the scheduler's copy of that limit.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import calendar
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _a_month_later(moment: datetime) -> datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def upgrade() -> None:
    with op.batch_alter_table("portal_subscriptions") as batch:
        for name in ("current_period_start", "renews_at", "past_due_since", "retry_at"):
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0")
        )
    # Active subscriptions were charged when they started: that month is their first period.
    subscriptions = sa.table(
        "portal_subscriptions",
        sa.column("id", sa.Uuid()),
        sa.column("status", sa.String()),
        sa.column("started_at", sa.DateTime(timezone=True)),
        sa.column("current_period_start", sa.DateTime(timezone=True)),
        sa.column("renews_at", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    active = bind.execute(
        sa.select(subscriptions.c.id, subscriptions.c.started_at).where(
            subscriptions.c.status == "active"
        )
    ).all()
    for subscription_id, started_at in active:
        started = started_at if started_at.tzinfo else started_at.replace(tzinfo=UTC)
        bind.execute(
            subscriptions.update()
            .where(subscriptions.c.id == subscription_id)
            .values(current_period_start=started, renews_at=_a_month_later(started))
        )

    op.create_table(
        "portal_charges",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False, unique=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.Numeric(10, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_reference", sa.String(length=100), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_portal_charges_user_id_created_at", "portal_charges", ["user_id", "created_at"]
    )
    op.create_index(
        "ix_portal_charges_status_created_at", "portal_charges", ["status", "created_at"]
    )
    op.create_table(
        "portal_invoice_usage",
        sa.Column(
            "connection_id",
            sa.Uuid(),
            sa.ForeignKey("portal_connections.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("month", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("exported", sa.Integer(), nullable=False),
        sa.Column("limit_reached_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "portal_invoice_usage_runs",
        sa.Column("job_id", sa.Uuid(), primary_key=True),
        sa.Column(
            "connection_id",
            sa.Uuid(),
            sa.ForeignKey("portal_connections.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_portal_invoice_usage_runs_connection_id",
        "portal_invoice_usage_runs",
        ["connection_id"],
    )
    with op.batch_alter_table("portal_connections") as batch:
        batch.add_column(
            sa.Column("invoices_paused_until", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("connection_schedules") as batch:
        batch.add_column(
            sa.Column("invoices_paused_until", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("connection_schedules") as batch:
        batch.drop_column("invoices_paused_until")
    with op.batch_alter_table("portal_connections") as batch:
        batch.drop_column("invoices_paused_until")
    op.drop_index(
        "ix_portal_invoice_usage_runs_connection_id", table_name="portal_invoice_usage_runs"
    )
    op.drop_table("portal_invoice_usage_runs")
    op.drop_table("portal_invoice_usage")
    op.drop_index("ix_portal_charges_status_created_at", table_name="portal_charges")
    op.drop_index("ix_portal_charges_user_id_created_at", table_name="portal_charges")
    op.drop_table("portal_charges")
    with op.batch_alter_table("portal_subscriptions") as batch:
        for name in (
            "failed_attempts",
            "retry_at",
            "past_due_since",
            "renews_at",
            "current_period_start",
        ):
            batch.drop_column(name)
