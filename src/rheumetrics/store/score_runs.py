"""Stored score runs: which conventions and package version produced the stored scores.

Scoring finds or creates the run of its conventions (:func:`run_id`, by :func:`conventions_key`);
a run is chosen explicitly (:func:`choose_run`: by id or by conventions), never silently the
newest one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import fields as dc_fields
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    func,
    insert,
    select,
)

from rheumetrics import __version__
from rheumetrics.errors import RheumetricsError
from rheumetrics.measures import DEFAULT, Conventions
from rheumetrics.measures.base import stored_measures
from rheumetrics.store.models import (
    BOOLEAN_SCORES,
    SCORE_NAMES,
    SCORE_RUN,
    SCORE_VALUE,
)
from rheumetrics.store.sql_frames import fetch_frame

#: The derived HAQ-DI of a score run in the visit join, before it fills the recorded one.
DERIVED_HAQ = "haq_di_derived"


def _other_measures() -> list[str]:
    """Stored measures without a ``visit_score`` column (kept in ``visit_score_value``)."""
    return [m.name for m in stored_measures() if m.name not in (*SCORE_NAMES, *BOOLEAN_SCORES)]


def other_scores(
    conn: Connection, run: int, index: pd.Index, labels: dict[str, tuple[str, ...]]
) -> pd.DataFrame:
    """Values (and categories) of the stored measures kept in ``visit_score_value``, one column
    each, on ``index`` (visit ids)."""
    names = _other_measures()
    out = pd.DataFrame(index=index)
    if not names:
        return out
    sv = SCORE_VALUE
    long = fetch_frame(conn, select(sv.c.visit_id, sv.c.measure, sv.c.value, sv.c.category)
                       .where(sv.c.run_id == run))  # fmt: skip
    for name in names:
        part = long[long["measure"] == name].set_index("visit_id")
        out[name] = part["value"].astype("float64").reindex(index)
        cat = part["category"].reindex(index)
        out[f"{name}_category"] = (
            pd.Categorical(cat, categories=list(labels[name]), ordered=True)
            if name in labels
            else cat.astype(object)
        )
    return out


def conventions_key(conventions: Conventions) -> str:
    """SHA-256 of the conventions' canonical JSON: how a score run is found again."""
    conv = conventions.as_dict()
    return hashlib.sha256(json.dumps(conv, sort_keys=True, default=str).encode()).hexdigest()


def run_id(conn: Connection, conventions: Conventions) -> int:
    """The score run of these conventions under this package version (created if new)."""
    conv = conventions.as_dict()
    key = conventions_key(conventions)
    t = SCORE_RUN
    found = conn.execute(
        select(t.c.id).where(t.c.package_version == __version__, t.c.conventions_key == key)
    ).scalar()
    if found is not None:
        return int(found)
    row = {"package_version": __version__, "conventions_key": key, "conventions": conv,
           "created_at": dt.datetime.now(dt.UTC)}  # fmt: skip
    new = conn.execute(insert(t).values(**row).returning(t.c.id)).scalar()
    assert new is not None
    return int(new)


def score_runs(conn: Connection) -> pd.DataFrame:
    """The stored score runs: id, package version, conventions, created."""
    st = SCORE_RUN
    rows = conn.execute(select(st).order_by(st.c.id)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in st.c])


def choose_run(conn: Connection, run: int | Conventions | None) -> dict[str, Any] | None:
    """The score run ``run`` names (an id, or conventions under this package version).

    None when the store has no score run at all (nothing has been scored yet).
    """
    st = SCORE_RUN
    if isinstance(run, int):
        found = conn.execute(select(st).where(st.c.id == run)).mappings().one_or_none()
        if found is None:
            raise RheumetricsError(f"score run {run} is not in the store; {_runs_text(conn)}")
        return dict(found)
    conventions = DEFAULT if run is None else run
    key = conventions_key(conventions)
    found = conn.execute(
        select(st).where(st.c.package_version == __version__, st.c.conventions_key == key)
    ).mappings().one_or_none()  # fmt: skip
    if found is not None:
        return dict(found)
    if conn.execute(select(func.count()).select_from(st)).scalar() == 0:
        return None
    raise RheumetricsError(
        f"the store has no score run for {'the default' if run is None else 'these'} conventions "
        f"under rheumetrics {__version__}; choose one by id (run=...) or score the visits under "
        f"these conventions (`rheumetrics db rescore`); {_runs_text(conn)}"
    )


def _runs_text(conn: Connection) -> str:
    runs = score_runs(conn)
    if runs.empty:
        return "the store has no score runs"
    listed = ", ".join(f"{r.id} (rheumetrics {r.package_version})" for r in runs.itertuples())
    return f"stored runs: {listed}"


def score_columns(
    df: pd.DataFrame, meta: dict[str, Any] | None, others: pd.DataFrame | None
) -> pd.DataFrame:
    """Typed score columns; ``haq_di`` recorded wins over derived."""
    out = df.copy()
    if meta is None or others is None:
        for name in (*SCORE_NAMES, *_other_measures()):
            out[f"{name}_category"] = None
            if name != "haq_di":
                out[name] = np.nan
        for name in BOOLEAN_SCORES:
            out[name] = pd.array([None] * len(out), dtype="boolean")
        out.attrs["conventions"] = None
        return out
    for col in others.columns:
        out[col] = others[col]
    # haq_di is both an input item and a derived score: a recorded value wins, the derived one
    # fills visits where only the HAQ categories (or items) were recorded.
    derived = out.pop(DERIVED_HAQ).to_numpy(dtype="float64")
    out["haq_di"] = out["haq_di"].fillna(pd.Series(derived, index=out.index))
    conventions = meta["conventions"]
    for name in BOOLEAN_SCORES:
        flag = out[name].to_numpy(dtype="float64")
        out[name] = pd.array(np.where(np.isnan(flag), None, flag == 1), dtype="boolean")
    out.attrs["conventions"] = conventions
    out.attrs["package_version"] = meta["package_version"]
    out.attrs["score_run"] = meta["id"]
    return out


def category_labels(conventions: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Ordered category labels of each score under the recorded conventions."""
    known = {f.name for f in dc_fields(Conventions)}
    conv = Conventions(**{k: v for k, v in conventions.items() if k in known})
    out = {}
    for m in stored_measures():
        name = m.name
        cs = m.cutoff_set(conv)
        if cs is not None:
            out[name] = tuple(cs.labels)
    return out
