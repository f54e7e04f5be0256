"""The built-in analyses, each registered once: its options, its computation (tidy tables from
:mod:`rheumetrics.study.analyses`), the table and figures as printed, and its methods sentence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rheumetrics import stats as st
from rheumetrics.study import analyses as an
from rheumetrics.study.design import StudyData
from rheumetrics.study.figures import change_scatter, trajectories
from rheumetrics.study.flow_diagram import flow_svg, screening_counts
from rheumetrics.study.formatting import (
    count,
    format_p,
    integer_valued,
    interval,
    num,
    p_text,
    term_label,
)
from rheumetrics.study.model import Study
from rheumetrics.study.registry import Section, register

_TESTS = {
    "median_test": "Mood's median test (the 'median two-sample test' of SAS NPAR1WAY; Mood 1950)",
    "mann_whitney": "the Wilcoxon-Mann-Whitney rank-sum test (Mann & Whitney 1947)",
}
_VARIANTS = {
    "permutation": "p from the permutation (hypergeometric) distribution, as SAS NPAR1WAY",
    "pearson": "p from Pearson's chi-square on the 2 x k table",
    "exact": "exact p",
}
_SUMMARIES = {
    "median_range": ("median (minimum, maximum)", ("median", "min", "max"), ("Median", "Minimum", "Maximum")),
    "median_iqr": ("median (quartiles)", ("median", "q1", "q3"), ("Median", "Q1", "Q3")),
    "mean_sd": ("mean (SD)", ("mean", "sd"), ("Mean", "SD")),
}  # fmt: skip


def _labels(study: Study) -> dict[str, str]:
    return {g.id: g.label for g in study.groups}


def _group_header(
    study: Study, data: StudyData, frame: pd.DataFrame | None = None
) -> dict[str, str]:
    """Column headers with N: ``Total (N = 84)``, ``Group A (N = 57)``."""
    f = data.frame if frame is None else frame
    out = {"all": f"Total (N = {len(f)})"}
    for g in study.groups:
        out[g.id] = f"{g.label} (N = {int((f['group'] == g.id).sum())})"
    return out


def _kinds(study: Study) -> str:
    """``clinical and imaging scores``, or only the kind the study has."""
    kinds = [k for k, has in (("clinical", any(not o.is_imaging for o in study.outcomes)),
                              ("imaging", any(o.is_imaging for o in study.outcomes))) if has]  # fmt: skip
    return " and ".join(kinds) + " scores"


def _compare_text(spec: dict[str, Any]) -> str:
    test = spec.get("test", "median_test")
    text = _TESTS[test]
    if test == "median_test":
        text += f", {_VARIANTS[spec.get('variant', 'permutation')]}"
    return text


# -- flow ------------------------------------------------------------------------------------


def _flow_methods(study: Study, spec: dict[str, Any]) -> str:
    return ("Patient flow is counted from the data: enrolments, data present at each visit window "
            "and complete pairs for the change analysed.")  # fmt: skip


@register("flow", methods=_flow_methods)
def flow(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Patients and enrolments, data at each visit, dropouts and complete pairs, by group."""
    t = an.patient_flow(study, data)
    heads = _group_header(study, data)
    wide = t.pivot_table(index="stage", columns="group", values="n", aggfunc="first", sort=False)
    wide = wide[[c for c in dict.fromkeys(["all", *_labels(study)]) if c in wide.columns]]
    display = pd.DataFrame({"Stage": wide.index})
    for c in wide.columns:
        display[heads[c]] = [count(x) for x in wide[c]]
    counts = screening_counts(data.screening)
    svg = flow_svg(counts, t, [(g.id, g.label) for g in study.groups])
    caption = ("Patient flow, drawn from the data: patients in the cohort, excluded (with the "
               "reasons), enrolled, and per group the data at each visit and the enrolments "
               "with complete data.")  # fmt: skip
    return Section("Patient flow", {"flow": t, "screening": counts}, display,
                   caption="Patients through the study, counted from the data.",
                   footnotes=["Total counts each patient once; a patient enrolled in two groups "
                              "is counted in each group."],
                   diagrams={"flow_diagram": (svg, caption)},
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


# -- characteristics and scores ------------------------------------------------------------------


def _characteristics_methods(study: Study, spec: dict[str, Any]) -> str:
    return (f"Characteristics at enrolment are summarised as n (%) and "
            f"{_SUMMARIES[spec.get('summary', 'median_range')][0]}; numeric ones compared between "
            f"groups with {_compare_text(spec)}, categorical ones with Pearson's chi-square, or "
            f"Fisher's exact test when an expected count is below 5 (Cochran 1954).")  # fmt: skip


@register("characteristics", {"test", "variant", "summary"}, methods=_characteristics_methods)
def characteristics(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Table 1: characteristics at enrolment by group, with p-values."""
    t = an.characteristics(study, data, spec)
    frame = data.patients if study.characteristics_unit == "patient" else data.frame
    heads = _group_header(study, data, frame)
    t = t.assign(row=t["label"] + np.where(t["level"] != "", ": " + t["level"], ""))
    rows: list[dict[str, Any]] = []
    for row, part in t.groupby("row", sort=False):
        out: dict[str, Any] = {"Characteristic": row}
        for g, head in heads.items():
            r = part[part["group"] == g]
            out[head] = "" if r.empty else str(r["text"].iloc[0])
        first = not rows or part["variable"].iloc[0] != rows[-1]["_variable"]
        out["p"] = format_p(part["p"].iloc[0]) if first else ""
        out["Test"] = part["test"].iloc[0] if first else ""
        out["_variable"] = part["variable"].iloc[0]
        rows.append(out)
    summary = _SUMMARIES[spec.get("summary", "median_range")][0]
    return Section("Patient characteristics at enrolment", {"characteristics": t.drop(columns="row")},
                   pd.DataFrame(rows).drop(columns="_variable"), caption="Characteristics at enrolment by group.",
                   footnotes=[f"Categorical: n (%); numeric: {summary}.",
                              "p: numeric " + _compare_text(spec) + "; categorical chi-square, "
                              "or Fisher's exact test when an expected count is below 5."],
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


def _scores_methods(study: Study, spec: dict[str, Any]) -> str:
    return (f"Outcomes at each visit are summarised by group as "
            f"{_SUMMARIES[spec.get('summary', 'median_range')][0]} and compared with "
            f"{_compare_text(spec)}; missing values are excluded and N counts the values present.")  # fmt: skip


def _scores_display(
    study: Study, data: StudyData, t: pd.DataFrame, spec: dict[str, Any]
) -> pd.DataFrame:
    """Two-level header: (group with N, statistic); one row per visit and outcome."""
    if t.empty:
        return t
    summary = spec.get("summary", "median_range")
    _, stats_, names = _SUMMARIES[summary]
    heads = _group_header(study, data)
    visit_label = {v.id: v.label for v in study.visits}
    shown_groups = list(dict.fromkeys(["all", *_labels(study)]))
    rows: list[list[str]] = []
    columns = [("", "Visit"), ("", "Outcome")]
    for g in shown_groups:
        columns += [(heads[g], "N"), *((heads[g], n) for n in names)]
    columns.append(("", "p"))
    for (visit, oid), part in t.groupby(["visit", "outcome"], sort=False):
        digits = study.outcome(str(oid)).digits
        col = f"change:{oid}" if "→" in str(visit) else f"{oid}@{visit}"
        trim = col in data.frame.columns and integer_valued(data.frame[col])
        shown = " → ".join(visit_label.get(v, v) for v in str(visit).split("→"))
        row: list[str] = [shown, str(part["label"].iloc[0])]
        for g in shown_groups:
            r = part[part["group"] == g]
            if r.empty:
                row += [""] * (1 + len(stats_))
                continue
            r0 = r.iloc[0]
            row += [count(r0["n"]), *(num(r0[s], digits, trim=trim and s != "sd") for s in stats_)]
        row.append(format_p(part["p"].iloc[0]))
        rows.append(row)
    return pd.DataFrame(rows, columns=pd.MultiIndex.from_tuples(columns))


@register("scores", {"outcomes", "test", "variant", "summary"}, methods=_scores_methods)
def scores(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Table 2: every outcome at every visit by group."""
    t = an.scores_by_visit(study, data, spec)
    summary = _SUMMARIES[spec.get("summary", "median_range")][0]
    sec = Section("Scores at each visit", {"scores": t}, _scores_display(study, data, t, spec),
                  caption=_kinds(study).capitalize() + " at each visit by group.",
                  footnotes=[f"N: values present; {summary}.", f"p: {_compare_text(spec)}."],
                  conventions=t.attrs.get("conventions", {}))  # fmt: skip
    # over three or more visits (two visits are the change tables' job)
    over_time = [
        (o.id, o.label)
        for o in study.outcomes
        if len(o.visits) > 2 and o.id in set(t.get("outcome", []))
    ]
    if over_time and not t.empty:
        groups = (
            [(g.id, g.label) for g in study.groups] if len(study.groups) > 1 else [("all", "All")]
        )
        fig = trajectories(t, [(v.id, v.label) for v in study.visits], groups, over_time)
        sec.figures["trajectories"] = (
            fig,
            "Median (line) and interquartile range (band) of each outcome at each visit, by group.",
        )
    return sec


def _visit_names(study: Study) -> tuple[str, str]:
    names = {v.id: v.label for v in study.visits}
    a, b = study.change or ("", "")
    return names.get(a, a), names.get(b, b)


def _changes_methods(study: Study, spec: dict[str, Any]) -> str:
    a, b = _visit_names(study)
    return (f"Changes ({b} minus {a}) are summarised and compared between groups in the same way "
            f"({_compare_text(spec)}).")  # fmt: skip


@register(
    "changes",
    {"outcomes", "test", "variant", "summary"},
    methods=_changes_methods,
    needs_change=True,
)
def changes(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """The change of each outcome between the two visits of ``change``, by group."""
    t = an.scores_by_visit(study, data, spec, change=True)
    a, b = _visit_names(study)
    return Section("Change between visits", {"changes": t}, _scores_display(study, data, t, spec),
                   caption=f"Change from {a} to {b} by group.",
                   footnotes=[f"Change = value at {b} minus value at {a}; p: {_compare_text(spec)}."],
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


def _direction_methods(study: Study, spec: dict[str, Any]) -> str:
    return f"Each change is classed as a decrease, no change (|change| <= {float(spec.get('tolerance', 0)):g}) or an increase."


@register("direction", {"outcomes", "tolerance"}, methods=_direction_methods, needs_change=True)
def direction(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Decrease / no change / increase of each change, n (%) by group."""
    t = an.direction(study, data, spec)
    display = None
    if not t.empty:
        labels = {"all": "Total", **_labels(study)}
        rows = []
        for (label, d), part in t.groupby(["label", "direction"], sort=False):
            row = {"Change": f"Δ{label}: {str(d).replace('_', ' ')}"}
            for g, head in labels.items():
                r = part[part["group"] == g]
                row[head] = (
                    "" if r.empty else f"{count(r['n'].iloc[0])} ({num(r['percent'].iloc[0], 1)}%)"
                )
            rows.append(row)
        display = pd.DataFrame(rows)
    return Section("Direction of change", {"direction": t}, display,
                   caption="Direction of change between the visits, n (%) of those with both values.",
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


# -- associations ----------------------------------------------------------------------------------


def _correlation_methods(study: Study, spec: dict[str, Any]) -> str:
    kind = spec.get("method", "spearman")
    name = "Spearman's rank correlation" if kind == "spearman" else "Pearson's correlation"
    return (f"The association between the change in {study.outcome(str(spec['x'])).label} and the "
            f"other changes is measured by {name}, all groups together.")  # fmt: skip


@register(
    "correlation", {"x", "y", "method", "ci"}, methods=_correlation_methods, needs_change=True
)
def correlation(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Correlation of the change in ``x`` with each change in ``y``."""
    t = an.correlation(study, data, spec)
    x = data.labels.get(f"change:{spec['x']}", spec["x"])
    display = pd.DataFrame({
        "Change": t["label"], "n": [count(n) for n in t["n"]], "r": [num(r, 2) for r in t["r"]],
        "95% CI": [interval(a, b, 2) for a, b in zip(t["ci_low"], t["ci_high"], strict=True)],
        "p": [format_p(p) for p in t["p"]], "p method": t["method"],
    })  # fmt: skip
    kind = spec.get("method", "spearman").title()
    return Section(f"Correlation with {x}", {"correlation": t}, display,
                   caption=f"{kind} correlation of each change with {x}, all groups together.",
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


def var_label(study: Study, var: str) -> str:
    """An analysis variable as a reader names it: ``ΔDAS28CRP``, ``MRI erosion (Visit 1)``."""
    outcomes = {o.id: o.label for o in study.outcomes}
    visits = {v.id: v.label for v in study.visits}
    if var.startswith("change:"):
        return "Δ" + outcomes.get(var.removeprefix("change:"), var)
    if "@" in var:
        oid, vid = var.split("@", 1)
        return f"{outcomes.get(oid, oid)} ({visits.get(vid, vid)})"
    if var == "group":
        return "group"
    chars = {c.id: c.label for c in study.characteristics}
    return chars.get(var, var.replace("_", " "))


def _regression_methods(study: Study, spec: dict[str, Any]) -> str:
    conf = [var_label(study, v) for v in _as_list(spec.get("confounders"))]
    preds = [var_label(study, v) for v in _as_list(spec["predictors"])]
    return (f"The effect of {' and '.join(preds)} on {var_label(study, spec['outcome'])} is "
            f"estimated by multiple linear regression (ordinary least squares, complete cases)"
            + (f" adjusted for {', '.join(conf)}." if conf else "."))  # fmt: skip


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


@register(
    "regression", {"outcome", "predictors", "confounders", "labels"}, methods=_regression_methods
)
def regression(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Multiple linear regression of ``outcome`` on ``predictors`` and ``confounders``."""
    t = an.regression(study, data, spec)
    model = t.attrs.get("model", {})
    named = [*_as_list(spec["predictors"]), *_as_list(spec.get("confounders"))]
    labels = {**{v: var_label(study, v) for v in named}, **data.labels,
              **{c.id: c.label for c in study.characteristics}, **dict(spec.get("labels", {}))}  # fmt: skip
    levels = {"group": _labels(study)}
    refs = {"group": study.groups[0].id}
    for var in [*_as_list(spec["predictors"]), *_as_list(spec.get("confounders"))]:
        col = data.frame.get(var)
        if var != "group" and col is not None and not pd.api.types.is_numeric_dtype(col):
            refs[var] = sorted(col.dropna().astype(str).unique())[0]
    t = t.assign(label=[term_label(str(x), labels, levels, refs) for x in t["term"]])
    display = pd.DataFrame({
        "Term": t["label"], "Estimate": [num(x, 3) for x in t["estimate"]],
        "SE": [num(x, 3) for x in t["se"]],
        "95% CI": [interval(a, b, 3) for a, b in zip(t["ci_low"], t["ci_high"], strict=True)],
        "p": [format_p(p) for p in t["p"]],
    })  # fmt: skip
    outcome = labels.get(spec["outcome"], spec["outcome"])
    return Section(f"Adjusted regression of {outcome}", {"regression": t}, display,
                   caption=f"Multiple linear regression of {outcome}.",
                   footnotes=[f"Ordinary least squares on complete cases: n = {model.get('n')}, "
                              f"{model.get('n_dropped')} enrolments dropped for missing values, "
                              f"R² = {num(model.get('r2', np.nan), 3)}."],
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


# -- measurement ------------------------------------------------------------------------------------

_ICC_FORMS = {
    "ICC(1,1)": "one-way random, single", "ICC(2,1)": "two-way random, absolute agreement, single",
    "ICC(3,1)": "two-way mixed, consistency, single", "ICC(1,k)": "one-way random, average",
    "ICC(2,k)": "two-way random, absolute agreement, average",
    "ICC(3,k)": "two-way mixed, consistency, average",
}  # fmt: skip


def _reliability_methods(study: Study, spec: dict[str, Any]) -> str:
    form = spec.get("form", "ICC(3,k)")
    level = 100 * float(spec.get("confidence", 0.95))
    return (f"Intra-reader reliability of {study.outcome(str(spec['outcome'])).label} between "
            f"reading sessions is the intraclass correlation {form} ({_ICC_FORMS.get(form, form)}; "
            f"Shrout & Fleiss 1979) with its F-based {level:g}% confidence interval "
            f"(McGraw & Wong 1996).")  # fmt: skip


@register("reliability", {"outcome", "form", "confidence"}, methods=_reliability_methods)
def reliability(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """ICC in the six Shrout & Fleiss forms between reading sessions (the study's form flagged)."""
    t = an.reliability(study, data, spec)
    outcome = study.outcome(str(spec["outcome"])).label
    sec = Section(f"Reliability of {outcome} between reading sessions", {"reliability": t})
    if t.empty:
        sec.footnotes.append("No scan was read in more than one session.")
        return sec
    level = 100 * float(spec.get("confidence", 0.95))
    sec.display = pd.DataFrame({
        "Form": t["form"], "Model": t["description"], "n": [count(n) for n in t["n"]],
        "k": [count(k) for k in t["k"]], "ICC": [num(x, 2) for x in t["icc"]],
        f"{level:g}% CI": [interval(a, b, 2) for a, b in zip(t["ci_low"], t["ci_high"], strict=True)],
        "Reported": np.where(t["reported"], "yes", ""),
    })  # fmt: skip
    sec.caption = f"Intraclass correlation of {outcome} between reading sessions."
    sec.footnotes.append(f"The study reports {spec.get('form', 'ICC(3,k)')} "
                         f"({_ICC_FORMS.get(spec.get('form', 'ICC(3,k)'), '')}); all six forms shown.")  # fmt: skip
    return sec


def _srm_methods(study: Study, spec: dict[str, Any]) -> str:
    return "Responsiveness is the standardised response mean, mean change / SD of change (Liang et al. 1990)."


@register("responsiveness", methods=_srm_methods, needs_change=True)
def responsiveness(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Standardised response mean of every change, by group."""
    t = an.responsiveness(study, data)
    labels = _labels(study)
    display = None if t.empty else pd.DataFrame({
        "Change": "Δ" + t["label"], "Group": t["group"].map(labels).fillna(t["group"]),
        "n": [count(n) for n in t["n"]], "Mean": [num(x, 2) for x in t["mean"]],
        "SD": [num(x, 2) for x in t["sd"]], "SRM": [num(x, 2) for x in t["srm"]],
    })  # fmt: skip
    return Section("Responsiveness (standardised response mean)", {"responsiveness": t}, display,
                   caption="Standardised response mean of each change by group.")  # fmt: skip


def _scatter_methods(study: Study, spec: dict[str, Any]) -> str:
    return (f"Outliers of the change scatter are points whose internally studentised residual "
            f"from the least-squares line exceeds {float(spec.get('outlier_t', 3)):g} in absolute "
            f"value (Cook & Weisberg 1982).")  # fmt: skip


@register("scatter", {"x", "y", "outlier_t", "mark"}, methods=_scatter_methods, needs_change=True)
def scatter(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """The change in ``y`` against the change in ``x``, outliers marked."""
    t = an.scatter_outliers(study, data, spec)
    x, y = f"change:{spec['x']}", f"change:{spec['y']}"
    xl, yl = data.labels[x], data.labels[y]
    labels = _labels(study)
    fig = change_scatter(t, x, y, xl, yl, list(labels.items()))
    marked = t[t["outlier"]]
    display = pd.DataFrame({
        "Patient": marked["patient_id"], "Group": marked["group"].astype(str).map(labels),
        xl: [num(v, 2) for v in marked[x]], yl: [num(v, 2, trim=True) for v in marked[y]],
        "Studentised residual": [num(v, 2) for v in marked["studentised_residual"]],
    })  # fmt: skip
    note = t.attrs.get("conventions", {}).get("outlier", "")
    return Section(f"{yl} against {xl}", {"scatter": t}, display if len(display) else None,
                   caption="Outliers of the change scatter.",
                   figures={"scatter": (fig, f"{yl} against {xl}; each point is one enrolment, drawn "
                                             f"as its group id; the arrow marks the outlier ({note}).")},
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


def _roc_methods(study: Study, spec: dict[str, Any]) -> str:
    rule = spec.get("label") or f"{var_label(study, spec['truth'])} {spec['positive']}"
    return (f"Discrimination of '{rule}' is the area under the empirical ROC "
            f"curve with DeLong's confidence interval (DeLong et al. 1988), the cut-off maximising "
            f"Youden's J (Youden 1950); two scores are compared with DeLong's paired test.")  # fmt: skip


@register(
    "roc", {"truth", "positive", "label", "scores", "higher_is_positive"}, methods=_roc_methods
)
def roc(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """ROC analysis of each score for a truth dichotomised by an explicit rule."""
    t, curves = an.roc(study, data, spec)
    display = pd.DataFrame({
        "Score": t["label"], "Direction": t["direction"], "AUC": [num(x, 3) for x in t["auc"]],
        "95% CI": [interval(a, b, 3) for a, b in zip(t["ci_low"], t["ci_high"], strict=True)],
        "Cut-off": [("≥ " if d == "higher" else "≤ ") + num(x, 2) for x, d in zip(t["cutoff"], t["direction"], strict=True)], "Sensitivity": [num(x, 3) for x in t["sensitivity"]],
        "Specificity": [num(x, 3) for x in t["specificity"]],
    })  # fmt: skip
    foot = [
        f"Positive: {t['positive'].iloc[0]} (n = {int(t['n_positive'].iloc[0])} of {int(t['n'].iloc[0])})."
    ]
    if "delong_p" in t:
        foot.append(f"DeLong test of the two AUCs: {p_text(t['delong_p'].iloc[0])}.")
    return Section("ROC analysis", {"roc": t}, display, caption="Discrimination of each score.",
                   footnotes=foot, figures={"roc": (st.plot_roc(curves), "Empirical ROC curves.")})  # fmt: skip


_CONVERSIONS = {
    "wan": "Wan et al. (BMC Med Res Methodol 2014;14:135)",
    "luo": "Luo et al. (Stat Methods Med Res 2018;27:1785-1805) for the mean and Wan et al. "
    "(BMC Med Res Methodol 2014;14:135) for the SD",
    "hozo": "Hozo et al. (BMC Med Res Methodol 2005;5:13)",
}


def _meta_methods(study: Study, spec: dict[str, Any]) -> str:
    kh = " with the Knapp-Hartung adjustment" if spec.get("knapp_hartung") else ""
    measure = spec.get("measure", "RR")
    text = (f"Study effects ({measure}) are pooled by a random-effects model "
            f"({spec.get('method', 'REML')} estimate of tau²{kh}; as R metafor::rma).")  # fmt: skip
    if measure == "MD":
        text += (" Mean differences use the unpooled variance sd_t²/n_t + sd_c²/n_c (metafor "
                 "escalc vtype LS)." if spec.get("md_variance", "unpooled") == "unpooled" else
                 " Mean differences use the pooled (homoscedastic) variance (metafor escalc "
                 "vtype HO).")  # fmt: skip
    if measure == "ZCOR":
        text += (" Correlations are pooled as Fisher's z = atanh(r) with variance 1/(n - 3) and "
                 "back-transformed to r (metafor escalc ZCOR, transf.ztor).")  # fmt: skip
    if any(k.startswith("median_") for k in spec.get("columns", {})):
        text += (" Where a study reports a median with its IQR and/or range, the mean and SD are "
                 f"estimated by {_CONVERSIONS[spec.get('conversion', 'wan')]}.")  # fmt: skip
    return text


@register("meta", {"file", "measure", "method", "knapp_hartung", "columns", "study", "exponentiate",
                  "subgroup", "filter", "label", "md_variance", "conversion"}, methods=_meta_methods,
          needs_cohort=False)  # fmt: skip
def meta(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Meta-analysis of a study-level table, overall and by subgroup, with forest plots."""
    t, figs = an.meta(spec)
    natural = "pooled" in t.columns  # back-transformed (ratio or correlation)
    est, lo, hi = ("pooled", "pooled_ci_low", "pooled_ci_high") if natural else (
        "estimate", "ci_low", "ci_high")  # fmt: skip
    display = pd.DataFrame({
        "Subgroup": t["subgroup"].replace({"all": "All studies"}), "Method": t["method"],
        "k": [count(k) for k in t["k"]], "Estimate": [num(x, 3) for x in t[est]],
        "95% CI": [interval(a, b, 3) for a, b in zip(t[lo], t[hi], strict=True)],
        "p": [format_p(p) for p in t["p"]], "tau²": [num(x, 4) for x in t["tau2"]],
        "I² (%)": [num(x, 1) for x in t["i2"]], "Q": [num(x, 2) for x in t["q"]],
        "p (Q)": [format_p(p) for p in t["q_p"]],
    })  # fmt: skip
    foot = []
    if "subgroup_test" in t.attrs:
        sg = t.attrs["subgroup_test"]
        foot.append(
            f"Test for subgroup differences: Q = {num(sg['Q'], 2)}, df = {sg['df']}, p = {format_p(sg['p'])}."
        )
    studies = t.attrs["studies"]
    converted = studies[studies["converted"] != ""]
    if len(converted):
        foot.append(
            f"Mean and SD estimated from the median with IQR (S2), range (S1) or both (S3) by "
            f"{_CONVERSIONS[str(spec.get('conversion', 'wan'))]}: "
            + "; ".join(f"{s} ({c})" for s, c in zip(converted["study"], converted["converted"],
                                                      strict=True)) + "."
        )  # fmt: skip
    if spec.get("measure") == "ZCOR":
        foot.append("Pooled on Fisher's z scale and back-transformed to a correlation.")
    label = spec.get("label", spec.get("measure", "RR"))
    figures = {k: (fig, f"Forest plot ({label}): {'all studies' if k == 'meta_all' else k.removeprefix('meta_')}; "
                        "study estimates, pooled diamond, prediction interval.") for k, fig in figs.items()}  # fmt: skip
    return Section("Meta-analysis", {"meta": t, "meta_studies": t.attrs["studies"]}, display,
                   caption=f"Pooled {label}, overall and by subgroup.", footnotes=foot, figures=figures,
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


def _logistic_methods(study: Study, spec: dict[str, Any]) -> str:
    event = spec.get("label") or f"{var_label(study, spec['truth'])} {spec['positive']}"
    preds = [var_label(study, v) for v in _as_list(spec["predictors"])]
    conf = [var_label(study, v) for v in _as_list(spec.get("confounders"))]
    return (f"Predictors of '{event}' are estimated by logistic regression (maximum likelihood, "
            f"complete cases) of {' and '.join(preds)}" + (f" adjusted for {', '.join(conf)}" if conf else "")
            + "; odds ratios with Wald 95% confidence intervals.")  # fmt: skip


@register("logistic", {"truth", "positive", "label", "predictors", "confounders", "labels"},
          methods=_logistic_methods)  # fmt: skip
def logistic(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Logistic regression of an event defined by an explicit rule, with odds ratios."""
    t = an.logistic(study, data, spec)
    model = t.attrs.get("model", {})
    named = [*_as_list(spec["predictors"]), *_as_list(spec.get("confounders"))]
    labels = {**{v: var_label(study, v) for v in named}, **data.labels,
              **{c.id: c.label for c in study.characteristics}, **dict(spec.get("labels", {}))}  # fmt: skip
    refs = {"group": study.groups[0].id}
    t = t.assign(
        label=[term_label(str(x), labels, {"group": _labels(study)}, refs) for x in t["term"]]
    )
    body = t[~t["term"].astype(str).isin(["const", "Intercept"])]
    display = pd.DataFrame({
        "Term": body["label"], "Odds ratio": [num(x, 2) for x in body["odds_ratio"]],
        "95% CI": [interval(a, b, 2) for a, b in zip(body["or_ci_low"], body["or_ci_high"], strict=True)],
        "p": [format_p(p) for p in body["p"]],
    })  # fmt: skip
    event = spec.get("label") or t.attrs["event"]
    return Section(f"Logistic regression: {event}", {"logistic": t}, display,
                   caption=f"Odds ratios for {event}.",
                   footnotes=[f"Event: {labels.get(spec['truth'], spec['truth'])} {spec['positive']} "
                              f"({t.attrs['n_events']} events); n = {model.get('n')}, "
                              f"{model.get('n_dropped')} dropped for missing values."])  # fmt: skip


def _paired_proportions_methods(study: Study, spec: dict[str, Any]) -> str:
    exact = spec.get("method", "exact") == "exact"
    return ("The proportions of patients meeting two rules on the same patients are compared with "
            f"McNemar's test ({'exact binomial' if exact else 'chi-square with continuity correction'}; McNemar 1947).")  # fmt: skip


@register("paired_proportions", {"first", "second", "method"}, methods=_paired_proportions_methods)
def paired_proportions(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Two events on the same patients compared by McNemar's test."""
    t = an.paired_proportions(study, data, spec)
    r = t.iloc[0]
    display = pd.DataFrame({
        "": [r["first"], r["second"]],
        "n (%)": [f"{count(r['both'] + r['first_only'])} ({num(r['first_percent'], 1)}%)",
                  f"{count(r['both'] + r['second_only'])} ({num(r['second_percent'], 1)}%)"],
        "p": [format_p(r["p"]), ""],
    })  # fmt: skip
    return Section("Paired proportions", {"paired_proportions": t}, display,
                   caption=f"Patients meeting each rule, of {count(r['n'])} with both measured.",
                   footnotes=[f"Both {count(r['both'])}, first only {count(r['first_only'])}, second only "
                              f"{count(r['second_only'])}, neither {count(r['neither'])}; McNemar's test ({r['method']})."])  # fmt: skip


# -- single-arm and longitudinal ---------------------------------------------------------------


def _paired_methods(study: Study, spec: dict[str, Any]) -> str:
    zero = spec.get("zero_method", "pratt")
    return ("Within-patient changes over each interval are summarised as median (quartiles) with "
            "the standardised response mean, counted as decreases, no change and increases, and "
            f"tested against zero with the Wilcoxon signed-rank test ({'Pratt' if zero == 'pratt' else 'Wilcoxon'} "
            "handling of zero changes; exact where available).")  # fmt: skip


@register(
    "paired",
    {"outcomes", "intervals", "tolerance", "zero_method", "method"},
    methods=_paired_methods,
)
def paired(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Within-patient change over several intervals (single-arm longitudinal designs)."""
    t = an.paired(study, data, spec)
    names = {v.id: v.label for v in study.visits}
    labels = {"all": "All", **_labels(study)}
    display = None
    if not t.empty:
        display = pd.DataFrame({
            "Outcome": t["label"], "Interval": [f"{names[a]} to {names[b]}" for a, b in zip(t["from"], t["to"], strict=True)],
            "Group": t["group"].map(labels), "n": [count(n) for n in t["n"]],
            "Median (Q1, Q3)": [f"{num(m, 2)} ({num(a, 2)}, {num(b, 2)})" for m, a, b in zip(t["median"], t["q1"], t["q3"], strict=True)],
            "SRM": [num(x, 2) for x in t.get("srm", pd.Series(np.nan, index=t.index))],
            "Decrease / none / increase": [f"{count(a)} / {count(b)} / {count(c)}" for a, b, c in
                                           zip(t["decrease"], t["no_change"], t["increase"], strict=True)],
            "p": [format_p(p) for p in t.get("p", pd.Series(np.nan, index=t.index))],
        })  # fmt: skip
    return Section("Within-patient change", {"paired": t}, display,
                   caption="Change within patients over each interval.",
                   footnotes=["p: Wilcoxon signed-rank test of the change against zero."],
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


def _association_methods(study: Study, spec: dict[str, Any]) -> str:
    pairs = "; ".join(f"{var_label(study, x)} with {var_label(study, y)}" for x, y in spec["pairs"])
    kind = "Spearman's rank" if spec.get("method", "spearman") == "spearman" else "Pearson's"
    return f"Associations ({kind} correlation): {pairs}."


@register("association", {"pairs", "method"}, methods=_association_methods)
def association(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Correlation of named pairs: baseline predicts change, change against change."""
    t = an.association(study, data, spec)
    display = pd.DataFrame({
        "x": t["x_label"], "y": t["y_label"], "n": [count(n) for n in t["n"]],
        "r": [num(r, 2) for r in t["r"]],
        "95% CI": [interval(a, b, 2) for a, b in zip(t["ci_low"], t["ci_high"], strict=True)],
        "p": [format_p(p) for p in t["p"]],
    })  # fmt: skip
    return Section("Associations", {"association": t}, display,
                   caption="Correlation of each pair of variables.")  # fmt: skip


def _response_methods(study: Study, spec: dict[str, Any]) -> str:
    return (f"Response of {study.outcome(str(spec['outcome'])).label} is classed by the EULAR response "
            "criteria (van Gestel et al. 1996) from baseline to each visit, and disease activity "
            f"at each visit by the {spec.get('cutoffs', 'das28_eular')} cut-offs.")  # fmt: skip


@register("response", {"outcome", "cutoffs"}, methods=_response_methods)
def response(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """EULAR response and disease-activity states (remission, low ...) at each visit."""
    t = an.response(study, data, spec)
    names = {v.id: v.label for v in study.visits}
    labels = {"all": "All", **_labels(study)}
    rows = []
    for (kind, visit, level), part in t.groupby(["kind", "visit", "level"], sort=False):
        row = {"": f"{kind} at {names.get(str(visit), visit)}: {level}"}
        for g, head in labels.items():
            r = part[part["group"] == g]
            if not r.empty:
                row[head] = (
                    f"{count(r['n'].iloc[0])} / {count(r['total'].iloc[0])} ({num(r['percent'].iloc[0], 1)}%)"
                )
        rows.append(row)
    outcome = study.outcome(str(spec["outcome"])).label
    return Section(f"Response and disease activity ({outcome})", {"response": t}, pd.DataFrame(rows),
                   caption=f"EULAR response and {outcome} states, n / N with values (%).",
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


# -- planning -------------------------------------------------------------------------------------


def _sample_size_methods(study: Study, spec: dict[str, Any]) -> str:
    t = an.sample_size(spec)
    return " ".join(str(x) for x in t["text"])


@register("sample_size", {"calculations"}, methods=_sample_size_methods, needs_cohort=False)
def sample_size(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """The study's sample-size calculations, recomputed from their stated assumptions."""
    t = an.sample_size(spec)
    display = pd.DataFrame({"Calculation": t["label"], "Assumptions": t["assumptions"],
                            "Required n": [count(n) for n in t["n_required"]],
                            "Stated n": [count(n) if np.isfinite(n) else "" for n in t["stated_n"]],
                            "Method": t["method"]})  # fmt: skip
    return Section(
        "Sample size",
        {"sample_size": t},
        display,
        caption="Sample-size calculations recomputed from the stated assumptions.",
    )
