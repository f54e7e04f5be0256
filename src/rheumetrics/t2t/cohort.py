"""Whole-cohort application: decision log, summary figures, two strategies side by side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rheumetrics.t2t.decisions import decide
from rheumetrics.t2t.rule_terms import DAYS_PER_MONTH
from rheumetrics.t2t.strategy import Strategy

#: Summary metrics, in output order, with what each one means.
METRICS: dict[str, str] = {
    "patients": "patients with at least one visit",
    "visits": "visits",
    "visits_at_target": "share of visits at target, among visits whose target status is known",
    "visits_target_unknown": "share of visits whose target status is unknown (data missing)",
    "patients_reaching_target": "share of patients at target at one visit or more",
    "months_to_first_target_median": "median months from the first visit to the first visit at target, among patients reaching it",
    "time_in_target": "mean over patients of the share of follow-up time at target (status at a visit holds until the next visit; unknown intervals left out)",
    "patients_escalated": "share of patients for whom the strategy recommended escalation at least once",
    "patients_biologic_recommended": "share of patients recommended a b/tsDMARD step at least once",
    "patients_on_biologic_observed": "share of patients on a b/tsDMARD at one visit or more (therapies given)",
    "visits_provisional": "share of visits whose decision is provisional because data a higher-priority rule needs are missing",
    "visits_undetermined": "share of visits where no rule of the strategy could decide",
    "protocol_adherence": "share of assessable visits where the treatment actually given followed the recommendation",
}


#: How each metric reads in a summary: (label, kind). Kinds: "count"; "share" (k of n, %);
#: "months" (a median over n patients); "mean_share" (a mean of per-patient shares, %).
LABELS: dict[str, tuple[str, str]] = {
    "patients": ("patients", "count"),
    "visits": ("visits", "count"),
    "visits_at_target": ("visits at target (target status known)", "share"),
    "visits_target_unknown": ("visits with target status unknown", "share"),
    "patients_reaching_target": ("patients reaching target", "share"),
    "months_to_first_target_median": ("months to first target, median", "months"),
    "time_in_target": ("time in target, mean share of follow-up", "mean_share"),
    "patients_escalated": ("patients escalated", "share"),
    "patients_biologic_recommended": ("patients recommended a b/tsDMARD", "share"),
    "patients_on_biologic_observed": ("patients on a b/tsDMARD (observed)", "share"),
    "visits_provisional": ("visits with a provisional decision", "share"),
    "visits_undetermined": ("visits undetermined", "share"),
    "protocol_adherence": ("visits following the recommendation (assessable)", "share"),
}


def _patients(n: int) -> str:
    return f"{int(n):,} patient" + ("" if n == 1 else "s")


def readable(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as labelled text: counts with their denominators and percentages.

    Columns ``metric``, ``label``, ``count`` (the numerator of a share, else None), ``n`` and
    ``text``, e.g. ``"12 of 40 (30.0 %)"`` for ``patients_escalated``.

    >>> s = pd.DataFrame({"metric": ["patients", "patients_escalated"], "value": [40.0, 0.3],
    ...                   "n": [40, 40]})
    >>> readable(s)["text"].tolist()
    ['40', '12 of 40 (30.0 %)']
    """
    rows = []
    for metric, value, n in zip(summary["metric"], summary["value"], summary["n"], strict=True):
        label, kind = LABELS.get(metric, (metric.replace("_", " "), "share"))
        count = None
        if n == 0 or pd.isna(value):
            text = "no data" if kind != "count" else "0"
        elif kind == "count":
            text = f"{int(value):,}"
        elif kind == "share":
            count = round(value * n)
            text = f"{count:,} of {int(n):,} ({100 * value:.1f} %)"
        elif kind == "months":
            text = f"{value:.1f} months ({_patients(n)})"
        else:
            text = f"{100 * value:.1f} % ({_patients(n)})"
        rows.append((metric, label, count, int(n), text))
    return pd.DataFrame(rows, columns=["metric", "label", "count", "n", "text"])


@dataclass
class CohortResult:
    """Decision log and summary of one strategy applied to a cohort."""

    strategy: Strategy
    log: pd.DataFrame
    summary: pd.DataFrame


def _share(mask: pd.Series) -> tuple[float, int]:
    valid = mask.dropna()
    return (float(valid.astype(bool).mean()) if len(valid) else float("nan")), len(valid)


def _any(log: pd.DataFrame, codes: np.ndarray, n_pat: int, mask: np.ndarray) -> pd.Series:
    """Per patient: whether ``mask`` holds at any visit (one vectorised grouped reduction)."""
    return pd.Series(np.bincount(codes[mask], minlength=n_pat) > 0)


def summarise(log: pd.DataFrame) -> pd.DataFrame:
    """Summary figures of a decision log: one row per metric (see :data:`METRICS`).

    Returns a tidy frame with columns ``metric``, ``value``, ``n`` (the denominator) and
    ``description``; ``attrs["conventions"]`` is copied from the log. Every per-patient figure is a
    grouped reduction over integer patient codes (no per-patient Python).
    """
    codes, uniq = pd.factorize(log["patient_id"], sort=True)
    n_pat, n_vis = len(uniq), len(log)
    rows: list[tuple[str, float, int]] = [
        ("patients", float(n_pat), n_pat),
        ("visits", float(n_vis), n_vis),
    ]
    tm = log["target_met"]
    at = tm.fillna(False).to_numpy(dtype=bool)
    rows.append(("visits_at_target", *_share(tm)))
    rows.append(
        ("visits_target_unknown", float(tm.isna().mean()) if n_vis else float("nan"), n_vis)
    )
    rows.append(("patients_reaching_target", *_share(_any(log, codes, n_pat, at))))
    day = log["visit_date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    first_day = np.full(n_pat, np.iinfo(np.int64).max)
    np.minimum.at(first_day, codes, day)
    first_at = np.full(n_pat, np.iinfo(np.int64).max)
    np.minimum.at(first_at, codes[at], day[at])
    reached = first_at < np.iinfo(np.int64).max
    months = (first_at[reached] - first_day[reached]) / DAYS_PER_MONTH
    rows.append(
        (
            "months_to_first_target_median",
            float(np.median(months)) if len(months) else float("nan"),
            int(reached.sum()),
        )
    )
    rows.append(("time_in_target", *_time_in_target(log)))
    action = log["action"].to_numpy(dtype=object)
    rows.append(("patients_escalated", *_share(_any(log, codes, n_pat, action == "escalate"))))
    bio = log["to_biologic"].fillna(False).to_numpy(dtype=bool)
    rows.append(("patients_biologic_recommended", *_share(_any(log, codes, n_pat, bio))))
    on = log["on_bts"]
    known = _any(log, codes, n_pat, on.notna().to_numpy())
    observed = _any(log, codes, n_pat, on.fillna(False).to_numpy(dtype=bool)).astype("boolean")
    observed[~known.to_numpy()] = pd.NA
    rows.append(("patients_on_biologic_observed", *_share(observed)))
    rows.append(
        (
            "visits_provisional",
            float(log["provisional"].mean()) if n_vis else float("nan"),
            n_vis,
        )
    )
    rows.append(
        (
            "visits_undetermined",
            float((action == "undetermined").mean()) if n_vis else float("nan"),
            n_vis,
        )
    )
    rows.append(("protocol_adherence", *_share(log["adherent"])))
    out = pd.DataFrame(rows, columns=["metric", "value", "n"])
    out["description"] = out["metric"].map(METRICS)
    out.attrs["conventions"] = dict(log.attrs.get("conventions", {}))
    return out


def _time_in_target(log: pd.DataFrame) -> tuple[float, int]:
    nxt = log.groupby("patient_id", sort=False)["visit_date"].shift(-1)
    span = (nxt - log["visit_date"]).dt.days
    known = span.notna() & log["target_met"].notna()
    frame = pd.DataFrame(
        {
            "patient_id": log["patient_id"],
            "at": np.where(known, span.fillna(0) * log["target_met"].fillna(False).astype(int), 0),
            "all": np.where(known, span.fillna(0), 0),
        }
    )
    per = frame.groupby("patient_id")[["at", "all"]].sum()
    per = per[per["all"] > 0]
    return (float((per["at"] / per["all"]).mean()) if len(per) else float("nan")), len(per)


def apply_strategy(
    visits: pd.DataFrame,
    strategy: Strategy,
    therapies: pd.DataFrame | None = None,
    **kwargs: object,
) -> CohortResult:
    """Decision log (:func:`~rheumetrics.t2t.decide`) and its summary for a whole cohort."""
    log = decide(visits, strategy, therapies, **kwargs)  # type: ignore[arg-type]
    return CohortResult(strategy, log, summarise(log))


def compare_strategies(
    visits: pd.DataFrame,
    strategies: Sequence[Strategy],
    therapies: pd.DataFrame | None = None,
    *,
    results: Sequence[CohortResult] = (),
    **kwargs: object,
) -> pd.DataFrame:
    """Summary figures of several strategies on the same cohort, side by side.

    One row per metric, one column per strategy id (with its options, if any were chosen away
    from the defaults), plus ``description``. Strategies already applied can be passed as
    ``results`` and are not computed again.
    """
    done = {id(r.strategy): r for r in results}
    columns = {}
    for s in strategies:
        label = s.id
        changed = {k: v for k, v in s.chosen.items() if v != s.options[k].default}
        if changed:
            label += " (" + ", ".join(f"{k}={v}" for k, v in sorted(changed.items())) + ")"
        if label in columns:
            raise ValueError(f"strategy {label} given twice")
        result = done.get(id(s)) or apply_strategy(visits, s, therapies, **kwargs)
        columns[label] = result.summary.set_index("metric")["value"]
    out = pd.DataFrame(columns)
    out["description"] = out.index.map(METRICS)
    return out.reset_index()
