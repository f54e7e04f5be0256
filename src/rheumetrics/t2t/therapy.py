"""The therapy actually given, seen from each visit, computed for all visits at once.

The decision at a visit is made on the therapy in place *before* it: a drug counts as active at a
visit when it started before the visit day and had not stopped before it; changes on the visit day
are the visit's own decision. What was actually done after a visit is read from the therapy changes
from that visit's day up to (not including) the next visit's day.

Every quantity is computed with NumPy over (visit, therapy row) pairs of the same patient, so the
cost grows with the number of pairs, not with Python-level loops over visits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rheumetrics.schema.vocab import DRUG_CLASSES
from rheumetrics.t2t.inputs import OPEN, Therapies, Visits

NONE = np.iinfo(np.int64).min  # "no such day"
OTHER = DRUG_CLASSES.index("other")


def _codes(values: np.ndarray) -> np.ndarray:
    """Small integer codes of an object array (for hashing)."""
    codes, _ = pd.factorize(values)
    return (codes + 1).astype(np.uint64)


def _mix(*parts: np.ndarray | np.bool_) -> np.ndarray:
    """A 64-bit hash of aligned integer arrays (splitmix64 finaliser over a running combination)."""
    h = np.zeros(np.shape(parts[0]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for p in parts:
            h = (h ^ np.asarray(p).astype(np.uint64)) * np.uint64(0x9E3779B97F4A7C15)
            h ^= h >> np.uint64(31)
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(29)
    return h


CS, B, TS, GC, NSAID = (
    DRUG_CLASSES.index(c) for c in ("csDMARD", "bDMARD", "tsDMARD", "glucocorticoid", "NSAID")
)


@dataclass
class TherapyState:
    """Per-visit therapy facts (arrays aligned with the sorted visits)."""

    n_cs: np.ndarray
    n_bts: np.ndarray
    n_nsaid: np.ndarray
    gc_on: np.ndarray
    gc_since: np.ndarray  # day the current systemic glucocorticoid course started, NONE if off
    bts_line: np.ndarray  # distinct b/tsDMARDs started before the visit
    last_change: np.ndarray  # day of the last change of a change-class drug before the visit, NONE
    last_change_taper: np.ndarray
    nsaid_distinct: np.ndarray
    nsaid_days: np.ndarray
    nsaid_intolerant: (
        np.ndarray
    )  # NSAIDs ended for intolerance, an adverse event or a contraindication
    drug_masks: dict[str, np.ndarray]  # class group -> (n_visits, words) bit masks of active drugs
    drug_names: np.ndarray
    # what was actually done between this visit and the next (for protocol adherence)
    new_starts: np.ndarray
    final_stops: np.ndarray
    increases: np.ndarray
    tapers: np.ndarray
    assessable: np.ndarray  # a next visit exists
    bts_since: np.ndarray  # start day of the current b/tsDMARD course, NONE if none
    regimen_key: np.ndarray  # uint64 hash of the active drugs, doses and routes
    history_key: (
        np.ndarray
    )  # uint64 hash of the courses ended before the visit (drug, reason, dose)
    pos: np.ndarray  # (visit position, therapy row) pairs of the same patient ...
    row: np.ndarray
    active: np.ndarray  # ... whether the row is active at the visit
    ended: np.ndarray  # ... whether the row ended before the visit

    def names(self, group: str, rows: np.ndarray) -> np.ndarray:
        """Active drug names of a class group ("all", "glucocorticoid", ...) at the given rows."""
        return _mask_names(self.drug_masks[group][rows], self.drug_names)


def _pairs(v: Visits, t: Therapies) -> tuple[np.ndarray, np.ndarray]:
    """(visit position, therapy row) for every visit and therapy row of the same patient."""
    n_pat = len(v.patient_ids)
    counts = np.bincount(v.patient, minlength=n_pat)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    reps = counts[t.patient]
    row = np.repeat(np.arange(len(t.patient)), reps)
    offset = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    return starts[t.patient][row] + offset, row


def _masks(n: int, words: int, pos: np.ndarray, drug: np.ndarray) -> np.ndarray:
    out = np.zeros((n, words), dtype=np.uint64)
    for w in range(words):
        sel = drug // 64 == w
        np.bitwise_or.at(
            out[:, w], pos[sel], np.left_shift(np.uint64(1), (drug[sel] % 64).astype(np.uint64))
        )
    return out


def _mask_names(masks: np.ndarray, names: np.ndarray) -> np.ndarray:
    """' + '-joined drug names per mask row (alphabetical), computed once per distinct regimen."""
    out = np.empty(len(masks), dtype=object)
    if len(masks) == 0:
        return out
    uniq, inverse = np.unique(masks, axis=0, return_inverse=True)
    labels = []
    for row in uniq:
        ids = [w * 64 + b for w, word in enumerate(row) for b in range(64) if (int(word) >> b) & 1]
        labels.append(" + ".join(names[i] for i in ids))
    out[:] = np.asarray(labels, dtype=object)[inverse.reshape(-1)]
    return out


def therapy_state(v: Visits, t: Therapies, change_classes: tuple[str, ...]) -> TherapyState:
    """Compute :class:`TherapyState` for every visit from the therapies frame."""
    n = len(v.day)
    pos, row = _pairs(v, t)
    vd = v.day[pos]
    nxt = np.r_[v.day[1:], NONE][pos]
    nxt = np.where(v.last[pos], NONE, nxt)
    start, stop, cls, drug = t.start[row], t.stop[row], t.drug_class[row], t.drug[row]
    systemic = t.systemic[row]
    kind = t.kind[row]
    change = np.isin(cls, [DRUG_CLASSES.index(c) for c in change_classes])
    before = start < vd
    active = before & (stop >= vd)
    bts = (cls == B) | (cls == TS)
    sgc = (cls == GC) & systemic

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(pos[mask], minlength=n)

    def distinct(mask: np.ndarray) -> np.ndarray:
        n_drugs = max(len(t.drug_names), 1)
        keys = pd.unique(pos[mask] * n_drugs + drug[mask])
        return np.bincount(keys // n_drugs, minlength=n)

    last_change = np.full(n, NONE, dtype=np.int64)
    m = change & before
    np.maximum.at(last_change, pos[m], start[m])
    m = change & (stop < vd)
    np.maximum.at(last_change, pos[m], stop[m])
    taper_at_change = change & before & (kind == "taper") & (start == last_change[pos])
    gc_since = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    course_start = _course_start(t)[row]
    m = active & sgc
    np.minimum.at(gc_since, pos[m], course_start[m])
    gc_since[gc_since == np.iinfo(np.int64).max] = NONE
    nsaid = cls == NSAID
    exposure = np.where(
        before & nsaid, np.minimum(np.where(stop == OPEN, vd, stop), vd) - start, 0
    ).clip(min=0)

    words = max(1, (len(t.drug_names) + 63) // 64)
    masks = {
        "all": _masks(n, words, pos[active], drug[active]),
        "glucocorticoid": _masks(n, words, pos[active & sgc], drug[active & sgc]),
        "csDMARD": _masks(n, words, pos[active & (cls == CS)], drug[active & (cls == CS)]),
        "b/tsDMARD": _masks(n, words, pos[active & bts], drug[active & bts]),
        "NSAID": _masks(n, words, pos[active & nsaid], drug[active & nsaid]),
    }

    bts_since = np.full(n, NONE, dtype=np.int64)
    m = active & bts
    np.maximum.at(bts_since, pos[m], course_start[m])
    ended = (stop < vd) & before
    relevant = t.drug_class[row] != OTHER
    dose_code = (
        np.nan_to_num(np.round(t.dose[row] * 1000), nan=-1).astype(np.int64).astype(np.uint64)
    )
    route_code = _codes(t.route)[row]
    reason_code = _codes(t.reason)[row]
    tol_code = (
        np.nan_to_num(np.round(t.tolerated[row] * 1000), nan=-1).astype(np.int64).astype(np.uint64)
    )
    base = _mix(drug.astype(np.uint64) + np.uint64(1), dose_code, route_code, tol_code)
    regimen_key = np.zeros(n, dtype=np.uint64)
    m = active & relevant
    np.add.at(regimen_key, pos[m], base[m])
    history_key = np.zeros(n, dtype=np.uint64)
    m = ended & relevant
    np.add.at(history_key, pos[m], _mix(base[m], reason_code[m], t.kind[row][m] == "taper"))

    window = nxt != NONE
    started_in = window & (start >= vd) & (start < nxt)
    stopped_in = window & (stop >= vd) & (stop < nxt) & (stop != OPEN) & ~t.continued[row]
    return TherapyState(
        n_cs=count(active & (cls == CS)),
        n_bts=count(active & bts),
        n_nsaid=count(active & nsaid),
        gc_on=count(active & sgc) > 0,
        gc_since=gc_since,
        bts_line=distinct(before & bts),
        last_change=last_change,
        last_change_taper=count(taper_at_change) > 0,
        nsaid_distinct=distinct(before & nsaid),
        nsaid_days=np.bincount(pos, weights=exposure, minlength=n),
        nsaid_intolerant=count(
            ended
            & nsaid
            & np.isin(t.reason[row], ["intolerance", "adverse_event", "contraindication"])
        ),
        drug_masks=masks,
        drug_names=t.drug_names,
        new_starts=count(started_in & change & (kind == "new")),
        final_stops=count(stopped_in & change),
        increases=count(started_in & change & ((kind == "increase") | (kind == "modify"))),
        tapers=count(started_in & ((kind == "taper") | (kind == "reduce")) & (change | sgc))
        + count(stopped_in & sgc),
        assessable=~v.last,
        bts_since=bts_since,
        regimen_key=regimen_key,
        history_key=history_key,
        pos=pos,
        row=row,
        active=active,
        ended=ended,
    )


def _course_start(t: Therapies) -> np.ndarray:
    """Start day of the course each row belongs to (a course runs through its continuation rows)."""
    order = np.lexsort((t.start, t.drug, t.patient))
    is_new = (t.kind[order] == "new") | np.r_[
        True,
        (t.patient[order][1:] != t.patient[order][:-1]) | (t.drug[order][1:] != t.drug[order][:-1]),
    ]
    idx = np.where(is_new, np.arange(len(order)), 0)
    head = np.maximum.accumulate(idx) if len(idx) else idx
    out = np.empty(len(order), dtype=np.int64)
    out[order] = t.start[order][head]
    return out
