"""Derive scores for stored visits with :func:`rheumetrics.measures.score_frame` and keep them.

Scores are stored per *score run* (:mod:`rheumetrics.store.score_runs`): one row of ``score_run``
per (package version, conventions), holding the full conventions dictionary, and one
``visit_score`` row per visit and run. Scoring the same visits again under the same run replaces
their rows; other runs are left alone, so results under different conventions can be compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, delete

from rheumetrics.measures import DEFAULT, FIELDS, Conventions
from rheumetrics.measures.base import stored_measures
from rheumetrics.measures.panel import available_measures, score_frame
from rheumetrics.store import bulk
from rheumetrics.store.models import (
    BOOLEAN_SCORES,
    SCORE_NAMES,
    SCORE_VALUE,
    VISIT_SCORE,
)
from rheumetrics.store.score_runs import run_id
from rheumetrics.store.sql_frames import member_of
from rheumetrics.store.visit_frames import add_counts, unpack_masks, visit_table


def score_inputs(visits: pd.DataFrame) -> pd.DataFrame:
    """The measure input columns (``rheumetrics.measures.FIELDS``) of a visit frame."""
    return visits[[c for c in visits.columns if c in FIELDS]]


def score_visits(
    inputs: pd.DataFrame,
    conventions: Conventions = DEFAULT,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """The stored measures of ``inputs`` (index = visit id), scored leniently as
    :func:`store_scores` keeps them (the conventions are recorded in ``score_run``, not in the
    frame's ``attrs``)."""
    stored = [m.name for m in stored_measures()]
    available = {m.name for m in available_measures(inputs.columns)}
    chosen = [m for m in stored if m in available]
    scores = (
        score_frame(inputs.astype("float64"), conventions, lenient=True, progress=progress,
                    measures=chosen)
        if chosen
        else pd.DataFrame(index=inputs.index)
    )  # fmt: skip
    scores.attrs = {}  # pandas deep-copies attrs on every operation on the frame
    return scores


def store_scores(
    conn: Connection,
    inputs: pd.DataFrame,
    conventions: Conventions = DEFAULT,
    progress: Callable[[int], None] | None = None,
    *,
    replace: bool = True,
    scores: pd.DataFrame | None = None,
) -> int:
    """Score ``inputs`` (index = visit id) and replace their rows of this run; returns the run id.

    Scoring is lenient: a visit missing an input gets no value for the scores needing it.
    ``replace=False`` skips deleting earlier rows (for visits created in this transaction).
    ``scores``: the result of :func:`score_visits` for ``inputs`` under ``conventions``, when
    computed beforehand (outside the write transaction, so the transaction stays short).
    """
    run = run_id(conn, conventions)
    if inputs.empty:
        return run
    stored = [m.name for m in stored_measures()]
    if scores is None:
        scores = score_visits(inputs, conventions, progress)
    elif not scores.index.equals(inputs.index):
        raise ValueError("store_scores: scores and inputs must have the same visit ids")
    columns: dict[str, Any] = {"run_id": run, "visit_id": inputs.index.to_numpy()}
    for name in SCORE_NAMES:
        if name in scores:
            columns[name] = scores[name].astype("float64")
            cat = f"{name}_category"
            if cat in scores:
                columns[cat] = scores[cat].astype(object).where(scores[cat].notna(), None)
    for name in BOOLEAN_SCORES:
        if name in scores:
            columns[name] = scores[name].astype("boolean")
    rows = pd.DataFrame(columns, index=inputs.index)  # one constructor call, not one per column
    sv, values = VISIT_SCORE, SCORE_VALUE
    if replace:
        for table in (sv, values):
            visits = member_of(conn, table.c.visit_id, inputs.index.tolist())
            conn.execute(delete(table).where(table.c.run_id == run, visits))
    bulk.insert_frame(conn, "visit_score", rows.reset_index(drop=True))
    bulk.insert_frame(conn, "visit_score_value", _other_values(scores, stored, run))
    return run


def _other_values(scores: pd.DataFrame, stored: list[str], run: int) -> pd.DataFrame:
    """Long rows of the stored measures that have no ``visit_score`` column."""
    parts = []
    for name in stored:
        if name in SCORE_NAMES or name in BOOLEAN_SCORES or name not in scores:
            continue
        value = scores[name].astype("float64")
        cat = scores.get(f"{name}_category")
        keep = value.notna().to_numpy()
        parts.append(pd.DataFrame({
            "run_id": run,
            "visit_id": scores.index.to_numpy()[keep],
            "measure": name,
            "value": value.to_numpy()[keep],
            "category": (cat.astype(object).where(cat.notna(), None).to_numpy()[keep]
                         if cat is not None else None),
        }))  # fmt: skip
    columns = ["run_id", "visit_id", "measure", "value", "category"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def rescore(
    engine: Engine,
    conventions: Conventions = DEFAULT,
    patients: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Score all (or some patients') stored visits under ``conventions``; one transaction."""
    with engine.connect() as conn, conn.begin():
        visits = visit_table(conn, patients=patients)
        masks = unpack_masks(visits)  # visits without an examination: nothing assessed
        inputs = score_inputs(add_counts(visits, masks))
        run = store_scores(conn, inputs, conventions)
    return {"run_id": run, "visits": len(inputs)}
