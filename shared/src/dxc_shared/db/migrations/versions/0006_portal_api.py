"""portal-api: users, sessions, e-mail outbox, connections, OAuth states, billing, sync runs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "portal_users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("email_confirmed_at", _TZ, nullable=True),
        sa.Column("trial_ends_at", _TZ, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_users")),
        sa.UniqueConstraint("email", name=op.f("uq_portal_users_email")),
    )
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["portal_users.id"],
            name=op.f("fk_portal_sessions_user_id_portal_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_sessions_token_hash")),
    )
    op.create_index(op.f("ix_portal_sessions_user_id"), "portal_sessions", ["user_id"])
    op.create_table(
        "portal_email_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("used_at", _TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["portal_users.id"],
            name=op.f("fk_portal_email_tokens_user_id_portal_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_email_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_email_tokens_token_hash")),
    )
    op.create_table(
        "portal_login_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("attempted_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_login_attempts")),
    )
    op.create_index(
        "ix_portal_login_attempts_email_ip_attempted_at",
        "portal_login_attempts",
        ["email", "ip", "attempted_at"],
    )
    op.create_table(
        "portal_emails",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("next_attempt_at", _TZ, nullable=False),
        sa.Column("sent_at", _TZ, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_emails")),
    )
    op.create_index(
        "ix_portal_emails_sent_at_next_attempt_at", "portal_emails", ["sent_at", "next_attempt_at"]
    )
    op.create_table(
        "portal_connections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("xero_connected", sa.Boolean(), nullable=False),
        sa.Column("xero_tenant_id", sa.String(length=64), nullable=True),
        sa.Column("xero_tenant_name", sa.String(length=200), nullable=True),
        sa.Column("xero_error", sa.Text(), nullable=True),
        sa.Column("dynamics_connected", sa.Boolean(), nullable=False),
        sa.Column("dynamics_org_url", sa.String(length=512), nullable=True),
        sa.Column("dynamics_org_name", sa.String(length=200), nullable=True),
        sa.Column("dynamics_error", sa.Text(), nullable=True),
        sa.Column("tables_installed", sa.Boolean(), nullable=False),
        sa.Column("missing_privileges", sa.JSON(), nullable=True),
        sa.Column("dynamics_connector_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.Column("archived_at", _TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["portal_users.id"],
            name=op.f("fk_portal_connections_user_id_portal_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_connections")),
    )
    op.create_index(op.f("ix_portal_connections_user_id"), "portal_connections", ["user_id"])
    op.create_table(
        "portal_oauth_states",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["portal_connections.id"],
            name=op.f("fk_portal_oauth_states_connection_id_portal_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["portal_sessions.id"],
            name=op.f("fk_portal_oauth_states_session_id_portal_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_portal_oauth_states")),
    )
    op.create_table(
        "portal_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("plan", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", _TZ, nullable=False),
        sa.Column("cancelled_at", _TZ, nullable=True),
        sa.Column("payment_reference", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["portal_connections.id"],
            name=op.f("fk_portal_subscriptions_connection_id_portal_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_subscriptions")),
        sa.UniqueConstraint("connection_id", name=op.f("uq_portal_subscriptions_connection_id")),
    )
    op.create_table(
        "portal_billing_details",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("address_line1", sa.String(length=200), nullable=True),
        sa.Column("address_line2", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("postcode", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("vat_number", sa.String(length=32), nullable=True),
        sa.Column("payment_customer_ref", sa.String(length=100), nullable=True),
        sa.Column("card_brand", sa.String(length=32), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["portal_users.id"],
            name=op.f("fk_portal_billing_details_user_id_portal_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_portal_billing_details")),
    )
    op.create_table(
        "portal_sync_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(length=32), nullable=False),
        sa.Column("started_at", _TZ, nullable=False),
        sa.Column("finished_at", _TZ, nullable=False),
        sa.Column("succeeded", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["portal_connections.id"],
            name=op.f("fk_portal_sync_runs_connection_id_portal_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sync_runs")),
        sa.UniqueConstraint(
            "job_id", "direction", name=op.f("uq_portal_sync_runs_job_id_direction")
        ),
    )
    op.create_index(
        "ix_portal_sync_runs_connection_id_finished_at",
        "portal_sync_runs",
        ["connection_id", "finished_at"],
    )


def downgrade() -> None:
    op.drop_table("portal_sync_runs")
    op.drop_table("portal_billing_details")
    op.drop_table("portal_subscriptions")
    op.drop_table("portal_oauth_states")
    op.drop_table("portal_connections")
    op.drop_table("portal_emails")
    op.drop_table("portal_login_attempts")
    op.drop_table("portal_email_tokens")
    op.drop_table("portal_sessions")
    op.drop_table("portal_users")
