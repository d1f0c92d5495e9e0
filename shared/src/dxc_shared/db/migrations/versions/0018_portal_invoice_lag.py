"""portal-api: the lag invoice-sync reports per exported invoice (from handed over in Dynamics to
written back as exported), kept on the invoice's "exported" history step, so the overview's
median lag is measured, not estimated.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("portal_invoice_events", sa.Column("lag_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("portal_invoice_events", "lag_seconds")
