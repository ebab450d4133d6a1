"""the quarterly review of the work plan's tasks (评估问效) with its evidence; task imports

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 11:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reported_by", sa.Integer(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('done', 'in_progress', 'open')", name=op.f("ck_task_reviews_state")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["work_tasks.id"],
            name=op.f("fk_task_reviews_task_id_work_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"], ["members.id"], name=op.f("fk_task_reviews_reported_by_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_reviews")),
        sa.UniqueConstraint("task_id", "year", "quarter", name="uq_task_reviews_quarter"),
    )
    op.create_table(
        "task_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_id", sa.String(length=256), nullable=False),
        sa.Column("file_unique_id", sa.String(length=128), nullable=False),
        sa.Column("file_name", sa.String(length=256), nullable=True),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('photo', 'document')", name=op.f("ck_task_evidence_kind")),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["task_reviews.id"],
            name=op.f("fk_task_evidence_review_id_task_reviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["added_by"], ["members.id"], name=op.f("fk_task_evidence_added_by_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_evidence")),
        sa.UniqueConstraint("review_id", "file_unique_id", name="uq_task_evidence_file"),
    )
    op.create_index(op.f("ix_task_evidence_review_id"), "task_evidence", ["review_id"])
    with op.batch_alter_table("pending_imports") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_pending_imports_kind"), "check")
        batch_op.create_check_constraint(
            batch_op.f("ck_pending_imports_kind"), "kind IN ('roster', 'plan', 'task')"
        )


def downgrade() -> None:
    op.execute("DELETE FROM pending_imports WHERE kind = 'task'")  # a kind 0018 does not know
    with op.batch_alter_table("pending_imports") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_pending_imports_kind"), "check")
        batch_op.create_check_constraint(
            batch_op.f("ck_pending_imports_kind"), "kind IN ('roster', 'plan')"
        )
    op.drop_index(op.f("ix_task_evidence_review_id"), table_name="task_evidence")
    op.drop_table("task_evidence")
    op.drop_table("task_reviews")
