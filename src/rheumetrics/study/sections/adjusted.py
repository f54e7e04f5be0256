"""Registered adjusted analyses: least-squares group means (ANCOVA), one variable's association
within the adjusted model, and sensitivity analyses re-running an analysis without named patients.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from rheumetrics.study.analyses import adjusted as an
from rheumetrics.study.analysis_checks import variable_names
from rheumetrics.study.definitions import Study
from rheumetrics.study.design import StudyData
from rheumetrics.study.file_tables import StudyFileCheck
from rheumetrics.study.formatting import count, format_p, interval, num
from rheumetrics.study.registry import REGISTRY, Section, register
from rheumetrics.study.sections.common import group_labels, var_label

_WEIGHTS = ("equal", "proportional")


def _check_model(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    """outcome required; every variable known (outcome@visit, change:outcome, group, others)."""
    known = variable_names(study)
    if not isinstance(spec.get("outcome"), str):
        c.add(where, "outcome", spec.get("outcome"), "required: the outcome variable")
    for key in ("outcome", "predictors", "confounders", "variables", "replace"):
        values = spec.get(key)
        for var in [values] if isinstance(values, str) else values or []:
            if not isinstance(var, str):
                c.add(where, key, var, "must be a variable name")
            elif var not in known and ("@" in var or var.startswith("change:")):
                c.add(where, key, var, "unknown variable; use outcome@visit, change:outcome, "
                      "group, or a characteristic / patient attribute")  # fmt: skip


def _check_means(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    _check_model(c, study, where, spec)
    if spec.get("weights", "equal") not in _WEIGHTS:
        c.add(where, "weights", spec.get("weights"), f"must be one of {', '.join(_WEIGHTS)}")
    conf = spec.get("confidence", 0.95)
    if isinstance(conf, bool) or not isinstance(conf, float) or not 0 < conf < 1:
        c.add(where, "confidence", conf, "must be a number between 0 and 1, e.g. 0.95")
    if "group" in an.names(spec.get("predictors")) + an.names(spec.get("confounders")):
        c.add(where, "predictors", "group", "the groups are compared already; do not name 'group'")


def _adjusted_for(study: Study, spec: dict[str, Any]) -> str:
    named = [var_label(study, v) for v in [*an.names(spec.get("predictors")),
                                           *an.names(spec.get("confounders"))]]  # fmt: skip
    return ", ".join(named) if named else "nothing"


def _means_methods(study: Study, spec: dict[str, Any]) -> str:
    weights = spec.get("weights", "equal")
    grid = ("other factors averaged over their levels with equal weights, as SAS LSMEANS and "
            "R emmeans" if weights == "equal" else "other factors at their observed shares")  # fmt: skip
    return (f"Adjusted (least-squares) means of {var_label(study, spec['outcome'])} by group come "
            f"from the linear model with group, adjusted for {_adjusted_for(study, spec)} "
            f"(complete cases): the model's prediction with numeric covariates at their means and "
            f"{grid} (Searle, Speed & Milliken 1980), with t-based confidence intervals; groups "
            f"are compared by the t test of the adjusted difference (ANCOVA).")  # fmt: skip


@register("adjusted_means", {"outcome", "predictors", "confounders", "weights", "confidence"},
          methods=_means_methods, check=_check_means)  # fmt: skip
def adjusted_means(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Least-squares mean of ``outcome`` by group, adjusted for covariates, and the difference."""
    t = an.adjusted_means(study, data, spec)
    labels = group_labels(study)
    level = 100 * float(spec.get("confidence", 0.95))
    shown = [labels.get(g, g) if k == "adjusted mean" else
             " vs ".join(labels.get(x, x) for x in g.split(" vs "))
             for g, k in zip(t["group"], t["kind"], strict=True)]  # fmt: skip
    display = pd.DataFrame({
        "Group": shown, "n": [count(n) for n in t["n"]],
        "Adjusted mean": [num(x, 2) if k == "adjusted mean" else "" for x, k in zip(t["estimate"], t["kind"], strict=True)],
        "Difference": [num(x, 2) if k == "difference" else "" for x, k in zip(t["estimate"], t["kind"], strict=True)],
        f"{level:g}% CI": [interval(a, b, 2) for a, b in zip(t["ci_low"], t["ci_high"], strict=True)],
        "p": [format_p(p) if k == "difference" else "" for p, k in zip(t["p"], t["kind"], strict=True)],
    })  # fmt: skip
    outcome = var_label(study, spec["outcome"])
    model = t.attrs.get("model", {})
    return Section(f"Adjusted means of {outcome}", {"adjusted_means": t}, display,
                   caption=f"Least-squares means of {outcome} by group, adjusted for "
                           f"{_adjusted_for(study, spec)}.",
                   footnotes=[f"Linear model on complete cases: n = {model.get('n')}, "
                              f"{model.get('n_dropped')} enrolments dropped for missing values; "
                              f"p of the adjusted difference (t test)."],
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


def _check_association(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    _check_model(c, study, where, spec)
    if not an.names(spec.get("variables")):
        c.add(where, "variables", spec.get("variables"), "required: the variables to test")
    replace = spec.get("replace")
    if replace is not None and replace not in an.names(spec.get("confounders")):
        c.add(where, "replace", replace, "must be one of the confounders")


def _association_methods(study: Study, spec: dict[str, Any]) -> str:
    tested = ", ".join(var_label(study, v) for v in an.names(spec["variables"]))
    swap = f" in place of {var_label(study, spec['replace'])}" if spec.get("replace") else ""
    return (f"The association of {tested} with {var_label(study, spec['outcome'])} is the t test "
            f"of its coefficient when added{swap} to the linear model adjusted for "
            f"{_adjusted_for(study, spec)} (complete cases).")  # fmt: skip


@register("adjusted_association", {"outcome", "variables", "predictors", "confounders", "replace"},
          methods=_association_methods, check=_check_association)  # fmt: skip
def adjusted_association(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Each named variable's coefficient when added to the adjusted model of ``outcome``."""
    t = an.adjusted_association(study, data, spec)
    display = pd.DataFrame({
        "Variable": [var_label(study, v) for v in t["variable"]], "n": [count(n) for n in t["n"]],
        "Estimate": [num(x, 3) for x in t["estimate"]], "SE": [num(x, 3) for x in t["se"]],
        "95% CI": [interval(a, b, 3) for a, b in zip(t["ci_low"], t["ci_high"], strict=True)],
        "p": [format_p(p) for p in t["p"]],
    })  # fmt: skip
    outcome = var_label(study, spec["outcome"])
    notes = [f"Each variable added to the model adjusted for {_adjusted_for(study, spec)}"
             + (f", in place of {var_label(study, spec['replace'])}" if spec.get("replace") else "")
             + "; ordinary least squares on complete cases."]  # fmt: skip
    return Section(f"Adjusted associations with {outcome}", {"adjusted_association": t}, display,
                   caption=f"Association of each variable with {outcome} in the adjusted model.",
                   footnotes=notes, conventions=t.attrs.get("conventions", {}))  # fmt: skip


def _check_sensitivity(c: StudyFileCheck, study: Study, where: str, spec: dict[str, Any]) -> None:
    name = spec.get("analysis")
    runs = [key for key in study.analyses if study.kind(key) != "sensitivity"]
    if not isinstance(name, str) or name not in runs:
        c.add(where, "analysis", name, "required: the key of another run of the study (its "
              f"name, or roc, roc_2, ... by position): {', '.join(runs) or 'none'}")  # fmt: skip
    patients = spec.get("exclude")
    if (
        not isinstance(patients, list)
        or not patients
        or not all(isinstance(p, str) for p in patients)
    ):
        c.add(where, "exclude", patients, "required: a list of patient ids to leave out")
    if not isinstance(spec.get("reason", ""), str):
        c.add(where, "reason", spec.get("reason"), "must be text")


def _sensitivity_methods(study: Study, spec: dict[str, Any]) -> str:
    why = f" ({spec['reason']})" if spec.get("reason") else ""
    return (f"A sensitivity analysis repeats the {spec['analysis'].replace('_', ' ')} analysis "
            f"without patient {', '.join(spec['exclude'])}{why}.")  # fmt: skip


@register("sensitivity", {"analysis", "exclude", "reason"}, methods=_sensitivity_methods,
          check=_check_sensitivity)  # fmt: skip
def sensitivity(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Another of the study's analyses repeated without the named patients."""
    name = str(spec["analysis"])
    patients = [str(p) for p in spec["exclude"]]
    reduced = an.without_patients(data, patients, "sensitivity")
    inner = REGISTRY[study.kind(name)].run(study, reduced, study.analyses[name])
    dropped = len(data.frame) - len(reduced.frame)
    tables = {}
    for k, (key, table) in enumerate(inner.tables.items()):
        out = table.copy()
        out.insert(0, "analysis", name)
        out.insert(1, "excluded", ", ".join(patients))
        out.attrs = dict(table.attrs)
        tables["sensitivity" if k == 0 else f"sensitivity_{key}"] = out
    why = f" ({spec['reason']})" if spec.get("reason") else ""
    notes = [f"Without patient {', '.join(patients)}{why}: {dropped} enrolment"
             f"{'s' if dropped != 1 else ''} left out.", *inner.footnotes]  # fmt: skip
    return Section(f"Sensitivity analysis: {inner.title[:1].lower()}{inner.title[1:]} without "
                   f"patient {', '.join(patients)}", tables, inner.display,
                   caption=f"{inner.caption.rstrip('.')} (sensitivity analysis, patient "
                           f"{', '.join(patients)} left out).",
                   footnotes=notes, conventions=inner.conventions)  # fmt: skip


__all__ = ["adjusted_association", "adjusted_means", "sensitivity"]
