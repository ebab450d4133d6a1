"""languages of people and groups, forum topics bound to units

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL: not chosen. A person's is set from Telegram's language_code on the next contact;
    # a group's is the default (Chinese) until the committee sets it with /lang.
    with op.batch_alter_table("members") as batch_op:
        batch_op.add_column(sa.Column("lang", sa.String(length=8), nullable=True))
    with op.batch_alter_table("chats") as batch_op:
        batch_op.add_column(sa.Column("lang", sa.String(length=8), nullable=True))
    # A forum topic (message_thread_id) of the chat a message or a card goes to.
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("thread_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("activities") as batch_op:
        batch_op.add_column(sa.Column("thread_id", sa.BigInteger(), nullable=True))
    op.create_table(
        "unit_topics",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=256), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name="fk_unit_topics_chat_id_chats", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_unit_topics_unit_id_units"),
        sa.PrimaryKeyConstraint("unit_id", name="pk_unit_topics"),
        sa.UniqueConstraint("chat_id", "thread_id", name="uq_unit_topics_chat_id"),
    )


def downgrade() -> None:
    op.drop_table("unit_topics")
    with op.batch_alter_table("activities") as batch_op:
        batch_op.drop_column("thread_id")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("thread_id")
    with op.batch_alter_table("chats") as batch_op:
        batch_op.drop_column("lang")
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_column("lang")
