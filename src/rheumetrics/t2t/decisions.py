"""Decisions at every visit: facts -> first rule that holds -> a concrete regimen, with reasons.

Rules are tried in file order; the first primary rule that holds decides. When a rule above it
cannot be judged because data are missing, the decision is still given but marked *provisional*
and the log names exactly what is missing ("no change of csDMARD/bDMARD/tsDMARD therapy on record
..."). Co-action rules (an intra-articular glucocorticoid for each swollen joint, a glucocorticoid
taper) add to the decision. Each decision proposes a regimen with doses (``to_regimen``) and
records every rule considered and why it did or did not fire. Everything is vectorised over
visits; the ladder work runs once per distinct regimen and history
(:mod:`rheumetrics.t2t.placement`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from rheumetrics.errors import ProblemCollector
from rheumetrics.numeric import snap
from rheumetrics.t2t.adherence import adherence
from rheumetrics.t2t.explain import (
    CO_FIRED,
    FIRED,
    NOT_REACHED,
    UNKNOWN,
    co_text,
    considered,
    pattern_column,
    sentences,
)
from rheumetrics.t2t.facts import Fact, Facts, compute_facts, fact, k_and, k_not
from rheumetrics.t2t.indices import INDICES
from rheumetrics.t2t.inputs import prepare_therapies, prepare_visits
from rheumetrics.t2t.placement import ladder_state
from rheumetrics.t2t.rule_terms import DAYS_PER_MONTH, DURATION_FACTS, parse_duration
from rheumetrics.t2t.strategy import Rule, Strategy
from rheumetrics.t2t.text import Texts, append, concat
from rheumetrics.t2t.therapy import therapy_state

EVENT_FLAG_CONVENTIONS = ("no_event", "unknown")

LOG_COLUMNS = (
    "patient_id",
    "visit_date",
    "strategy",
    "index",
    "index_value",
    "target_met",
    "state",
    "months_since_change",
    "improvement",
    "improvement_pct",
    "months_in_target",
    "step",
    "regimen",
    "on_bts",
    "action",
    "provisional",
    "to_step",
    "to_regimen",
    "to_biologic",
    "taper",
    "co_actions",
    "rule_ids",
    "evidence",
    "missing",
    "rules_considered",
    "sentence",
    "next_visit_date",
    "actual_action",
    "adherent",
)


def _ensure_index(visits: pd.DataFrame, s: Strategy) -> tuple[pd.DataFrame, str]:
    """The visits with the strategy's index column, computing it with the scoring core if absent.

    Rows whose inputs are missing or invalid get no value (lenient scoring): the decision then names
    the missing inputs.
    """
    if s.index_name in visits.columns:
        return visits, "from the visits frame"
    spec = INDICES[s.index_name]
    present = [c for c in spec.inputs if c in visits.columns]
    if spec.inputs and present == list(spec.inputs):
        from rheumetrics.measures.panel import score_frame

        scores = score_frame(visits, lenient=True, measures=[s.index_name])
        if s.index_name in scores.columns:
            return visits.assign(
                **{s.index_name: scores[s.index_name]}
            ), "computed by rheumetrics.measures.score_frame"
    pc = ProblemCollector("invalid visits")
    needs = ", ".join(spec.inputs) or "see rheumetrics.measures"
    pc.add(
        "all",
        s.index_name,
        None,
        f"strategy {s.id} needs {s.index_label}: add a '{s.index_name}' column or its inputs ({needs})",
    )
    pc.raise_if_any()
    raise AssertionError  # unreachable: raise_if_any raised


def decide(
    visits: pd.DataFrame,
    strategy: Strategy,
    therapies: pd.DataFrame | None = None,
    *,
    contraindications: pd.DataFrame | None = None,
    event_flags_missing: str = "no_event",
    chunk_patients: int = 20_000,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Apply a strategy at every visit: the decision log, one row per visit.

    Parameters
    ----------
    visits
        One row per visit: ``patient_id``, ``visit_date``, the strategy's index column (computed
        with ``rheumetrics.measures.score_frame`` when absent), and as the rules need them
        ``sjc28``, ``crp_mg_l``, ``mri_bme_total`` or ``mri_no_bme``, ``us_pd_joint_count``,
        ``intolerance`` with ``intolerant_drug`` (and ``adverse_event`` when the drug caused an
        adverse event such as hepatotoxicity rather than side effects), ``ppf`` (or ``rf_positive``/``acpa_positive``/
        ``erosive``), ``mri_sij_inflammation``, ``radiographic_sacroiliitis``.
    strategy
        A loaded strategy (:func:`rheumetrics.t2t.load_strategy`).
    therapies
        Treatment actually given (see :func:`rheumetrics.t2t.inputs.prepare_therapies`: drug,
        dose, dose unit, route, start and stop dates, stop reason). Without it, time since the last
        change, the ladder step and co-medication are unknown and the decisions name them missing.
    contraindications
        Per-patient contraindications: ``patient_id`` and ``contraindication`` (a drug, a drug
        class or a mechanism such as ``TNF``); proposals never use a contraindicated drug.
    event_flags_missing
        ``"no_event"`` (default): a visit with no ``intolerance`` recorded had none, as event
        reports are written only when an event happens. ``"unknown"``: a missing flag is unknown.
    chunk_patients
        Patients processed together (bounds memory; the result does not depend on it).
    progress
        Called after each chunk with (visits done, visits in all), e.g. to draw a progress bar.

    Returns
    -------
    DataFrame
        Columns :data:`LOG_COLUMNS`, sorted by patient and visit date; ``attrs["conventions"]``
        records the strategy, options and conventions used.
    """
    if event_flags_missing not in EVENT_FLAG_CONVENTIONS:
        raise ValueError(f"event_flags_missing must be one of {EVENT_FLAG_CONVENTIONS}")
    s = strategy
    visits, index_source = _ensure_index(visits, s)
    v_all = prepare_visits(visits, s.index_name)
    t_all = None if therapies is None else prepare_therapies(therapies, v_all.patient_ids)
    parts: list[pd.DataFrame] = []
    bounds = np.searchsorted(
        v_all.patient, np.arange(0, max(len(v_all.patient_ids), 1) + chunk_patients, chunk_patients)
    )
    for k in range(len(bounds) - 1):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        if lo == hi and parts:
            continue
        v = v_all.rows(lo, hi)
        ts = lad = None
        if t_all is not None:
            chunk = t_all.patients(k * chunk_patients, (k + 1) * chunk_patients)
            ts = therapy_state(v, chunk, s.change_classes)
            lad = ladder_state(v, chunk, ts, s, contraindications)
        f = compute_facts(v, s, ts, event_flags_missing, lad)
        part = _decisions(v.day, f, s)
        part.insert(0, "patient_id", v.frame["patient_id"].to_numpy()[v.order])
        part.insert(1, "visit_date", pd.to_datetime(v.day, unit="D"))
        parts.append(part.loc[:, list(LOG_COLUMNS)])
        if progress is not None:
            progress(hi, len(v_all.patient))
    log = parts[0] if len(parts) == 1 else _concat_parts(parts)
    log.attrs["conventions"] = {
        "strategy": s.id,
        "strategy_file": s.path,
        "options": dict(s.chosen),
        "index": s.index_name,
        "index_source": index_source,
        "improvement": None
        if s.improvement is None
        else f"{s.improvement.kind} >= {s.improvement.describe()} ({s.improvement.source})",
        "min_on_step": s.timing.min_on_step,
        "cutoffs": s.cutoffs,
        "target": s.target_text,
        "days_per_month": DAYS_PER_MONTH,
        "visit_window_days": s.timing.visit_window_days,
        "event_flags_missing": event_flags_missing,
        "therapy_active_at_visit": "started before the visit day and not stopped before it",
        "baseline_for_improvement": "index at the last visit on or before the last therapy change",
        "maximum_tolerated_dose": "the step's cap, else the catalogue's usual maximum, lowered to the patient's documented tolerated maximum",
    }
    return log


def _concat_parts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The chunks' logs as one; the rules-considered categories are united (sorted, as in one
    chunk) without decoding the texts."""
    rules = union_categoricals([p["rules_considered"] for p in parts], sort_categories=True)
    log = pd.concat([p.drop(columns="rules_considered") for p in parts], ignore_index=True)
    log.insert(LOG_COLUMNS.index("rules_considered"), "rules_considered", rules)
    return log


def _terms(r: Rule, f: Facts, s: Strategy) -> list[tuple[str, Fact]]:
    """Each condition of a rule as a named three-valued fact."""
    terms: list[tuple[str, Fact]] = []
    w = s.timing.visit_window_days
    for key, value in r.when.items():
        if key in f.bools:
            terms.append(
                (f"{key} = {str(value).lower()}", f.bools[key] if value else k_not(f.bools[key]))
            )
        elif key == "option":
            continue
        elif key == "step":
            codes = [i for i, st in enumerate(s.ladder) if st.id in r.steps]
            terms.append(
                (f"step in {list(r.steps)}", fact(np.isin(f.step, codes), f.step >= 0, f.step_why))
            )
        elif key in ("index_at_least", "index_below"):
            x = snap(f.index_value)
            with np.errstate(invalid="ignore"):
                holds = x >= value if key == "index_at_least" else x < value
            terms.append(
                (f"{key.replace('_', ' ')} {value:g}", fact(holds, ~np.isnan(x), f.index_why))
            )
        elif key.rsplit("_", 1)[0] in DURATION_FACTS:
            name, bound = key.rsplit("_", 1)
            d = f.durations[name]
            limit = parse_duration(value)
            with np.errstate(invalid="ignore"):
                days = snap(d.days + w)
                holds = days >= limit if bound == "min" else days < limit
            terms.append(
                (
                    f"{name.replace('_', ' ')} {'>=' if bound == 'min' else '<'} {value}",
                    fact(holds, ~np.isnan(d.days), d.why),
                )
            )
        else:  # a fact the strategy does not provide: never holds
            n = len(f.index_value)
            terms.append((f"{key} (not available)", fact(np.zeros(n, bool), np.ones(n, bool), "")))
    return terms


def _decisions(day: np.ndarray, f: Facts, s: Strategy) -> pd.DataFrame:
    n = len(day)
    decided = np.zeros(n, bool)
    provisional = np.zeros(n, bool)
    rule_of = np.full(n, -1)
    missing = np.full(n, "", dtype=object)
    co: list[tuple[Rule, np.ndarray]] = []
    status = np.zeros((len(s.rules), n), dtype=np.int64)
    all_terms: list[list[str]] = []
    for i, r in enumerate(s.rules):
        terms = _terms(r, f, s)
        all_terms.append([name for name, _ in terms])
        if terms:
            cond = k_and(*[t for _, t in terms]) if len(terms) > 1 else terms[0][1]
        else:
            cond = fact(np.ones(n, bool), np.ones(n, bool), "")
        first_false = np.full(n, -1)
        for k in range(len(terms) - 1, -1, -1):
            first_false = np.where(terms[k][1].false, k, first_false)
        st = np.where(cond.true, FIRED, np.where(cond.known, 4 + first_false, UNKNOWN))
        if r.co_action:
            co.append((r, cond.true))
            status[i] = np.where(cond.true, CO_FIRED, st)
            continue
        open_ = ~decided
        status[i] = np.where(open_, st, NOT_REACHED)
        fires = open_ & cond.true
        rule_of[fires] = i
        decided |= fires
        unk = open_ & ~cond.known
        provisional |= unk
        append(missing, cond.why, unk)

    actions = np.asarray([r.action for r in s.rules] + ["undetermined"], dtype=object)
    action = actions[rule_of]
    provisional &= decided
    rule_ids = np.asarray([r.id for r in s.rules] + [""], dtype=object)[rule_of]
    evidence = np.asarray([r.evidence for r in s.rules] + [""], dtype=object)[rule_of]

    to_step, to_regimen, taper = _proposals(action, rule_of, f, s, missing, provisional)
    co_texts = np.full(n, "", dtype=object)
    for r, mask in co:
        rows = np.flatnonzero(mask)
        if not len(rows):
            continue
        full = np.full(n, "", dtype=object)
        full[rows] = co_text(r, rows, f)
        append(co_texts, full, mask)
        append(rule_ids, np.full(n, r.id, dtype=object), mask, sep=";")
        evidence[rows] = _weakest(evidence[rows], r.evidence)
    missing_text = _dedupe_missing(missing)

    tgt, sus = f.bools["target_met"], f.bools["sustained"]
    state = Texts.take(
        ["sustained_target", "at_target", "not_at_target", "unknown"],
        np.where(sus.true, 0, np.where(tgt.true, 1, np.where(tgt.false, 2, 3))),
    )
    t = s.timing
    interval = np.where(
        np.isin(action, ["escalate", "switch", "reinstate", "optimise"]),
        t.days("visit_after_change"),
        np.where(
            sus.true,
            t.days("visit_sustained"),
            np.where(tgt.true, t.days("visit_at_target"), t.days("visit_active")),
        ),
    )
    for i, r in enumerate(s.rules):
        if r.next_visit_days is not None:
            interval = np.where(rule_of == i, r.next_visit_days, interval)
    next_day = day + np.round(interval).astype(np.int64)

    step_ids = [st.id for st in s.ladder]
    biologic = np.asarray([st.biologic for st in s.ladder] + [False])
    months_since = f.durations["since_change"].days / DAYS_PER_MONTH
    actual, adherent = adherence(action, f)
    on_bts = pd.array(f.bools["on_bts"].value, dtype="boolean")
    on_bts[~f.bools["on_bts"].known] = pd.NA
    target_met = pd.array(tgt.value, dtype="boolean")
    target_met[~tgt.known] = pd.NA
    ts = np.where(to_step < 0, len(s.ladder), to_step)

    text: dict[str, Texts] = {
        "state": state,
        "step": Texts.take(step_ids, f.step),
        "regimen": Texts.of(f.regimen if f.regimen is not None else np.full(n, "", dtype=object)),
        "action": Texts.of(action),
        "to_step": Texts.take(step_ids, to_step),
        "to_regimen": Texts.of(to_regimen),
        "taper": Texts.of(taper),
        "co_actions": Texts.of(co_texts),
        "rule_ids": Texts.of(rule_ids),
        "evidence": Texts.of(evidence),
        "missing": missing_text,
        "actual_action": Texts.of(actual),
    }
    frame = pd.DataFrame(
        {
            "strategy": s.id,
            "index": s.index_name,
            "index_value": f.index_value,
            "target_met": target_met,
            "state": text["state"].column(),
            "months_since_change": months_since,
            "improvement": f.improvement_abs,
            "improvement_pct": f.improvement_rel * 100,
            "months_in_target": f.months_in_target,
            "step": text["step"].column(),
            "regimen": text["regimen"].column(),
            "on_bts": on_bts,
            "action": text["action"].column(),
            "provisional": provisional,
            "to_step": text["to_step"].column(),
            "to_regimen": text["to_regimen"].column(),
            "to_biologic": biologic[ts],
            "taper": text["taper"].column(),
            "co_actions": text["co_actions"].column(),
            "rule_ids": text["rule_ids"].column(),
            "evidence": text["evidence"].column(),
            "missing": text["missing"].column(),
            "rules_considered": pattern_column(considered(status, all_terms, s)),
            "next_visit_date": pd.to_datetime(next_day, unit="D"),
            "actual_action": text["actual_action"].column(),
            "adherent": adherent,
        }
    )
    frame["sentence"] = sentences(text, next_day, provisional, rule_of, f, s)
    return frame


_GRADE = {"": -1, "V": 0, "P": 1, "U": 2}


def _weakest(grades: np.ndarray, other: str) -> np.ndarray:
    """The weaker of two evidence grades per row (U weaker than P weaker than V)."""
    rank = np.select([grades == "U", grades == "P", grades == "V"], [2, 1, 0], default=-1)
    return np.where(rank >= _GRADE[other], grades, other)


def _dedupe_missing(messages: np.ndarray) -> Texts:
    """The missing-data messages with repeated parts removed (once per distinct message)."""
    t = Texts.of(messages)
    clean = ["; ".join(dict.fromkeys(p for p in str(m).split("; ") if p)) for m in t.labels]
    return Texts(t.codes, np.asarray(clean, dtype=object))


def _proposals(
    action: np.ndarray,
    rule_of: np.ndarray,
    f: Facts,
    s: Strategy,
    missing: np.ndarray,
    provisional: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Target step, proposed regimen and taper text of each decision; ``action`` is refined in
    place: an escalation from a step not yet at its maximum tolerated doses becomes ``optimise``,
    one past the last step becomes ``review``, one whose step needs a higher index (DREAM: a TNF
    inhibitor at DAS28 >= 3.2) becomes ``continue``."""
    n = len(action)
    to = np.full(n, -1)
    reg = np.full(n, "", dtype=object)
    taper = np.full(n, "", dtype=object)
    lad = f.ladder
    if lad is None:
        unknown = np.isin(action, ["escalate", "switch", "optimise", "reinstate", "taper"])
        append(missing, f.step_why, unknown)
        to[unknown] = -2
        return to, reg, taper

    def take(kind: str, rows: np.ndarray) -> None:
        to[rows] = lad.to_step[kind][rows]
        reg[rows] = lad.to_regimen[kind][rows]
        gaps = rows & (lad.missing[kind] != "")
        append(missing, lad.missing[kind], gaps)
        provisional[gaps] = True

    take("continue", np.isin(action, ["continue", "review", "undetermined"]))
    esc = action == "escalate"
    ppf = f.bools["ppf"]
    branch = esc & (lad.to_step["escalate_ppf"] != lad.to_step["escalate"])
    take("escalate", esc & ~(branch & ppf.true))
    take("escalate_ppf", esc & branch & ppf.true)
    unk = branch & ~ppf.known
    append(missing, ppf.why, unk)
    provisional |= unk
    take("optimise", action == "optimise")
    take("switch", action == "switch")
    take("reinstate", action == "reinstate")
    for i, r in enumerate(s.rules):
        rows = rule_of == i
        if r.action == "taper":
            take(f"taper:{r.taper_class}", rows)
            idx = np.flatnonzero(rows)
            if len(idx) and f.therapy is not None:
                names = f.therapy.names(str(r.taper_class), idx)
                taper[idx] = np.where(
                    names == "", str(r.taper_class), concat(f"{r.taper_class}: ", names)
                )
            else:
                taper[idx] = r.taper_class
        if r.to_step is not None:
            take(f"to:{r.to_step}", rows)
        if r.proposal is not None:
            take(r.proposal, rows)
    placed = f.step >= 0
    same = (esc | (action == "optimise")) & placed & (to == f.step)
    action[same] = "optimise"
    action[esc & placed & (to == -1)] = "review"
    no_step = esc & ~placed
    append(missing, f.step_why, no_step)
    for j, st in enumerate(s.ladder):
        if st.enter_if is None or st.enter_if.index_at_least is None:
            continue
        rows = (action == "escalate") & (to == j)
        with np.errstate(invalid="ignore"):
            low = rows & (snap(f.index_value) < st.enter_if.index_at_least)
        action[low] = "continue"
        to[low] = f.step[low]
        reg[low] = lad.to_regimen["continue"][low]
        append(
            missing,
            np.full(
                n,
                f"step {st.id} needs {s.index_label} >= {st.enter_if.index_at_least:g}: continue",
                dtype=object,
            ),
            low,
        )
    return to, reg, taper
