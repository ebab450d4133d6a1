"""join requests: the CHECK constraints get the names the models give them

0014 named them `ck_join_requests_ck_join_requests_…` (the naming convention applied to a name
that was already whole); a database built from the models calls them `ck_join_requests_kind`
and `ck_join_requests_status`. Same rules, right names: both ways now give the same schema.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULES = {
    "kind": "kind IN ('join', 'unit', 'link')",
    "status": "status IN ('pending', 'approved', 'rejected', 'cancelled')",
}


def upgrade() -> None:
    with op.batch_alter_table("join_requests") as batch_op:
        for column, rule in RULES.items():
            batch_op.drop_constraint(op.f(f"ck_join_requests_ck_join_requests_{column}"), "check")
            batch_op.create_check_constraint(op.f(f"ck_join_requests_{column}"), rule)


def downgrade() -> None:
    with op.batch_alter_table("join_requests") as batch_op:
        for column, rule in RULES.items():
            batch_op.drop_constraint(op.f(f"ck_join_requests_{column}"), "check")
            batch_op.create_check_constraint(
                op.f(f"ck_join_requests_ck_join_requests_{column}"), rule
            )
