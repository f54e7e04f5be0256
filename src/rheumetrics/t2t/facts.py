"""Per-visit facts the rules test, each three-valued: true, false or unknown (with the reason).

Unknown is never guessed away: a fact whose data are missing is unknown, and the message says which
datum is missing ("no C-reactive protein (crp_mg_l) at this visit: DAS28-CRP unavailable").
Combinations follow Kleene's three-valued logic (a conjunction with one false part is false even if
another part is unknown). All arrays are aligned with the visits sorted by patient and date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rheumetrics.measures.cutoffs import cutoff_set
from rheumetrics.numeric import snap
from rheumetrics.t2t.indices import INDICES, input_label
from rheumetrics.t2t.inputs import Flag, Visits
from rheumetrics.t2t.placement import LadderState
from rheumetrics.t2t.rule_terms import DAYS_PER_MONTH
from rheumetrics.t2t.strategy import Strategy
from rheumetrics.t2t.text import Texts, concat, join
from rheumetrics.t2t.therapy import NONE, TherapyState

NO_THERAPY = "no therapy records given"


@dataclass
class Fact:
    """A three-valued per-visit fact: ``value`` is meaningful only where ``known``."""

    value: np.ndarray
    known: np.ndarray
    why: np.ndarray  # object array: reason where unknown, "" elsewhere

    @property
    def true(self) -> np.ndarray:
        return self.value & self.known

    @property
    def false(self) -> np.ndarray:
        return ~self.value & self.known


def fact(value: np.ndarray, known: np.ndarray, why: str | np.ndarray) -> Fact:
    value = np.asarray(value, dtype=bool)
    known = np.asarray(known, dtype=bool)
    w = np.full(len(value), "", dtype=object)
    if isinstance(why, str):
        w[~known] = why
    else:
        w[~known] = why[~known]
    return Fact(value & known, known, w)


def _join_why(parts: list[Fact], mask: np.ndarray) -> np.ndarray:
    """The reasons of the unknown parts, '; '-joined, where ``mask`` (each distinct
    combination of reasons joined once)."""
    out = Texts.take([], np.full(len(mask), -1))
    for f in parts:
        rows = np.flatnonzero(mask & ~f.known)
        if not len(rows):
            continue
        cur = out[rows]
        added = join(cur, Texts.take(["; "], np.zeros(len(rows))).blank(~cur.empty()), f.why[rows])
        codes = out.codes.copy()
        codes[rows] = added.codes + len(out.labels)
        out = Texts(codes, np.concatenate([out.labels, added.labels]))
    return out.decoded()


def k_and(*parts: Fact) -> Fact:
    """Kleene conjunction."""
    any_false = np.zeros(len(parts[0].value), dtype=bool)
    all_true = np.ones(len(parts[0].value), dtype=bool)
    for p in parts:
        any_false |= p.false
        all_true &= p.true
    known = any_false | all_true
    return Fact(all_true, known, _join_why(list(parts), ~known))


def k_or(*parts: Fact) -> Fact:
    """Kleene disjunction."""
    any_true = np.zeros(len(parts[0].value), dtype=bool)
    all_false = np.ones(len(parts[0].value), dtype=bool)
    for p in parts:
        any_true |= p.true
        all_false &= p.false
    known = any_true | all_false
    return Fact(any_true, known, _join_why(list(parts), ~known))


def k_not(p: Fact) -> Fact:
    return Fact(~p.value & p.known, p.known, p.why)


@dataclass
class Duration:
    """A per-visit duration in days (NaN where unknown) with the reason where unknown."""

    days: np.ndarray
    why: np.ndarray


@dataclass
class Facts:
    """Everything the rules and the decision log need about each visit."""

    bools: dict[str, Fact]
    durations: dict[str, Duration]
    index_value: np.ndarray
    index_why: np.ndarray
    step: np.ndarray  # ladder position (index into strategy.ladder), -1 unknown
    step_why: np.ndarray
    regimen: np.ndarray | None
    improvement_abs: np.ndarray
    improvement_rel: np.ndarray
    months_in_target: np.ndarray
    sjc: np.ndarray
    therapy: TherapyState | None
    ladder: LadderState | None


def _run_days(v: Visits, flag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days and number of visits since the start of the current run of ``flag`` (NaN/0 where off)."""
    n = len(flag)
    idx = np.arange(n)
    prev = np.r_[False, flag[:-1]]
    starts = flag & (v.first | ~prev)
    head = np.maximum.accumulate(np.where(starts, idx, -1)) if n else idx
    head = np.maximum(head, 0)
    days = np.where(flag, v.day - v.day[head], np.nan)
    visits = np.where(flag, idx - head + 1, 0)
    return days, visits


def _sustained(v: Visits, s: Strategy, f: Fact) -> tuple[Fact, np.ndarray]:
    """Fact "``f`` has held at every visit for the sustained period", and months at target."""
    days_true, visits_true = _run_days(v, f.true)
    days_maybe, visits_maybe = _run_days(v, ~f.false)
    need = s.timing.sustained_days if s.timing.sustained_days is not None else np.inf
    w = s.timing.visit_window_days
    k = s.timing.sustained_min_visits
    with np.errstate(invalid="ignore"):
        yes = f.true & (snap(days_true + w) >= need) & (visits_true >= k)
        maybe = ~f.false & (snap(days_maybe + w) >= need) & (visits_maybe >= k)
    known = yes | ~maybe
    why = _join_why([f], ~known)
    why[~known & f.known] = (
        "target status unknown at an earlier visit of the period: sustained status unknown"
    )
    months = np.where(f.true, days_true / DAYS_PER_MONTH, np.where(f.false, 0.0, np.nan))
    return Fact(yes, known, why), months


def _flag_fact(v: Visits, name: str, missing: str) -> Fact:
    fl: Flag | None = v.flags.get(name)
    n = len(v.day)
    if fl is None:
        return fact(np.zeros(n, bool), np.zeros(n, bool), missing)
    return fact(fl.value, fl.known, missing)


def _number(v: Visits, name: str) -> np.ndarray:
    return v.numbers.get(name, np.full(len(v.day), np.nan))


def index_missing_messages(v: Visits, s: Strategy, x: np.ndarray) -> np.ndarray:
    """Why the index is missing at each visit where it is, naming the missing inputs."""
    out = np.full(len(x), "", dtype=object)
    rows = np.flatnonzero(np.isnan(x))
    if len(rows) == 0:
        return out
    spec = INDICES[s.index_name]
    named = pd.Series("", index=rows, dtype=object)
    for col in spec.inputs:
        if col in v.frame.columns:
            miss = v.frame[col].isna().to_numpy()[v.order][rows]
        else:
            miss = np.ones(len(rows), dtype=bool)
        sep = np.where(named.to_numpy() == "", "no ", ", no ")
        named = named.where(~miss, named + pd.Series(sep, index=rows) + input_label(col))
    text = np.where(
        named.to_numpy() == "",
        f"{spec.label} missing at this visit",
        named.to_numpy() + f" at this visit: {spec.label} unavailable",
    )
    out[rows] = text
    return out


def compute_facts(
    v: Visits,
    s: Strategy,
    t: TherapyState | None,
    event_flags_missing: str,
    lad: LadderState | None = None,
) -> Facts:
    """All facts of all visits under strategy ``s`` (``t`` None when no therapies were given)."""
    n = len(v.day)
    tg = s.target
    x = _number(v, s.index_name)
    xs = snap(x)
    index_why = index_missing_messages(v, s, x)
    have_x = ~np.isnan(x)
    with np.errstate(invalid="ignore"):
        at = xs <= tg.index_threshold if tg.index_inclusive else xs < tg.index_threshold
    index_at_target = fact(at, have_x, index_why)

    sjc = _number(v, "sjc28")
    swollen = fact(sjc >= 1, ~np.isnan(sjc), input_label("sjc28").join(("no ", " at this visit")))
    bme_total = _number(v, "mri_bme_total")
    no_bme_flag = v.flags.get("mri_no_bme")
    bme_value = np.where(
        ~np.isnan(bme_total), snap(bme_total) > s.parameters.bme_present_above, False
    )
    bme_known = ~np.isnan(bme_total)
    if no_bme_flag is not None:
        use = ~bme_known & no_bme_flag.known
        bme_value = np.where(use, ~no_bme_flag.value, bme_value)
        bme_known = bme_known | no_bme_flag.known
    mri_bme = fact(bme_value, bme_known, "no MRI at this visit: bone marrow oedema unknown")

    clinical_parts = [index_at_target]
    if tg.swollen_joints_max is not None:
        clinical_parts.append(fact(sjc <= tg.swollen_joints_max, ~np.isnan(sjc), swollen.why))
    clinical = k_and(*clinical_parts) if len(clinical_parts) > 1 else index_at_target
    parts = [clinical]
    if tg.us_assessed_index_below is not None:
        # the ultrasound also decides at moderate activity with few swollen joints
        with np.errstate(invalid="ignore"):
            below = xs < tg.us_assessed_index_below
        few_swollen = fact(sjc <= tg.us_assessed_swollen_max, ~np.isnan(sjc), swollen.why)
        parts = [k_or(clinical, k_and(fact(below, have_x, index_why), few_swollen))]
    if tg.no_mri_bme:
        parts.append(k_not(mri_bme))
    if tg.us_pd_joints_max is not None:
        pd_count = _number(v, "us_pd_joint_count")
        parts.append(
            fact(
                pd_count <= tg.us_pd_joints_max,
                ~np.isnan(pd_count),
                "no ultrasound power-Doppler joint count (us_pd_joint_count) at this visit",
            )
        )
    target = k_and(*parts) if len(parts) > 1 else clinical
    sustained, months_in_target = _sustained(v, s, target)
    cs = cutoff_set(s.cutoffs)
    with np.errstate(invalid="ignore"):
        in_rem = xs <= cs.bounds[0] if cs.lower_gets_bound[0] else xs < cs.bounds[0]
    sustained_remission, _ = _sustained(v, s, fact(in_rem, have_x, index_why))
    high = cs.codes(x) == len(cs.labels) - 1

    if event_flags_missing == "no_event":
        fl = v.flags.get("intolerance")
        intolerance = fact(fl.value if fl else np.zeros(n, bool), np.ones(n, bool), "")
        # a missing or unrecorded adverse-event flag: the intolerance was no adverse event
        ae = v.flags.get("adverse_event")
        adverse_event = fact(ae.value & ae.known if ae else np.zeros(n, bool), np.ones(n, bool), "")
    else:
        intolerance = _flag_fact(v, "intolerance", "intolerance not recorded at this visit")
        adverse_event = _flag_fact(
            v, "adverse_event", "adverse event (adverse_event) not recorded at this visit"
        )

    lda = cs.bounds[1] if len(cs.bounds) > 1 else cs.bounds[0]
    with np.errstate(invalid="ignore"):
        low_act = xs <= lda if cs.lower_gets_bound[min(1, len(cs.bounds) - 1)] else xs < lda
    low_activity = fact(low_act, have_x, index_why)
    if "ppf" in v.flags:
        ppf = _flag_fact(v, "ppf", "poor prognostic factors not recorded (ppf)")
    else:
        # EULAR 2022 (Smolen et al. Ann Rheum Dis 2023;82:3-18), recommendation 8 footnote:
        # RF/ACPA, early erosions, high disease activity, persistent moderate/high activity on
        # csDMARD therapy, failure of two or more csDMARDs.
        ppf_parts = [
            _flag_fact(v, "rf_positive", "rheumatoid factor (rf_positive) not recorded"),
            _flag_fact(v, "acpa_positive", "ACPA (acpa_positive) not recorded"),
            _flag_fact(v, "erosive", "early erosions (erosive) not recorded"),
            fact(high, have_x, index_why),
        ]
        if s.parameters.ppf_persistent_activity and t is not None:
            ppf_parts.append(fact(~low_act & (t.n_cs > 0), have_x, index_why))
        if s.parameters.ppf_failed_csdmards is not None and lad is not None:
            ppf_parts.append(
                fact(lad.failed_csdmards >= s.parameters.ppf_failed_csdmards, np.ones(n, bool), "")
            )
        ppf = k_or(*ppf_parts)
        unknown = ~ppf.known
        ppf.why[unknown] = concat("poor prognostic factors unknown: ", ppf.why[unknown])

    crp = _number(v, "crp_mg_l")
    uln = s.parameters.crp_uln_mg_l
    objective = k_or(
        fact(
            snap(crp) > (uln if uln is not None else np.inf), ~np.isnan(crp), "no CRP at this visit"
        ),
        _flag_fact(v, "mri_sij_inflammation", "MRI sacroiliac inflammation not recorded"),
        _flag_fact(v, "radiographic_sacroiliitis", "radiographic sacroiliitis not recorded"),
    )

    bools = {
        "target_met": target,
        "clinical_target_met": clinical,
        "index_at_target": index_at_target,
        "sustained": sustained,
        "sustained_remission": sustained_remission,
        "intolerance": intolerance,
        "adverse_event": adverse_event,
        "swollen_joints": swollen,
        "mri_bme": mri_bme,
        "ppf": ppf,
        "objective_inflammation": objective,
        "low_activity": low_activity,
    }
    durations: dict[str, Duration] = {}
    unknown = np.zeros(n, dtype=bool)
    if t is None:
        for name in (
            "on_glucocorticoid",
            "on_csdmard",
            "on_bts",
            "on_nsaid",
            "after_taper",
            "nsaid_trial_adequate",
        ):
            bools[name] = fact(np.zeros(n, bool), unknown, NO_THERAPY)
        bools["optimised"] = fact(np.zeros(n, bool), unknown, NO_THERAPY)
        bools["route_change"] = fact(np.zeros(n, bool), unknown, NO_THERAPY)
        for name in ("since_change", "on_glucocorticoid_for", "on_bts_for"):
            durations[name] = Duration(np.full(n, np.nan), np.full(n, NO_THERAPY, dtype=object))
        step = np.full(n, -1)
        step_why = np.full(n, f"{NO_THERAPY}: ladder step unknown", dtype=object)
        regimen = None
    else:
        known = ~unknown
        has_change = t.last_change != NONE
        bools["on_glucocorticoid"] = fact(t.gc_on, known, "")
        bools["on_csdmard"] = fact(t.n_cs > 0, known, "")
        bools["on_bts"] = fact(t.n_bts > 0, known, "")
        bools["on_nsaid"] = fact(t.n_nsaid > 0, known, "")
        bools["after_taper"] = fact(t.last_change_taper, known, "")
        p = s.parameters
        if p.nsaid_trial_min_drugs is not None and p.nsaid_trial_min_days is not None:
            adequate = (t.nsaid_distinct >= p.nsaid_trial_min_drugs) & (
                t.nsaid_days >= p.nsaid_trial_min_days
            )
            if p.nsaid_intolerance_counts_as_failure:
                # an NSAID stopped for intolerance, an adverse event or a contraindication counts
                # as a failed NSAID trial (ASAS-EULAR 2022, Ramiro et al. Ann Rheum Dis 2023;82:19-34)
                adequate |= t.nsaid_intolerant > 0
            bools["nsaid_trial_adequate"] = fact(adequate, known, "")
        since = np.where(has_change, v.day - t.last_change, np.nan)
        since_why = np.where(
            has_change,
            "",
            f"no change of {'/'.join(s.change_classes)} therapy on record before this visit: time since the last change unknown",
        ).astype(object)
        durations["since_change"] = Duration(since.astype(float), since_why)
        gc_for = np.where(t.gc_since != NONE, v.day - t.gc_since, -np.inf)
        durations["on_glucocorticoid_for"] = Duration(
            gc_for.astype(float), np.full(n, "", dtype=object)
        )
        bts_for = np.where(t.bts_since != NONE, v.day - t.bts_since, -np.inf)
        durations["on_bts_for"] = Duration(bts_for.astype(float), np.full(n, "", dtype=object))
        assert lad is not None
        regimen = lad.regimen
        step, step_why = lad.step, lad.step_why
        bools["optimised"] = fact(lad.optimised, step >= 0, step_why)
        bools["route_change"] = fact(lad.route_change, step >= 0, step_why)

    improved, imp_abs, imp_rel = _improvement(v, s, x, index_why, durations["since_change"])
    if improved is not None:
        bools["improved"] = improved
    bools["primary_response"], bools["loss_of_response"] = _biologic_response(v, s, x, index_why, t)
    return Facts(
        bools=bools,
        durations=durations,
        index_value=x,
        index_why=index_why,
        step=step,
        step_why=step_why,
        regimen=regimen,
        improvement_abs=imp_abs,
        improvement_rel=imp_rel,
        months_in_target=months_in_target,
        sjc=sjc,
        therapy=t,
        ladder=lad,
    )


def _biologic_response(
    v: Visits, s: Strategy, x: np.ndarray, index_why: np.ndarray, t: TherapyState | None
) -> tuple[Fact, Fact]:
    """Primary response and loss of response on the current b/tsDMARD.

    Primary response: the index fell by at least ``parameters.primary_response_min`` (by more than
    it when ``primary_response_strict``) from its value at the last visit on or before the
    b/tsDMARD started. Loss of response: the index is at least
    ``parameters.loss_of_response_worsening`` above its best value since that start, so a response
    lost years later is judged against the best response on the drug, not the pre-biologic value.
    """
    n = len(x)
    p = s.parameters
    no = fact(np.zeros(n, bool), np.ones(n, bool), "")
    if t is None or p.primary_response_min is None or n == 0:
        return no, no
    on = t.bts_since != NONE
    dmin = int(v.day.min())
    span = int(v.day.max()) - dmin + 2
    keys = v.patient * span + (v.day - dmin)
    query = v.patient * span + np.clip(np.where(on, t.bts_since, dmin) - dmin, -1, None)
    base_pos = np.searchsorted(keys, query, side="right") - 1
    valid = on & (base_pos >= 0)
    base_pos = np.clip(base_pos, 0, None)
    valid &= v.patient[base_pos] == v.patient
    base = np.where(valid, x[base_pos], np.nan)
    group = pd.Series(v.patient * span + np.where(on, t.bts_since - dmin, -1))
    best = (
        pd.Series(np.where(on & (v.day > np.where(on, t.bts_since, 0)), x, np.nan))
        .groupby(group.to_numpy())
        .cummin()
        .to_numpy()
    )
    with np.errstate(invalid="ignore"):
        beats = np.greater if p.primary_response_strict else np.greater_equal
        resp = beats(snap(base - x), p.primary_response_min)
        lost = snap(x - best) >= (p.loss_of_response_worsening or np.inf)
        ever = np.where(valid, beats(snap(base - best), p.primary_response_min), False)
    why = np.where(
        ~valid & on,
        "no index value at or before the start of the current b/tsDMARD: response unknown",
        index_why,
    ).astype(object)
    primary = fact(resp, valid & ~np.isnan(x), why)
    loss = fact(ever & lost, on & ~np.isnan(x) & ~np.isnan(best), why)
    return primary, loss


def _improvement(
    v: Visits, s: Strategy, x: np.ndarray, index_why: np.ndarray, since: Duration
) -> tuple[Fact | None, np.ndarray, np.ndarray]:
    """Improvement of the index since the visit at (or last before) the last therapy change."""
    n = len(x)
    nan = np.full(n, np.nan)
    has = ~np.isnan(since.days)
    if n == 0:
        return (
            (None if s.improvement is None else fact(np.zeros(0, bool), np.zeros(0, bool), "")),
            nan,
            nan,
        )
    change_day = np.where(has, v.day - np.nan_to_num(since.days).astype(np.int64), 0)
    dmin = int(v.day.min())
    span = int(v.day.max()) - dmin + 2
    keys = v.patient * span + (v.day - dmin)
    query = v.patient * span + np.clip(change_day - dmin, -1, None)
    base_pos = np.searchsorted(keys, query, side="right") - 1
    valid = has & (base_pos >= 0)
    base_pos = np.clip(base_pos, 0, None)
    valid &= v.patient[base_pos] == v.patient
    base = np.where(valid, x[base_pos], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        imp_abs = snap(base - x)
        imp_rel = np.where(snap(base) > 0, snap((base - x) / base), np.nan)
    if s.improvement is None:
        return None, imp_abs, imp_rel
    value = imp_rel if s.improvement.kind == "relative" else imp_abs
    known = ~np.isnan(value)
    with np.errstate(invalid="ignore"):
        improved = value >= s.improvement.min
    why = np.full(n, "", dtype=object)
    label = s.index_label
    dates = np.full(n, "", dtype=object)
    need = has & ~known
    codes, days = pd.factorize(change_day[need])  # each distinct date formatted once
    text = pd.to_datetime(days, unit="D").strftime("%Y-%m-%d").to_numpy(dtype=object)
    dates[need] = text[codes]
    rules = [
        (~has, since.why),
        (
            has & ~valid,
            concat(
                "no visit on or before the last change (",
                dates,
                f"): improvement in {label} unknown",
            ),
        ),
        (
            valid & np.isnan(base),
            concat(
                f"no {label} at the visit of the last change (", dates, "): improvement unknown"
            ),
        ),
        (~np.isnan(base) & np.isnan(x), index_why),
        (
            ~np.isnan(base) & ~np.isnan(x) & np.isnan(value),
            f"{label} was 0 at the last change: relative improvement undefined",
        ),
    ]
    for mask, msg in reversed(rules):
        why = np.where(mask & ~known, msg, why)
    return fact(improved, known, why), imp_abs, imp_rel
