"""The one place where the web application talks to the treat-to-target engine.

Everything the pages need from :mod:`rheumetrics.t2t` goes through this adapter: the strategy
choices, a patient's decision log and the decision at one visit, and what counts as following a
recommendation. Today the decision at a visit is the matching row of :func:`rheumetrics.t2t.decide`
run over the patient's visits (the engine decides every visit from the history before it); when
the engine offers a single-visit decision API, only :func:`decision_at` changes. See ``docs/app.md``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pandas as pd

from rheumetrics.t2t import decide, load_strategy, shipped_strategies
from rheumetrics.t2t.decisions import ADHERENT
from rheumetrics.t2t.strategy import Strategy

#: Actions a clinician can record as what was actually done.
ACTIONS = ("continue", "escalate", "switch", "taper")
#: Strategy used when none was chosen for a patient, by diagnosis.
DEFAULT_STRATEGY = {"ra": "eular2022_ra", "axspa": "asas_eular2022_axspa", "as": "asas_eular2022_axspa",
                    "spa": "asas_eular2022_axspa", "psa": "eular2022_ra"}  # fmt: skip


@cache
def strategy_choices() -> tuple[str, ...]:
    """Names of the shipped strategies."""
    return tuple(shipped_strategies())


@cache
def strategy(name: str) -> Strategy:
    """A shipped strategy with its default options."""
    return load_strategy(name)


def strategy_for(diagnosis: str | None, chosen: str | None) -> Strategy:
    """The patient's chosen strategy, else the default for the diagnosis."""
    return strategy(chosen or DEFAULT_STRATEGY.get(diagnosis or "ra", "eular2022_ra"))


def decision_log(visits: pd.DataFrame, therapies: pd.DataFrame, s: Strategy) -> pd.DataFrame:
    """The engine's decision at every visit of the given patients (one row per visit)."""
    if visits.empty:
        return pd.DataFrame()
    ther = therapies if not therapies.empty else None
    frame = visits.reset_index(drop=True)
    if ther is not None:
        ther = ther.rename(columns={"stop_reason": "reason"})
    return decide(frame, s, ther)


def decision_at(log: pd.DataFrame, visit_date: pd.Timestamp) -> dict[str, Any] | None:
    """The decision at one visit as a plain dict (None when the log has no such visit)."""
    if log.empty:
        return None
    rows = log[log["visit_date"] == visit_date]
    if rows.empty:
        return None
    r = rows.iloc[-1]
    out = {k: (None if _isna(v) else v) for k, v in r.items()}
    out["visit_date"] = pd.Timestamp(r["visit_date"]).date()
    nv = r["next_visit_date"]
    out["next_visit_date"] = None if _isna(nv) else pd.Timestamp(nv).date()
    return out


def adherent(recommended: str, actual: str) -> bool | None:
    """Whether the action taken follows the recommendation (None: nothing was recommended)."""
    accepted = ADHERENT.get(recommended)
    if accepted is None:
        return None
    return actual in accepted


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
