"""Several instances in webhook mode: stored updates, a shared Telegram budget, card requests

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("owner", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_webhook_updates")),
    )
    op.create_index(
        op.f("ix_webhook_updates_received_at"), "webhook_updates", ["received_at"], unique=False
    )
    op.create_index(
        "ix_webhook_updates_pending",
        "webhook_updates",
        ["update_id"],
        unique=False,
        postgresql_where=sa.text("done_at IS NULL"),
        sqlite_where=sa.text("done_at IS NULL"),
    )
    op.create_table(
        "chat_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_sends")),
    )
    op.create_index("ix_chat_sends_chat_id_at", "chat_sends", ["chat_id", "at"], unique=False)
    op.create_table(
        "cluster_state",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_cluster_state")),
    )
    op.create_table(
        "card_requests",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "item_id", name=op.f("pk_card_requests")),
    )


def downgrade() -> None:
    op.drop_table("card_requests")
    op.drop_table("cluster_state")
    op.drop_index("ix_chat_sends_chat_id_at", table_name="chat_sends")
    op.drop_table("chat_sends")
    op.drop_index("ix_webhook_updates_pending", table_name="webhook_updates")
    op.drop_index(op.f("ix_webhook_updates_received_at"), table_name="webhook_updates")
    op.drop_table("webhook_updates")
