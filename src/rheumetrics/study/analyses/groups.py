"""Tables that describe and compare the groups: patient flow, characteristics at enrolment,
scores by visit, direction of change, responsiveness (SRM) and EULAR response counts.

Group comparisons of numeric values default to Mood's median test in its permutation variant;
with ``ties = "mean"`` (the median scores of values tied across the median averaged) it is SAS's
"median two-sample test" (NPAR1WAY MEDIAN) used by the NZ study; categorical ones use Pearson's
chi-square, or Fisher's exact test when an expected count is below 5 (Cochran 1954), as that
study's Table 1 (sex: chi-square p = 0.67; methotrexate: Fisher p = 0.72).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rheumetrics import stats as st
from rheumetrics.errors import ValidationError
from rheumetrics.imaging import direction_of_change, direction_summary
from rheumetrics.study.definitions import Study
from rheumetrics.study.design import StudyData
from rheumetrics.study.formatting import integer_valued, num

#: Smallest expected count for which the chi-square test is used (Cochran 1954).
MIN_EXPECTED = 5.0


def _groups(study: Study) -> list[str]:
    return [g.id for g in study.groups]


_MEDIAN_P = {"permutation": "permutation chi-square, asymptotic p",
             "pearson": "Pearson chi-square, asymptotic p", "exact": "exact"}  # fmt: skip


def compare_convention(spec: dict[str, Any]) -> str:
    """The ``test`` convention of a group comparison: its name and only the options it uses.

    >>> compare_convention({"test": "mann_whitney"})
    'Mann-Whitney U: exact when both groups have < 50 values and no ties, else normal approximation with continuity correction'
    >>> compare_convention({"variant": "permutation", "ties": "mean"})
    'Mood median test: permutation chi-square, asymptotic p; ties across the median: averaged median scores (SAS)'
    """
    test = spec.get("test", "median_test")
    if test == "mann_whitney":
        return ("Mann-Whitney U: exact when both groups have < 50 values and no ties, else normal "
                "approximation with continuity correction")  # fmt: skip
    ties = spec.get("ties", "below")
    shown = "averaged median scores (SAS)" if ties == "mean" else f"counted {ties} the median"
    return f"Mood median test: {_MEDIAN_P[spec.get('variant', 'permutation')]}; ties across the median: {shown}"


def _compare(
    frame: pd.DataFrame, column: str, groups: list[str], test: str, variant: str,
    ties: str = "below",
) -> dict[str, Any]:  # fmt: skip
    """p-value of a numeric comparison between groups and the test that gave it, with how its
    p was computed (NaN and "" with one group or too few values)."""
    codes = frame["group"].astype(str).to_numpy()
    column_values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
    values = [v[~np.isnan(v)] for v in (column_values[codes == g] for g in groups)]
    values = [v for v in values if len(v)]
    if len(values) < 2:
        return {"p": np.nan, "test": ""}
    if test == "mann_whitney":
        if len(values) != 2:
            return {"p": np.nan, "test": "Mann-Whitney needs two groups"}
        res = st.mann_whitney(values[0], values[1]).iloc[0]
        how = "exact" if res["method"] == "exact" else "normal approximation, continuity correction"
        return {"p": float(res["p"]), "test": f"Mann-Whitney U ({how})"}
    how = _MEDIAN_P[variant] + (", mean scores for ties" if ties == "mean" else "")
    try:
        res = st.median_test(*values, variant=variant, ties=ties)  # type: ignore[arg-type]
    except (ValidationError, ValueError):  # every value on one side of the median
        return {"p": np.nan, "test": "median test: not computable"}
    return {"p": float(res["p"].iloc[0]), "test": f"median test ({how})"}


# -- patient flow ----------------------------------------------------------------------------


def patient_flow(study: Study, data: StudyData) -> pd.DataFrame:
    """Counts through the study, from the data: patients and enrolments, data at each visit,
    complete pairs and dropouts, per group and overall (patients counted once overall)."""
    f = data.frame
    clinical = [o for o in study.outcomes if not o.is_imaging]
    imaging = [o for o in study.outcomes if o.is_imaging]
    rows: list[dict[str, Any]] = []

    def add(stage: str, mask: pd.Series, by_patient: bool = False) -> None:
        for g in dict.fromkeys(["all", *_groups(study)]):  # a single group may be "all"
            sub = mask if g == "all" else mask & (f["group"] == g)
            n = f.loc[sub, "patient_id"].nunique() if by_patient and g == "all" else int(sub.sum())
            rows.append({"stage": stage, "group": g, "n": int(n)})

    everyone = pd.Series(True, index=f.index)
    add("patients enrolled", everyone, by_patient=True)
    add("enrolments", everyone)
    if several_enrolments(study):
        add("patients enrolled in more than one group",
            f["patient_id"].isin(f.loc[f["patient_id"].duplicated(), "patient_id"]), by_patient=True)  # fmt: skip

    def has(outcomes: list[Any], visit: str, how: str = "any") -> pd.Series:
        cols = [f"{o.id}@{visit}" for o in outcomes if visit in o.visits]
        if not cols:
            return pd.Series(False, index=f.index)
        present = f[cols].notna()
        return present.all(axis=1) if how == "all" else present.any(axis=1)

    paired = [o for o in imaging if study.change and all(v in o.visits for v in study.change)]
    single = [o for o in imaging if o not in paired]
    for v in study.visits:
        if clinical:
            add(f"clinical data at {v.label}", has(clinical, v.id))
        if paired:
            add(f"imaging at {v.label}", has(paired, v.id))
        once = [o for o in single if v.id in o.visits]
        if once:
            add(f"{', '.join(o.label for o in once)} at {v.label}", has(once, v.id))
    if study.change:
        a, b = study.change
        last = study.visits[[v.id for v in study.visits].index(b)]
        clin_b = has(clinical, b) if clinical else pd.Series(True, index=f.index)
        add(f"no clinical data at {last.label} (dropped out)", ~clin_b)
        if paired and clinical:
            complete = (has(clinical, a, "all") & has(clinical, b, "all") & has(paired, a, "all")
                        & has(paired, b, "all"))  # fmt: skip
            add("complete clinical and imaging data at both visits", complete)
            add("patients with complete data", complete, by_patient=True)
    out = pd.DataFrame(rows)
    out.attrs["conventions"] = {
        "enrolment": enrolment_text(study),
        "visit window": "; ".join(f"{v.label}: {v.window[0]} to {v.window[1]} days, target {v.target}"
                                  for v in study.visits),
    }  # fmt: skip
    if imaging and study.imaging_session is not None:
        out.attrs["conventions"]["imaging session"] = f"reading session {study.imaging_session}"
    return out


def enrolment_text(study: Study) -> str:
    """How patients enter the study's groups, in words."""
    spec = study.enrolment
    period = (f" from {spec.period[0]:%Y-%m-%d} to {spec.period[1]:%Y-%m-%d}"
              if spec.source == "therapy" and spec.period else "")  # fmt: skip
    return {"therapy": f"at each first start of a group's therapy{period} (a patient may enter "
                       "several groups)",
            "attribute": f"by the patient's {str(spec.attribute).replace('_', ' ')}",
            "all": "every patient with a visit"}[spec.source]  # fmt: skip


def several_enrolments(study: Study) -> bool:
    """Whether a patient can be enrolled in more than one group (therapy enrolment with two or
    more groups: a patient escalating from Group A to Group B enters both)."""
    return study.enrolment.source == "therapy" and len(study.groups) > 1


# -- characteristics and scores ------------------------------------------------------------


def characteristics(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Baseline characteristics by group with p-values (Table 1 layout, tidy)."""
    frame = data.patients if study.characteristics_unit == "patient" else data.frame
    groups = _groups(study)
    test, variant = spec.get("test", "median_test"), spec.get("variant", "permutation")
    summary = spec.get("summary", "median_range")
    rows = []
    for ch in study.characteristics:
        if ch.kind == "numeric":
            desc = st.describe(frame[[ch.id, "group"]], [ch.id], by="group", summary=summary,
                               digits=ch.digits)  # fmt: skip
            res = _compare(frame, ch.id, groups, test, variant, spec.get("ties", "below"))
            trim = integer_valued(frame[ch.id])
            for r in desc.itertuples(index=False):
                rows.append({"variable": ch.id, "label": ch.label, "level": "", "group": str(r.group),
                             "n": r.n, "text": summary_text(r, summary, ch.digits, trim),
                             "median": r.median, "min": r.min, "max": r.max, "q1": r.q1, "q3": r.q3,
                             "mean": r.mean, "sd": r.sd, **res})  # fmt: skip
        else:
            sub = frame[[ch.id, "group"]].assign(**{ch.id: frame[ch.id].astype("string")})
            counts = st.count_percent(sub, [ch.id], by="group", digits=2, percent_sign=True)
            res = {"p": np.nan, "test": ""}
            if len(groups) > 1:
                table = st.contingency_table(sub.dropna(), ch.id, "group")
                if table.shape[0] > 1 and table.shape[1] > 1:
                    chi = st.chi_square(table, yates=False)
                    if chi["min_expected"].iloc[0] < MIN_EXPECTED:
                        res = {
                            "p": float(st.fisher_exact(table)["p"].iloc[0]),
                            "test": "Fisher exact",
                        }
                    else:
                        res = {"p": float(chi["p"].iloc[0]), "test": "chi-square"}
            for r in counts.itertuples(index=False):
                rows.append({"variable": ch.id, "label": ch.label, "level": str(r.level),
                             "group": str(r.group), "n": r.n, "text": r.text, "percent": r.percent,
                             **res})  # fmt: skip
    out = pd.DataFrame(rows)
    compared = len(groups) > 1
    out.attrs["conventions"] = {
        "unit": "first enrolment of each patient"
        if study.characteristics_unit == "patient"
        else "enrolment",
        "numeric": SUMMARY_NAMES[summary] + (f"; {compare_convention(spec)}" if compared else ""),
        "categorical": "n (%)" + (f"; chi-square, Fisher exact when an expected count < "
                                  f"{MIN_EXPECTED:g} (Cochran 1954)" if compared else ""),
    }  # fmt: skip
    return out


#: What each ``summary`` option prints.
SUMMARY_NAMES = {"median_range": "median (minimum, maximum)", "median_iqr": "median (quartiles)",
                 "mean_sd": "mean (SD)"}  # fmt: skip


def summary_text(row: Any, summary: str, digits: int, trim: bool) -> str:
    """A numeric summary as the papers print it: ``54.5 (24, 82)`` for whole-number data
    (trailing zeros dropped from the median, quartiles and range, never from a mean or SD).

    >>> from types import SimpleNamespace as R
    >>> summary_text(R(median=54.5, min=24.0, max=82.0), "median_range", 1, True)
    '54.5 (24, 82)'
    >>> summary_text(R(mean=3.0, sd=1.25), "mean_sd", 2, True)
    '3.00 (1.25)'
    """
    if summary == "mean_sd":
        return f"{num(row.mean, digits)} ({num(row.sd, digits)})"
    low, high = ("q1", "q3") if summary == "median_iqr" else ("min", "max")
    a, b, c = (num(getattr(row, k), digits, trim=trim) for k in ("median", low, high))
    return f"{a} ({b}, {c})" if a else ""


def scores_by_visit(
    study: Study, data: StudyData, spec: dict[str, Any], *, change: bool = False
) -> pd.DataFrame:
    """Outcomes at each visit (or their change) by group: n, median, min, max, text and p."""
    wanted = spec.get("outcomes") or [o.id for o in study.outcomes]
    test, variant = spec.get("test", "median_test"), spec.get("variant", "permutation")
    summary = spec.get("summary", "median_range")
    groups = _groups(study)
    frame = data.frame
    columns = []
    for oid in wanted:
        o = study.outcome(oid)
        if change:
            if f"change:{oid}" in frame.columns:
                columns.append((f"change:{oid}", oid, f"{study.change[0]}→{study.change[1]}", o))  # type: ignore[index]
        else:
            columns += [(f"{oid}@{v}", oid, v, o) for v in o.visits]
    rows = []
    for col, oid, visit, o in columns:
        desc = st.describe(
            frame[[col, "group"]], [col], by="group", summary=summary, digits=o.digits
        )
        res = _compare(frame, col, groups, test, variant, spec.get("ties", "below"))
        for r in desc.itertuples(index=False):
            rows.append({"visit": visit, "outcome": oid, "label": o.label, "group": str(r.group),
                         "n": r.n, "median": r.median, "min": r.min, "max": r.max, "q1": r.q1,
                         "q3": r.q3, "mean": r.mean, "sd": r.sd, "text": r.text, **res})  # fmt: skip
    out = pd.DataFrame(rows)
    order = {v.id: k for k, v in enumerate(study.visits)}
    if not change and not out.empty:
        out = out.sort_values("visit", key=lambda s: s.map(order), kind="stable", ignore_index=True)
    out.attrs["conventions"] = {"summary": SUMMARY_NAMES[summary],
                                **({"test": compare_convention(spec)} if len(groups) > 1 else {}),
                                "missing": "excluded; n counts the values present"}  # fmt: skip
    return out


def direction(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Decrease / no change / increase of each outcome from the first to the last visit by group."""
    wanted = spec.get("outcomes") or [o.id for o in study.outcomes]
    tolerance = float(spec.get("tolerance", 0.0))
    parts = []
    for oid in wanted:
        col = f"change:{oid}"
        if col not in data.frame.columns:
            continue
        sub = data.frame[["group", col]].dropna()
        dirs = sub.assign(direction=direction_of_change(sub[col], tolerance=tolerance))
        by_group = direction_summary(dirs, "group")
        overall = direction_summary(dirs).assign(group="all")
        part = pd.concat([by_group, overall], ignore_index=True).assign(
            outcome=oid, label=study.outcome(oid).label
        )
        parts.append(part)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if not out.empty:
        out["group"] = out["group"].astype(str)
        out["direction"] = out["direction"].astype(str)
        out = out[["outcome", "label", "group", "direction", "n", "total", "percent"]]
    visit = {v.id: v.label for v in study.visits}
    out.attrs["conventions"] = {"change": f"{visit[study.change[1]]} minus {visit[study.change[0]]}" if study.change else "",
                                "no change": f"|change| <= {tolerance:g}"}  # fmt: skip
    return out


def responsiveness(study: Study, data: StudyData) -> pd.DataFrame:
    """Standardised response mean of every change, by group (Liang, Fossel & Larson 1990,
    Med Care 28:632-642)."""
    parts = []
    for o in study.outcomes:
        col = f"change:{o.id}"
        if col in data.frame.columns and data.frame[col].notna().sum() > 1:
            res = st.srm(data.frame[["group", col]].dropna(), col, by="group")
            parts.append(res.assign(outcome=o.id, label=o.label))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if not out.empty:
        out["group"] = out["group"].astype(str)
        out = out[["outcome", "label", "group", "n", "mean", "sd", "srm"]]
    return out


def response(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """EULAR response (van Gestel et al. 1996, rheumetrics.measures.eular_response) of a DAS28
    outcome from baseline to each later visit, and disease-activity states at every visit (the
    cut-off set ``cutoffs``, default EULAR: remission < 2.6, low <= 3.2, moderate <= 5.1), as
    counts and percentages of those with values, by group and overall."""
    from rheumetrics.measures.cutoffs import cutoff_set
    from rheumetrics.measures.response import eular_response

    oid = spec["outcome"]
    o = study.outcome(oid)
    cuts = cutoff_set(spec.get("cutoffs", "das28_eular"))
    frame = data.frame
    codes = frame["group"].astype(str).to_numpy()
    groups = ["all", *_groups(study)] if len(study.groups) > 1 else ["all"]
    visits = [v.id for v in study.visits if v.id in o.visits]
    rows = []

    def add(kind: str, visit: str, labels: pd.Series, order: tuple[str, ...]) -> None:
        for g in groups:
            part = labels if g == "all" else labels[codes == g]
            part = part.dropna()
            for level in order:
                n = int((part == level).sum())
                rows.append({"kind": kind, "visit": visit, "group": g, "level": level, "n": n,
                             "total": int(part.size), "percent": 100 * n / part.size if part.size else np.nan})  # fmt: skip

    for v in visits:
        values = frame[f"{oid}@{v}"]
        state = pd.Series(
            pd.Categorical(cuts.classify(values.to_numpy(float)), categories=cuts.labels),
            index=frame.index,
        )
        add("state", v, state.astype(object).where(values.notna()), cuts.labels)
    for v in visits[1:]:
        base, follow = frame[f"{oid}@{visits[0]}"], frame[f"{oid}@{v}"]
        both = base.notna() & follow.notna()
        resp = pd.Series(np.nan, index=frame.index, dtype=object)
        if both.any():
            resp[both] = np.asarray(
                eular_response(base[both].to_numpy(float), follow[both].to_numpy(float)),
                dtype=object,
            )
        add("EULAR response", v, resp, ("good", "moderate", "none"))
    out = pd.DataFrame(rows)
    out.attrs["conventions"] = {
        "states": cuts.source,
        "response": "EULAR response (van Gestel 1996), baseline to each visit",
    }
    return out
