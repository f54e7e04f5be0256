"""Tables of the adjusted analyses: least-squares group means, one variable's association
within an adjusted model, and a study's data without named patients (sensitivity analyses).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pandas as pd

from rheumetrics import stats as st
from rheumetrics.errors import ProblemCollector
from rheumetrics.study.definitions import Study
from rheumetrics.study.design import StudyData, check_model_variables


def names(value: Any) -> list[str]:
    """One name or a list of names as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _frame(study: Study, data: StudyData, where: str, used: Sequence[str]) -> pd.DataFrame:
    frame = data.frame.copy()
    frame["group"] = frame["group"].astype(str)
    absent = [c for c in used if c not in frame.columns]
    if absent:
        problems = ProblemCollector(f"{where} variables")
        for c in absent:
            problems.add(f"analyses.{where}", "variable", c, "not in the analysis frame")
        problems.raise_if_any()
    check_model_variables(study, frame, [c for c in used if c != used[0]], where)
    return frame


def adjusted_means(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Least-squares mean of ``outcome`` in each group (and each group's difference from the
    first group), adjusted for ``predictors`` and ``confounders`` (complete cases)."""
    predictors, confounders = names(spec.get("predictors")), names(spec.get("confounders"))
    used = [spec["outcome"], "group", *predictors, *confounders]
    frame = _frame(study, data, "adjusted_means", used)
    out = st.adjusted_means(
        frame, spec["outcome"], "group", predictors, confounders,
        reference={"group": study.groups[0].id}, weights=spec.get("weights", "equal"),
        confidence=float(spec.get("confidence", 0.95)), missing="drop",
    )  # fmt: skip
    # one key column a locator can name: the group id, or "B vs A" for a difference
    out.insert(0, "group", [lv.replace(" - ", " vs ") for lv in out["level"]])
    return out


def adjusted_association(study: Study, data: StudyData, spec: dict[str, Any]) -> pd.DataFrame:
    """Each of ``variables`` added in turn to the adjusted model of ``outcome`` (in place of
    ``replace`` when given): its estimate, CI and t-test p, and the model's n."""
    predictors, confounders = names(spec.get("predictors")), names(spec.get("confounders"))
    replace = spec.get("replace")
    rows = []
    for var in names(spec["variables"]):
        adjusted = [c for c in confounders if c not in (replace, var)]
        used = [spec["outcome"], var, *predictors, *adjusted]
        frame = _frame(study, data, "adjusted_association", used)
        fit = st.linear_regression(
            frame, spec["outcome"], [var, *predictors], adjusted,
            reference={"group": study.groups[0].id}, missing="drop",
        )  # fmt: skip
        term = fit[fit["term"] == var].iloc[0]
        model = fit.attrs["model"]
        rows.append({"variable": var, "label": data.labels.get(var, var),
                     "replaces": replace or "", "estimate": term["estimate"], "se": term["se"],
                     "ci_low": term["ci_low"], "ci_high": term["ci_high"], "stat": term["stat"],
                     "df": term["df"], "p": term["p"], "n": model["n"],
                     "n_dropped": model["n_dropped"]})  # fmt: skip
    out = pd.DataFrame(rows)
    out.attrs["conventions"] = {"model": "OLS", "ci": "t", "replaces": replace or "",
                                "adjusted_for": [*predictors, *confounders]}  # fmt: skip
    return out


def without_patients(data: StudyData, patients: Sequence[str], where: str) -> StudyData:
    """``data`` without every enrolment and read of ``patients`` (each must be in the study)."""
    known = set(data.frame["patient_id"].astype(str))
    unknown = [p for p in patients if p not in known]
    if unknown:
        problems = ProblemCollector("sensitivity analysis")
        for p in unknown:
            problems.add(f"analyses.{where}", "exclude", p, "not a patient enrolled in the study")
        problems.raise_if_any()
    drop = set(patients)

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        if "patient_id" not in frame.columns:
            return frame
        return frame[~frame["patient_id"].astype(str).isin(drop)]

    return dataclasses.replace(
        data, frame=keep(data.frame), enrolments=keep(data.enrolments), ratings=keep(data.ratings)
    )
