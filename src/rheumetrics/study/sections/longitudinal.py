"""Registered within-patient analyses: paired tests per interval, associations between
variables and EULAR response counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.study import analyses as an
from rheumetrics.study import analysis_checks as checks
from rheumetrics.study.definitions import Study
from rheumetrics.study.design import StudyData
from rheumetrics.study.formatting import (
    count,
    format_p,
    integer_valued,
    interval,
    num,
)
from rheumetrics.study.registry import Section, register
from rheumetrics.study.sections.common import group_labels, var_label

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
    check=checks.paired,
)
def paired(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Within-patient change over several intervals (single-arm longitudinal designs)."""
    t = an.paired(study, data, spec)
    names = {v.id: v.label for v in study.visits}
    labels = {"all": "All", **group_labels(study)}
    display = None
    if not t.empty:
        digits = [study.outcome(str(o)).digits for o in t["outcome"]]
        trim = [integer_valued(data.frame[f"change:{o}@{a}-{b}"])
                for o, a, b in zip(t["outcome"], t["from"], t["to"], strict=True)]  # fmt: skip
        quartiles = [f"{num(m, d, trim=w)} ({num(a, d, trim=w)}, {num(b, d, trim=w)})"
                     for m, a, b, d, w in zip(t["median"], t["q1"], t["q3"], digits, trim, strict=True)]  # fmt: skip
        display = pd.DataFrame({
            "Outcome": t["label"], "Interval": [f"{names[a]} to {names[b]}" for a, b in zip(t["from"], t["to"], strict=True)],
            "Group": t["group"].map(labels), "n": [count(n) for n in t["n"]],
            "Median (Q1, Q3)": quartiles,
            "SRM": [num(x, 2) for x in t.get("srm", pd.Series(np.nan, index=t.index))],
            "Decrease / none / increase": [f"{count(a)} / {count(b)} / {count(c)}" for a, b, c in
                                           zip(t["decrease"], t["no_change"], t["increase"], strict=True)],
            "p": [format_p(p) for p in t.get("p", pd.Series(np.nan, index=t.index))],
        })  # fmt: skip
        if len(study.groups) == 1:
            display = display.drop(columns="Group")
    return Section("Within-patient change", {"paired": t}, display,
                   caption="Change within patients over each interval.",
                   footnotes=["p: Wilcoxon signed-rank test of the change against zero."],
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


def _association_methods(study: Study, spec: dict[str, Any]) -> str:
    pairs = "; ".join(f"{var_label(study, x)} with {var_label(study, y)}" for x, y in spec["pairs"])
    kind = "Spearman's rank" if spec.get("method", "spearman") == "spearman" else "Pearson's"
    return f"Associations ({kind} correlation): {pairs}."


@register(
    "association", {"pairs", "method"}, methods=_association_methods, check=checks.association
)
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
    from rheumetrics.measures.cutoffs import cutoff_set

    return (f"Response of {study.outcome(str(spec['outcome'])).label} is classed by the EULAR response "
            "criteria (van Gestel et al. 1996) from baseline to each visit, and disease activity "
            f"at each visit by the cut-offs of {cutoff_set(spec.get('cutoffs', 'das28_eular')).source}.")  # fmt: skip


@register("response", {"outcome", "cutoffs"}, methods=_response_methods, check=checks.response)
def response(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """EULAR response and disease-activity states (remission, low ...) at each visit."""
    t = an.response(study, data, spec)
    names = {v.id: v.label for v in study.visits}
    labels = {"all": "All", **group_labels(study)}
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
