"""The one place where the web application talks to the treat-to-target engine.

Everything the pages need from :mod:`rheumetrics.t2t` goes through this adapter: the strategy
choices, a patient's decision log and the decision at one visit, and what counts as following a
recommendation. Today the decision at a visit is the matching row of :func:`rheumetrics.t2t.decide`
run over the patient's visits (the engine decides every visit from the history before it); when
the engine offers a single-visit decision API, only :func:`decision_at` changes. See ``docs/app.md``.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import cache
from typing import Any

import pandas as pd

from rheumetrics.errors import ValidationError
from rheumetrics.t2t import decide, load_strategy, shipped_strategies
from rheumetrics.t2t.adherence import ADHERENT
from rheumetrics.t2t.strategy import Strategy

#: Actions a clinician can record as what was actually done.
ACTIONS = ("continue", "escalate", "switch", "taper")
#: Strategy used when none was chosen for a patient, by diagnosis.
DEFAULT_STRATEGY = {
    "ra": "eular2022_ra",
    "axspa": "asas_eular2022_axspa",
    "as": "asas_eular2022_axspa",
    "spa": "asas_eular2022_axspa",
    "psa": "eular2022_ra",
}


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


def run_engine(frame: pd.DataFrame, s: Strategy, ther: pd.DataFrame | None) -> pd.DataFrame:
    """The engine's log; when the stored records cannot be used by the engine (e.g. a therapy
    record whose drug, dose unit or route the drug catalogue does not know), an empty log whose
    ``attrs["problems"]`` says why, so the page shows the reason instead of failing."""
    try:
        return decide(frame, s, ther)
    except ValidationError as err:
        log = pd.DataFrame()
        log.attrs["problems"] = [str(p) for p in err.problems[:PROBLEMS_SHOWN]]
        log.attrs["problem_count"] = len(err.problems)
        return log


#: How many of the engine's problems a page lists.
PROBLEMS_SHOWN = 5


def decision_log(visits: pd.DataFrame, therapies: pd.DataFrame, s: Strategy) -> pd.DataFrame:
    """The engine's decision at every visit of the given patients (one row per visit).

    The engine is a pure function of its inputs, so logs are memoised on a hash of the strategy,
    the visits and the therapies (:data:`LOG_CACHE_SIZE` most recent); any change to the data gives
    a new hash, so a stale log is never returned. The returned frame must not be modified.
    """
    if visits.empty:
        return pd.DataFrame()
    ther = therapies.rename(columns={"stop_reason": "reason"}) if not therapies.empty else None
    frame = visits.reset_index(drop=True)
    if len(frame) > MEMO_MAX_VISITS:
        return run_engine(frame, s, ther)
    digest = hashlib.sha256(f"{s.id}|{sorted(s.chosen.items())}|{s.path}".encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(repr(list(frame.columns)).encode())
    if ther is not None:
        digest.update(pd.util.hash_pandas_object(ther, index=False).to_numpy().tobytes())
        digest.update(repr(list(ther.columns)).encode())
    key = digest.hexdigest()
    with _LOCK:
        hit = _LOGS.get(key)
        if hit is not None:
            _LOGS.move_to_end(key)
            return hit
    log = run_engine(frame, s, ther)
    with _LOCK:
        _LOGS[key] = log
        while len(_LOGS) > LOG_CACHE_SIZE:
            _LOGS.popitem(last=False)
    return log


#: How many decision logs :func:`decision_log` keeps, and the largest one it keeps (visits).
LOG_CACHE_SIZE = 256
MEMO_MAX_VISITS = 5000
_LOGS: OrderedDict[str, pd.DataFrame] = OrderedDict()
_LOCK = threading.Lock()


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


def needs_mri(s: Strategy) -> bool:
    """Whether the strategy's target or rules use MRI bone marrow oedema."""
    return s.target.no_mri_bme or any(str(k).startswith("mri") for r in s.rules for k in r.when)


def with_mri_oedema(visits: pd.DataFrame, reads: pd.DataFrame) -> pd.DataFrame:
    """The visits, in their own order and index, with ``mri_bme_total``: the reader-mean RAMRIS
    osteitis total of the MRI nearest each visit within
    :data:`rheumetrics.cohort.MRI_WINDOW_DAYS` (:func:`rheumetrics.cohort.with_mri_bme_total`,
    as ``rheumetrics t2t --db``; NaN when none)."""
    from rheumetrics.cohort import with_mri_bme_total

    if visits.empty:
        return visits
    left = visits.reset_index()
    index_name = left.columns[0]
    left["visit_date"] = left["visit_date"].astype("datetime64[ns]")
    out = with_mri_bme_total(left, reads).set_index(index_name).loc[visits.index]
    out["visit_date"] = out["visit_date"].astype(visits["visit_date"].dtype)
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
