"""reminders

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 00:02:16.934600
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminder_occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('sent', 'skipped', 'missed')", name=op.f("ck_reminder_occurrences_outcome")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_occurrences")),
        sa.UniqueConstraint("key", name=op.f("uq_reminder_occurrences_key")),
    )
    op.create_table(
        "reminder_settings",
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("at_time", sa.String(length=5), nullable=True),
        sa.PrimaryKeyConstraint("rule", name=op.f("pk_reminder_settings")),
    )
    op.create_table(
        "one_off_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["members.id"], name=op.f("fk_one_off_reminders_created_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_one_off_reminders_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_off_reminders")),
    )
    with op.batch_alter_table("one_off_reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_one_off_reminders_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("one_off_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_one_off_reminders_at"))

    op.drop_table("one_off_reminders")
    op.drop_table("reminder_settings")
    op.drop_table("reminder_occurrences")
