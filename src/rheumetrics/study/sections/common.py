"""Wording and labels shared by the registered analyses: test names, summary styles, group
headers and variable labels.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from rheumetrics.study.definitions import Study
from rheumetrics.study.design import StudyData, study_labels

_TESTS = {
    "median_test": "Mood's median test (the 'median two-sample test' of SAS NPAR1WAY; Mood 1950)",
    "mann_whitney": "the Wilcoxon-Mann-Whitney rank-sum test (Mann & Whitney 1947)",
}
#: How each median-test variant gets its p (rheumetrics.stats.median_test).
_VARIANTS = {
    "permutation": "the permutation-variance chi-square ((N - 1)/N times Pearson's chi-square on "
                   "the 2 x k table, as SAS NPAR1WAY MEDIAN) with its asymptotic chi-square p",
    "pearson": "Pearson's chi-square on the 2 x k table with its asymptotic chi-square p",
    "exact": "the exact conditional p over every 2 x k table with the observed margins "
             "(Fisher's exact test of the table; network algorithm of Mehta & Patel 1983)",
}  # fmt: skip
#: How the Mann-Whitney p is computed (rheumetrics.stats.mann_whitney, method="auto").
_MANN_WHITNEY_P = (
    "exact p when both groups have fewer than 50 values and no ties, otherwise the normal "
    "approximation with tie-corrected variance and continuity correction (as R wilcox.test)"
)
_SUMMARIES = {
    "median_range": ("median (minimum, maximum)", ("median", "min", "max"), ("Median", "Minimum", "Maximum")),
    "median_iqr": ("median (quartiles)", ("median", "q1", "q3"), ("Median", "Q1", "Q3")),
    "mean_sd": ("mean (SD)", ("mean", "sd"), ("Mean", "SD")),
}  # fmt: skip


def group_labels(study: Study) -> dict[str, str]:
    """Each group id with its label as the study file gives it, in study order."""
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
    """The between-group test and how its p is computed (only the options that apply to it)."""
    test = spec.get("test", "median_test")
    text = _TESTS[test]
    if test == "mann_whitney":
        return f"{text}, {_MANN_WHITNEY_P}"
    text += f", {_VARIANTS[spec.get('variant', 'permutation')]}"
    if spec.get("ties") == "mean":
        text += ", values tied across the median given their averaged median scores (SAS)"
    return text


def _visit_names(study: Study) -> tuple[str, str]:
    names = {v.id: v.label for v in study.visits}
    a, b = study.change or ("", "")
    return names.get(a, a), names.get(b, b)


def var_label(study: Study, var: str) -> str:
    """An analysis variable as a reader names it, from the study-wide lookup
    (:func:`rheumetrics.study.design.study_labels`): ``ΔDAS28CRP``, ``MRI erosion (Visit 1)``,
    ``ΔMRI erosion (Week 0 to Week 12)``; an unknown name prints with spaces for underscores."""
    if var == "group":  # running text: "the effect of ΔDAS28CRP and group"
        return "group"
    return study_labels(study).get(var) or var.replace("_", " ")


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])
