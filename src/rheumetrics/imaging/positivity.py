"""Per-site (per-joint) positivity: is a feature present at a site, by a named reader rule.

Rules in use: a joint counts as having synovitis only when RAMRIS synovitis >= 2, because grade 1 is
common in healthy people (Saltzherr, PhD thesis, Erasmus University Rotterdam), and Leiden cohorts
count a feature as present when *both* readers score >= 1 (Rogier et al. 2020, PMC8328495). The threshold and the reader rule are parameters recorded with the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from rheumetrics.imaging import catalogue
from rheumetrics.imaging._codes import group_codes
from rheumetrics.imaging.reads import ValidatedReads, ensure_valid
from rheumetrics.numeric import snap
from rheumetrics.stats._common import check_choice

ReaderRule = Literal["each", "any", "mean"]
_SITE_KEYS = ("patient_id", "timepoint", "system", "version", "session", "side", "feature", "site")


def site_positivity(
    reads: pd.DataFrame | ValidatedReads,
    threshold: float,
    *,
    readers: ReaderRule = "each",
    features: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Positivity of each site, combining readers by a named rule.

    Parameters
    ----------
    threshold : float
        A grade ``>= threshold`` is positive (e.g. 2 for RAMRIS synovitis, Saltzherr).
    readers : {"each", "any", "mean"}
        ``"each"``: every reader who assessed the site scored ``>= threshold`` (Leiden, both
        readers); ``"any"``: at least one did; ``"mean"``: the readers' mean grade did. With one
        reader all three agree.
    features : list of str, optional
        Only these features.

    Returns
    -------
    DataFrame
        One row per patient, time point, system, version, session, side, feature and site:
        ``n_readers`` (readers who assessed it), ``grade_mean``, ``positive`` (NA when no reader
        could assess the site) and ``joint_id`` (``{side}_{JOINT}`` of the joint catalogue, when the
        site belongs to a joint).
    """
    check_choice("readers", readers, ("each", "any", "mean"))
    valid = ensure_valid(reads)
    df, row = valid.frame, valid.catalogue_row
    if features is not None:
        keep = df["feature"].isin(list(features)).to_numpy()
        df, row = df[keep], row[keep]
    group, first = group_codes(df, list(_SITE_KEYS))
    grades = pd.Series(df["grade"].to_numpy(), index=group)
    stats = grades.groupby(level=0).agg(["count", "mean", "min", "max"]).reindex(range(len(first)))
    out = df[list(_SITE_KEYS)].iloc[first].reset_index(drop=True)
    out["n_readers"] = stats["count"].to_numpy(dtype=np.int64)
    out["grade_mean"] = stats["mean"].to_numpy()
    basis = {"each": "min", "any": "max", "mean": "mean"}[readers]
    value = snap(stats[basis].to_numpy(dtype=float))
    positive = np.where(np.isnan(value), None, value >= snap(threshold))
    out["positive"] = pd.array(positive, dtype="boolean")
    joint = catalogue._sites()["joint"].to_numpy()[row[first]]
    side = out["side"].astype(object).to_numpy()
    has_joint = (joint != "") & np.isin(side, ["L", "R"])
    out["joint_id"] = np.where(has_joint, side.astype(str) + "_" + joint.astype(str), None)
    out.attrs["conventions"] = {
        "positivity": f"grade >= {threshold:g}, readers combined by '{readers}'",
        "source": "Saltzherr, PhD thesis, Erasmus University Rotterdam (synovitis >= 2); Rogier et al. 2020, PMC8328495 (Leiden: both readers >= 1)",
    }
    return out
