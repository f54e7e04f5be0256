"""Imaging reads take the column names of the imaging package; quarantine rows keep line and key.

The ``imaging_read`` columns ``time_point``, ``scoring_system``, ``scoring_version``,
``reading_session`` and ``reading_design`` are renamed ``timepoint``, ``system``, ``version``,
``session`` and ``design`` (values kept), the names :mod:`rheumetrics.imaging` and
:mod:`rheumetrics.schema.records` use, so reads go from the store to the scorer without a
translation table. ``quarantine`` gains the source ``line`` (filled in from ``row`` for rows
already kept, which were numbered by source line) and the row's natural key (``record_key``).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

RENAMES = {
    "time_point": "timepoint",
    "scoring_system": "system",
    "scoring_version": "version",
    "reading_session": "session",
    "reading_design": "design",
}


def upgrade() -> None:
    for old, new in RENAMES.items():
        op.execute(f"ALTER TABLE imaging_read RENAME COLUMN {old} TO {new}")
    op.add_column("quarantine", sa.Column("line", sa.Integer(), nullable=True))
    op.add_column("quarantine", sa.Column("record_key", sa.JSON(), nullable=True))
    q = sa.table("quarantine", sa.column("row", sa.String()), sa.column("line", sa.Integer()))
    rows = op.get_bind().execute(sa.select(q.c.row).distinct()).scalars().all()
    for row in rows:
        if row is not None and row.isascii() and row.isdigit():
            op.execute(q.update().where(q.c.row == row).values(line=int(row)))


def downgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("record_key")
        batch.drop_column("line")
    for old, new in RENAMES.items():
        op.execute(f"ALTER TABLE imaging_read RENAME COLUMN {new} TO {old}")
