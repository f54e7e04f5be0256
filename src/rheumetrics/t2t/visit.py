"""A decision at one visit (the point of care): today's values, the current regimen, any history.

>>> d = decide_visit("eular2022_ra", {"sdai": 3.0},
...                  regimen=[{"drug": "prednisolone", "dose": 7.5, "start_date": "2020-01-01"}],
...                  visit_date="2020-03-01")
>>> d.action, d.to_step
('escalate', 'I.1')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from rheumetrics.t2t.decisions import decide
from rheumetrics.t2t.strategy import Strategy, load_strategy

_STRATEGIES: dict[tuple[str, tuple[tuple[str, str], ...]], Strategy] = {}


@dataclass(frozen=True)
class VisitDecision:
    """The decision at one visit, with everything a clinician needs to review it."""

    strategy: str
    action: str
    provisional: bool
    step: str | None
    regimen: str | None
    to_step: str | None
    to_regimen: str | None
    co_actions: str | None
    reasons: str
    rule_ids: str | None
    rules_considered: str | None
    missing: str | None
    index: str
    index_value: float | None
    target_met: bool | None
    next_visit_date: str
    evidence: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _strategy(strategy: str | Strategy, options: Mapping[str, str] | None) -> Strategy:
    if isinstance(strategy, Strategy):
        return strategy
    key = (strategy, tuple(sorted((options or {}).items())))
    if key not in _STRATEGIES:
        _STRATEGIES[key] = load_strategy(strategy, options)
    return _STRATEGIES[key]


def decide_visit(
    strategy: str | Strategy,
    visit: Mapping[str, Any],
    *,
    regimen: Sequence[Mapping[str, Any]] = (),
    history: Sequence[Mapping[str, Any]] = (),
    earlier_visits: Sequence[Mapping[str, Any]] = (),
    contraindications: Sequence[str] = (),
    visit_date: str | dt.date | None = None,
    options: Mapping[str, str] | None = None,
) -> VisitDecision:
    """Decide at one visit.

    Parameters
    ----------
    strategy
        A shipped strategy id, a strategy file path, or a loaded strategy (cached per options).
    visit
        Today's values: the strategy's index (or its inputs), ``sjc28``, ``crp_mg_l``,
        ``mri_bme_total``, ``intolerance`` and ``intolerant_drug``, ``rf_positive`` ... (see
        :func:`rheumetrics.t2t.decide`).
    regimen
        Current drugs: ``drug``, ``dose``, ``dose_unit``, ``route``, ``start_date`` (when known;
        without it the decision is provisional and says so). Empty means no drugs.
    history
        Earlier courses: as ``regimen`` plus ``stop_date`` and ``stop_reason``.
    earlier_visits
        Earlier visits (same keys as ``visit`` plus ``visit_date``), for improvement and
        sustained-target checks.
    contraindications
        Drugs, classes or mechanisms the patient must not receive (``"methotrexate"``, ``"TNF"``).
    visit_date
        Today (default: the ``visit_date`` of ``visit``, else today's date).

    Returns
    -------
    VisitDecision
        What is missing is named; a decision that depends on it is marked provisional.
    """
    s = _strategy(strategy, options)
    day = pd.Timestamp(visit_date or visit.get("visit_date") or dt.date.today())
    rows = [{**v, "patient_id": "p"} for v in earlier_visits]
    rows.append({**visit, "patient_id": "p", "visit_date": day})
    visits = pd.DataFrame(rows)
    visits["visit_date"] = pd.to_datetime(visits["visit_date"])
    courses = []
    for r in regimen:
        start = r.get("start_date")
        courses.append(
            {
                **r,
                "patient_id": "p",
                "start_date": start if start is not None else day - pd.Timedelta(days=365),
                "_unknown_start": start is None,
            }
        )
    for r in history:
        courses.append({**r, "patient_id": "p"})
    # an empty regimen at the point of care means "no drugs", not "unknown"
    therapies = pd.DataFrame(
        courses, columns=None if courses else ["patient_id", "drug", "start_date"]
    )
    unknown_start = [str(r["drug"]) for r in courses if r.get("_unknown_start")]
    therapies = therapies.drop(columns="_unknown_start", errors="ignore")
    if "stop_date" not in therapies:
        therapies["stop_date"] = pd.NaT
    ci = (
        pd.DataFrame({"patient_id": "p", "contraindication": list(contraindications)})
        if contraindications
        else None
    )
    log = decide(visits, s, therapies, contraindications=ci)
    row = log.iloc[-1]

    def text(col: str) -> str | None:
        v = row[col]
        return None if pd.isna(v) else str(v)

    missing = text("missing")
    provisional = bool(row["provisional"])
    if unknown_start:
        note = "; ".join(
            f"enter the start date of {d} to judge the time on the current step"
            for d in unknown_start
        )
        missing = f"{missing}; {note}" if missing else note
        provisional = provisional or row["action"] not in ("switch",)
    tm = row["target_met"]
    return VisitDecision(
        strategy=s.id,
        action=str(row["action"]),
        provisional=provisional,
        step=text("step"),
        regimen=text("regimen"),
        to_step=text("to_step"),
        to_regimen=text("to_regimen"),
        co_actions=text("co_actions"),
        reasons=str(row["sentence"]),
        rule_ids=text("rule_ids"),
        rules_considered=text("rules_considered"),
        missing=missing,
        index=s.index_label,
        index_value=None if pd.isna(row["index_value"]) else float(row["index_value"]),
        target_met=None if pd.isna(tm) else bool(tm),
        next_visit_date=row["next_visit_date"].strftime("%Y-%m-%d"),
        evidence=text("evidence"),
    )
