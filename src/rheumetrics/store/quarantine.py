"""The quarantine: source rows kept aside by an import in quarantine mode, with their reasons.

Each quarantined problem keeps the import that set it aside (``batch``, the import run), the file,
its 1-based line, the row's natural key, the field, the value and the reason.
:func:`quarantine_frame` lists them and :func:`clear_quarantine` removes them (by file, by batch,
or all) in one transaction; ``rheumetrics quarantine list|export|clear`` drives both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, select

from rheumetrics.errors import Problem, RheumetricsError
from rheumetrics.store.import_plan import is_missing, plain
from rheumetrics.store.models import IMPORT_RUN, QUARANTINE
from rheumetrics.store.stage import Staged

#: Columns of :func:`quarantine_frame`.
COLUMNS = ("batch", "file", "line", "key", "field", "value", "reason")


def new_problems(conn: Connection, staged: Staged, sha: str) -> list[Problem]:
    """Problems not yet in the quarantine table (re-importing the same file adds nothing)."""
    if not staged.problems:
        return []
    q = QUARANTINE
    stored = {
        (r.row, r.field, r.rule)
        for r in conn.execute(select(q.c.row, q.c.field, q.c.rule).where(q.c.source_sha256 == sha))
    }
    return [p for p in staged.problems if (str(p.record), p.field, p.rule) not in stored]


def quarantine_records(staged: Staged, sha: str, problems: list[Problem]) -> list[dict[str, Any]]:
    """Quarantine table rows of ``problems``: the problem, its line and key, and the raw row."""
    out = []
    for p in problems:
        raw = None
        if p.record in staged.raw.index:
            row = staged.raw.loc[p.record]
            raw = {str(k): plain(v) for k, v in row.items() if not is_missing(v)}
        out.append({"source_sha256": sha, "row": str(p.record), "line": p.line,
                    "record_key": {str(k): plain(v) for k, v in p.key} or None, "field": p.field,
                    "value": None if p.value is None else str(p.value), "rule": p.rule, "raw": raw})  # fmt: skip
    return out


def _batches(conn: Connection, source: str | None, batch: int | None) -> list[int]:
    """Import runs chosen by file (as given to import, or its file name) and/or batch id."""
    runs = conn.execute(select(IMPORT_RUN.c.id, IMPORT_RUN.c.source)).all()
    chosen = [
        r.id
        for r in runs
        if (batch is None or r.id == batch)
        and (source is None or source in (r.source, Path(r.source).name))
    ]
    if (source is not None or batch is not None) and not chosen:
        what = " and ".join(
            x
            for x in (f"file {source!r}" if source else "", f"batch {batch}" if batch else "")
            if x
        )
        known = ", ".join(sorted({f"{r.id} ({Path(r.source).name})" for r in runs})) or "none"
        raise RheumetricsError(f"no import matches {what}; batches: {known}")
    return chosen


def quarantine_frame(
    engine: Engine, source: str | None = None, batch: int | None = None
) -> pd.DataFrame:
    """Quarantined problems, ordered by batch and line (columns :data:`COLUMNS`).

    ``source`` selects the imports of one file (the path given to import, or its file name);
    ``batch`` one import run. ``key`` is the row's natural key as text
    (``"patient_id P1, visit_date 2021-03-04"``).
    """
    q, r = QUARANTINE, IMPORT_RUN
    with engine.connect() as conn:
        runs = _batches(conn, source, batch)
        stmt = (
            select(
                q.c.import_run_id,
                r.c.source,
                q.c.line,
                q.c.row,
                q.c.record_key,
                q.c.field,
                q.c.value,
                q.c.rule,
            )
            .join(r, q.c.import_run_id == r.c.id)
            .where(q.c.import_run_id.in_(runs))
            .order_by(q.c.import_run_id, q.c.line, q.c.id)
        )
        rows = conn.execute(stmt).all()
    out = pd.DataFrame(
        {
            "batch": [x.import_run_id for x in rows],
            "file": [x.source for x in rows],
            "line": pd.array([x.line for x in rows], dtype="Int64"),
            "key": [", ".join(f"{k} {v}" for k, v in (x.record_key or {}).items()) for x in rows],
            "field": [x.field for x in rows],
            "value": [x.value for x in rows],
            "reason": [x.rule for x in rows],
        },
        columns=list(COLUMNS),
    )
    return out


def clear_quarantine(engine: Engine, source: str | None = None, batch: int | None = None) -> int:
    """Delete the quarantined problems of one file, one batch, or all (both None), in one
    transaction; returns how many were removed. The import runs themselves stay (audit trail)."""
    q = QUARANTINE
    with engine.begin() as conn:
        runs = _batches(conn, source, batch)
        count = conn.execute(
            select(func.count()).select_from(q).where(q.c.import_run_id.in_(runs))
        ).scalar_one()
        conn.execute(delete(q).where(q.c.import_run_id.in_(runs)))
    return int(count)
