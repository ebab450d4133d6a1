"""volunteer signups hours

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 23:48:41.248508
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hours_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Double(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_hours_overrides_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_hours_overrides_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["set_by"], ["members.id"], name=op.f("fk_hours_overrides_set_by_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hours_overrides")),
        sa.UniqueConstraint("activity_id", "member_id", name="uq_hours_overrides_activity_member"),
    )
    with op.batch_alter_table("hours_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hours_overrides_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('confirmed', 'waitlisted')", name=op.f("ck_signups_status")),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_signups_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_signups_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signups")),
        sa.UniqueConstraint("activity_id", "member_id", name="uq_signups_activity_member"),
    )
    with op.batch_alter_table("signups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signups_member_id"), ["member_id"], unique=False)
        batch_op.create_index("ix_signups_queue", ["activity_id", "status", "id"], unique=False)

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capacity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("signup_deadline", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("signup_deadline")
        batch_op.drop_column("capacity")

    with op.batch_alter_table("signups", schema=None) as batch_op:
        batch_op.drop_index("ix_signups_queue")
        batch_op.drop_index(batch_op.f("ix_signups_member_id"))

    op.drop_table("signups")
    with op.batch_alter_table("hours_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hours_overrides_member_id"))

    op.drop_table("hours_overrides")
