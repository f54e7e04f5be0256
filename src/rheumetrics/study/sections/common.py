"""Wording and labels shared by the registered analyses: test names, summary styles, group
headers and variable labels.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from rheumetrics.study.design import StudyData
from rheumetrics.study.model import Study

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
        if spec.get("ties") == "mean":
            text += ", the scores of values tied across the median averaged (SAS)"
    return text


def _visit_names(study: Study) -> tuple[str, str]:
    names = {v.id: v.label for v in study.visits}
    a, b = study.change or ("", "")
    return names.get(a, a), names.get(b, b)


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


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])
