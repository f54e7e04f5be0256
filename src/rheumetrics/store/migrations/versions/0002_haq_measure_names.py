"""HAQ aids/help columns take the names of the HAQ-DI measure's inputs.

The store kept "aids/devices or help used" per category as ``haq_aid_<category>`` while the
HAQ-DI measure reads ``haq_<category>_aid`` (and, for common activities, which has no aids,
``haq_activities_help``), so a store loaded with category scores never derived HAQ-DI. The columns
are renamed (values kept); under the standard HAQ-DI both raise a category score of 0 or 1 to 2
(Bruce B, Fries JF. J Rheumatol 2003;30:167-178).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_CATEGORIES = ("dressing", "arising", "eating", "walking", "hygiene", "reach", "grip")
RENAMES = {f"haq_aid_{c}": f"haq_{c}_aid" for c in _CATEGORIES} | {
    "haq_aid_activities": "haq_activities_help"
}


def upgrade() -> None:
    for old, new in RENAMES.items():
        op.execute(f"ALTER TABLE pro RENAME COLUMN {old} TO {new}")


def downgrade() -> None:
    for old, new in RENAMES.items():
        op.execute(f"ALTER TABLE pro RENAME COLUMN {new} TO {old}")
