"""outbox: a planned time on the bot's clock, apart from the transport's retry time

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
    # A series' later cards waited in next_attempt_at until now.
    op.execute(
        "UPDATE outbox SET not_before = next_attempt_at "
        "WHERE status = 'pending' AND attempts = 0 AND purpose = 'activity_card'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE outbox SET next_attempt_at = not_before "
        "WHERE status = 'pending' AND not_before IS NOT NULL"
    )
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("not_before")
