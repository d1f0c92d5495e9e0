"""portal-api: who asked for each e-mail, and the indexes the e-mail rate limits count with.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("portal_emails") as batch:
        batch.add_column(sa.Column("requested_by", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_portal_emails_recipient_created_at", "portal_emails", ["recipient", "created_at"]
    )
    op.create_index(
        "ix_portal_emails_requested_by_created_at",
        "portal_emails",
        ["requested_by", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_portal_emails_requested_by_created_at", table_name="portal_emails")
    op.drop_index("ix_portal_emails_recipient_created_at", table_name="portal_emails")
    with op.batch_alter_table("portal_emails") as batch:
        batch.drop_column("requested_by")
