"""conversations: every multi-message dialogue's state in one table (need drafts move in)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    conversations = op.create_table(
        "conversations",
        sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name="fk_conversations_member_id_members",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "kind", name="pk_conversations"),
    )
    op.create_index("ix_conversations_updated_at", "conversations", ["updated_at"])
    drafts = op.get_bind().execute(
        sa.text("SELECT member_id, category, text, updated_at FROM need_drafts")
    )
    rows = [
        {
            "member_id": member_id,
            "kind": "need",
            "state": {"category": category, "text": text},
            "updated_at": updated_at,
            "turn": 1,
        }
        for member_id, category, text, updated_at in drafts
    ]
    if rows:
        op.bulk_insert(conversations, rows)
    op.drop_table("need_drafts")


def downgrade() -> None:
    op.create_table(
        "need_drafts",
        sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("category", sa.String(length=8), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name="fk_need_drafts_member_id_members"
        ),
        sa.PrimaryKeyConstraint("member_id", name="pk_need_drafts"),
    )
    op.drop_index("ix_conversations_updated_at", table_name="conversations")
    op.drop_table("conversations")
