"""The study's tables, each a tidy DataFrame computed with :mod:`rheumetrics.stats` and
:mod:`rheumetrics.imaging` (nothing statistical is computed here).

Every table records the conventions it used in ``attrs["conventions"]``. Group comparisons of
numeric values default to Mood's median test in its permutation variant, which is SAS's
"median two-sample test" used by the NZ study; categorical ones use Pearson's chi-square, or
Fisher's exact test when an expected count is below 5 (Cochran 1954), as that study's Table 1
(sex: chi-square p = 0.67; methotrexate: Fisher p = 0.72).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from matplotlib.figure import Figure
from statsmodels.stats.outliers_influence import OLSInfluence

from rheumetrics import stats as st
from rheumetrics.errors import ProblemCollector, ValidationError
from rheumetrics.imaging import direction_of_change, direction_summary
from rheumetrics.study.design import StudyData
from rheumetrics.study.model import Study

#: Smallest expected count for which the chi-square test is used (Cochran 1954).
MIN_EXPECTED = 5.0


def _groups(study: Study) -> list[str]:
    return [g.id for g in study.groups]


def _compare(
    frame: pd.DataFrame, column: str, groups: list[str], test: str, variant: str
) -> dict[str, Any]:
    """p-value of a numeric comparison between groups (None with one group or too few values)."""
    values = [frame.loc[frame["group"] == g, column].dropna() for g in groups]
    values = [v for v in values if len(v)]
    if len(values) < 2:
        return {"p": np.nan, "test": ""}
    if test == "mann_whitney":
        if len(values) != 2:
            return {"p": np.nan, "test": "Mann-Whitney needs two groups"}
        res = st.mann_whitney(values[0], values[1])
        return {"p": float(res["p"].iloc[0]), "test": "Mann-Whitney U"}
    try:
        res = st.median_test(*values, variant=variant)  # type: ignore[arg-type]
    except (ValidationError, ValueError):  # every value on one side of the median
        return {"p": np.nan, "test": f"median test ({variant}): not computable"}
    return {"p": float(res["p"].iloc[0]), "test": f"median test ({variant})"}


# -- patient flow ----------------------------------------------------------------------------


def patient_flow(study: Study, data: StudyData) -> pd.DataFrame:
    """Counts through the study, from the data: patients and enrolments, data at each visit,
    complete pairs and dropouts, per group and overall (patients counted once overall)."""
    f = data.frame
    clinical = [o for o in study.outcomes if not o.is_imaging]
    imaging = [o for o in study.outcomes if o.is_imaging]
    rows: list[dict[str, Any]] = []

    def add(stage: str, mask: pd.Series, by_patient: bool = False) -> None:
        for g in ["all", *_groups(study)]:
            sub = mask if g == "all" else mask & (f["group"] == g)
            n = f.loc[sub, "patient_id"].nunique() if by_patient and g == "all" else int(sub.sum())
            rows.append({"stage": stage, "group": g, "n": int(n)})

    everyone = pd.Series(True, index=f.index)
    add("patients enrolled", everyone, by_patient=True)
    add("enrolments", everyone)
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
        "enrolment": f"{study.enrolment.source}: one row per patient and group",
        "visit window": {v.id: list(v.window) for v in study.visits},
        "imaging session": study.imaging_session,
    }
    return out


# -- characteristics and scores ------------------------------------------------------------


def characteristics(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Baseline characteristics by group with p-values (Table 1 layout, tidy)."""
    frame = data.patients if study.characteristics_unit == "patient" else data.frame
    groups = _groups(study)
    test, variant = spec.get("test", "median_test"), spec.get("variant", "permutation")
    rows = []
    for ch in study.characteristics:
        if ch.kind == "numeric":
            desc = st.describe(frame, [ch.id], by="group", summary=spec.get("summary", "median_range"),
                               digits=ch.digits)  # fmt: skip
            res = _compare(frame, ch.id, groups, test, variant)
            for r in desc.itertuples(index=False):
                rows.append({"variable": ch.id, "label": ch.label, "level": "", "group": str(r.group),
                             "n": r.n, "text": r.text, "median": r.median, "min": r.min, "max": r.max,
                             **res})  # fmt: skip
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
    out.attrs["conventions"] = {
        "unit": "first enrolment of each patient"
        if study.characteristics_unit == "patient"
        else "enrolment",
        "numeric": f"{spec.get('summary', 'median_range')}; {test} ({variant})",
        "categorical": f"n (%); chi-square, Fisher exact when an expected count < {MIN_EXPECTED:g} (Cochran 1954)",
    }
    return out


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
        desc = st.describe(frame, [col], by="group", summary=summary, digits=o.digits)
        res = _compare(frame, col, groups, test, variant)
        for r in desc.itertuples(index=False):
            rows.append({"visit": visit, "outcome": oid, "label": o.label, "group": str(r.group),
                         "n": r.n, "median": r.median, "min": r.min, "max": r.max, "q1": r.q1,
                         "q3": r.q3, "mean": r.mean, "sd": r.sd, "text": r.text, **res})  # fmt: skip
    out = pd.DataFrame(rows)
    order = {v.id: k for k, v in enumerate(study.visits)}
    if not change and not out.empty:
        out = out.sort_values("visit", key=lambda s: s.map(order), kind="stable", ignore_index=True)
    out.attrs["conventions"] = {"summary": summary, "test": f"{test} ({variant})",
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
    out.attrs["conventions"] = {"change": f"{study.change[1]} minus {study.change[0]}" if study.change else "",
                                "no change": f"|change| <= {tolerance:g}"}  # fmt: skip
    return out


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
    ref = {"group": study.groups[0].id}
    out = st.linear_regression(
        frame, spec["outcome"], predictors, confounders, reference=ref, missing="drop"
    )
    out.insert(1, "label", [data.labels.get(t, t) for t in out["term"]])
    return out


def reliability(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Intra-reader ICC (all six forms) of an imaging outcome between reading sessions, with
    F-based CIs at ``confidence`` (default 0.95); ``reported`` flags the study's ``form``
    (default ICC(3,k))."""
    ratings = data.ratings
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


def scatter_outliers(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Points of the change scatter with their (internally) studentised residual from the
    least-squares line of y on x (statsmodels; Cook & Weisberg 1982); ``outlier`` when its
    absolute value exceeds ``outlier_t`` (default 3)."""
    x, y = f"change:{spec['x']}", f"change:{spec['y']}"
    sub = data.frame[["patient_id", "group", x, y]].dropna()
    limit = float(spec.get("outlier_t", 3.0))
    if len(sub) < 4:
        return sub.assign(studentised_residual=np.nan, outlier=False)
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
        rule += f"; at most the {int(mark)} most extreme marked"
    out.attrs["conventions"] = {"outlier": rule}
    return out.reset_index()


_RULES = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


def parse_rule(text: str) -> tuple[str, float]:
    """``"<= -0.22"`` -> ``("<=", -0.22)``; the operator is required (``<``, ``<=``, ``>``, ``>=``).

    >>> parse_rule("> 0.5")
    ('>', 0.5)
    """
    text = str(text).strip()
    for op in ("<=", ">=", "<", ">"):
        if text.startswith(op):
            return op, float(text[len(op) :])
    raise ValueError(f"{text!r}: must be an operator (<, <=, >, >=) and a number, e.g. '> 0.5'")


def roc(
    study: Study, data: StudyData, spec: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """AUC with DeLong CI and the Youden cut-off of each score for a truth dichotomised by the
    explicit rule ``positive`` (e.g. ``"> 0.5"``: strictly above). ``higher_is_positive`` is one
    flag or one per score (a fall in DAS28 and a high baseline DAS28 point the same way)."""
    truth_col = spec["truth"]
    scores = [spec["scores"]] if isinstance(spec["scores"], str) else list(spec["scores"])
    flags = spec.get("higher_is_positive", True)
    higher = [bool(f) for f in flags] if isinstance(flags, list) else [bool(flags)] * len(scores)
    sub = data.frame[[truth_col, *scores]].dropna()
    op, value = parse_rule(spec["positive"])
    truth = pd.Series(
        _RULES[op](sub[truth_col].to_numpy(float), value).astype(int), index=sub.index
    )
    rule = f"{data.labels.get(truth_col, truth_col)} {op} {value:g}"
    if spec.get("label"):
        rule = f"{spec['label']} ({rule})"
    rows, curves = [], {}
    for s, hi in zip(scores, higher, strict=True):
        label = data.labels.get(s, s)
        auc = st.roc_auc(truth, sub[s], higher_is_positive=hi)
        cut = st.youden_cutoff(truth, sub[s], higher_is_positive=hi).iloc[0]
        rows.append({"score": s, "label": label, "direction": "higher" if hi else "lower",
                     "positive": rule, "n": len(sub), "n_positive": int(truth.sum()),
                     **auc.iloc[0].to_dict(), "cutoff": cut["threshold"],
                     "sensitivity": cut["sensitivity"], "specificity": cut["specificity"],
                     "youden_j": cut["youden_j"]})  # fmt: skip
        curves[label] = st.roc_curve(truth, sub[s], higher_is_positive=hi)
    out = pd.DataFrame(rows)
    if len(scores) == 2:  # orient both scores so that higher means positive
        a, b = (sub[s] if hi else -sub[s] for s, hi in zip(scores, higher, strict=True))
        out["delong_p"] = float(st.delong_test(truth, a, b)["p"].iloc[0])
    out.attrs["conventions"] = {
        "positive": rule,
        "direction": dict(zip(out["label"], out["direction"], strict=True)),
    }
    return out, curves


def meta(spec: dict[str, Any]) -> tuple[pd.DataFrame, Figure]:
    """Meta-analysis of the study effects in ``spec['file']`` with its forest plot."""
    from rheumetrics.io import read_table

    effects = read_table(spec["file"])
    columns = dict(spec.get("columns", {}))
    es = st.effect_sizes(effects, spec.get("measure", "RR"), study=spec.get("study"), **columns)
    res = st.meta_analysis(es["yi"], es["vi"], method=spec.get("method", "REML"),
                           knapp_hartung=bool(spec.get("knapp_hartung", False)),
                           studies=list(es["study"]))  # fmt: skip
    exp = bool(spec.get("exponentiate", spec.get("measure", "RR") in ("RR", "OR")))
    fig = st.forest_plot(res, exponentiate=exp, xlabel=spec.get("measure", "RR"))
    return res, fig


def sample_size(spec: dict[str, Any]) -> pd.DataFrame:
    """Each stated sample-size calculation recomputed from its assumptions (rheumetrics.stats
    power functions): ``kind = "correlation"`` (rho, alpha, power, sided, method, dropout) or
    ``"noninferiority"`` (margin, sd, difference, alpha, power); ``stated_n`` is what the study
    wrote, shown beside what the standard formula gives."""
    rows = []
    for calc in spec.get("calculations", []):
        kind = calc["kind"]
        alpha, power = float(calc.get("alpha", 0.05)), float(calc.get("power", 0.8))
        stated = float(calc.get("stated_n", np.nan))
        if kind == "correlation":
            method = calc.get("method", "exact")
            res = st.power_correlation(float(calc["rho"]), power=power, alpha=alpha,
                                       sided=calc.get("sided", "two-sided"), method=method).iloc[0]  # fmt: skip
            n = int(res["n_required"])
            dropout = float(calc.get("dropout", 0.0))
            with_dropout = int(np.ceil(n / (1 - dropout))) if dropout else n
            assumptions = (f"rho = {calc['rho']:g}, {calc.get('sided', 'two-sided')} alpha = {alpha:g}, "
                           f"power = {power:g}" + (f", {100 * dropout:g}% dropout -> {with_dropout}" if dropout else ""))  # fmt: skip
            label = calc.get("label", "Correlation different from zero")
            text = (f"{label}: a correlation of {calc['rho']:g} is detected with {power:.0%} power by a "
                    f"{calc.get('sided', 'two-sided')} test at {alpha:g} with n = {n} "
                    f"({method} method" + (f"; {with_dropout} allowing {100 * dropout:g}% dropout" if dropout else "") + ")"
                    + (f"; the study stated {stated:g}." if np.isfinite(stated) else "."))  # fmt: skip
            rows.append({"label": label, "kind": kind, "assumptions": assumptions, "n_required": n,
                         "stated_n": stated, "method": f"{method} (rheumetrics.stats.power_correlation)",
                         "text": text})  # fmt: skip
        elif kind == "noninferiority":
            res = st.power_noninferiority(margin=float(calc["margin"]), sd=float(calc["sd"]),
                                          difference=float(calc.get("difference", 0.0)), power=power,
                                          alpha=alpha, method=calc.get("method", "t")).iloc[0]  # fmt: skip
            n = int(res["n_required_group1"])
            assumptions = (f"margin = {calc['margin']:g}, SD = {calc['sd']:g}, true difference = "
                           f"{float(calc.get('difference', 0)):g}, one-sided alpha = {alpha:g}, power = {power:g}")  # fmt: skip
            label = calc.get("label", "Non-inferiority of the mean change")
            text = f"{label} ({assumptions}): the standard formula gives {n} per group"
            if np.isfinite(stated):
                at_stated = st.power_noninferiority(
                    margin=float(calc["margin"]),
                    sd=float(calc["sd"]),
                    n=stated,
                    alpha=alpha,
                    difference=float(calc.get("difference", 0.0)),
                    method=calc.get("method", "t"),
                ).iloc[0]["power"]
                text += f"; the study stated {stated:g} per group, which gives {100 * at_stated:.1f}% power"
            text += "."
            rows.append({"label": label, "kind": kind, "assumptions": assumptions, "n_required": n,
                         "stated_n": stated, "method": f"{calc.get('method', 't')} (rheumetrics.stats.power_noninferiority)",
                         "text": text})  # fmt: skip
    return pd.DataFrame(
        rows, columns=["label", "kind", "assumptions", "n_required", "stated_n", "method", "text"]
    )
