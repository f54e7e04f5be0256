"""The per-visit decision engine: facts -> first rule that holds -> decision with reasons.

Rules are tried in file order; the first primary rule that holds decides. If a rule's conditions
are *unknown* at a visit before any rule has held, the engine cannot know whether that rule would
have decided, so the decision is ``undetermined`` and names the missing data (never guessed).
Co-action rules (e.g. an intra-articular glucocorticoid for each swollen joint) add to the decision
whenever they hold. Every step is vectorised over all visits at once; the same input always gives
the same output, sorted by patient and visit date.
"""

from __future__ import annotations

import string
from collections.abc import Callable

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector
from rheumetrics.numeric import round_display, snap
from rheumetrics.t2t.facts import Fact, Facts, compute_facts, fact, k_and, k_not
from rheumetrics.t2t.indices import INDICES
from rheumetrics.t2t.inputs import prepare_therapies, prepare_visits
from rheumetrics.t2t.model import DAYS_PER_MONTH, DURATION_FACTS, Rule, Strategy, format_duration
from rheumetrics.t2t.text import append, concat
from rheumetrics.t2t.therapy import therapy_state

#: Recommended action -> actual actions that count as following it (protocol adherence).
ADHERENT = {
    "continue": ("continue",),
    "escalate": ("escalate",),
    "reinstate": ("escalate",),
    "optimise": ("escalate", "switch"),
    "switch": ("switch", "escalate"),
    "taper": ("taper",),
}

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
    "to_step",
    "to_biologic",
    "taper",
    "co_actions",
    "rule_ids",
    "evidence",
    "missing",
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
    if s.index in visits.columns:
        return visits, "from the visits frame"
    spec = INDICES[s.index]
    present = [c for c in spec.inputs if c in visits.columns]
    if spec.inputs and present == list(spec.inputs):
        from rheumetrics.measures.panel import score_frame

        scores = score_frame(visits, lenient=True, measures=[s.index])
        if s.index in scores.columns:
            return visits.assign(
                **{s.index: scores[s.index]}
            ), "computed by rheumetrics.measures.score_frame"
    pc = ProblemCollector("invalid visits")
    needs = ", ".join(spec.inputs) or "see rheumetrics.measures"
    pc.add(
        "all",
        s.index,
        None,
        f"strategy {s.id} needs {s.index_label}: add a '{s.index}' column or its inputs ({needs})",
    )
    pc.raise_if_any()
    raise AssertionError  # unreachable: raise_if_any raised


def decide(
    visits: pd.DataFrame,
    strategy: Strategy,
    therapies: pd.DataFrame | None = None,
    *,
    event_flags_missing: str = "no_event",
    chunk_patients: int = 20_000,
) -> pd.DataFrame:
    """Apply a strategy at every visit: the decision log, one row per visit.

    Parameters
    ----------
    visits
        One row per visit (contracts.md): ``patient_id``, ``visit_date``, the strategy's index
        column (computed with ``rheumetrics.measures.score_frame`` when absent), and as the rules
        need them ``sjc28``, ``crp_mg_l``, ``mri_bme_total`` or ``mri_no_bme``,
        ``us_pd_joint_count``, ``intolerance``, ``ppf`` (or ``rf_positive``/``acpa_positive``/
        ``erosive``), ``mri_sij_inflammation``, ``radiographic_sacroiliitis``.
    strategy
        A loaded strategy (:func:`rheumetrics.t2t.load_strategy`).
    therapies
        Treatment actually given (``patient_id, drug, drug_class, start_date`` and optionally
        ``stop_date, dose, route, reason``). Without it, time since the last change, the ladder step
        and co-medication are unknown, and decisions that need them are ``undetermined``.
    event_flags_missing
        ``"no_event"`` (default): a visit with no ``intolerance`` recorded had none, as event
        reports are written only when an event happens. ``"unknown"``: a missing flag is unknown.
    chunk_patients
        Patients processed together (bounds memory; the result does not depend on it).

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
    v_all = prepare_visits(visits, s.index)
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
        ts = None
        if t_all is not None:
            chunk = t_all.patients(k * chunk_patients, (k + 1) * chunk_patients)
            ts = therapy_state(v, chunk, s.change_classes)
        f = compute_facts(v, s, ts, event_flags_missing)
        part = _decisions(v.day, f, s)
        part.insert(0, "patient_id", v.frame["patient_id"].to_numpy()[v.order])
        part.insert(1, "visit_date", pd.to_datetime(v.day, unit="D"))
        parts.append(part.loc[:, list(LOG_COLUMNS)])
    log = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    log.attrs["conventions"] = {
        "strategy": s.id,
        "strategy_file": s.path,
        "options": dict(s.chosen),
        "index": s.index,
        "index_source": index_source,
        "cutoffs": s.cutoffs,
        "target": s.target_text,
        "days_per_month": DAYS_PER_MONTH,
        "visit_window_days": s.timing.visit_window_days,
        "event_flags_missing": event_flags_missing,
        "therapy_active_at_visit": "started before the visit day and not stopped before it",
        "baseline_for_improvement": "index at the last visit on or before the last therapy change",
    }
    return log


def _condition(r: Rule, f: Facts, s: Strategy) -> Fact:
    """The three-valued truth of a rule's conditions at every visit."""
    terms: list[Fact] = []
    n = len(f.index_value)
    w = s.timing.visit_window_days
    for key, value in r.when.items():
        if key in f.bools:
            terms.append(f.bools[key] if value else k_not(f.bools[key]))
        elif key == "step":
            codes = [i for i, st in enumerate(s.ladder) if st.id in value]  # type: ignore[operator]
            terms.append(fact(np.isin(f.step, codes), f.step >= 0, f.step_why))
        elif key in ("index_at_least", "index_below"):
            x = snap(f.index_value)
            with np.errstate(invalid="ignore"):
                holds = x >= value if key == "index_at_least" else x < value
            terms.append(fact(holds, ~np.isnan(x), f.index_why))
        else:
            name, bound = key.rsplit("_", 1)
            assert name in DURATION_FACTS
            d = f.durations[name]
            with np.errstate(invalid="ignore"):
                days = snap(d.days + w)
                holds = days >= value if bound == "min" else days < value
            terms.append(fact(holds, ~np.isnan(d.days), d.why))
    if not terms:
        return fact(np.ones(n, bool), np.ones(n, bool), "")
    return k_and(*terms) if len(terms) > 1 else terms[0]


def _fmt(values: np.ndarray, digits: int, pct: bool = False) -> np.ndarray:
    """Decimal strings (half-up display rounding), formatted once per distinct value."""
    shown = round_display(values * (100 if pct else 1), digits)
    shown = np.atleast_1d(np.asarray(shown, dtype=float))
    uniq, inv = np.unique(shown, return_inverse=True)
    text = np.asarray(
        [("missing" if np.isnan(u) else f"{u:.{digits}f}{'%' if pct else ''}") for u in uniq],
        dtype=object,
    )
    return text[inv.reshape(-1)] if len(uniq) else np.zeros(0, dtype=object)


def _decisions(day: np.ndarray, f: Facts, s: Strategy) -> pd.DataFrame:
    n = len(day)
    decided = np.zeros(n, bool)
    blocked = np.zeros(n, bool)
    rule_of = np.full(n, -1)
    missing = np.full(n, "", dtype=object)
    co: list[tuple[Rule, np.ndarray]] = []
    for i, r in enumerate(s.rules):
        cond = _condition(r, f, s)
        if r.co_action:
            co.append((r, cond.true))
            append(missing, cond.why, ~cond.known)
            continue
        open_ = ~decided & ~blocked
        fires = open_ & cond.true
        rule_of[fires] = i
        decided |= fires
        unk = open_ & ~cond.known
        blocked |= unk
        append(missing, cond.why, unk)

    actions = np.asarray([r.action for r in s.rules] + ["no_rule"], dtype=object)
    action = actions[rule_of]
    action[blocked] = "undetermined"
    rule_ids = np.asarray([r.id for r in s.rules] + [""], dtype=object)[rule_of]
    evidence = np.asarray([r.evidence for r in s.rules] + [""], dtype=object)[rule_of]

    to_raw, extra_rule = _targets(action, rule_of, f, s, missing)
    end_of_ladder = (action == "escalate") & (to_raw == -1)
    action[end_of_ladder] = "review"
    to_step = np.where(to_raw < 0, len(s.ladder), to_raw)
    rule_ids = np.where(
        (extra_rule != "") & (extra_rule != rule_ids), rule_ids + ";" + extra_rule, rule_ids
    )

    taper = np.full(n, "", dtype=object)
    for i, r in enumerate(s.rules):
        rows = np.flatnonzero(rule_of == i) if r.action == "taper" else np.zeros(0, int)
        if len(rows):
            taper[rows] = _taper_text(r, rows, f)
    co_text = np.full(n, "", dtype=object)
    for r, mask in co:
        rows = np.flatnonzero(mask)
        if not len(rows):
            continue
        text = _co_text(r, rows, f)
        full = np.full(n, "", dtype=object)
        full[rows] = text
        append(co_text, full, mask)
        append(rule_ids, np.full(n, r.id, dtype=object), mask, sep=";")
        evidence[rows] = _weakest(evidence[rows], r.evidence)
    missing = _dedupe_missing(missing)

    tgt, sus = f.bools["target_met"], f.bools["sustained"]
    state = np.where(
        sus.true,
        "sustained_target",
        np.where(tgt.true, "at_target", np.where(tgt.false, "not_at_target", "unknown")),
    ).astype(object)
    interval = np.where(
        np.isin(action, ["escalate", "switch", "reinstate", "optimise"]),
        s.timing.visit_after_change_days,
        np.where(
            sus.true,
            s.timing.visit_sustained_days,
            np.where(tgt.true, s.timing.visit_at_target_days, s.timing.visit_active_days),
        ),
    )
    for i, r in enumerate(s.rules):
        if r.next_visit_days is not None:
            interval = np.where(rule_of == i, r.next_visit_days, interval)
    next_day = day + np.round(interval).astype(np.int64)

    step_ids = np.asarray([st.id for st in s.ladder] + [""], dtype=object)
    biologic = np.asarray([st.biologic for st in s.ladder] + [False])
    months_since = f.durations["since_change"].days / DAYS_PER_MONTH
    actual, adherent = _adherence(action, f, s)
    on_bts = pd.array(f.bools["on_bts"].value, dtype="boolean")
    on_bts[~f.bools["on_bts"].known] = pd.NA
    target_met = pd.array(tgt.value, dtype="boolean")
    target_met[~tgt.known] = pd.NA

    frame = pd.DataFrame(
        {
            "strategy": s.id,
            "index": s.index,
            "index_value": f.index_value,
            "target_met": target_met,
            "state": state,
            "months_since_change": months_since,
            "improvement": f.improvement_abs,
            "improvement_pct": f.improvement_rel * 100,
            "months_in_target": f.months_in_target,
            "step": step_ids[f.step],
            "regimen": f.regimen if f.regimen is not None else np.full(n, None, dtype=object),
            "on_bts": on_bts,
            "action": action,
            "to_step": step_ids[to_step],
            "to_biologic": biologic[to_step],
            "taper": taper,
            "co_actions": co_text,
            "rule_ids": rule_ids,
            "evidence": evidence,
            "missing": missing,
            "next_visit_date": pd.to_datetime(next_day, unit="D"),
            "actual_action": actual,
            "adherent": adherent,
        }
    )
    frame["sentence"] = _sentences(frame, rule_of, f, s)
    for col in (
        "state",
        "action",
        "step",
        "to_step",
        "taper",
        "co_actions",
        "rule_ids",
        "evidence",
        "missing",
        "sentence",
        "actual_action",
        "regimen",
    ):
        frame[col] = frame[col].astype("string").replace("", pd.NA)
    return frame


_GRADE = {"": -1, "V": 0, "P": 1, "U": 2}


def _weakest(grades: np.ndarray, other: str) -> np.ndarray:
    """The weaker of two evidence grades per row (U weaker than P weaker than V)."""
    rank = np.select([grades == "U", grades == "P", grades == "V"], [2, 1, 0], default=-1)
    return np.where(rank >= _GRADE[other], grades, other)


def _adherence(
    action: np.ndarray, f: Facts, s: Strategy
) -> tuple[np.ndarray, pd.arrays.BooleanArray]:
    """What was actually done after each visit, and whether it follows the recommendation.

    Actual action from the therapy changes between the visit and the next one: a new drug added is
    an escalation; a new drug replacing a stopped one is a switch, or an escalation when the next
    visit's ladder step is the current step's next step; a dose increase or modification is an
    escalation; a dose reduction or a stop without replacement is a taper; nothing is "continue".
    The last visit of a patient has no follow-up and is not assessable.
    """
    n = len(action)
    adherent = pd.array(np.zeros(n, bool), dtype="boolean")
    adherent[:] = pd.NA
    t = f.therapy
    if t is None:
        return np.full(n, "", dtype=object), adherent
    pos = {st.id: i for i, st in enumerate(s.ladder)}
    nxt = np.asarray([pos.get(st.next or "", -1) for st in s.ladder] + [-1])
    ppf_next = np.asarray([pos.get(st.next_if_ppf or "", -1) for st in s.ladder] + [-1])
    cur = f.step
    after = np.r_[cur[1:], -1]
    went_up = (
        (cur >= 0)
        & (after >= 0)
        & (after != cur)
        & ((after == nxt[cur]) | (after == ppf_next[cur]))
    )
    new, stops, inc, tap = t.new_starts > 0, t.final_stops > 0, t.increases > 0, t.tapers > 0
    actual = np.select(
        [new & ~stops, new & stops & went_up, new & stops, inc, tap | stops],
        ["escalate", "escalate", "switch", "escalate", "taper"],
        default="continue",
    ).astype(object)
    actual[~t.assessable] = ""
    for rec, accepted in ADHERENT.items():
        rows = (action == rec) & t.assessable
        adherent[rows] = np.isin(actual[rows], accepted)
    return actual, adherent


def _dedupe_missing(messages: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(messages != "")
    if len(rows):
        uniq, inv = np.unique(messages[rows].astype(str), return_inverse=True)
        clean = np.asarray(
            ["; ".join(dict.fromkeys(p for p in m.split("; ") if p)) for m in uniq], dtype=object
        )
        messages = messages.copy()
        messages[rows] = clean[inv.reshape(-1)]
    return messages


def _targets(
    action: np.ndarray, rule_of: np.ndarray, f: Facts, s: Strategy, missing: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Ladder step each escalation or switch goes to (-1 none/unknown) and the ladder rule id."""
    n = len(action)
    pos = {st.id: i for i, st in enumerate(s.ladder)}
    nxt = np.asarray([pos.get(st.next, -1) if st.next else -1 for st in s.ladder] + [-1])
    ppf_next = np.asarray(
        [pos.get(st.next_if_ppf, -1) if st.next_if_ppf else -1 for st in s.ladder] + [-1]
    )
    intol = np.asarray(
        [
            pos.get(st.on_intolerance, -1) if st.on_intolerance else i
            for i, st in enumerate(s.ladder)
        ]
        + [-1]
    )
    next_rule = np.asarray([st.next_rule or "" for st in s.ladder] + [""], dtype=object)
    ppf_rule = np.asarray([st.next_if_ppf_rule or "" for st in s.ladder] + [""], dtype=object)
    cur = f.step
    to = np.full(n, -1)
    extra = np.full(n, "", dtype=object)
    ppf = f.bools["ppf"]
    esc = action == "escalate"
    branch = esc & (ppf_next[cur] >= 0)
    to = np.where(esc & ~branch, nxt[cur], to)
    extra = np.where(esc & ~branch, next_rule[cur], extra)
    to = np.where(branch & ppf.true, ppf_next[cur], to)
    extra = np.where(branch & ppf.true, ppf_rule[cur], extra)
    to = np.where(branch & ppf.false, nxt[cur], to)
    extra = np.where(branch & ppf.false, next_rule[cur], extra)
    sw = action == "switch"
    to = np.where(sw, intol[cur], to)
    for i, r in enumerate(s.rules):
        if r.to_step is not None:
            to = np.where(rule_of == i, pos[r.to_step], to)
    overridden = np.isin(rule_of, [i for i, r in enumerate(s.rules) if r.to_step is not None])
    unknown_step = (esc | sw) & (cur < 0) & ~overridden
    unknown_ppf = branch & ~ppf.known & (cur >= 0) & ~overridden
    for mask, why in ((unknown_step, f.step_why), (unknown_ppf, ppf.why)):
        append(missing, why, mask)
        to = np.where(mask, -2, to)
    return to, extra


def _taper_text(r: Rule, rows: np.ndarray, f: Facts) -> np.ndarray:
    cls = str(r.taper_class)
    if f.therapy is None:
        return np.full(len(rows), cls, dtype=object)
    names = f.therapy.names(cls, rows)
    return np.where(names == "", cls, concat(f"{cls}: ", names))


def _co_text(r: Rule, rows: np.ndarray, f: Facts) -> np.ndarray:
    if r.action == "local_glucocorticoid":
        return concat(
            "intra-articular glucocorticoid into each swollen joint (",
            _fmt(f.sjc[rows], 0),
            " joints)",
        )
    return concat(_taper_text(r, rows, f), " (taper)")


def _sentences(frame: pd.DataFrame, rule_of: np.ndarray, f: Facts, s: Strategy) -> np.ndarray:
    """One clinician-readable sentence per visit."""
    n = len(frame)
    if n == 0:
        return np.zeros(0, dtype=object)
    spec = INDICES[s.index]
    value = _fmt(f.index_value, spec.digits)
    tgt = f.bools["target_met"]
    status = np.where(
        tgt.true, "at target", np.where(tgt.false, "not at target", "target status unknown")
    ).astype(object)
    sustained = np.where(
        f.bools["sustained"].true,
        concat(" for ", _fmt(f.months_in_target, 1), " months (sustained)"),
        "",
    )
    head = concat(
        f"{s.index_label} ", value, f" (target {s.target_text}): ", status, sustained.astype(object)
    )
    fields: dict[str, Callable[[np.ndarray], np.ndarray | str]] = {
        "index": lambda rows: s.index_label,
        "index_value": lambda rows: value[rows],
        "target": lambda rows: s.target_text,
        "months_since_change": lambda rows: _fmt(
            f.durations["since_change"].days[rows] / DAYS_PER_MONTH, 1
        ),
        "improvement": lambda rows: (
            _fmt(f.improvement_rel[rows], 0, pct=True)
            if s.improvement and s.improvement.kind == "relative"
            else _fmt(f.improvement_abs[rows], spec.digits)
        ),
        "improvement_threshold": lambda rows: s.improvement.describe() if s.improvement else "",
        "months_in_target": lambda rows: _fmt(f.months_in_target[rows], 1),
        "sustained": lambda rows: format_duration(s.timing.sustained_days or 0),
        "swollen_joints": lambda rows: _fmt(f.sjc[rows], 0),
    }
    reason = np.full(n, "", dtype=object)
    for i, r in enumerate(s.rules):
        rows = np.flatnonzero(rule_of == i)
        if not len(rows):
            continue
        pieces: list[str | np.ndarray] = [np.full(len(rows), "", dtype=object)]
        for literal, field, _, _ in string.Formatter().parse(r.reason):
            pieces.append(literal)
            if field is not None:
                pieces.append(fields[field](rows))
        reason[rows] = concat(*pieces)
    action = frame["action"].to_numpy(dtype=object)
    to = frame["to_step"].to_numpy(dtype=object)
    labels = {st.id: f"step {st.id} ({st.label})" for st in s.ladder}
    to_text = pd.Series(to).map(labels).fillna("").to_numpy(dtype=object)
    taper = frame["taper"].to_numpy(dtype=object)
    act = np.select(
        [
            action == "continue",
            (action == "escalate") & (to_text != ""),
            action == "escalate",
            (action == "switch") & (to_text != ""),
            action == "switch",
            action == "taper",
            action == "reinstate",
            action == "optimise",
            action == "review",
            action == "undetermined",
        ],
        [
            "continue current therapy",
            concat("escalate to ", to_text),
            "escalate (next step undetermined)",
            concat("switch for intolerance to ", to_text),
            "switch for intolerance (step undetermined)",
            concat("taper ", taper),
            "return to the previous full dose",
            "optimise the current step",
            "review (no further rule-based step)",
            "cannot decide",
        ],
        default="no rule of the strategy applies",
    ).astype(object)
    co = frame["co_actions"].to_numpy(dtype=object)
    append(act, co, co != "", sep="; also ")
    ids = frame["rule_ids"].to_numpy(dtype=object)
    why = np.where(reason != "", concat(reason, " [", ids, "]"), "").astype(object)
    missing = frame["missing"].to_numpy(dtype=object)
    append(why, concat("missing: ", missing), missing != "")
    why = np.where(why == "", "", concat(why, ". ")).astype(object)
    dates = frame["next_visit_date"].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    return concat(head, ". ", why, "→ ", act, ". Next visit by ", dates, ".")
