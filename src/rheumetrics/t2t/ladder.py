"""The patient's place on a ladder and the regimen each possible decision proposes.

Placement reads the current regimen (drugs, doses, routes) and the therapy history (courses ended
for inefficacy, intolerance, contraindication; documented tolerated maxima) and takes the first
step whose regimen matches; steps that require a history (e.g. IMAGINE-RA step 3a after
intolerance of two csDMARDs) are tried first. A step is *optimised* when every csDMARD and NSAID
of it is at its maximum tolerated dose (the step's cap, else the catalogue's usual maximum, lowered
to the patient's documented tolerated maximum) and on the route the step asks for. Escalating from
a step that is not optimised raises the doses first; otherwise it goes to the next step not yet
tried and failed.

Regimens repeat across patients, so the work is done once per distinct (regimen, history,
contraindications, drug not tolerated today) and mapped back to all visits.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

import numpy as np

from rheumetrics.schema.drugs import Drug, catalogue, drug
from rheumetrics.t2t.strategy import Component, Regimen, Strategy

TOL = 1e-9
INTOLERANT_REASONS = ("intolerance", "adverse_event")


@dataclass(frozen=True)
class Dose:
    """One drug of a regimen: dose in the catalogue unit of its route (NaN when not given)."""

    drug: str
    dose: float
    route: str

    @property
    def entry(self) -> Drug:
        return drug(self.drug)

    @property
    def unit(self) -> str:
        return self.entry.dosing_for(self.route or None).unit

    def text(self) -> str:
        d = self.entry
        if np.isnan(self.dose):
            return f"{d.label} (dose not given)"
        return f"{d.label} {self.dose:g} {self.unit}{'' if self.route in ('', 'oral') else ' ' + self.route}"


@dataclass
class History:
    """What happened before the visit."""

    used: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    intolerant: set[str] = field(default_factory=set)
    contraindicated: set[str] = field(default_factory=set)
    tolerated_max: dict[str, float] = field(default_factory=dict)
    tapered_from: dict[str, float] = field(default_factory=dict)

    def excluded(self, name: str) -> bool:
        d = drug(name)
        return bool(
            {name, d.mechanism, d.drug_class} & self.contraindicated
            or name in self.intolerant
            or name in self.failed
        )


@dataclass(frozen=True)
class Proposal:
    """Where a decision goes: ladder step (index, -1 none), concrete regimen, notes, missing data."""

    step: int
    regimen: tuple[Dose, ...]
    note: str = ""
    missing: str = ""

    def text(self) -> str:
        body = " + ".join(d.text() for d in self.regimen) or "no DMARD"
        return body + (f" ({self.note})" if self.note else "")


@dataclass
class Placement:
    """Ladder position and the proposal of every kind of decision (``route_change``: the drug not
    tolerated today can move to the route its step asks for)."""

    step: int
    why: str
    optimised: bool
    proposals: dict[str, Proposal]
    route_change: bool = False


def _allowed(c: Component, name: str) -> bool:
    d = drug(name)
    if d.mechanism in c.exclude_mechanisms:
        return False
    return name in c.drugs or d.drug_class in c.classes or d.mechanism in c.mechanisms


def _candidates(c: Component) -> list[str]:
    """Drugs a component may use, in preference order (listed drugs, then catalogue order)."""
    extra = [n for n in catalogue().drugs if n not in c.drugs and _allowed(c, n)]
    return [*c.drugs, *extra]


def max_dose(c: Component, d: Dose, h: History) -> float:
    """Maximum tolerated dose of a drug in a component."""
    cap = c.max.get(d.drug, d.entry.dosing_for(d.route or None).usual[1])
    return min(cap, h.tolerated_max.get(d.drug, np.inf))


def _at_max(c: Component, d: Dose, h: History) -> bool:
    if d.entry.drug_class not in ("csDMARD", "NSAID"):
        return True
    if np.isnan(d.dose):  # dose not given: cannot be raised; named as missing by the caller
        return True
    want_route = c.route.get(d.drug)
    return d.dose >= max_dose(c, d, h) - TOL and (want_route is None or d.route == want_route)


def _assign(reg: Regimen, drugs: tuple[Dose, ...], h: History) -> list[list[Dose]] | None:
    """Drugs grouped by component when the regimen matches, else None."""
    comps = reg.components
    if not comps:
        return [] if not drugs else None
    options = [[i for i, c in enumerate(comps) if _allowed(c, d.drug)] for d in drugs]
    for choice in itertools.product(*options):
        groups: list[list[Dose]] = [[] for _ in comps]
        for d, i in zip(drugs, choice, strict=True):
            groups[i].append(d)
        if all(_fits(c, g, h) for c, g in zip(comps, groups, strict=True)):
            return groups
    return None


def _fits(c: Component, group: list[Dose], h: History) -> bool:
    if not c.count.holds(len(group)):
        return False
    for d in group:
        cap = c.max.get(d.drug)
        if cap is not None and not np.isnan(d.dose) and d.dose > cap + TOL:
            return False
        floor = c.min.get(d.drug)
        if floor is not None and not np.isnan(d.dose) and d.dose < floor - TOL:
            return False
        if c.new and d.drug in h.failed:
            return False
    if c.dose == "max":
        return all(_at_max(c, d, h) for d in group)
    if c.dose == "below_max":
        return any(not _at_max(c, d, h) for d in group)
    return True


def _requires_met(reg: Regimen, h: History, bts_line: int | None) -> bool:
    r = reg.requires
    if r.intolerant_at_least and len(h.intolerant & set(r.intolerant_of)) < r.intolerant_at_least:
        return False
    failed_cs = sum(drug(x).drug_class == "csDMARD" for x in h.failed)
    if failed_cs < r.failed_csdmards_at_least:
        return False
    if r.failed_csdmards_at_most is not None and failed_cs > r.failed_csdmards_at_most:
        return False
    return r.bts_line is None or bts_line is None or r.bts_line.holds(bts_line)


def _bts_mechanisms(drugs: tuple[Dose, ...], h: History) -> set[str]:
    names = h.used | {d.drug for d in drugs}
    return {drug(x).mechanism for x in names if drug(x).drug_class in ("bDMARD", "tsDMARD")}


def _bts_line(drugs: tuple[Dose, ...], h: History) -> int:
    bts = {x for x in h.used if drug(x).drug_class in ("bDMARD", "tsDMARD")}
    bts |= {d.drug for d in drugs if d.entry.drug_class in ("bDMARD", "tsDMARD")}
    return len(bts)


def place(
    s: Strategy, drugs: tuple[Dose, ...], h: History
) -> tuple[int, Regimen | None, list[list[Dose]]]:
    """Ladder position of a regimen (-1 when no step matches)."""
    line = _bts_line(drugs, h)
    order = sorted(
        range(len(s.ladder)),
        key=lambda i: (not any(r.requires != type(r.requires)() for r in s.ladder[i].regimens), i),
    )
    for i in order:
        st = s.ladder[i]
        if not st.regimens and not drugs:
            return i, None, []
        for reg in st.regimens:
            groups = _assign(reg, drugs, h)
            if groups is not None and _requires_met(reg, h, line):
                return i, reg, groups
    return -1, None, []


def _propose_step(
    s: Strategy, i: int, current: tuple[Dose, ...], h: History, extra_gc: tuple[Dose, ...]
) -> Proposal:
    """The regimen of step ``i`` built from the current one: keep what fits, add the first untried."""
    st = s.ladder[i]
    if not st.regimens:
        return Proposal(i, extra_gc)
    reg = st.regimens[0]
    out: list[Dose] = []
    missing: list[str] = []
    left = list(current)
    for c in reg.components:
        keep = [
            d
            for d in left
            if _allowed(c, d.drug) and not (c.new and d.drug in h.used) and not h.excluded(d.drug)
        ]
        order = _candidates(c)
        keep.sort(key=lambda d: order.index(d.drug) if d.drug in order else len(order))
        want = c.propose_count or c.count.low
        keep = keep[: c.count.high if c.count.high is not None else len(keep)]
        keep = keep[: max(want, 0)] if c.propose_count else keep
        for d in keep:
            left.remove(d)
        chosen = [_dose_for(c, d, h) for d in keep]
        for name in order:
            if len(chosen) >= want:
                break
            if any(d.drug == name for d in chosen) or h.excluded(name):
                continue
            if c.new and name in h.used:
                continue
            if c.other_mechanism and drug(name).mechanism in _bts_mechanisms(current, h):
                continue
            route = drug(name).dosing[0].route  # new drugs start on their usual route
            dosing = drug(name).dosing_for(route)
            amount = c.propose.get(
                name,
                dosing.start
                if c.dose != "max"
                else min(c.max.get(name, dosing.usual[1]), h.tolerated_max.get(name, np.inf)),
            )
            chosen.append(Dose(name, float(amount), route))
        if len(chosen) < want:
            missing.append(f"no untried drug left for {c.role or 'a component'} of step {st.id}")
        chosen.sort(key=lambda d: order.index(d.drug) if d.drug in order else len(order))
        out.extend(chosen)
    note = st.proposal_note
    if st.bridging_glucocorticoid and not extra_gc:
        note = "with a short-term glucocorticoid bridge, tapered and stopped as rapidly as clinically feasible"
    return Proposal(i, tuple(out) + extra_gc, note, "; ".join(missing))


def _dose_for(c: Component, d: Dose, h: History) -> Dose:
    cap = c.max.get(d.drug)
    if cap is not None and not np.isnan(d.dose) and d.dose > cap:  # the step's ceiling
        d = Dose(d.drug, float(cap), d.route)
    if c.dose == "max" or c.propose.get(d.drug) is not None:
        target = c.propose.get(d.drug, max_dose(c, d, h))
        target = min(target, h.tolerated_max.get(d.drug, np.inf))
        new = target if np.isnan(d.dose) or c.dose == "max" else max(d.dose, target)
        return Dose(d.drug, float(new), c.route.get(d.drug, d.route))
    return d


def _optimise(
    s: Strategy, i: int, reg: Regimen, groups: list[list[Dose]], h: History, gc: tuple[Dose, ...]
) -> Proposal:
    out: list[Dose] = []
    moved: list[str] = []
    raised = False
    for c, g in zip(reg.components, groups, strict=True):
        for d in g:
            if d.entry.drug_class in ("csDMARD", "NSAID"):
                new = Dose(d.drug, float(max_dose(c, d, h)), c.route.get(d.drug, d.route))
                raised |= not new.dose <= d.dose + TOL  # NaN (dose not given) counts as raised
                if new.route != d.route:
                    moved.append(f"{d.route} {d.entry.label} to {new.route}")
                out.append(new)
            else:
                out.append(d)
    note = "; ".join(
        (["raise to the maximum tolerated dose"] if raised or not moved else []) + moved
    )
    return Proposal(i, tuple(out) + gc, note)


def _another(
    s: Strategy, i: int, reg: Regimen, groups: list[list[Dose]], h: History, gc: tuple[Dose, ...]
) -> Proposal:
    """An optimised step optimised further: its csDMARD or NSAID replaced by one not yet used
    (e.g. a second NSAID before an NSAID trial counts as failed)."""
    for c, g in zip(reg.components, groups, strict=True):
        movable = [d for d in g if d.entry.drug_class in ("csDMARD", "NSAID")]
        if not movable:
            continue
        for name in _candidates(c):
            if name in h.used or h.excluded(name) or any(d.drug == name for d in g):
                continue
            old = movable[0]
            route = drug(name).dosing[0].route  # new drugs start on their usual route
            new = Dose(name, float(c.propose.get(name, drug(name).dosing_for(route).start)), route)
            rest = tuple(d for grp in groups for d in grp if d is not old)
            return Proposal(i, (*rest, new, *gc), f"replaces {old.entry.label}")
    current = tuple(d for grp in groups for d in grp)
    return Proposal(i, current + gc, missing="no untried alternative on this step")


def _next(
    s: Strategy, i: int, key: str, current: tuple[Dose, ...], h: History, gc: tuple[Dose, ...]
) -> Proposal:
    """Proposal for the step after ``i`` (``key``: next or next_if_ppf), skipping steps tried and failed."""
    ref = getattr(s.ladder[i], key)
    seen: set[str] = set()
    while ref is not None and ref not in seen:
        seen.add(ref)
        j = s.step_position(ref)
        p = _propose_step(s, j, current, h, gc)
        alt = s.ladder[j].on_intolerance
        if p.missing and alt is not None:  # e.g. methotrexate contraindicated: its alternative step
            q = _propose_step(s, s.step_position(alt), current, h, gc)
            if not q.missing:
                p = q
        added = {d.drug for d in p.regimen} - {d.drug for d in current}
        if not (added and added <= h.failed):
            return p
        ref = s.ladder[j].next
    return Proposal(-1, current, "end of the ladder")


def _switch(
    s: Strategy, i: int, current: tuple[Dose, ...], bad: str, h: History, gc: tuple[Dose, ...]
) -> Proposal:
    """Regimen after intolerance of ``bad``: replace within the step, else the step's intolerance
    step (when its history requirement is met), else drop the drug if a step still matches, else
    the next step."""
    h2 = replace(h, intolerant=h.intolerant | {bad}, used=h.used | {d.drug for d in current})
    rest = tuple(d for d in current if d.drug != bad)
    st = s.ladder[i]
    if st.regimens:
        reg = st.regimens[0]
        for c in reg.components:
            if not _allowed(c, bad):
                continue
            for name in _candidates(c):
                if name == bad or any(d.drug == name for d in rest) or h2.excluded(name):
                    continue
                if c.new and name in h2.used:
                    continue
                route = drug(name).dosing[0].route  # new drugs start on their usual route
                dosing = drug(name).dosing_for(route)
                trial = (*rest, Dose(name, float(c.propose.get(name, dosing.start)), route))
                j, _, _ = place(s, trial, h2)
                if 0 <= j <= i:  # sideways (or down to the same drug's lower-dose step)
                    return Proposal(j, trial + gc, f"replaces {drug(bad).label}")
    if st.on_intolerance is not None:
        j = s.step_position(st.on_intolerance)
        target = s.ladder[j]
        if not target.regimens or _requires_met(target.regimens[0], h2, None):
            p = _propose_step(s, j, rest, h2, gc)
            return replace(
                p, note=(p.note + "; " if p.note else "") + f"{drug(bad).label} not tolerated"
            )
    j, _, _ = place(s, rest, h2)
    if rest and j >= 0:
        return Proposal(j, rest + gc, f"stop {drug(bad).label}; continue the rest")
    if st.next is not None:
        return replace(_next(s, i, "next", rest, h2, gc), note=f"{drug(bad).label} not tolerated")
    return Proposal(-1, rest + gc, f"{drug(bad).label} not tolerated; no alternative on the ladder")


def _route_change(
    i: int, reg: Regimen, groups: list[list[Dose]], bad: str, gc: tuple[Dose, ...]
) -> Proposal | None:
    """The same regimen with ``bad`` moved to the route its step asks for (ACR 2021: subcutaneous
    methotrexate, or a split oral dose, before a switch when oral methotrexate is not tolerated);
    None when ``bad`` is already on that route or the step names no route for it (a course
    recorded without a route is on its catalogue's first route: oral methotrexate)."""
    for c, g in zip(reg.components, groups, strict=True):
        want = c.route.get(bad)
        for d in g:
            if d.drug == bad and want is not None and d.route != want:
                moved = tuple(
                    Dose(x.drug, x.dose, want) if x is d else x for grp in groups for x in grp
                )
                note = f"{d.route} {d.entry.label} not tolerated: {want} at the same dose"
                return Proposal(i, moved + gc, note)
    return None


def _taper(current: tuple[Dose, ...], gc: tuple[Dose, ...], cls: str) -> Proposal:
    out: list[Dose] = []
    notes: list[str] = []
    for d in (*current, *gc):
        c = d.entry.drug_class
        hit = (cls == "b/tsDMARD" and c in ("bDMARD", "tsDMARD")) or c == cls
        if not hit:
            out.append(d)
        elif c == "glucocorticoid":
            if not np.isnan(d.dose) and d.dose > 5:
                out.append(Dose(d.drug, float(np.floor(d.dose / 2 / 2.5) * 2.5) or 2.5, d.route))
                notes.append(f"{d.entry.label} taper to stop")
            else:
                notes.append(f"stop {d.entry.label}")
        else:
            out.append(Dose(d.drug, d.dose / 2, d.route) if not np.isnan(d.dose) else d)
            notes.append(f"{d.entry.label} half dose or double interval")
    return Proposal(-1, tuple(out), "; ".join(notes))


def place_and_propose(
    s: Strategy, drugs: tuple[Dose, ...], gc: tuple[Dose, ...], h: History, bad_today: str
) -> Placement:
    """Placement of one regimen and the proposal of every decision kind."""
    i, reg, groups = place(s, drugs, h)
    if i < 0:
        names = " + ".join(d.text() for d in drugs) or "no DMARD"
        return Placement(-1, f"current therapy ({names}) matches no ladder step", False, {})
    optimised = reg is None or (
        all(_at_max(c, d, h) for c, g in zip(reg.components, groups, strict=True) for d in g)
        and not any(c.dose == "below_max" for c in reg.components)
    )
    props: dict[str, Proposal] = {"continue": Proposal(i, drugs + gc)}
    if optimised and reg is not None:
        props["optimise"] = _another(s, i, reg, groups, h, gc)
    if not optimised and reg is not None:
        props["optimise"] = _optimise(s, i, reg, groups, h, gc)
        props["escalate"] = props["optimise"]
        below = any(c.dose == "below_max" for c in reg.components)
        if below and s.ladder[i].next is not None:  # the ladder names the optimised step itself
            props["escalate"] = _next(s, i, "next", drugs, h, gc)
            props["optimise"] = props["escalate"]
        props["escalate_ppf"] = props["escalate"]
    else:
        props["escalate"] = _next(s, i, "next", drugs, h, gc)
        props["escalate_ppf"] = (
            _next(s, i, "next_if_ppf", drugs, h, gc)
            if s.ladder[i].next_if_ppf
            else props["escalate"]
        )
    nodose = [
        d.entry.label
        for d in drugs
        if np.isnan(d.dose) and d.entry.drug_class in ("csDMARD", "NSAID")
    ]
    if nodose:
        note = f"dose of {', '.join(nodose)} not given: taken as its maximum tolerated dose"
        for k in ("escalate", "escalate_ppf"):
            props[k] = replace(
                props[k], missing="; ".join(x for x in (props[k].missing, note) if x)
            )
    bad = bad_today or (drugs[0].drug if len(drugs) == 1 else "")
    moved = None
    if bad and reg is not None:
        moved = _route_change(i, reg, groups, bad, gc)
    if moved is not None:
        props["route_change"] = moved
    if bad and any(d.drug == bad for d in (*drugs, *gc)):
        props["switch"] = _switch(s, i, drugs, bad, h, gc)
    elif drugs:
        props["switch"] = Proposal(
            -2,
            drugs + gc,
            missing="name the drug not tolerated (intolerant_drug) to choose the switch",
        )
    for cls in ("glucocorticoid", "b/tsDMARD", "csDMARD", "NSAID"):
        p = _taper(drugs, gc, cls)
        props[f"taper:{cls}"] = replace(p, step=i)
    for r in s.rules:
        if r.to_step is not None:
            props[f"to:{r.to_step}"] = _propose_step(s, s.step_position(r.to_step), drugs, h, gc)
    back = tuple(Dose(d.drug, h.tapered_from.get(d.drug, d.dose), d.route) for d in drugs)
    props["reinstate"] = Proposal(i, back + gc, "previous full dose")
    return Placement(i, "", optimised, props, route_change=moved is not None)
