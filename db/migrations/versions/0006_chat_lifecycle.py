"""chat lifecycle: removed chats, the bot's delete right, chat type, last successful send

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 23:19:33.898092
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "bot_can_delete", sa.Boolean(), server_default=sa.text("(false)"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "chat_type", sa.String(length=16), server_default="supergroup", nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="active", nullable=False)
        )
        batch_op.add_column(sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(op.f("ck_chats_status"), "status IN ('active', 'removed')")


def downgrade() -> None:
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_chats_status"), type_="check")
        batch_op.drop_column("last_sent_at")
        batch_op.drop_column("status")
        batch_op.drop_column("chat_type")
        batch_op.drop_column("bot_can_delete")
