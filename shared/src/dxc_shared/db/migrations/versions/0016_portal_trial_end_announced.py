"""portal-api: when the connection's workers were told its trial ended without a subscription,
so the billing pass announces a trial's end once.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("portal_connections") as batch:
        batch.add_column(
            sa.Column("trial_end_announced_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("portal_connections") as batch:
        batch.drop_column("trial_end_announced_at")
