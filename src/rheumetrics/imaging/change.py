"""Change scores, direction of change and named progression/repair rules.

A change score is follow-up minus baseline for the same reader and session (Bruynesteyn et al., Ann Rheum Dis 2005;64:179);
the averaged change is :func:`~rheumetrics.imaging.scores.reader_mean` of the per-reader changes.
Direction of change is tabulated as increase / no change / decrease, as in Table 3 of the New Zealand
MRI treatment-escalation study and the anakinra MRI study of methotrexate-treated RA. Progression and repair rules
are named entries of ``catalogues/rules.toml``; dataset-specific thresholds (SDC, MCID) are passed by
the caller, and every rule applied is recorded in ``attrs["conventions"]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector
from rheumetrics.imaging import catalogue
from rheumetrics.imaging.scores import ID_COLUMNS, reader_mean
from rheumetrics.numeric import snap

#: Direction categories, ordered.
DIRECTIONS = ("decrease", "no_change", "increase")
DIRECTION_DTYPE = pd.CategoricalDtype(list(DIRECTIONS), ordered=True)


@dataclass(frozen=True)
class ChangeRule:
    """A named rule ``change op threshold``; the threshold is ``value`` or a caller ``parameter``."""

    id: str
    label: str
    op: str
    source: str
    value: float | None = None
    parameter: str | None = None

    def describe(self, threshold: object = None) -> str:
        limit = self.value if self.parameter is None else f"{self.parameter} = {threshold}"
        return f"change {self.op} {limit} ({self.source})"


def change_rules() -> dict[str, ChangeRule]:
    """The named progression/repair rules of ``catalogues/rules.toml``."""
    return {
        key: ChangeRule(
            id=key,
            label=spec["label"],
            op=spec["op"],
            source=spec["source"],
            value=float(spec["value"]) if "value" in spec else None,
            parameter=spec.get("parameter"),
        )
        for key, spec in catalogue.rule_specs().items()
    }


def direction_of_change(change: pd.Series, *, tolerance: float = 0.0) -> pd.Series:
    """Increase / no change / decrease of each change score (NA stays NA).

    A change is ``"no_change"`` when ``|change| <= tolerance`` (default 0: any non-zero change
    counts, as in Table 3 of the New Zealand MRI escalation study), compared after
    :func:`~rheumetrics.numeric.snap`.
    """
    values = snap(pd.to_numeric(change).to_numpy(dtype=float, na_value=np.nan))
    labels = np.full(values.shape, None, dtype=object)
    labels[~np.isnan(values)] = "no_change"
    labels[values < -tolerance] = "decrease"
    labels[values > tolerance] = "increase"
    return pd.Series(
        pd.Categorical(labels, dtype=DIRECTION_DTYPE), index=change.index, name="direction"
    )


def change_scores(
    scores: pd.DataFrame,
    baseline: object,
    followup: object,
    *,
    tolerance: float = 0.0,
) -> pd.DataFrame:
    """Follow-up minus baseline per reader (or per reader mean) with its direction.

    Parameters
    ----------
    scores : DataFrame
        Output of :func:`score_reads` (per reader) or :func:`reader_mean` (averaged).
    baseline, followup : label
        Time point labels as in the reads.
    tolerance : float
        Passed to :func:`direction_of_change`.

    Returns
    -------
    DataFrame
        Keys, ``baseline``, ``followup``, ``change``, ``direction``, ``max_possible`` (follow-up),
        ``sites_differ`` (the two reads scored different numbers of sites, so the change is over
        different site sets) and ``design``. A read missing at one time point gives NA change.
    """
    problems = ProblemCollector("invalid change request")
    timepoints = scores["timepoint"].astype(str)
    available = sorted(set(timepoints))
    for field, label in (("baseline", baseline), ("followup", followup)):
        if str(label) not in available:
            problems.add(
                "-",
                field,
                label,
                f"time point not in the scores; available: {', '.join(available)}",
            )
    if str(baseline) == str(followup):
        problems.add("-", "followup", followup, "must differ from baseline")
    problems.raise_if_any()
    keys = [c for c in ID_COLUMNS if c in scores.columns and c != "timepoint"]
    carried = [c for c in ("max_possible", "n_sites_scored", "design") if c in scores.columns]
    parts = []
    for label in (baseline, followup):
        part = scores.loc[(timepoints == str(label)).to_numpy(), [*keys, "score", *carried]]
        dup = part.duplicated(keys, keep=False).to_numpy()
        for record in part.index[dup]:
            problems.add(record, "timepoint", label, "more than one score row with the same keys")
        parts.append(part)
    problems.raise_if_any()
    merged = parts[0].merge(parts[1], on=keys, how="outer", suffixes=("_b", "_f"))
    out = merged[keys].copy()
    out["baseline_timepoint"] = str(baseline)
    out["followup_timepoint"] = str(followup)
    out["baseline"] = merged["score_b"]
    out["followup"] = merged["score_f"]
    out["change"] = merged["score_f"] - merged["score_b"]
    out["direction"] = direction_of_change(out["change"], tolerance=tolerance)
    if "max_possible" in carried:
        out["max_possible"] = merged["max_possible_f"]
    if "n_sites_scored" in carried:
        out["sites_differ"] = (merged["n_sites_scored_b"] != merged["n_sites_scored_f"]) & out[
            "change"
        ].notna()
    if "design" in carried:
        out["design"] = merged["design_f"].fillna(merged["design_b"])
    out.attrs["conventions"] = {
        **scores.attrs.get("conventions", {}),
        "change": f"score at {followup} minus score at {baseline}, same reader and session",
        "direction_tolerance": tolerance,
    }
    return out


def mean_change(
    changes: pd.DataFrame, *, over: str = "reader", tolerance: float = 0.0
) -> pd.DataFrame:
    """Change averaged over readers (or sessions), with the direction of the averaged change."""
    out = reader_mean(changes, over=over)
    out["direction"] = direction_of_change(out["change"], tolerance=tolerance)
    return out


def direction_summary(
    changes: pd.DataFrame, by: str | Sequence[str] | None = None, *, direction: str = "direction"
) -> pd.DataFrame:
    """Counts and percentages of decrease / no change / increase.

    The layout of Table 3 of the New Zealand MRI treatment-escalation study.

    Percentages are of the rows with a direction (NA change excluded), per ``by`` group.
    """
    by_cols = [] if by is None else [by] if isinstance(by, str) else list(by)
    counts = (
        changes.groupby([*by_cols, direction], observed=False, dropna=True, sort=True)
        .size()
        .rename("n")
        .reset_index()
    )
    totals = counts.groupby(by_cols)["n"].transform("sum") if by_cols else counts["n"].sum()
    counts["total"] = totals
    counts["percent"] = 100.0 * counts["n"] / counts["total"]
    return counts


def classify_change(
    changes: pd.DataFrame,
    rules: Iterable[str | ChangeRule] = ("prog_gt_0_5", "repair_lt_neg0_5"),
    *,
    sdc: float | Mapping[str, float] | None = None,
    mcid: float | Mapping[str, float] | None = None,
    value: str = "change",
) -> pd.DataFrame:
    """Add one boolean column per named rule (NA where the change is NA).

    ``sdc`` / ``mcid`` are the dataset-specific thresholds of rules that take them: one number, or a
    mapping from ``feature`` to number. The rules applied, with their thresholds and sources, are
    recorded in ``attrs["conventions"]["rules"]``.
    """
    known = change_rules()
    params: dict[str, float | Mapping[str, float] | None] = {"sdc": sdc, "mcid": mcid}
    problems = ProblemCollector("invalid change rules")
    resolved: list[ChangeRule] = []
    for rule in rules:
        if isinstance(rule, ChangeRule):
            resolved.append(rule)
        elif rule in known:
            resolved.append(known[rule])
        else:
            problems.add("-", "rules", rule, f"unknown rule; known: {', '.join(known)}")
    for rule in resolved:
        if rule.op not in catalogue.OPERATORS:
            problems.add(
                "-", rule.id, rule.op, f"op must be one of {', '.join(catalogue.OPERATORS)}"
            )
        if rule.parameter is not None and params.get(rule.parameter) is None:
            problems.add("-", rule.parameter, None, f"rule {rule.id} needs {rule.parameter}=...")
    problems.raise_if_any()
    out = changes.copy()
    x = snap(pd.to_numeric(out[value]).to_numpy(dtype=float, na_value=np.nan))
    missing_x = np.isnan(x)
    recorded = {}
    for rule in resolved:
        threshold = params[rule.parameter] if rule.parameter is not None else rule.value
        limit = _thresholds(out, threshold, rule, problems)
        result = catalogue.OPERATORS[rule.op](x, snap(limit))
        out[rule.id] = pd.array(np.where(missing_x, None, result), dtype="boolean")
        recorded[rule.id] = rule.describe(threshold)
    problems.raise_if_any()
    out.attrs["conventions"] = {**changes.attrs.get("conventions", {}), "rules": recorded}
    return out


def _thresholds(
    frame: pd.DataFrame,
    threshold: float | Mapping[str, float] | None,
    rule: ChangeRule,
    problems: ProblemCollector,
) -> np.ndarray:
    """One threshold per row: a number, or a per-feature mapping."""
    if isinstance(threshold, Mapping):
        limits = frame["feature"].astype(str).map(dict(threshold))
        for record in frame.index[limits.isna().to_numpy()]:
            problems.add(
                record, "feature", frame.at[record, "feature"], f"no {rule.parameter} given for it"
            )
        return limits.to_numpy(dtype=float, na_value=np.nan)
    return np.full(len(frame), np.nan if threshold is None else float(threshold))
