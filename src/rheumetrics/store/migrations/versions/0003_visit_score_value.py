"""``visit_score_value``: stored measures without a ``visit_score`` column, one row per value.

Which measures the store keeps is declared on each measure (``Measure.store``); the columns of
``visit_score`` are a frozen storage format, and any other stored measure goes here, so that
adding a stored measure is one declaration and needs no migration.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visit_score_value",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("measure", sa.String(length=48), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["score_run.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "visit_id", "measure"),
    )


def downgrade() -> None:
    op.drop_table("visit_score_value")
