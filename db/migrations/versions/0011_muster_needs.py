"""rapid calls, the squad pool and the needs inbox

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "musters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("need", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("squad", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="open", nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_musters_status")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["members.id"], name=op.f("fk_musters_created_by_members")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_musters_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_musters")),
    )
    with op.batch_alter_table("musters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_musters_closes_at"), ["closes_at"], unique=False)

    op.create_table(
        "need_drafts",
        sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("category", sa.String(length=8), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_need_drafts_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_need_drafts")),
    )
    op.create_table(
        "needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("relay_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="new", nullable=False),
        sa.Column("satisfied", sa.String(length=3), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("satisfied IN ('yes', 'no')", name=op.f("ck_needs_satisfied")),
        sa.CheckConstraint(
            "status IN ('new', 'accepted', 'in_progress', 'done')", name=op.f("ck_needs_status")
        ),
        sa.CheckConstraint(
            "(anonymous AND member_id IS NULL) OR (NOT anonymous AND member_id IS NOT NULL)",
            name=op.f("ck_needs_anonymous_has_no_member"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_needs_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs")),
    )
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_needs_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_needs_member_id"), ["member_id"], unique=False)

    op.create_table(
        "squad_members",
        sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_squad_members_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_squad_members")),
    )
    op.create_table(
        "muster_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("muster_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('confirmed', 'waitlisted', 'declined')",
            name=op.f("ck_muster_answers_status"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_muster_answers_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["muster_id"],
            ["musters.id"],
            name=op.f("fk_muster_answers_muster_id_musters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_muster_answers")),
        sa.UniqueConstraint("muster_id", "member_id", name="uq_muster_answers_member"),
    )
    with op.batch_alter_table("muster_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_muster_answers_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            "ix_muster_answers_queue", ["muster_id", "status", "id"], unique=False
        )

    op.create_table(
        "need_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("by_member_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('reply', 'status', 'rating')", name=op.f("ck_need_events_kind")
        ),
        sa.ForeignKeyConstraint(
            ["by_member_id"], ["members.id"], name=op.f("fk_need_events_by_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["need_id"], ["needs.id"], name=op.f("fk_need_events_need_id_needs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need_events")),
    )
    with op.batch_alter_table("need_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_need_events_need_id"), ["need_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("need_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_need_events_need_id"))

    op.drop_table("need_events")
    with op.batch_alter_table("muster_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_muster_answers_queue")
        batch_op.drop_index(batch_op.f("ix_muster_answers_member_id"))

    op.drop_table("muster_answers")
    op.drop_table("squad_members")
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_needs_member_id"))
        batch_op.drop_index(batch_op.f("ix_needs_created_at"))

    op.drop_table("needs")
    op.drop_table("need_drafts")
    with op.batch_alter_table("musters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_musters_closes_at"))

    op.drop_table("musters")
