"""The strategy model: pydantic models of a treat-to-target strategy (read by
:mod:`rheumetrics.t2t.strategy_files`).

A strategy has five pluggable parts: the disease-activity index and its cut-off set, the target,
the timing (visit cadences, minimum time on a step, the sustained period), an ordered ladder whose
steps name drugs and dose ranges, and an ordered rule table. Options (named choices such as the
index) override parts of the file at load time and are recorded with every result.

>>> CountRange.model_validate("2-3").describe()
'2-3'
"""

from __future__ import annotations

import re
import string
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rheumetrics.measures.cutoffs import CUTOFF_SETS
from rheumetrics.schema.drugs import find_drug
from rheumetrics.schema.vocab import DRUG_CLASSES, MECHANISMS
from rheumetrics.t2t.indices import INDICES, target_bound
from rheumetrics.t2t.rule_terms import (
    ACTIONS,
    BOOL_FACTS,
    CO_ACTIONS,
    DURATION_FACTS,
    PROPOSALS,
    REASON_FIELDS,
    TAPER_CLASSES,
    parse_duration,
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountRange(_Model):
    """An inclusive range of counts written ``1``, ``"2-3"`` or ``"2+"``."""

    low: int
    high: int | None

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("must be a count like 1, '2-3' or '2+'")
        if isinstance(v, int):
            return {"low": v, "high": v}
        if isinstance(v, str):
            m = re.fullmatch(r"\s*(\d+)\s*(?:(\+)|-\s*(\d+))?\s*", v)
            if not m:
                raise ValueError("must be a count like 1, '2-3' or '2+'")
            low = int(m.group(1))
            high = None if m.group(2) else int(m.group(3) or low)
            return {"low": low, "high": high}
        return v

    def holds(self, n: int) -> bool:
        return n >= self.low and (self.high is None or n <= self.high)

    def describe(self) -> str:
        if self.high is None:
            return f"{self.low}+"
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


def _drug_name(v: str) -> str:
    d = find_drug(v)
    if d is None:
        raise ValueError(f"unknown drug {v!r} (not in the drug catalogue)")
    return d.name


class Component(_Model):
    """One part of a step's regimen: which drugs, how many, at what dose.

    ``drugs`` lists allowed drugs in order of preference (the first untried one is proposed);
    ``classes``/``mechanisms`` allow any catalogued drug of those. ``dose``: ``below_max`` (some drug
    below its maximum), ``max`` (every drug at its maximum tolerated dose) or ``any``. ``max`` caps
    the maximum per drug (a protocol's ceiling) and ``min`` is the least dose a drug needs to count
    as on the step (DREAM: adalimumab 40 mg weekly is a step of its own); ``propose`` gives the dose to propose per drug;
    ``route`` names the route a drug must be on to count as optimised (ACR: subcutaneous
    methotrexate before failure); new drugs start on their usual route. ``new`` requires drugs never used before (a switch to another agent); ``other_mechanism``
    requires a mode of action no b/tsDMARD used so far had (a switch of class).
    """

    role: str = ""
    drugs: tuple[str, ...] = ()
    classes: tuple[Literal[DRUG_CLASSES], ...] = ()  # type: ignore[valid-type]
    mechanisms: tuple[Literal[MECHANISMS], ...] = ()  # type: ignore[valid-type]
    exclude_mechanisms: tuple[Literal[MECHANISMS], ...] = ()  # type: ignore[valid-type]
    count: CountRange = CountRange(low=1, high=1)
    dose: Literal["any", "below_max", "max"] = "any"
    max: dict[str, float] = Field(default_factory=dict)
    min: dict[str, float] = Field(default_factory=dict)
    propose: dict[str, float] = Field(default_factory=dict)
    propose_count: int | None = None
    route: dict[str, str] = Field(default_factory=dict)
    new: bool = False
    other_mechanism: bool = False

    @field_validator("drugs", mode="before")
    @classmethod
    def _drugs(cls, v: Any) -> Any:
        return tuple(_drug_name(x) for x in v) if isinstance(v, list | tuple) else v

    @field_validator("max", "min", "propose", "route", mode="before")
    @classmethod
    def _keys(cls, v: Any) -> Any:
        return {_drug_name(k): x for k, x in v.items()} if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _some(self) -> Component:
        if not (self.drugs or self.classes or self.mechanisms):
            raise ValueError("a component names drugs, classes or mechanisms")
        return self


class Requires(_Model):
    """History a step needs: intolerance of drugs, csDMARDs failed for inefficacy, b/tsDMARD line."""

    intolerant_of: tuple[str, ...] = ()
    intolerant_at_least: int = 0
    failed_csdmards_at_least: int = 0
    failed_csdmards_at_most: int | None = None
    bts_line: CountRange | None = None

    @field_validator("intolerant_of", mode="before")
    @classmethod
    def _drugs(cls, v: Any) -> Any:
        return tuple(_drug_name(x) for x in v) if isinstance(v, list | tuple) else v


class Regimen(_Model):
    """One way a step's therapy can look: components plus the history it requires."""

    components: tuple[Component, ...] = ()
    requires: Requires = Requires()


class EnterIf(_Model):
    """Conditions at the visit to move up to a step (e.g. DREAM: a TNF inhibitor needs DAS28 >= 3.2)."""

    index_at_least: float | None = None


class Step(_Model):
    """One rung of the treatment ladder."""

    id: str
    label: str
    therapy: str
    source: str
    regimens: tuple[Regimen, ...] = ()
    next: str | None = None
    next_if_ppf: str | None = None
    on_intolerance: str | None = None
    enter_if: EnterIf | None = None
    bridging_glucocorticoid: bool = False
    proposal_note: str = ""  # added to the proposed regimen (e.g. "40 mg every week")

    @property
    def biologic(self) -> bool:
        """True when the step's therapy includes a b/tsDMARD."""
        return any(
            set(c.classes) & {"bDMARD", "tsDMARD"}
            or any(find_drug(d).drug_class in ("bDMARD", "tsDMARD") for d in c.drugs)  # type: ignore[union-attr]
            or (c.mechanisms and not set(c.mechanisms) <= {"COX", "COX-2"})
            for r in self.regimens[:1]
            for c in r.components
        )


class Rule(_Model):
    """One row of the rule table: conditions (all must hold), an action and a reason.

    The proposed regimen is the action's own (``escalate``: the next step...), the step named by
    ``to_step``, or the proposal named by ``proposal`` (``route_change``: the drug not tolerated
    today on the route its step asks for, same dose)."""

    id: str
    when: dict[str, Any] = Field(default_factory=dict)
    action: str
    reason: str
    source: str = Field(min_length=1)
    evidence: Literal["V", "P", "U"]
    co_action: bool = False
    taper_class: Literal[TAPER_CLASSES] | None = None  # type: ignore[valid-type]
    to_step: str | None = None
    proposal: Literal[PROPOSALS] | None = None  # type: ignore[valid-type]
    next_visit: str | None = None

    @property
    def next_visit_days(self) -> float | None:
        return None if self.next_visit is None else parse_duration(self.next_visit)

    @model_validator(mode="after")
    def _check(self) -> Rule:
        allowed = CO_ACTIONS if self.co_action else ACTIONS
        if self.action not in allowed:
            raise ValueError(f"action {self.action!r} must be one of {', '.join(allowed)}")
        if (self.action == "taper") != (self.taper_class is not None):
            raise ValueError("a taper rule names its taper_class, and only a taper rule does")
        fields = {f for _, f, _, _ in string.Formatter().parse(self.reason) if f is not None}
        bad = sorted(fields - set(REASON_FIELDS))
        if bad:
            raise ValueError(f"reason placeholders {bad} unknown; allowed: {REASON_FIELDS}")
        durations = {f"{d}_{b}" for d in DURATION_FACTS for b in ("min", "max")}
        for key, value in self.when.items():
            if key in BOOL_FACTS:
                if not isinstance(value, bool):
                    raise ValueError(f"when.{key} must be true or false")
            elif key in durations:
                parse_duration(value)
            elif key in ("index_at_least", "index_below"):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"when.{key} must be a number")
            elif key == "step":
                if not isinstance(value, str) and not (
                    isinstance(value, list) and all(isinstance(v, str) for v in value)
                ):
                    raise ValueError("when.step must be a step id or a list of step ids")
            elif key == "option":
                if not isinstance(value, dict) or not all(
                    isinstance(v, str) for v in value.values()
                ):
                    raise ValueError("when.option must be a table of option = value")
            else:
                raise ValueError(
                    f"unknown condition when.{key}; allowed: {', '.join([*BOOL_FACTS, *sorted(durations), 'index_at_least', 'index_below', 'step', 'option'])}"
                )
        return self

    def condition_days(self, key: str) -> float:
        return parse_duration(self.when[key])

    @property
    def steps(self) -> tuple[str, ...]:
        v = self.when.get("step", ())
        return (v,) if isinstance(v, str) else tuple(v)


class Target(_Model):
    """Target: the index at or below a threshold, plus optional clinical and imaging parts."""

    level: Literal["remission", "low_activity"] | None = None
    index_at_most: float | None = None
    index_below: float | None = None
    swollen_joints_max: int | None = Field(default=None, ge=0)
    no_mri_bme: bool = False
    us_pd_joints_max: int | None = Field(default=None, ge=0)
    #: the ultrasound also decides when the index is below this and at most
    #: ``us_assessed_swollen_max`` joints are swollen (TaSER: DAS28-ESR < 5.1, SJC28 <= 1)
    us_assessed_index_below: float | None = None
    us_assessed_swollen_max: int | None = Field(default=None, ge=0)
    index_threshold: float = 0.0
    index_inclusive: bool = True

    def describe(self, index_label: str) -> str:
        parts = [f"{index_label} {'<=' if self.index_inclusive else '<'} {self.index_threshold:g}"]
        if self.swollen_joints_max is not None:
            parts.append(f"28-joint swollen count <= {self.swollen_joints_max}")
        if self.us_assessed_index_below is not None:
            parts = [
                f"({parts[0]}, or {index_label} < {self.us_assessed_index_below:g} with 28-joint"
                f" swollen count <= {self.us_assessed_swollen_max})"
            ]
        if self.us_pd_joints_max is not None:
            parts.append(f"power-Doppler joint count <= {self.us_pd_joints_max}")
        if self.no_mri_bme:
            parts.append("no MRI bone marrow oedema")
        return " and ".join(parts)


class Improvement(_Model):
    """What counts as improvement since the last therapy change (a named, recorded convention)."""

    kind: Literal["relative", "absolute"]
    min: float
    source: str

    def describe(self) -> str:
        return f"{self.min:.0%}" if self.kind == "relative" else f"{self.min:g}"


class Timing(_Model):
    """Decision windows and visit cadences (durations such as ``"3mo"``, ``"12w"``)."""

    visit_window: str = "14d"
    sustained: str | None = None
    sustained_min_visits: int = Field(default=1, ge=1)
    min_on_step: str | None = None
    visit_active: str
    visit_after_change: str
    visit_at_target: str
    visit_sustained: str

    @model_validator(mode="after")
    def _durations(self) -> Timing:
        for name in (
            "visit_window",
            "sustained",
            "min_on_step",
            "visit_active",
            "visit_after_change",
            "visit_at_target",
            "visit_sustained",
        ):
            v = getattr(self, name)
            if v is not None:
                parse_duration(v)
        return self

    def days(self, name: str) -> float:
        v = getattr(self, name)
        return float("nan") if v is None else parse_duration(v)

    @property
    def visit_window_days(self) -> float:
        return parse_duration(self.visit_window)

    @property
    def sustained_days(self) -> float | None:
        return None if self.sustained is None else parse_duration(self.sustained)


class Parameters(_Model):
    """Engine parameters some facts use (documented with the source of each default)."""

    crp_uln_mg_l: float | None = None
    nsaid_trial_min_drugs: int | None = None
    nsaid_trial_min_days: float | None = None

    @field_validator("nsaid_trial_min_days", mode="before")
    @classmethod
    def _days(cls, v: Any) -> Any:
        return None if v is None else parse_duration(v)

    bme_present_above: float = 0.0
    loss_of_response_worsening: float | None = None
    primary_response_min: float | None = None
    primary_response_strict: bool = False  # improvement must exceed primary_response_min
    ppf_persistent_activity: bool = False
    ppf_failed_csdmards: int | None = None
    nsaid_intolerance_counts_as_failure: bool = False


class Option(_Model):
    """A named choice the user makes when loading a strategy."""

    description: str
    default: str
    values: dict[str, dict[str, Any]]


class Meta(_Model):
    id: str
    name: str
    disease: Literal["RA", "axSpA"]
    summary: str
    sources: tuple[str, ...] = Field(min_length=1)
    notes: tuple[str, ...] = ()
    change_classes: tuple[Literal[DRUG_CLASSES], ...]  # type: ignore[valid-type]
    ladder_classes: tuple[Literal[DRUG_CLASSES], ...] = ("csDMARD", "bDMARD", "tsDMARD")  # type: ignore[valid-type]


class IndexChoice(_Model):
    name: str
    cutoffs: str | None = None


class Strategy(_Model):
    """A complete, validated treat-to-target strategy (see the module docstring)."""

    strategy: Meta
    index: IndexChoice
    target: Target
    improvement: Improvement | None = None
    timing: Timing
    parameters: Parameters = Parameters()
    options: dict[str, Option] = Field(default_factory=dict)
    ladder: tuple[Step, ...] = Field(min_length=1)
    rules: tuple[Rule, ...] = Field(min_length=1)
    chosen: dict[str, str] = Field(default_factory=dict)
    path: str = ""

    @model_validator(mode="after")
    def _resolve(self) -> Strategy:
        spec = INDICES.get(self.index.name)
        if spec is None:
            raise ValueError(f"index.name {self.index.name!r} unknown; known: {', '.join(INDICES)}")
        cs_name = self.index.cutoffs or spec.default_cutoffs().name
        cs = CUTOFF_SETS.get(cs_name)
        if cs is None or cs.family != spec.family:
            valid = sorted(n for n, c in CUTOFF_SETS.items() if c.family == spec.family)
            raise ValueError(
                f"index.cutoffs {cs_name!r} must be a {spec.family} cut-off set: {valid}"
            )
        t = self.target
        ways = [k for k in ("level", "index_at_most", "index_below") if getattr(t, k) is not None]
        if len(ways) != 1:
            raise ValueError("target: give exactly one of level, index_at_most, index_below")
        ultrasound_also = (t.us_assessed_index_below, t.us_assessed_swollen_max)
        if (None in ultrasound_also) != (ultrasound_also == (None, None)):
            raise ValueError(
                "target: give both us_assessed_index_below and us_assessed_swollen_max, or neither"
            )
        if t.us_assessed_index_below is not None and t.us_pd_joints_max is None:
            raise ValueError("target.us_assessed_index_below needs target.us_pd_joints_max")
        if t.level is not None:
            threshold, inclusive = target_bound(cs, t.level)
        else:
            threshold = float(t.index_at_most if t.index_at_most is not None else t.index_below)  # type: ignore[arg-type]
            inclusive = t.index_at_most is not None
        object.__setattr__(self.index, "cutoffs", cs_name)
        object.__setattr__(t, "index_threshold", float(threshold))
        object.__setattr__(t, "index_inclusive", bool(inclusive))
        ids = [st.id for st in self.ladder]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate ladder step ids in {ids}")
        for st in self.ladder:
            for key in ("next", "next_if_ppf", "on_intolerance"):
                ref = getattr(st, key)
                if ref is not None and ref not in ids:
                    raise ValueError(f"ladder[{st.id}].{key} = {ref!r}: no such step ({ids})")
        rids = [r.id for r in self.rules]
        if len(set(rids)) != len(rids):
            raise ValueError(f"duplicate rule ids in {rids}")
        for r in self.rules:
            for sid in [*r.steps, *([r.to_step] if r.to_step else [])]:
                if sid not in ids:
                    raise ValueError(f"rules[{r.id}] names step {sid!r}; steps: {ids}")
            if "improved" in r.when and self.improvement is None:
                raise ValueError(f"rules[{r.id}] tests 'improved' but there is no [improvement]")
            if (
                "sustained" in r.when or "sustained_remission" in r.when
            ) and self.timing.sustained is None:
                raise ValueError(
                    f"rules[{r.id}] tests a sustained state but timing.sustained is not set"
                )
        return self

    # convenient views ---------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.strategy.id

    @property
    def name(self) -> str:
        return self.strategy.name

    @property
    def disease(self) -> str:
        return self.strategy.disease

    @property
    def summary(self) -> str:
        return self.strategy.summary

    @property
    def sources(self) -> tuple[str, ...]:
        return self.strategy.sources

    @property
    def notes(self) -> tuple[str, ...]:
        return self.strategy.notes

    @property
    def change_classes(self) -> tuple[str, ...]:
        return self.strategy.change_classes

    @property
    def ladder_classes(self) -> tuple[str, ...]:
        return self.strategy.ladder_classes

    @property
    def index_name(self) -> str:
        return self.index.name

    @property
    def index_label(self) -> str:
        return INDICES[self.index.name].label

    @property
    def cutoffs(self) -> str:
        return str(self.index.cutoffs)

    @property
    def target_text(self) -> str:
        return self.target.describe(self.index_label)

    def step_position(self, step_id: str) -> int:
        return [st.id for st in self.ladder].index(step_id)
