"""portal-api: Dynamics push. Each connection's webhook secret (only its SHA-256 hash) and the
Dataverse organisation it belongs to; and the pushes waiting to be coalesced into one sync
request per connection.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_push_subscriptions",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_portal_push_subscriptions")),
    )
    op.create_table(
        "portal_push_requests",
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_portal_push_requests")),
    )
    op.create_index(op.f("ix_portal_push_requests_due_at"), "portal_push_requests", ["due_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_portal_push_requests_due_at"), table_name="portal_push_requests")
    op.drop_table("portal_push_requests")
    op.drop_table("portal_push_subscriptions")
