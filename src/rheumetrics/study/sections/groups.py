"""Registered analyses describing and comparing the groups: flow (with the flow diagram),
characteristics, scores by visit, changes and direction of change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.study import analyses as an
from rheumetrics.study.analyses.groups import several_enrolments
from rheumetrics.study.definitions import Study
from rheumetrics.study.design import StudyData
from rheumetrics.study.figures import trajectories
from rheumetrics.study.flow_diagram import flow_svg, screening_counts
from rheumetrics.study.formatting import (
    count,
    format_p,
    integer_valued,
    num,
)
from rheumetrics.study.registry import Section, register
from rheumetrics.study.sections.common import (
    _SUMMARIES,
    _compare_text,
    _group_header,
    _kinds,
    _visit_names,
    group_labels,
)

# -- flow ------------------------------------------------------------------------------------


def _compared(study: Study) -> bool:
    """Whether the study has groups to compare (a single-arm study has none)."""
    return len(study.groups) > 1


def _shown_groups(study: Study) -> list[str]:
    """The group columns of a table: Total and each group, or the one group of a single arm."""
    ids = list(group_labels(study))
    return list(dict.fromkeys(["all", *ids])) if _compared(study) else ids[:1]


def _flow_methods(study: Study, spec: dict[str, Any]) -> str:
    return ("Patient flow is counted from the data: enrolments, data present at each visit window "
            "and complete pairs for the change analysed.")  # fmt: skip


@register("flow", methods=_flow_methods)
def flow(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Patients and enrolments, data at each visit, dropouts and complete pairs, by group."""
    t = an.patient_flow(study, data)
    heads = _group_header(study, data)
    patients = int(data.frame["patient_id"].nunique())
    if patients != len(data.frame):  # the Total column counts enrolments (and patients once)
        heads["all"] = f"Total (N = {len(data.frame)} enrolments of {patients} patients)"
    wide = t.pivot_table(index="stage", columns="group", values="n", aggfunc="first", sort=False)
    wide = wide[[c for c in dict.fromkeys(["all", *group_labels(study)]) if c in wide.columns]]
    display = pd.DataFrame({"Stage": wide.index})
    for c in wide.columns:
        display[heads[c]] = [count(x) for x in wide[c]]
    counts = screening_counts(data.screening)
    svg = flow_svg(counts, t, [(g.id, g.label) for g in study.groups])
    caption = ("Patient flow, drawn from the data: patients in the cohort, excluded (with the "
               "reasons), enrolled, and per group the data at each visit and the enrolments "
               "with complete data.")  # fmt: skip
    notes = []
    if several_enrolments(study):
        notes.append("Total: the rows of patients count each patient once, the other rows count "
                     "enrolments; a patient enrolled in two groups is counted in each group.")  # fmt: skip
    return Section("Patient flow", {"flow": t, "screening": counts}, display,
                   caption="Patients through the study, counted from the data.", footnotes=notes,
                   diagrams={"flow_diagram": (svg, caption)},
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


# -- characteristics and scores ------------------------------------------------------------------


def _characteristics_methods(study: Study, spec: dict[str, Any]) -> str:
    text = (f"Characteristics at enrolment are summarised as n (%) and "
            f"{_SUMMARIES[spec.get('summary', 'median_range')][0]}")  # fmt: skip
    if not _compared(study):
        return text + "."
    return (f"{text}; numeric ones compared between groups with {_compare_text(spec)}, "
            f"categorical ones with Pearson's chi-square, or Fisher's exact test when an "
            f"expected count is below 5 (Cochran 1954).")  # fmt: skip


@register(
    "characteristics", {"test", "variant", "ties", "summary"}, methods=_characteristics_methods
)
def characteristics(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Table 1: characteristics at enrolment by group, with p-values (when there are groups)."""
    t = an.characteristics(study, data, spec)
    frame = data.patients if study.characteristics_unit == "patient" else data.frame
    heads = _group_header(study, data, frame)
    compared = _compared(study)
    t = t.assign(row=t["label"] + np.where(t["level"] != "", ": " + t["level"], ""))
    rows: list[dict[str, Any]] = []
    for row, part in t.groupby("row", sort=False):
        out: dict[str, Any] = {"Characteristic": row}
        for g in _shown_groups(study):
            r = part[part["group"] == g]
            out[heads[g]] = "" if r.empty else str(r["text"].iloc[0])
        first = not rows or part["variable"].iloc[0] != rows[-1]["_variable"]
        if compared:
            out["p"] = format_p(part["p"].iloc[0]) if first else ""
            out["Test"] = str(part["test"].iloc[0]).split(" (")[0] if first else ""
        out["_variable"] = part["variable"].iloc[0]
        rows.append(out)
    summary = _SUMMARIES[spec.get("summary", "median_range")][0]
    notes = [f"Categorical: n (%); numeric: {summary}."]
    if compared:
        notes.append(f"p: numeric {_compare_text(spec)}; categorical Pearson's chi-square, or "
                     f"Fisher's exact test when an expected count is below 5.")  # fmt: skip
        ran = [str(x) for x in dict.fromkeys(t["test"]) if str(x).startswith("Mann-Whitney U (")]
        if ran:  # which p the data gave: exact or normal approximation
            notes.append("Mann-Whitney p here: " + "; ".join(r.removeprefix("Mann-Whitney U ")
                                                             .strip("()") for r in ran) + ".")  # fmt: skip
    return Section("Patient characteristics at enrolment", {"characteristics": t.drop(columns="row")},
                   pd.DataFrame(rows).drop(columns="_variable"),
                   caption="Characteristics at enrolment" + (" by group." if compared else "."),
                   footnotes=notes, conventions=t.attrs.get("conventions", {}))  # fmt: skip


def _scores_methods(study: Study, spec: dict[str, Any]) -> str:
    text = (f"Outcomes at each visit are summarised{' by group' if _compared(study) else ''} as "
            f"{_SUMMARIES[spec.get('summary', 'median_range')][0]}")  # fmt: skip
    if _compared(study):
        text += f" and compared with {_compare_text(spec)}"
    return text + "; missing values are excluded and N counts the values present."


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
    shown_groups = _shown_groups(study)
    rows: list[list[str]] = []
    columns = [("", "Visit"), ("", "Outcome")]
    for g in shown_groups:
        columns += [(heads[g], "N"), *((heads[g], n) for n in names)]
    if _compared(study):
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
            row += [
                count(r0["n"]),
                *(num(r0[s], digits, trim=trim and s not in ("mean", "sd")) for s in stats_),
            ]
        if _compared(study):
            row.append(format_p(part["p"].iloc[0]))
        rows.append(row)
    return pd.DataFrame(rows, columns=pd.MultiIndex.from_tuples(columns))


def _p_note(study: Study, spec: dict[str, Any]) -> list[str]:
    return [f"p: {_compare_text(spec)}."] if _compared(study) else []


@register("scores", {"outcomes", "test", "variant", "ties", "summary"}, methods=_scores_methods)
def scores(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Table 2: every outcome at every visit by group."""
    t = an.scores_by_visit(study, data, spec)
    summary = _SUMMARIES[spec.get("summary", "median_range")][0]
    by = " by group" if _compared(study) else ""
    sec = Section("Scores at each visit", {"scores": t}, _scores_display(study, data, t, spec),
                  caption=f"{_kinds(study).capitalize()} at each visit{by}.",
                  footnotes=[f"N: values present; {summary}.", *_p_note(study, spec)],
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
            f"Median (line) and interquartile range (band) of each outcome at each visit{by}.",
        )
    return sec


def _changes_methods(study: Study, spec: dict[str, Any]) -> str:
    a, b = _visit_names(study)
    if not _compared(study):
        return f"Changes ({b} minus {a}) are summarised in the same way."
    return (f"Changes ({b} minus {a}) are summarised and compared between groups in the same way "
            f"({_compare_text(spec)}).")  # fmt: skip


@register(
    "changes",
    {"outcomes", "test", "variant", "ties", "summary"},
    methods=_changes_methods,
    needs_change=True,
)
def changes(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """The change of each outcome between the two visits of ``change``, by group."""
    t = an.scores_by_visit(study, data, spec, change=True)
    a, b = _visit_names(study)
    by = " by group" if _compared(study) else ""
    p = f"; p: {_compare_text(spec)}" if _compared(study) else ""
    return Section("Change between visits", {"changes": t}, _scores_display(study, data, t, spec),
                   caption=f"Change from {a} to {b}{by}.",
                   footnotes=[f"Change = value at {b} minus value at {a}{p}."],
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip


def _direction_methods(study: Study, spec: dict[str, Any]) -> str:
    return f"Each change is classed as a decrease, no change (|change| <= {float(spec.get('tolerance', 0)):g}) or an increase."


@register("direction", {"outcomes", "tolerance"}, methods=_direction_methods, needs_change=True)
def direction(study: Study, data: StudyData, spec: dict[str, Any]) -> Section:
    """Decrease / no change / increase of each change, n (%) by group."""
    t = an.direction(study, data, spec)
    display = None
    if not t.empty:
        heads = _group_header(study, data)
        rows = []
        for (label, d), part in t.groupby(["label", "direction"], sort=False):
            row = {"Change": f"Δ{label}: {str(d).replace('_', ' ')}"}
            for g in _shown_groups(study):
                r = part[part["group"] == g]
                row[heads[g]] = (
                    "" if r.empty else f"{count(r['n'].iloc[0])} ({num(r['percent'].iloc[0], 1)}%)"
                )
            rows.append(row)
        display = pd.DataFrame(rows)
    return Section("Direction of change", {"direction": t}, display,
                   caption="Direction of change between the visits, n (%) of those with both values.",
                   conventions=t.attrs.get("conventions", {}))  # fmt: skip
