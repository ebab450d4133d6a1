"""the work plan's tasks (工作要点): owner, cadence, a countable target

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "work_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=True),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("owner_kind", sa.String(length=16), nullable=False),
        sa.Column("owner_unit_id", sa.Integer(), nullable=True),
        sa.Column("owner_member_id", sa.Integer(), nullable=True),
        sa.Column("cadence", sa.String(length=16), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("target_count", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "owner_kind IN ('committee', 'unit', 'person')",
            name=op.f("ck_work_tasks_owner_kind"),
        ),
        sa.CheckConstraint(
            "cadence IN ('once', 'quarterly', 'yearly', 'ongoing')",
            name=op.f("ck_work_tasks_cadence"),
        ),
        sa.CheckConstraint(
            "target IN ('none', 'study', 'meeting', 'unity', 'volunteer', 'needs')",
            name=op.f("ck_work_tasks_target"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_unit_id"], ["units.id"], name=op.f("fk_work_tasks_owner_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["owner_member_id"],
            ["members.id"],
            name=op.f("fk_work_tasks_owner_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["members.id"], name=op.f("fk_work_tasks_created_by_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_tasks")),
    )
    op.create_index(op.f("ix_work_tasks_year"), "work_tasks", ["year"])


def downgrade() -> None:
    op.drop_index(op.f("ix_work_tasks_year"), table_name="work_tasks")
    op.drop_table("work_tasks")
