"""Static checks of a strategy's ladder and rule table.

A rule can never fire when its own conditions contradict each other (after the implications of the
target, e.g. ``sustained`` implies ``target_met``), when it needs something the strategy does not
define (``improved`` without an ``[improvement]`` rule), or when an earlier primary rule holds
whenever it holds: rules are tried in order and the first that holds decides, so the earlier rule
pre-empts it. Ladder steps must exist where they are named and be reachable.
"""

from __future__ import annotations

from collections.abc import Iterator

from rheumetrics.t2t.rule_terms import DURATION_FACTS, parse_duration
from rheumetrics.t2t.strategy import Rule, Strategy

Finding = tuple[str, str, object, str]


def check_rules(s: Strategy) -> list[Finding]:
    """Every ladder and rule problem of a parsed strategy, as (record, field, value, rule)."""
    return [*_check_ladder(s), *_check_rule_refs(s), *_check_firing(s)]


def _check_ladder(s: Strategy) -> Iterator[Finding]:
    referenced = {
        ref for st in s.ladder for ref in (st.next, st.next_if_ppf, st.on_intolerance) if ref
    }
    referenced |= {str(r.to_step) for r in s.rules if r.to_step}
    for st in s.ladder:
        if not st.regimens and st.id not in referenced and st is not s.ladder[0]:
            yield (
                f"ladder[{st.id}]",
                "regimens",
                None,
                "the step is never reached: it has no regimen and no step or rule leads to it",
            )


def _check_rule_refs(s: Strategy) -> Iterator[Finding]:
    for r in s.rules:
        if r.action == "escalate" and r.to_step is None and not any(st.next for st in s.ladder):
            yield (
                f"rules[{r.id}]",
                "action",
                r.action,
                "escalates, but no ladder step has a next step",
            )


def implied(when: dict[str, object], s: Strategy) -> tuple[dict[str, bool], list[str]]:
    """Boolean conditions closed under the target's implications, and any contradictions."""
    facts = {k: v for k, v in when.items() if isinstance(v, bool)}
    conflicts: list[str] = []
    t = s.target
    swollen_part = t.swollen_joints_max == 0
    rules: list[tuple[str, bool, str, bool]] = [
        ("sustained", True, "target_met", True),
        ("clinical_target_met", True, "index_at_target", True),
        ("index_at_target", False, "clinical_target_met", False),
        ("target_met", False, "sustained", False),
    ]
    if t.us_assessed_index_below is None:  # else the ultrasound may meet the target without it
        rules += [
            ("target_met", True, "clinical_target_met", True),
            ("clinical_target_met", False, "target_met", False),
        ]
    if swollen_part:
        rules += [
            ("clinical_target_met", True, "swollen_joints", False),
            ("swollen_joints", True, "clinical_target_met", False),
        ]
    if t.no_mri_bme:
        rules += [("target_met", True, "mri_bme", False), ("mri_bme", True, "target_met", False)]
    if not t.no_mri_bme and t.us_pd_joints_max is None:  # no imaging part: clinical = whole target
        rules += [
            ("clinical_target_met", True, "target_met", True),
            ("target_met", False, "clinical_target_met", False),
        ]
    changed = True
    while changed:
        changed = False
        for if_key, if_val, then_key, then_val in rules:
            if facts.get(if_key) is if_val:
                if then_key not in facts:
                    facts[then_key] = then_val
                    changed = True
                elif facts[then_key] is not then_val:
                    conflicts.append(
                        f"{if_key} = {str(if_val).lower()} implies {then_key} = {str(then_val).lower()}"
                    )
    return facts, sorted(set(conflicts))


def _ranges(when: dict[str, object]) -> dict[str, tuple[float, float]]:
    def bound(key: str, default: float) -> float:
        value = when.get(key)
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            return default
        return parse_duration(value) if key.rsplit("_", 1)[0] in DURATION_FACTS else float(value)

    out = {}
    for d in DURATION_FACTS:
        if f"{d}_min" in when or f"{d}_max" in when:
            out[d] = (bound(f"{d}_min", 0.0), bound(f"{d}_max", float("inf")))
    if "index_at_least" in when or "index_below" in when:
        out["index"] = (bound("index_at_least", float("-inf")), bound("index_below", float("inf")))
    return out


def _covers(earlier: Rule, later: Rule, s: Strategy) -> bool:
    """True when ``earlier`` holds at every visit where ``later`` holds."""
    later_facts, _ = implied(later.when, s)
    for key, value in earlier.when.items():
        if isinstance(value, bool) and later_facts.get(key) is not value:
            return False
    er, lr = _ranges(earlier.when), _ranges(later.when)
    for key, (lo, hi) in er.items():
        if key not in lr or lr[key][0] < lo or lr[key][1] > hi:
            return False
    return not (
        "step" in earlier.when and (not later.steps or not set(later.steps) <= set(earlier.steps))
    )


def _check_firing(s: Strategy) -> Iterator[Finding]:
    primaries: list[Rule] = []
    for r in s.rules:
        rec = f"rules[{r.id}]"
        _, conflicts = implied(r.when, s)
        for c in conflicts:
            yield (rec, "when", c, "contradictory conditions: the rule can never fire")
        for key, (lo, hi) in _ranges(r.when).items():
            if lo >= hi:
                yield (
                    rec,
                    f"when.{key}",
                    (lo, hi),
                    "empty range (minimum not below maximum): the rule can never fire",
                )
        if r.co_action:
            continue
        for e in primaries:
            if _covers(e, r, s):
                yield (
                    rec,
                    "when",
                    r.when,
                    f"rule {e.id} comes first and holds whenever this one does: the rule can never fire",
                )
                break
        primaries.append(r)
