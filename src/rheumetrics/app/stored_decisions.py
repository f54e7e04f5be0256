"""Each patient's latest treat-to-target decision, kept in the store so that a page reads it
instead of running the engine.

A row of ``app_decision_log`` holds, for one patient, the action the engine recommends at every
visit and the engine's whole row at the last visit, with the strategy, the *strategy version* (a
digest of the strategy's content, its chosen options and the engine's own source and drug
catalogue) and a digest of the exact inputs the engine was given (the visits with their index, and
the therapies). A page computes the inputs' digest from the rows it reads anyway and uses the
stored row only when the strategy, its version and the inputs' digest all match; otherwise it runs
the engine and stores the new row. So the decision shown always equals what the engine computes
now, whatever changed the history (the app, ``rheumetrics import``, a strategy choice or file, an
upgrade of the engine). Rows are written after a visit, therapy or strategy is saved, by a page
view that found none (when the writer is free), and in bulk by
:func:`rheumetrics.app.queries.fill_decisions`. See ``docs/app.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select

from rheumetrics import __version__
from rheumetrics.app import decision_support as ds
from rheumetrics.app.tables import DECISION_LOG
from rheumetrics.t2t.strategy import Strategy


@dataclass(frozen=True)
class Summary:
    """What the pages show of one patient's decision log."""

    #: (visit date, recommended action) of every visit, in date order (the last row of a date)
    actions: tuple[tuple[dt.date, str | None], ...] = ()
    #: the engine's row at the last visit (JSON values; dates as :class:`datetime.date`)
    latest: dict[str, Any] | None = None
    #: why the engine could not decide (the first few problems) and how many there were
    problems: tuple[str, ...] = ()
    problem_count: int = 0
    #: whether the therapy observed at each visit of ``actions`` followed the recommendation
    #: made at the visit before (the engine's ``adherent``; None where not assessable)
    adherent: tuple[bool | None, ...] = ()

    def to_json(self) -> dict[str, Any]:
        latest = None if self.latest is None else dict(self.latest)
        if latest is not None:
            for k in DATE_FIELDS:
                if latest.get(k) is not None:
                    latest[k] = latest[k].isoformat()
        return {
            "actions": [[d.isoformat(), a] for d, a in self.actions],
            "latest": latest,
            "problems": list(self.problems),
            "problem_count": self.problem_count,
            "adherent": list(self.adherent),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        latest = data["latest"]
        if latest is not None:
            latest = dict(latest)
            for k in DATE_FIELDS:
                if latest.get(k) is not None:
                    latest[k] = dt.date.fromisoformat(latest[k])
        return cls(
            tuple((dt.date.fromisoformat(d), a) for d, a in data["actions"]),
            latest,
            tuple(data["problems"]),
            int(data["problem_count"]),
            tuple(data["adherent"]),
        )


#: Fields of a log row held as dates.
DATE_FIELDS = ("visit_date", "next_visit_date")


def summarise(log: pd.DataFrame) -> Summary:
    """The summary of one patient's decision log (:func:`rheumetrics.t2t.decide`)."""
    if log.empty:
        problems = tuple(log.attrs.get("problems", ()))
        return Summary(problems=problems, problem_count=int(log.attrs.get("problem_count", 0)))
    return next(iter(summaries(log).values()))


def summaries(log: pd.DataFrame) -> dict[str, Summary]:
    """The summary of each patient of a (non-empty) decision log, sorted by patient and date:
    columns are converted once, then each patient's rows are sliced."""
    keys = log["patient_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    dates = _dates(log["visit_date"])
    action = log["action"].astype(object)
    actions = action.where(action.notna(), None).tolist()
    followed = log["adherent"].astype("boolean").astype(object)
    adherent = followed.where(followed.notna(), None).tolist()
    last = log.iloc[ends - 1]
    last_dates = {k: _dates(last[k]) for k in DATE_FIELDS}
    columns = [str(c) for c in last.columns]
    out = {}
    # rows as object arrays (cheaper than to_dict("records"); _plain makes the same values)
    for i, (a, b, row) in enumerate(zip(starts, ends, last.to_numpy(dtype=object), strict=True)):
        latest = {k: _plain(v) for k, v in zip(columns, row, strict=True)}
        for k in DATE_FIELDS:
            latest[k] = last_dates[k][i]
        rows = zip(actions[a:b], adherent[a:b], strict=True)
        by_date = dict(zip(dates[a:b], rows, strict=True))  # the last row of a date
        kept = [(d, x) for d, x in by_date.items() if d is not None]
        out[str(keys[a])] = Summary(
            tuple((d, x[0]) for d, x in kept),
            latest,
            adherent=tuple(None if x[1] is None else bool(x[1]) for _, x in kept),
        )
    return out


def _dates(values: pd.Series) -> list[dt.date | None]:
    """Timestamps as dates (None for missing)."""
    days = pd.to_datetime(values).to_numpy().astype("datetime64[D]")
    return [None if pd.isna(d) else d for d in days.tolist()]


def _plain(v: Any) -> Any:
    """A JSON value: None for missing, Python scalars, ISO text for dates."""
    if v is None or isinstance(v, str | bool | int):
        return v
    if isinstance(v, float):
        return None if v != v else v
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if _isna(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v if isinstance(v, int | float | str | bool) else str(v)


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


#: Layout of a stored :class:`Summary`; a change makes every stored row stale (recomputed).
SUMMARY_FORMAT = 2


@cache
def engine_version() -> str:
    """Digest of the package version and of every file of the engine (:mod:`rheumetrics.t2t`,
    shipped strategies included) and of :mod:`rheumetrics.schema` (drug catalogue), and the
    :data:`SUMMARY_FORMAT`: any change to the engine makes every stored decision stale."""
    h = hashlib.sha256(f"{__version__}|summary format {SUMMARY_FORMAT}".encode())
    for package in ("rheumetrics.t2t", "rheumetrics.schema"):
        for path in sorted(_walk(files(package)), key=str):
            h.update(str(path).rsplit("rheumetrics", 1)[-1].encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _walk(folder: Any) -> Iterable[Any]:
    for item in folder.iterdir():
        if item.is_dir():
            if item.name != "__pycache__":
                yield from _walk(item)
        elif not item.name.endswith((".pyc", ".pyo")):
            yield item


_VERSIONS: dict[int, tuple[Strategy, str]] = {}


def strategy_version(s: Strategy) -> str:
    """Digest of the strategy as loaded (content and chosen options) and of the engine."""
    known = _VERSIONS.get(id(s))
    if known is not None and known[0] is s:
        return known[1]
    digest = hashlib.sha256(engine_version().encode())
    digest.update(s.model_dump_json().encode())
    version = digest.hexdigest()
    _VERSIONS[id(s)] = (s, version)  # strategies are loaded once per process (kept alive here)
    return version


def _patient_hashes(frame: pd.DataFrame) -> dict[str, bytes]:
    """Per patient (``patient_id``; rows of a patient are contiguous): a digest of its rows of
    ``frame`` (every column's exact values, with the column names and types; a text column is
    text whatever pandas inferred for the rows read together, missing text is None)."""
    if frame.empty:
        return {}
    columns = [_canonical(frame[c].to_numpy()) for c in frame.columns]
    types = [(str(c), str(a.dtype)) for c, a in zip(frame.columns, columns, strict=True)]
    head = repr(types).encode()
    keys = frame["patient_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    out = {}
    for a, b in zip(starts, ends, strict=True):
        h = hashlib.sha256(head)
        for col in columns:
            part = col[a:b]
            data = part.tobytes() if part.dtype.kind in "biufcmM" else repr(part.tolist()).encode()
            h.update(len(data).to_bytes(8, "little") + data)
        out[str(keys[a])] = h.digest()
    return out


def _canonical(values: np.ndarray) -> np.ndarray:
    """Numbers and dates as they are; anything else as objects with None for missing."""
    if values.dtype.kind in "biufcmM":
        return values
    out = values.astype(object)
    out[pd.isna(out)] = None
    return out


def inputs_digests(
    visits: pd.DataFrame, therapies: pd.DataFrame | None, s: Strategy
) -> dict[str, str]:
    """Per patient of ``visits``: the digest of the strategy version and of the patient's engine
    inputs (visit rows; therapy rows, or none)."""
    version = strategy_version(s).encode()
    v = _patient_hashes(visits)
    t = _patient_hashes(therapies) if therapies is not None else {}
    out = {}
    for key, vh in v.items():
        h = hashlib.sha256(version)
        h.update(vh)
        h.update(t.get(key, b"no therapies"))
        out[key] = h.hexdigest()
    return out


@dataclass
class Resolved:
    """The summaries of some patients and the rows to store for those that were computed."""

    summaries: dict[str, Summary] = field(default_factory=dict)
    fresh: list[dict[str, Any]] = field(default_factory=list)
    computed: int = 0


def resolve(
    conn: Connection,
    s: Strategy,
    visits: pd.DataFrame,
    therapies: pd.DataFrame,
    into: Resolved | None = None,
) -> Resolved:
    """The summary of each patient of ``visits`` (the engine's input: one row per visit,
    ``patient_id`` the patient key, sorted by patient and date) under strategy ``s``: the stored
    one when it was computed from these exact inputs, else the engine's (added to ``fresh``).

    ``therapies``: the patients' drug courses (store columns, ``patient_id`` the key); a patient
    without any is decided without therapy information, as :func:`decision_support.decision_log`
    does for one patient.
    """
    out = into if into is not None else Resolved()
    if visits.empty:
        return out
    ther = therapies.rename(columns={"stop_reason": "reason"})
    digests = inputs_digests(visits, ther, s)
    version = strategy_version(s)
    keys = list(digests)
    stored = {
        r.patient_key: r
        for r in conn.execute(
            select(
                DECISION_LOG.c.patient_key,
                DECISION_LOG.c.strategy,
                DECISION_LOG.c.strategy_version,
                DECISION_LOG.c.inputs,
                DECISION_LOG.c.summary,
            ).where(DECISION_LOG.c.patient_key.in_(keys))
        )
    }
    misses = []
    for k in keys:
        r = stored.get(k)
        if r is not None and (r.strategy, r.strategy_version, r.inputs) == (
            s.id,
            version,
            digests[k],
        ):
            out.summaries[k] = Summary.from_json(r.summary)
        else:
            misses.append(k)
    if not misses:
        return out
    treated = set(ther["patient_id"])
    for group, with_therapies in (
        ([k for k in misses if k in treated], True),
        ([k for k in misses if k not in treated], False),
    ):
        if group:
            _run(s, visits, ther if with_therapies else None, group, out)
    now = dt.datetime.now(dt.UTC)
    out.fresh += [
        {
            "patient_key": k,
            "strategy": s.id,
            "strategy_version": version,
            "inputs": digests[k],
            "summary": out.summaries[k].to_json(),
            "computed_at": now,
        }
        for k in misses
    ]
    out.computed += len(misses)
    return out


def _run(
    s: Strategy,
    visits: pd.DataFrame,
    ther: pd.DataFrame | None,
    group: list[str],
    out: Resolved,
) -> None:
    """Run the engine for ``group`` (one call; one call per patient when a record of one of
    them stops the engine, so the others still get their decisions)."""
    members = set(group)
    v = visits[visits["patient_id"].isin(members)].reset_index(drop=True)
    t = None if ther is None else ther[ther["patient_id"].isin(members)].reset_index(drop=True)
    log = ds.run_engine(v, s, t)
    if log.empty and len(group) > 1:
        for k in group:
            _run(s, visits, ther, [k], out)
        return
    if log.empty:
        out.summaries[group[0]] = summarise(log)
        return
    out.summaries.update(summaries(log))


def store(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Replace the stored summaries of these patients (in the caller's transaction)."""
    for start in range(0, len(rows), 5000):
        part = rows[start : start + 5000]
        conn.execute(
            delete(DECISION_LOG).where(
                DECISION_LOG.c.patient_key.in_([r["patient_key"] for r in part])
            )
        )
        conn.execute(insert(DECISION_LOG), part)


def store_if_free(engine: Engine, rows: list[dict[str, Any]]) -> bool:
    """Store ``rows`` when a write transaction can start without waiting (a page view must not
    queue behind writers; the next view stores them instead). True when stored."""
    from rheumetrics.app.context import writing_if_free

    if not rows:
        return True
    with writing_if_free(engine) as conn:
        if conn is None:
            return False
        store(conn, rows)
    return True
