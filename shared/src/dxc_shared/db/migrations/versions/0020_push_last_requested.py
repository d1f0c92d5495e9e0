"""When portal-api last sent a connection's pushed sync request: a lone push after a quiet
window is sent at once, those that follow within the window wait for its end together.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "portal_push_subscriptions",
        sa.Column("last_requested_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("portal_push_subscriptions") as batch:
        batch.drop_column("last_requested_at")
