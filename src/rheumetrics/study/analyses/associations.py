"""Tables of associations within the cohort: correlations, adjusted regression, reader
reliability (ICC), the change scatter's outliers, within-patient paired tests and
variable-pair associations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rheumetrics import stats as st
from rheumetrics.errors import ProblemCollector
from rheumetrics.study.analyses.groups import _groups
from rheumetrics.study.definitions import Study
from rheumetrics.study.design import StudyData, check_model_variables, interval_pairs


def correlation(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Correlation of the change in ``x`` with each change in ``y`` (all groups together)."""
    x = f"change:{spec.get('x')}"
    ys = [f"change:{y}" for y in ([spec["y"]] if isinstance(spec["y"], str) else spec["y"])]
    kind = spec.get("method", "spearman")
    options = {"ci": spec["ci"]} if "ci" in spec else {}
    out = st.correlation_table(data.frame, x, ys, kind=kind, **options)
    out.insert(2, "label", [data.labels.get(y, y) for y in out["y"]])
    return out


def regression(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Multiple linear regression adjusted for the named confounders (complete cases)."""
    predictors = (
        [spec["predictors"]] if isinstance(spec["predictors"], str) else list(spec["predictors"])
    )
    confounders = (
        [spec["confounders"]]
        if isinstance(spec.get("confounders"), str)
        else list(spec.get("confounders", []))
    )
    frame = data.frame.copy()
    frame["group"] = frame["group"].astype(str)
    missing = [c for c in [spec["outcome"], *predictors, *confounders] if c not in frame.columns]
    if missing:
        problems = ProblemCollector("regression variables")
        for c in missing:
            problems.add("analyses.regression", "variable", c, "not in the analysis frame")
        problems.raise_if_any()
    check_model_variables(study, frame, [*predictors, *confounders], "regression")
    ref = {"group": study.groups[0].id}
    out = st.linear_regression(
        frame, spec["outcome"], predictors, confounders, reference=ref, missing="drop"
    )
    out.insert(1, "label", [data.labels.get(t, t) for t in out["term"]])
    return out


def reliability(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Intra-reader ICC (all six forms) of the imaging ``outcome`` between reading sessions, with
    F-based CIs at ``confidence`` (default 0.95); ``reported`` flags the study's ``form``
    (default ICC(3,k))."""
    ratings = data.ratings[data.ratings["outcome"] == spec["outcome"]]
    sessions = ratings.groupby(["patient_id", "timepoint"])["session"].transform("nunique")
    repeated = ratings[sessions > 1]
    if repeated.empty:
        return pd.DataFrame()
    confidence = float(spec.get("confidence", 0.95))
    out = st.icc(repeated, ["patient_id", "timepoint"], "session", "score",
                 confidence=confidence, missing="drop")  # fmt: skip
    form = spec.get("form", "ICC(3,k)")
    out.insert(0, "outcome", spec["outcome"])
    out["confidence"] = confidence
    out["reported"] = out["form"] == form
    return out


def scatter_outliers(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Points of the change scatter with their (internally) studentised residual from the
    least-squares line of y on x (statsmodels; Cook & Weisberg 1982); ``outlier`` when its
    absolute value exceeds ``outlier_t`` (default 3)."""
    x, y = f"change:{spec['x']}", f"change:{spec['y']}"
    sub = data.frame[["patient_id", "group", x, y]].dropna()
    limit = float(spec.get("outlier_t", 3.0))
    if len(sub) < 4:
        return sub.assign(studentised_residual=np.nan, outlier=False)
    import statsmodels.api as sm  # imported when used: it takes seconds to load
    from statsmodels.stats.outliers_influence import OLSInfluence

    fit = sm.OLS(sub[y].to_numpy(float), sm.add_constant(sub[x].to_numpy(float))).fit()
    t = OLSInfluence(fit).resid_studentized
    beyond = np.abs(t) > limit
    mark = spec.get("mark")
    if mark is not None:  # only the ``mark`` most extreme of those beyond the limit
        keep = np.argsort(-np.abs(t))[: int(mark)]
        beyond &= np.isin(np.arange(len(t)), keep)
    out = sub.assign(studentised_residual=t, outlier=beyond)
    rule = f"|studentised residual| > {limit:g} (OLS of y on x)"
    if mark is not None:
        rule += ("; only the most extreme marked" if int(mark) == 1
                 else f"; at most the {int(mark)} most extreme marked")  # fmt: skip
    out.attrs["conventions"] = {"outlier": rule}
    return out.reset_index()


def paired(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Within-patient change of each outcome over each interval, by group and overall: n,
    median (quartiles, range), mean, SD, standardised response mean, decrease / no change /
    increase counts, and the Wilcoxon signed-rank test of the change against zero (``zero_method``
    "pratt" by default: zero changes keep their rank, Pratt 1959; ``method`` "auto", "exact" or
    "asymptotic", the one that ran is recorded in ``test``)."""
    wanted = spec.get("outcomes") or [o.id for o in study.outcomes]
    asked = [tuple(p) for p in spec.get("intervals", [])]
    tolerance = float(spec.get("tolerance", 0.0))
    zero_method = spec.get("zero_method", "pratt")
    frame = data.frame
    codes = frame["group"].astype(str).to_numpy()
    groups = ["all", *_groups(study)] if len(study.groups) > 1 else ["all"]
    rows = []
    for oid in wanted:
        o = study.outcome(oid)
        for a, b in asked or [p for p in interval_pairs(study, o) if p[0] == study.visits[0].id]:
            col = f"change:{oid}@{a}-{b}"
            if col not in frame.columns:
                continue
            values = frame[col].to_numpy(float)
            for g in groups:
                v = values if g == "all" else values[codes == g]
                v = v[~np.isnan(v)]
                row: dict[str, Any] = {"outcome": oid, "label": o.label, "from": a, "to": b,
                                       "group": g, "n": int(v.size)}  # fmt: skip
                if v.size:
                    q1, med, q3 = np.percentile(v, [25, 50, 75])
                    sd = float(np.std(v, ddof=1)) if v.size > 1 else np.nan
                    row.update(median=med, q1=q1, q3=q3, min=v.min(), max=v.max(), mean=v.mean(),
                               sd=sd, srm=v.mean() / sd if sd and np.isfinite(sd) and sd > 0 else np.nan,
                               decrease=int((v < -tolerance).sum()), no_change=int((np.abs(v) <= tolerance).sum()),
                               increase=int((v > tolerance).sum()))  # fmt: skip
                if np.count_nonzero(v) > 0:
                    test = st.wilcoxon_signed_rank(v, zero_method=zero_method,
                                                   method=spec.get("method", "auto")).iloc[0]  # fmt: skip
                    row.update(
                        p=float(test["p"]),
                        test=f"Wilcoxon signed-rank ({zero_method}, {test['method']})",
                    )
                rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["conventions"] = {"change": "later minus earlier visit", "no change": f"|change| <= {tolerance:g}",
                                "zero changes": zero_method, "quantiles": "linear interpolation (R type 7)"}  # fmt: skip
    return out


def association(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Correlation of each ``[x, y]`` pair of analysis variables: baseline against change, or a
    change against a change over another interval."""
    kind = spec.get("method", "spearman")
    parts = []
    for x, y in spec["pairs"]:
        t = st.correlation_table(data.frame, x, [y], kind=kind)
        t.insert(1, "x_label", data.labels.get(x, x))
        t.insert(3, "y_label", data.labels.get(y, y))
        parts.append(t)
    return pd.concat(parts, ignore_index=True)
