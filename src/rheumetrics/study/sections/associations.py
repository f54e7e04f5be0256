"""Registered analyses of associations: correlation, regression, reliability, responsiveness
and the change scatter.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.study import analyses as an
from rheumetrics.study import analysis_checks as checks
from rheumetrics.study.definitions import Study
from rheumetrics.study.design import StudyData
from rheumetrics.study.figures import change_scatter, scatter_key
from rheumetrics.study.formatting import (
    count,
    format_p,
    interval,
    num,
    term_label,
)
from rheumetrics.study.registry import Section, register
from rheumetrics.study.sections.common import _as_list, group_labels, var_label

# -- associations ----------------------------------------------------------------------------------


def _correlation_methods(study: Study, spec: dict[str, Any]) -> str:
    kind = spec.get("method", "spearman")
    name = "Spearman's rank correlation" if kind == "spearman" else "Pearson's correlation"
    return (f"The association between the change in {study.outcome(str(spec['x'])).label} and the "
            f"other changes is measured by {name}, all groups together.")  # fmt: skip


@register("correlation", {"x", "y", "method", "ci"}, methods=_correlation_methods, needs_change=True,
          check=checks.correlation)  # fmt: skip
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


def _regression_methods(study: Study, spec: dict[str, Any]) -> str:
    conf = [var_label(study, v) for v in _as_list(spec.get("confounders"))]
    preds = [var_label(study, v) for v in _as_list(spec["predictors"])]
    return (f"The effect of {' and '.join(preds)} on {var_label(study, spec['outcome'])} is "
            f"estimated by multiple linear regression (ordinary least squares, complete cases)"
            + (f" adjusted for {', '.join(conf)}." if conf else "."))  # fmt: skip


@register("regression", {"outcome", "predictors", "confounders", "labels"}, methods=_regression_methods,
          check=checks.regression)  # fmt: skip
def regression(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Multiple linear regression of ``outcome`` on ``predictors`` and ``confounders``."""
    t = an.regression(study, data, spec)
    model = t.attrs.get("model", {})
    named = [*_as_list(spec["predictors"]), *_as_list(spec.get("confounders"))]
    labels = {**{v: var_label(study, v) for v in named}, **data.labels}
    levels = {"group": group_labels(study)}
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


@register("reliability", {"outcome", "form", "confidence"}, methods=_reliability_methods,
          check=checks.reliability)  # fmt: skip
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
    labels = group_labels(study)
    display = None if t.empty else pd.DataFrame({
        "Change": "Δ" + t["label"], "Group": t["group"].map(labels).fillna(t["group"]),
        "n": [count(n) for n in t["n"]], "Mean": [num(x, 2) for x in t["mean"]],
        "SD": [num(x, 2) for x in t["sd"]], "SRM": [num(x, 2) for x in t["srm"]],
    })  # fmt: skip
    single = len(study.groups) == 1
    if display is not None and single:
        display = display.drop(columns="Group")
    return Section("Responsiveness (standardised response mean)", {"responsiveness": t}, display,
                   caption="Standardised response mean of each change"
                           + ("." if single else " by group."))  # fmt: skip


def _scatter_methods(study: Study, spec: dict[str, Any]) -> str:
    return (f"Outliers of the change scatter are points whose internally studentised residual "
            f"from the least-squares line exceeds {float(spec.get('outlier_t', 3)):g} in absolute "
            f"value (Cook & Weisberg 1982).")  # fmt: skip


@register("scatter", {"x", "y", "outlier_t", "mark"}, methods=_scatter_methods, needs_change=True,
          check=checks.scatter)  # fmt: skip
def scatter(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """The change in ``y`` against the change in ``x``, outliers marked."""
    t = an.scatter_outliers(study, data, spec)
    x, y = f"change:{spec['x']}", f"change:{spec['y']}"
    xl, yl = data.labels[x], data.labels[y]
    labels = group_labels(study)
    fig = change_scatter(t, x, y, xl, yl, list(labels.items()))
    marked = t[t["outlier"]]
    display = pd.DataFrame({
        "Patient": marked["patient_id"], "Group": marked["group"].astype(str).map(labels),
        xl: [num(v, 2) for v in marked[x]], yl: [num(v, 2, trim=True) for v in marked[y]],
        "Studentised residual": [num(v, 2) for v in marked["studentised_residual"]],
    })  # fmt: skip
    note = t.attrs.get("conventions", {}).get("outlier", "")
    arrow = f"the arrow marks the outlier ({note})" if len(marked) else f"no outlier ({note})"
    caption = (f"{yl} against {xl}; each point is one enrolment "
               f"({scatter_key(len(t), list(labels.items()))}); {arrow}.")  # fmt: skip
    return Section(f"{yl} against {xl}", {"scatter": t}, display if len(display) else None,
                   caption="Outliers of the change scatter.", figures={"scatter": (fig, caption)},
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip
