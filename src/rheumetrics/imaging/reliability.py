"""Reader agreement report for imaging scores: ICC, SDC, Bland-Altman and SRM per score.

For each system, version, feature (and derived total) over one subset, this applies the general
functions of :mod:`rheumetrics.stats.agreement` to status scores (targets = patient x time point) and,
when two time points are given, to per-reader change scores (targets = patients). Inter-reader
agreement compares readers within a session; intra-reader agreement (``raters="session"``)
compares one reader's sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from itertools import combinations
from typing import Literal

import pandas as pd

from rheumetrics.errors import ValidationError
from rheumetrics.imaging.change import change_scores
from rheumetrics.stats._common import check_choice

Raters = Literal["reader", "session"]


def _groups(raters: Raters) -> list[str]:
    other = "session" if raters == "reader" else "reader"
    return ["system", "version", "feature", "subset", other]


def _targets(frame: pd.DataFrame, with_time: bool) -> list[str]:
    cols = ["patient_id", *(["timepoint"] if with_time else [])]
    return cols + (["side"] if "side" in frame.columns else [])


def _text(keys: dict[str, object]) -> dict[str, str]:
    return {k: str(v) for k, v in keys.items()}


def reader_agreement(
    scores: pd.DataFrame,
    *,
    raters: Raters = "reader",
    baseline: object = None,
    followup: object = None,
    subset: str = "all",
    confidence: float = 0.95,
    sdc_k: int = 1,
) -> dict[str, pd.DataFrame]:
    """ICC (six forms), SDC, Bland-Altman and SRM of every score in ``scores``.

    Parameters
    ----------
    scores : DataFrame
        Per-read scores from :func:`score_reads`.
    raters : {"reader", "session"}
        Inter-reader (readers within a session) or intra-reader (sessions of one reader).
    baseline, followup : label, optional
        Time points for change-score agreement, SDC (Bruynesteyn and LoA variants) and SRM.
    subset : str
        Site subset to analyse.
    confidence : float
        Level of the two-sided ICC confidence intervals.
    sdc_k : int
        Readers averaged in the analysed score (``k`` of the SDC formulas).

    Returns
    -------
    dict of DataFrame
        ``"icc"``, ``"sdc"``, ``"bland_altman"``, ``"srm"`` and ``"skipped"`` (scores for which a
        statistic could not be computed, with the reason). Targets without a score from every rater
        are dropped and counted (``n`` is the number used).
    """
    # imported here: scipy.stats takes most of a second to load, and importing rheumetrics.imaging
    # (the catalogue, scoring) needs none of it
    from rheumetrics.stats.agreement import bland_altman, icc, sdc, srm

    check_choice("raters", raters, ("reader", "session"))
    selected = scores[scores["subset"] == subset]
    frames: dict[str, list[pd.DataFrame]] = {k: [] for k in ("icc", "sdc", "bland_altman", "srm")}
    skipped: list[dict[str, object]] = []
    group_cols = _groups(raters)

    def attempt(
        kind: str, keys: dict[str, object], score_type: str, compute: Callable[[], pd.DataFrame]
    ) -> None:
        try:
            result = compute()
        except ValidationError as err:
            reason = "; ".join(p.rule for p in err.problems)
            skipped.append(
                {**_text(keys), "score_type": score_type, "statistic": kind, "reason": reason}
            )
            return
        frames[kind].append(result.assign(**_text(keys), score_type=score_type))

    for key, part in selected.groupby(group_cols, observed=True, sort=True):
        keys = dict(zip(group_cols, key, strict=True))
        part = part.assign(**{raters: part[raters].astype(str)})
        targets = _targets(part, with_time=True)
        attempt(
            "icc",
            keys,
            "status",
            partial(icc, part, targets, raters, "score", confidence=confidence, missing="drop"),
        )
        status_sdc = partial(
            sdc,
            part,
            targets,
            raters,
            "score",
            method="sem_anova",
            k=sdc_k,
            missing="drop",
            scale_max=float(part["set_max"].max()),
        )
        attempt("sdc", keys, "status", status_sdc)
        for pair in combinations(part[raters].unique(), 2):
            ba = partial(bland_altman, part, targets, raters, "score", pair=pair, missing="drop")
            attempt("bland_altman", keys, "status", ba)

    if baseline is not None and followup is not None:
        changes = change_scores(selected, baseline, followup)
        changes = changes[changes["change"].notna()]
        for key, part in changes.groupby(group_cols, observed=True, sort=True):
            keys = dict(zip(group_cols, key, strict=True))
            part = part.assign(**{raters: part[raters].astype(str)})
            targets = _targets(part, with_time=False)
            attempt(
                "icc",
                keys,
                "change",
                partial(
                    icc, part, targets, raters, "change", confidence=confidence, missing="drop"
                ),
            )
            for pair in combinations(part[raters].unique(), 2):
                for method in ("bruynesteyn", "loa"):
                    change_sdc = partial(
                        sdc,
                        part,
                        targets,
                        raters,
                        "change",
                        method=method,
                        k=sdc_k,
                        pair=pair,
                        missing="drop",
                        scale_max=float(part["max_possible"].max()),
                    )
                    attempt("sdc", keys, "change", change_sdc)
                ba = partial(
                    bland_altman, part, targets, raters, "change", pair=pair, missing="drop"
                )
                attempt("bland_altman", keys, "change", ba)
            per_rater = srm(part, "change", by=raters)
            averaged = part.groupby(targets, observed=True)["change"].mean().to_frame()
            mean_row = srm(averaged, "change").assign(**{raters: "mean"})
            frames["srm"].append(
                pd.concat([per_rater, mean_row], ignore_index=True).assign(
                    **_text(keys), score_type="change"
                )
            )

    out = {k: pd.concat(v, ignore_index=True) if v else pd.DataFrame() for k, v in frames.items()}
    out["skipped"] = pd.DataFrame(skipped)
    lead = [*group_cols, "score_type"]
    for name, frame in out.items():
        if not frame.empty and name != "skipped":
            out[name] = frame[[*lead, *[c for c in frame.columns if c not in lead]]]
    conventions = {
        "raters": raters,
        "subset": subset,
        "confidence": confidence,
        "sdc_k": sdc_k,
        "baseline": baseline,
        "followup": followup,
        "designs": sorted(set(selected["design"].astype(str))) if "design" in selected else [],
    }
    for frame in out.values():
        frame.attrs["conventions"] = conventions
    return out
