"""membership: who left, who was erased, requests the committee decides, the flood guard,
wrong check-in codes per person

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.add_column(sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("left_reason", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("flood_tokens", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("flood_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("flood_noted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("group_reply_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint("left_reason", "left_reason IN ('left', 'removed')")
    op.create_table(
        "join_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("real_name", sa.String(length=64), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("imported_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('join', 'unit', 'link')", name="ck_join_requests_kind"),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'cancelled')",
            name="ck_join_requests_status",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name="fk_join_requests_member_id_members"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_join_requests_unit_id_units"),
        sa.ForeignKeyConstraint(
            ["imported_id"],
            ["members.id"],
            name="fk_join_requests_imported_id_members",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["members.id"], name="fk_join_requests_decided_by_members"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_join_requests"),
    )
    op.create_index("ix_join_requests_member_id", "join_requests", ["member_id"])
    op.create_index(
        "uq_join_requests_pending",
        "join_requests",
        ["member_id", "kind"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "wrong_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name="fk_wrong_codes_activity_id_activities",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name="fk_wrong_codes_member_id_members"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_wrong_codes"),
    )
    op.create_index("ix_wrong_codes_who", "wrong_codes", ["activity_id", "member_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_wrong_codes_who", table_name="wrong_codes")
    op.drop_table("wrong_codes")
    op.drop_index("uq_join_requests_pending", table_name="join_requests")
    op.drop_index("ix_join_requests_member_id", table_name="join_requests")
    op.drop_table("join_requests")
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_constraint(op.f("ck_members_left_reason"), type_="check")
        for column in (
            "group_reply_at",
            "flood_noted_at",
            "flood_at",
            "flood_tokens",
            "erased_at",
            "left_reason",
            "left_at",
        ):
            batch_op.drop_column(column)
