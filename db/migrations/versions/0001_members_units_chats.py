"""members units chats

Revision ID: 0001
Revises:
Create Date: 2026-11-28 23:05:01.839616
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("name", name=op.f("uq_units_name")),
    )
    op.create_table(
        "chats",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("bot_is_admin", sa.Boolean(), nullable=False),
        sa.Column("bot_can_pin", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("purpose IN ('main', 'unit')", name=op.f("ck_chats_purpose")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_chats_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats")),
        sa.UniqueConstraint("unit_id", name=op.f("uq_chats_unit_id")),
    )
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.create_index(
            "uq_chats_main",
            ["purpose"],
            unique=True,
            sqlite_where=sa.text("purpose = 'main'"),
            postgresql_where=sa.text("purpose = 'main'"),
        )

    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("first_name", sa.String(length=128), nullable=False),
        sa.Column("last_name", sa.String(length=128), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("real_name", sa.String(length=64), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), server_default="member", nullable=False),
        sa.Column("lead_unit_id", sa.Integer(), nullable=True),
        sa.Column("can_dm", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('member', 'admin')", name=op.f("ck_members_role")),
        sa.ForeignKeyConstraint(
            ["lead_unit_id"], ["units.id"], name=op.f("fk_members_lead_unit_id_units")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_members_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_members_telegram_id")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_username"), ["username"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_username"))
        batch_op.drop_index(batch_op.f("ix_members_unit_id"))

    op.drop_table("members")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_chats_main",
            sqlite_where=sa.text("purpose = 'main'"),
            postgresql_where=sa.text("purpose = 'main'"),
        )

    op.drop_table("chats")
    op.drop_table("units")
