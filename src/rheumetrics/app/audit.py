"""The audit trail: who did what to which record, when, with the record before and after.

Rows are written in the same transaction as the change they describe, so a change is never stored
without its audit row (and an audit row never describes a change that was rolled back).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, insert, select

from rheumetrics.app.tables import AUDIT


def record(
    conn: Connection,
    username: str,
    action: str,
    entity: str,
    entity_key: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one audit row."""
    conn.execute(
        insert(AUDIT).values(
            at=dt.datetime.now(dt.UTC),
            username=username,
            action=action,
            entity=entity,
            entity_key=entity_key,
            before=before,
            after=after,
        )
    )


def page(
    conn: Connection, limit: int = 100, offset: int = 0, entity: str | None = None
) -> pd.DataFrame:
    """Newest audit rows first."""
    stmt = select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit).offset(offset)
    if entity:
        stmt = stmt.where(AUDIT.c.entity == entity)
    rows = conn.execute(stmt).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in AUDIT.c])


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(AUDIT)).scalar() or 0)
