"""imported roster members, activity minutes and photos, pending imports, a report index

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 23:52:33.159944
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.String(length=256), nullable=False),
        sa.Column("file_name", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_pending_imports_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_imports")),
    )
    op.create_table(
        "activity_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.String(length=256), nullable=False),
        sa.Column("file_unique_id", sa.String(length=128), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_photos_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["added_by"], ["members.id"], name=op.f("fk_activity_photos_added_by_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_photos")),
        sa.UniqueConstraint("activity_id", "file_unique_id", name="uq_activity_photos_file"),
    )
    with op.batch_alter_table("activity_photos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_photos_activity_id"), ["activity_id"], unique=False
        )

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("minutes", sa.Text(), nullable=True))

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column("telegram_id", existing_type=sa.BIGINT(), nullable=True)

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_created_at"))

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.alter_column("telegram_id", existing_type=sa.BIGINT(), nullable=False)
        batch_op.drop_column("imported_at")
        batch_op.drop_column("title")

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("minutes")

    with op.batch_alter_table("activity_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_photos_activity_id"))

    op.drop_table("activity_photos")
    op.drop_table("pending_imports")
