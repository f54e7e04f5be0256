"""Analysis frames from the cohort store or from files: visits + therapies + imaging in windows.

One place assembles what the treat-to-target engine, the study reports, the app and the
simulator analyse:

- :func:`from_store` reads patients, visits (with the stored scores of an explicitly chosen score
  run), therapy courses and imaging reads from a store;
- :func:`imaging_totals` scores per-site imaging reads into totals per read with the date the
  images were taken;
- :func:`attach_nearest` puts an imaging total on the visits within a window of days of it;
- :func:`t2t_inputs` is the treat-to-target view: visits with each visit's reader-mean RAMRIS
  osteitis (bone marrow oedema) total as ``mri_bme_total`` (:func:`with_mri_bme_total`) and the
  therapy courses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from rheumetrics.errors import ProblemCollector

#: MRI within this many days of a visit counts as that visit's MRI (IMAGINE-RA scanned at the
#: visit: Møller-Bisgaard S et al. JAMA 2019;321:461-472; a convention of this tool).
MRI_WINDOW_DAYS = 31


@dataclass
class CohortFrames:
    """Everything a store holds about a cohort, one frame per kind of record."""

    patients: pd.DataFrame  # indexed by patient key
    visits: pd.DataFrame  # visit frame with stored scores (attrs: conventions, score_run)
    therapies: pd.DataFrame
    reads: pd.DataFrame  # per-site imaging reads in the imaging package's columns
    conventions: dict[str, Any] = field(default_factory=dict)


def from_store(engine: Engine | str, *, run: Any = None) -> CohortFrames:
    """Read a whole cohort from a store (an engine or a database URL).

    ``run`` chooses the score run (an id or conventions; default: the default conventions),
    as :func:`rheumetrics.store.load_visits`.
    """
    from rheumetrics.store import (
        load_imaging_reads,
        load_patients,
        load_therapies,
        load_visits,
        make_engine,
    )

    eng = make_engine(engine) if isinstance(engine, str) else engine
    try:
        visits = load_visits(eng, run=run)
        frames = CohortFrames(
            patients=load_patients(eng),
            visits=visits,
            therapies=load_therapies(eng),
            reads=load_imaging_reads(eng),
            conventions=dict(visits.attrs.get("conventions") or {}),
        )
    finally:
        if isinstance(engine, str):
            eng.dispose()
    return frames


def imaging_totals(reads: pd.DataFrame) -> pd.DataFrame:
    """Totals of every read (per reader and session) with the date the images were taken.

    Every read needs its image date (to be placed in a visit window); reads without one are
    reported together.
    """
    from rheumetrics.imaging import score_reads

    if reads.empty:
        return pd.DataFrame()
    if "image_date" not in reads.columns:
        reads = reads.assign(image_date=pd.NaT)
    undated = reads.loc[reads["image_date"].isna(), ["patient_id", "timepoint"]].drop_duplicates()
    problems = ProblemCollector("imaging reads without an image date")
    for pid, tp in undated.itertuples(index=False):
        problems.add(pid, "image_date", tp, "needed to place the read in a study visit window")
    problems.raise_if_any()
    scores = score_reads(reads)
    dates = (
        reads.assign(image_date=pd.to_datetime(reads["image_date"]))
        .groupby(["patient_id", "timepoint"], observed=True)["image_date"]
        .min()
        .reset_index()
    )
    scores["patient_id"] = scores["patient_id"].astype(str)
    scores["timepoint"] = scores["timepoint"].astype(str)
    dates["patient_id"] = dates["patient_id"].astype(str)
    dates["timepoint"] = dates["timepoint"].astype(str)
    out = scores.merge(dates, on=["patient_id", "timepoint"], how="left")
    for col in ("reader", "session", "system", "version", "feature", "subset"):
        out[col] = out[col].astype(str)
    out["score"] = out["score"].astype(float)
    return out[["patient_id", "timepoint", "image_date", "reader", "session", "system", "version",
                "feature", "subset", "score"]]  # fmt: skip


def attach_nearest(
    visits: pd.DataFrame, values: pd.DataFrame, column: str, window_days: int
) -> pd.DataFrame:
    """``visits`` with ``values[column]`` of the same patient dated nearest to each visit,
    within ``window_days`` (``values`` has ``patient_id``, ``image_date`` and ``column``)."""
    vals = values[["patient_id", "image_date", column]].dropna(subset=["image_date"]).copy()
    vals["patient_id"] = vals["patient_id"].astype(visits["patient_id"].dtype)
    vals["image_date"] = vals["image_date"].astype(visits["visit_date"].dtype)
    out = pd.merge_asof(
        visits.sort_values("visit_date"),
        vals.sort_values("image_date"),
        left_on="visit_date",
        right_on="image_date",
        by="patient_id",
        direction="nearest",
        tolerance=pd.Timedelta(days=window_days),
    )
    return out.drop(columns="image_date").sort_values(["patient_id", "visit_date"])


def t2t_inputs(
    engine: Engine | str, *, run: Any = None, mri_window_days: int = MRI_WINDOW_DAYS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Visits (with stored scores) and therapies for the treat-to-target engine.

    Where the store has RAMRIS reads, each visit gets its reader-mean RAMRIS osteitis (bone
    marrow oedema) total within ``mri_window_days`` as ``mri_bme_total``
    (:func:`with_mri_bme_total`).
    """
    frames = from_store(engine, run=run)
    return with_mri_bme_total(frames.visits, frames.reads, mri_window_days), frames.therapies


def with_mri_bme_total(
    visits: pd.DataFrame, reads: pd.DataFrame, mri_window_days: int = MRI_WINDOW_DAYS
) -> pd.DataFrame:
    """``visits`` with the reader-mean RAMRIS osteitis total of the MRI nearest each visit within
    ``mri_window_days`` as ``mri_bme_total``; ``visits`` unchanged when there are no RAMRIS reads.

    An MRI read in several sessions (a re-read for intra-reader reliability) counts with its
    first session, the primary read (as a study's default ``imaging.session = "1"``), so the total
    does not depend on the order of the reads.

    ``reads`` are per-site reads in the imaging package's columns, of the same patients (the
    store's, or one partition of a dataset's).
    """
    from rheumetrics.imaging import reader_mean, score_reads

    reads = reads[reads["system"] == "ramris"] if "system" in reads.columns else reads.iloc[:0]
    if reads.empty or visits.empty:
        return visits
    totals = reader_mean(score_reads(reads))
    bme = totals[(totals["feature"] == "osteitis") & (totals["subset"] == "all")]
    # one total per MRI: its first reading session (later sessions re-read it for reliability)
    bme = bme.sort_values(["patient_id", "timepoint", "session"], kind="stable")
    bme = bme.drop_duplicates(["patient_id", "timepoint"])
    dates = reads.groupby(["patient_id", "timepoint"], observed=True)["image_date"].min()
    bme = bme.merge(dates.rename("image_date").reset_index(), on=["patient_id", "timepoint"])
    bme = bme.rename(columns={"score": "mri_bme_total"})
    return attach_nearest(visits, bme, "mri_bme_total", mri_window_days)
