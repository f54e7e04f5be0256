"""The live score panel: joint counts and composite scores of the visit being entered.

Scores come from :func:`rheumetrics.measures.score_frame` (lenient, so a missing input gives no
value and a reason instead of an error); nothing is computed here. HAQ-DI is entered by category:
each category's score (the highest item score in that category, Bruce & Fries 2003) is passed as
the category's first item, and "aids or help used" as the category's help flag, which raises the
category to at least 2 exactly as an aid or device does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

from rheumetrics.app.forms import HAQ_AID_FIELDS, HAQ_FIELDS, VisitInput
from rheumetrics.joints import COUNT_COLUMNS, joint_set
from rheumetrics.measures import DEFAULT, MEASURES, score_frame
from rheumetrics.measures.haq import HAQ_CATEGORIES, HAQ_HELP, HAQ_ITEMS
from rheumetrics.measures.units import CRP_MG_DL_IMPLAUSIBLE
from rheumetrics.store.jointbits import BIT_OF, STORAGE_ORDER, count

RA_SCORES = ("das28_esr", "das28_crp", "sdai", "cdai", "haq_di")
AXSPA_SCORES = ("asdas_crp", "asdas_esr", "basdai")
#: Lab values older than this many days before the visit are flagged (``serve --stale-lab-days``).
STALE_LAB_DAYS = 30


@dataclass
class ScoreLine:
    name: str
    label: str
    value: str | None
    category: str | None
    missing: str | None


@dataclass
class Panel:
    counts: dict[str, int | None]
    scores: list[ScoreLine]
    warnings: list[str] = field(default_factory=list)


def joint_masks(joints: dict[str, str]) -> dict[str, np.ndarray]:
    """The four ``(1, 68)`` finding arrays of a homunculus state map."""
    states = np.array([joints.get(j, "x") for j in STORAGE_ORDER])
    assessed = np.isin(states, ("n", "t", "s", "b"))
    return {
        "tender": np.isin(states, ("t", "b"))[None, :],
        "tender_assessed": assessed[None, :],
        "swollen": np.isin(states, ("s", "b"))[None, :],
        "swollen_assessed": assessed[None, :],
    }


def joint_counts(joints: dict[str, str]) -> dict[str, int | None]:
    """Standard joint counts (``tjc28``, ``sjc28``, ``sjc44``, ``tjc68``, ``sjc66``); None when a
    joint of the set was not assessed (no proration)."""
    m = joint_masks(joints)
    out: dict[str, int | None] = {}
    for set_name, col in COUNT_COLUMNS.items():
        state = "tender" if set_name.startswith("tender") else "swollen"
        c = count(m[state], m[f"{state}_assessed"], joint_set_ids(set_name))[0]
        out[col] = None if np.isnan(c) else int(c)
    return out


#: The standard joint sets (immutable tuples), looked up once.
joint_set_ids = cache(joint_set)


def _frame(v: VisitInput, counts: dict[str, int | None]) -> pd.DataFrame:
    row: dict[str, float] = {k: np.nan if x is None else float(x) for k, x in counts.items()}
    for name, value in v.values.items():
        if name not in HAQ_FIELDS and name not in HAQ_AID_FIELDS:
            row[name] = np.nan if value is None else float(value)
    for cat in HAQ_CATEGORIES:
        score = v.values.get(f"haq_{cat}")
        for col in HAQ_ITEMS[cat]:
            row[col] = np.nan
        row[HAQ_ITEMS[cat][0]] = np.nan if score is None else score
        row[HAQ_HELP[cat]] = 1.0 if v.values.get(f"haq_aid_{cat}") else np.nan
    return pd.DataFrame([row])


def panel(v: VisitInput, diagnosis: str | None, stale_days: int = STALE_LAB_DAYS) -> Panel:
    """Counts, scores with categories and missing inputs, and warnings for one visit form."""
    counts = joint_counts(v.joints)
    names = AXSPA_SCORES if diagnosis in ("axspa", "as", "spa") else RA_SCORES
    df = _frame(v, counts)
    scores = score_frame(df, DEFAULT, lenient=True, measures=list(names))
    lines = []
    for name in names:
        m = MEASURES[name]
        value = float(scores[name].iloc[0])
        cat_col = f"{name}_category"
        category = scores[cat_col].iloc[0] if cat_col in scores else None
        reason = scores[f"{name}_reason"].iloc[0] if f"{name}_reason" in scores else None
        shown = None if np.isnan(value) else f"{m.display(value):.{m.digits}f}"
        lines.append(
            ScoreLine(
                name,
                m.label,
                shown,
                None if pd.isna(category) else str(category),
                None if reason is None or pd.isna(reason) else _missing_text(str(reason)),
            )
        )
    return Panel(counts, lines, warnings(v, stale_days))


def _missing_text(reason: str) -> str:
    """The scoring core's reason, field names kept as they are (long ones shortened)."""
    return reason if len(reason) < 400 else reason[:400] + "..."


def warnings(v: VisitInput, stale_days: int) -> list[str]:
    """CRP unit and stale lab warnings of a visit form."""
    out = []
    if (
        v.crp_unit == "mg/dL"
        and v.crp_entered is not None
        and v.crp_entered > CRP_MG_DL_IMPLAUSIBLE
    ):
        out.append(
            f"CRP {v.crp_entered:g} mg/dL is above {CRP_MG_DL_IMPLAUSIBLE:g} mg/dL "
            f"({CRP_MG_DL_IMPLAUSIBLE * 10:g} mg/L): was it measured in mg/L? (1 mg/dL = 10 mg/L)"
        )
    has_lab = v.values.get("crp_mg_l") is not None or v.values.get("esr_mm_h") is not None
    if has_lab and v.lab_date is not None:
        age = (v.visit_date - v.lab_date).days
        if age > stale_days:
            out.append(
                f"lab values are {age} days older than the visit (sampled {v.lab_date}); "
                f"this clinic flags labs older than {stale_days} days"
            )
    absent = [j for j, s in v.joints.items() if s == "p" and j in BIT_OF]
    if absent:
        out.append(
            f"{len(absent)} joint(s) marked prosthesis/absent count as not assessed: counts over "
            "sets containing them are missing, not prorated"
        )
    return out
