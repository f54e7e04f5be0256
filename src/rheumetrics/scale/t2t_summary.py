"""The treat-to-target cohort summary of a dataset, in one pass over its buckets.

Each bucket's decision log is reduced to exact per-bucket counts and one row per patient (first
visit at target, days at target, escalation, ...); the rows of all buckets are then combined in
patient order, so every figure equals :func:`rheumetrics.t2t.cohort.summarise` on the whole log
(the same shares, the same median, the mean over patients summed in the same order). Memory is the
largest bucket's log plus a few numbers per patient; the log itself is written bucket by bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pandas as pd

from rheumetrics.scale.dataset import Dataset
from rheumetrics.scale.t2t_decisions import _bucket_log

_NEVER = np.iinfo(np.int64).max


@dataclass
class BucketFigures:
    """What one bucket's log contributes to the summary."""

    counts: dict[str, int]
    patients: pd.DataFrame  # one row per patient, indexed by patient_id
    conventions: dict[str, Any] = field(default_factory=dict)
    log: pd.DataFrame | None = None  # kept only when the log is gathered into one file


def bucket_figures(log: pd.DataFrame) -> BucketFigures:
    """Per-bucket counts and per-patient figures of a decision log (patients never span buckets)."""
    from rheumetrics.t2t.rule_terms import DAYS_PER_MONTH

    codes, uniq = pd.factorize(log["patient_id"], sort=True)
    n_pat = len(uniq)
    tm = log["target_met"]
    at = tm.fillna(False).to_numpy(dtype=bool)
    action = log["action"].to_numpy(dtype=object)
    provisional, adherent = log["provisional"], log["adherent"]
    counts = {
        "visits": len(log),
        "target_known": int(tm.notna().sum()),
        "at_target": int(at.sum()),
        "provisional_known": int(provisional.notna().sum()),
        "provisional": int(provisional.fillna(False).astype(bool).sum()),
        "undetermined": int((action == "undetermined").sum()),
        "adherent_known": int(adherent.notna().sum()),
        "adherent": int(adherent.fillna(False).astype(bool).sum()),
    }

    def any_of(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask], minlength=n_pat) > 0

    day = log["visit_date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    first_day = np.full(n_pat, _NEVER)
    np.minimum.at(first_day, codes, day)
    first_at = np.full(n_pat, _NEVER)
    np.minimum.at(first_at, codes[at], day[at])
    reached = first_at < _NEVER
    months = np.where(reached, (first_at - first_day) / DAYS_PER_MONTH, np.nan)
    nxt = log.groupby("patient_id", sort=False)["visit_date"].shift(-1)
    span = (nxt - log["visit_date"]).dt.days
    known = span.notna() & tm.notna()
    at_days = np.where(known, span.fillna(0) * tm.fillna(False).astype(int), 0)
    all_days = np.where(known, span.fillna(0), 0)
    on = log["on_bts"]
    patients = pd.DataFrame(
        {
            "reached": reached,
            "months": months,
            "at_days": np.bincount(codes, weights=at_days, minlength=n_pat),
            "all_days": np.bincount(codes, weights=all_days, minlength=n_pat),
            "escalated": any_of(action == "escalate"),
            "biologic": any_of(log["to_biologic"].fillna(False).to_numpy(dtype=bool)),
            "on_known": any_of(on.notna().to_numpy()),
            "on_observed": any_of(on.fillna(False).to_numpy(dtype=bool)),
        },
        index=pd.Index(uniq, name="patient_id"),
    )
    return BucketFigures(counts, patients, dict(log.attrs.get("conventions", {})))


def _share(k: int, n: int) -> tuple[float, int]:
    return (k / n if n else float("nan")), n


def combine(parts: list[BucketFigures]) -> pd.DataFrame:
    """The summary table of :func:`rheumetrics.t2t.cohort.summarise` from per-bucket figures."""
    from rheumetrics.t2t.cohort import METRICS

    c: dict[str, int] = {}
    for part in parts:
        for key, n in part.counts.items():
            c[key] = c.get(key, 0) + n
    frames = [p.patients for p in parts if len(p.patients)]
    per = pd.concat(frames).sort_index() if frames else bucket_figures_empty()
    n_pat, n_vis = len(per), c.get("visits", 0)
    reached = per["reached"].to_numpy()
    months = per["months"].to_numpy()[reached]
    spans = per[per["all_days"] > 0]
    known = per["on_known"].to_numpy()
    rows: list[tuple[str, float, int]] = [
        ("patients", float(n_pat), n_pat),
        ("visits", float(n_vis), n_vis),
        ("visits_at_target", *_share(c.get("at_target", 0), c.get("target_known", 0))),
        ("visits_target_unknown",
         (n_vis - c.get("target_known", 0)) / n_vis if n_vis else float("nan"), n_vis),
        ("patients_reaching_target", *_share(int(reached.sum()), n_pat)),
        ("months_to_first_target_median",
         float(np.median(months)) if len(months) else float("nan"), int(reached.sum())),
        ("time_in_target",
         float((spans["at_days"] / spans["all_days"]).mean()) if len(spans) else float("nan"),
         len(spans)),
        ("patients_escalated", *_share(int(per["escalated"].sum()), n_pat)),
        ("patients_biologic_recommended", *_share(int(per["biologic"].sum()), n_pat)),
        ("patients_on_biologic_observed",
         *_share(int((per["on_observed"].to_numpy() & known).sum()), int(known.sum()))),
        ("visits_provisional", *_share(c.get("provisional", 0), c.get("provisional_known", 0))),
        ("visits_undetermined", *_share(c.get("undetermined", 0), n_vis)),
        ("protocol_adherence", *_share(c.get("adherent", 0), c.get("adherent_known", 0))),
    ]  # fmt: skip
    out = pd.DataFrame(rows, columns=["metric", "value", "n"])
    out["description"] = out["metric"].map(METRICS)
    out.attrs["conventions"] = next((p.conventions for p in parts if p.conventions), {})
    return out


def bucket_figures_empty() -> pd.DataFrame:
    """The per-patient frame of a log without visits."""
    return pd.DataFrame(
        {"reached": pd.Series(dtype=bool), "months": pd.Series(dtype=float),
         "at_days": pd.Series(dtype=float), "all_days": pd.Series(dtype=float),
         "escalated": pd.Series(dtype=bool), "biologic": pd.Series(dtype=bool),
         "on_known": pd.Series(dtype=bool), "on_observed": pd.Series(dtype=bool)},
        index=pd.Index([], name="patient_id", dtype=object),
    )  # fmt: skip


def _decide_bucket(
    visit_files: list[Path],
    therapy_files: list[Path],
    strategy: str,
    options: Mapping[str, str] | None,
    read_files: list[Path],
    out: Path | None,
    keep: bool,
    kwargs: dict[str, Any],
) -> BucketFigures:
    log = _bucket_log(visit_files, therapy_files, strategy, options, read_files, **kwargs)
    figures = bucket_figures(log) if len(log) else BucketFigures({}, bucket_figures_empty())
    if out is not None and len(log):
        log.to_parquet(out, index=False)
    if keep:
        figures.log = log
    return figures


def run_decisions(
    dataset: Dataset,
    strategy: str,
    options: Mapping[str, str] | None = None,
    *,
    out: str | Path | None = None,
    gather: bool = False,
    progress: Any = None,
    **kwargs: Any,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Decide at every visit of ``dataset`` and summarise, each bucket once.

    ``out`` a folder: the log is written there, one Parquet file per bucket. ``gather``: the whole
    log is also returned (only for cohorts that fit in memory). ``progress`` is called with the
    number of buckets done as they finish; ``kwargs`` go to :func:`rheumetrics.t2t.decide`
    (``contraindications``, ``event_flags_missing``), except ``mri_window_days``: days between a
    visit and its MRI (default :data:`rheumetrics.cohort.MRI_WINDOW_DAYS`). Returns the summary (as
    :func:`rheumetrics.t2t.cohort.summarise`) and the gathered log or None.
    """
    from rheumetrics.scale.cluster import compute_all

    visits = dataset.bucket_files("visits")
    therapies = dataset.bucket_files("therapies") if "therapies" in dataset.tables else {}
    reads = dataset.bucket_files("imaging_reads") if "imaging_reads" in dataset.tables else {}
    folder = Path(out) if out is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    tasks = [
        dask.delayed(_decide_bucket)(
            visits[b],
            therapies.get(b, []),
            strategy,
            options,
            reads.get(b, []),
            folder / f"part-{b:05d}.parquet" if folder is not None else None,
            gather,
            kwargs,
        )
        for b in sorted(visits)
    ]
    parts = compute_all(tasks, progress)
    log = None
    if gather:
        logs = [p.log for p in parts if p.log is not None and len(p.log)]
        log = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame()
        log = log.sort_values("patient_id", kind="stable", ignore_index=True)
    return combine(parts), log
