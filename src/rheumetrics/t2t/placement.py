"""Ladder placement and proposals for every visit, computed once per distinct regimen and history.

Each visit gets a 64-bit key from its active drugs (drug, dose, route), the courses ended before it
(drug, stop reason, dose), the patient's contraindications and the drug not tolerated today;
:func:`rheumetrics.t2t.ladder.place_and_propose` runs once per distinct key and its answers are
mapped back to all visits with NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rheumetrics.schema.drugs import drug
from rheumetrics.t2t.inputs import Therapies, Visits
from rheumetrics.t2t.ladder import INTOLERANT_REASONS, Dose, History, place_and_propose
from rheumetrics.t2t.strategy import Strategy
from rheumetrics.t2t.therapy import TherapyState, _mix

#: Decision kinds that propose a regimen.
KINDS = (
    "continue",
    "optimise",
    "escalate",
    "escalate_ppf",
    "switch",
    "route_change",
    "reinstate",
    "taper:glucocorticoid",
    "taper:b/tsDMARD",
    "taper:csDMARD",
    "taper:NSAID",
)


@dataclass
class LadderState:
    """Per-visit placement and proposals (arrays aligned with the sorted visits)."""

    step: np.ndarray  # int, -1 unknown
    step_why: np.ndarray
    optimised: np.ndarray
    regimen: np.ndarray  # object: current regimen text
    failed_csdmards: np.ndarray
    route_change: np.ndarray  # bool: the drug not tolerated today can change route on its step
    to_step: dict[str, np.ndarray]  # kind -> int (-1 none, -2 undetermined)
    to_regimen: dict[str, np.ndarray]  # kind -> object text
    missing: dict[str, np.ndarray]  # kind -> object text


def contraindication_keys(
    v: Visits, contraindications: pd.DataFrame | None
) -> tuple[np.ndarray, dict[int, set[str]]]:
    """Per-visit hash of the patient's contraindications and the sets per patient code.

    ``contraindications`` has ``patient_id`` and ``contraindication`` (a drug, drug class or
    mechanism, e.g. ``methotrexate``, ``TNF``); anything else in it (a reason) is kept for the record.
    """
    n = len(v.day)
    if contraindications is None or contraindications.empty:
        return np.zeros(n, dtype=np.uint64), {}
    from rheumetrics.schema.drugs import find_drug
    from rheumetrics.schema.vocab import DRUG_CLASSES, MECHANISMS

    sets: dict[int, set[str]] = {}
    codes = v.patient_ids.get_indexer(contraindications["patient_id"])
    for code, what in zip(codes, contraindications["contraindication"].astype(str), strict=True):
        if code < 0:
            continue
        d = find_drug(what)
        token = d.name if d else what.strip()
        if d is None and token not in DRUG_CLASSES and token not in MECHANISMS:
            raise ValueError(
                f"contraindication {what!r}: not a catalogued drug, a drug class ({', '.join(DRUG_CLASSES)}) "
                f"or a mechanism ({', '.join(MECHANISMS)})"
            )
        sets.setdefault(int(code), set()).add(token)
    per_patient = np.zeros(len(v.patient_ids), dtype=np.uint64)
    for code, items in sets.items():
        per_patient[code] = np.uint64(hash(frozenset(items)) & 0xFFFFFFFFFFFFFFFF)
    return per_patient[v.patient], sets


def ladder_state(
    v: Visits,
    t: Therapies,
    ts: TherapyState,
    s: Strategy,
    contraindications: pd.DataFrame | None = None,
) -> LadderState:
    """Placement and proposals of every visit."""
    ci_key, ci_sets = contraindication_keys(v, contraindications)
    bad_codes, bad_names = pd.factorize(v.intolerant_drug)
    key = _mix(ts.regimen_key, ts.history_key, ci_key, bad_codes.astype(np.uint64) + np.uint64(1))
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    reps = first
    # gather the rows of the representative visits in one pass
    sel = np.isin(ts.pos, reps)
    pos, row, active, ended = ts.pos[sel], ts.row[sel], ts.active[sel], ts.ended[sel]
    order = np.argsort(pos, kind="stable")
    pos, row, active, ended = pos[order], row[order], active[order], ended[order]
    bounds = np.searchsorted(pos, reps), np.searchsorted(pos, reps, side="right")
    names = t.drug_names
    ladder_cls = set(s.ladder_classes)
    m = len(uniq)
    step = np.full(m, -1)
    why = np.full(m, "", dtype=object)
    opt = np.zeros(m, dtype=bool)
    reg_text = np.full(m, "", dtype=object)
    failed_cs = np.zeros(m, dtype=np.int64)
    route = np.zeros(m, dtype=bool)
    kinds = (*KINDS, *(f"to:{r.to_step}" for r in s.rules if r.to_step is not None))
    to_step = {k: np.full(m, -1) for k in kinds}
    to_reg = {k: np.full(m, "", dtype=object) for k in kinds}
    miss = {k: np.full(m, "", dtype=object) for k in kinds}
    from rheumetrics.schema.vocab import DRUG_CLASSES

    for k in range(m):
        lo, hi = bounds[0][k], bounds[1][k]
        drugs: list[Dose] = []
        gc: list[Dose] = []
        h = History(contraindicated=set(ci_sets.get(int(v.patient[reps[k]]), set())))
        reduced: dict[str, float] = {}
        for j in range(lo, hi):
            r = row[j]
            cls = DRUG_CLASSES[t.drug_class[r]]
            if cls == "other":
                continue
            name = str(names[t.drug[r]])
            if active[j]:
                d = Dose(name, float(t.dose[r]), str(t.route[r]))
                if cls in ladder_cls:
                    drugs.append(d)
                elif cls == "glucocorticoid" and t.systemic[r]:
                    gc.append(d)
                if not np.isnan(t.tolerated[r]):
                    h.tolerated_max[name] = float(t.tolerated[r])
            if active[j] or ended[j]:
                h.used.add(name)
            if ended[j]:
                why_stop = t.reason[r]
                if why_stop == "inefficacy":
                    h.failed.add(name)
                elif why_stop in INTOLERANT_REASONS:
                    h.intolerant.add(name)
                elif why_stop == "contraindication":
                    h.contraindicated.add(name)
                elif why_stop == "taper_in_remission" and not np.isnan(t.dose[r]):
                    h.tapered_from[name] = max(h.tapered_from.get(name, 0.0), float(t.dose[r]))
                elif why_stop == "dose_reduction_toxicity" and not np.isnan(t.dose[r]):
                    reduced[name] = float(t.dose[r])
        for d in drugs:  # a course reduced for toxicity: the current dose is the tolerated maximum
            if d.drug in reduced and not np.isnan(d.dose) and d.dose < reduced[d.drug]:
                h.tolerated_max[d.drug] = min(h.tolerated_max.get(d.drug, np.inf), d.dose)
        current = tuple(sorted(drugs, key=lambda d: d.drug))
        bad = str(bad_names[bad_codes[reps[k]]]) if bad_codes[reps[k]] >= 0 else ""
        p = place_and_propose(s, current, tuple(gc), h, bad)
        step[k], why[k], opt[k], route[k] = p.step, p.why, p.optimised, p.route_change
        reg_text[k] = " + ".join(d.text() for d in (*current, *gc))
        failed_cs[k] = sum(drug(x).drug_class == "csDMARD" for x in h.failed)
        for kind, prop in p.proposals.items():
            to_step[kind][k] = prop.step
            to_reg[kind][k] = prop.text()
            miss[kind][k] = prop.missing
    return LadderState(
        step=step[inverse],
        step_why=why[inverse],
        optimised=opt[inverse],
        regimen=reg_text[inverse],
        failed_csdmards=failed_cs[inverse],
        route_change=route[inverse],
        to_step={k: a[inverse] for k, a in to_step.items()},
        to_regimen={k: a[inverse] for k, a in to_reg.items()},
        missing={k: a[inverse] for k, a in miss.items()},
    )
