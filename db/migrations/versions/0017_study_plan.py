"""the year's study plan: plan items, the units each is for, an activity's plan item, and
what a previewed import brings in (a roster or a study plan)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=128), nullable=False),
        sa.Column("form", sa.String(length=16), nullable=False),
        sa.Column("materials", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "form IN ('collective', 'seminar', 'practice', 'online')",
            name=op.f("ck_plan_items_form"),
        ),
        sa.CheckConstraint("quarter BETWEEN 1 AND 4", name=op.f("ck_plan_items_quarter")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["members.id"], name=op.f("fk_plan_items_created_by_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_items")),
    )
    op.create_index(op.f("ix_plan_items_year"), "plan_items", ["year"])
    op.create_table(
        "plan_item_units",
        sa.Column("plan_item_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_item_id"],
            ["plan_items.id"],
            name=op.f("fk_plan_item_units_plan_item_id_plan_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_plan_item_units_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("plan_item_id", "unit_id", name=op.f("pk_plan_item_units")),
    )
    op.create_index(op.f("ix_plan_item_units_unit_id"), "plan_item_units", ["unit_id"])
    with op.batch_alter_table("activities") as batch_op:
        batch_op.add_column(sa.Column("plan_item_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_activities_plan_item_id"), ["plan_item_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_activities_plan_item_id_plan_items"),
            "plan_items",
            ["plan_item_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("pending_imports") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=8), server_default="roster", nullable=False)
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_pending_imports_kind"), "kind IN ('roster', 'plan')"
        )


def downgrade() -> None:
    with op.batch_alter_table("pending_imports") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_pending_imports_kind"), "check")
        batch_op.drop_column("kind")
    with op.batch_alter_table("activities") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_activities_plan_item_id_plan_items"), "foreignkey")
        batch_op.drop_index(batch_op.f("ix_activities_plan_item_id"))
        batch_op.drop_column("plan_item_id")
    op.drop_index(op.f("ix_plan_item_units_unit_id"), table_name="plan_item_units")
    op.drop_table("plan_item_units")
    op.drop_index(op.f("ix_plan_items_year"), table_name="plan_items")
    op.drop_table("plan_items")
