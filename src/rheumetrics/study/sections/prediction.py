"""Registered prediction analyses: ROC, logistic regression and paired proportions."""

from __future__ import annotations

from typing import Any

import pandas as pd

from rheumetrics import stats as st
from rheumetrics.study import analyses as an
from rheumetrics.study import analysis_checks as checks
from rheumetrics.study.definitions import Study
from rheumetrics.study.design import StudyData
from rheumetrics.study.formatting import (
    count,
    format_p,
    interval,
    num,
    p_text,
    term_label,
)
from rheumetrics.study.registry import Section, register
from rheumetrics.study.sections.common import _as_list, group_labels, var_label


def _roc_methods(study: Study, spec: dict[str, Any]) -> str:
    rule = spec.get("label") or f"{var_label(study, spec['truth'])} {spec['positive']}"
    paired = (
        "; the two scores are compared with DeLong's paired test"
        if len(spec.get("scores", ())) == 2
        else ""
    )
    return (f"Discrimination of '{rule}' is the area under the empirical ROC "
            f"curve with DeLong's confidence interval (DeLong et al. 1988), the cut-off maximising "
            f"Youden's J (Youden 1950){paired}.")  # fmt: skip


@register("roc", {"truth", "positive", "label", "scores", "higher_is_positive"}, methods=_roc_methods,
          check=checks.roc)  # fmt: skip
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


def _logistic_methods(study: Study, spec: dict[str, Any]) -> str:
    event = spec.get("label") or f"{var_label(study, spec['truth'])} {spec['positive']}"
    preds = [var_label(study, v) for v in _as_list(spec["predictors"])]
    conf = [var_label(study, v) for v in _as_list(spec.get("confounders"))]
    return (f"Predictors of '{event}' are estimated by logistic regression (maximum likelihood, "
            f"complete cases) of {' and '.join(preds)}" + (f" adjusted for {', '.join(conf)}" if conf else "")
            + "; odds ratios with Wald 95% confidence intervals.")  # fmt: skip


@register("logistic", {"truth", "positive", "label", "predictors", "confounders", "labels"},
          methods=_logistic_methods, check=checks.logistic)  # fmt: skip
def logistic(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Logistic regression of an event defined by an explicit rule, with odds ratios."""
    t = an.logistic(study, data, spec)
    model = t.attrs.get("model", {})
    named = [*_as_list(spec["predictors"]), *_as_list(spec.get("confounders"))]
    labels = {**{v: var_label(study, v) for v in named}, **data.labels}
    refs = {"group": study.groups[0].id}
    t = t.assign(
        label=[term_label(str(x), labels, {"group": group_labels(study)}, refs) for x in t["term"]]
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


@register("paired_proportions", {"first", "second", "method"}, methods=_paired_proportions_methods,
          check=checks.paired_proportions)  # fmt: skip
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
