"""portal-api: each connection's mapping template (Dynamics invoice column -> Xero field).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("portal_connections") as batch:
        batch.add_column(sa.Column("field_mappings", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("portal_connections") as batch:
        batch.drop_column("field_mappings")
