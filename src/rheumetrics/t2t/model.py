"""The strategy model: index + target + timing + ladder + rules, as frozen data.

A strategy is read from a TOML file (:mod:`rheumetrics.t2t.loader`) and never built in code. Five
parts are pluggable, as t2t.md §0 and §11 ask: the disease-activity index and its cut-off set, the
target predicate, visit and decision timing, an ordered treatment ladder, and an ordered rule table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

#: Days in a month for every month-denominated interval (Julian year / 12). Durations in a strategy
#: are stored in days so that results do not depend on calendar arithmetic.
DAYS_PER_MONTH = 365.25 / 12

#: Therapy classes of the therapies frame (contracts.md).
DRUG_CLASSES = ("csDMARD", "bDMARD", "tsDMARD", "glucocorticoid", "NSAID")

#: Primary actions a rule may take, and the one action only co-action rules may take.
ACTIONS = ("continue", "escalate", "switch", "taper", "reinstate", "optimise", "review")
CO_ACTIONS = ("local_glucocorticoid", "taper")

#: What a ``taper`` action reduces.
TAPER_CLASSES = ("glucocorticoid", "b/tsDMARD", "csDMARD", "NSAID")

#: Boolean facts a rule may test (``when = { fact = true|false }``); see facts.py for definitions.
BOOL_FACTS = (
    "target_met",
    "clinical_target_met",
    "index_at_target",
    "sustained",
    "sustained_remission",
    "improved",
    "intolerance",
    "swollen_joints",
    "mri_bme",
    "on_glucocorticoid",
    "on_csdmard",
    "on_bts",
    "on_nsaid",
    "ppf",
    "after_taper",
    "nsaid_trial_adequate",
    "objective_inflammation",
)
#: Duration facts a rule may bound (``*_min`` inclusive, ``*_max`` exclusive).
DURATION_FACTS = ("since_change", "on_glucocorticoid_for")
#: Other condition keys: index bounds, current ladder step, strategy option.
OTHER_CONDITIONS = ("index_at_least", "index_below", "step", "option")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mo|w|d)\s*$")


def parse_duration(text: str | int | float) -> float:
    """Days in a duration written ``"3mo"``, ``"12w"`` or ``"84d"`` (a bare number means months).

    >>> parse_duration("12w"), parse_duration("3mo") == 3 * DAYS_PER_MONTH
    (84.0, True)
    """
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a duration")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"{text!r} is negative")
        return float(text) * DAYS_PER_MONTH
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a duration like '3mo', '12w' or '84d'")
    value, unit = float(m.group(1)), m.group(2)
    return value * {"mo": DAYS_PER_MONTH, "w": 7.0, "d": 1.0}[unit]


def format_duration(days: float) -> str:
    """Inverse of :func:`parse_duration` for display: months when whole, else weeks or days."""
    months = days / DAYS_PER_MONTH
    if abs(months - round(months)) < 1e-9:
        return f"{round(months)} months"
    if abs(days / 7 - round(days / 7)) < 1e-9:
        return f"{round(days / 7)} weeks"
    return f"{days:g} days"


@dataclass(frozen=True)
class CountRange:
    """An inclusive range of counts; ``high`` None means unbounded."""

    low: int
    high: int | None

    def describe(self) -> str:
        if self.high is None:
            return f"{self.low}+"
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


@dataclass(frozen=True)
class StepMatch:
    """How a ladder step is recognised in the therapy actually given at a visit.

    Counts are of drugs active just before the visit: ``csdmard`` csDMARDs, ``bts`` b- and tsDMARDs,
    ``nsaid`` NSAIDs; ``bts_line`` is the number of distinct b/tsDMARDs started so far (1 = first
    biologic or JAK inhibitor); ``drugs`` requires at least one of the named drugs to be active.
    """

    csdmard: CountRange | None = None
    bts: CountRange | None = None
    bts_line: CountRange | None = None
    nsaid: CountRange | None = None
    drugs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """One rung of the treatment ladder."""

    id: str
    label: str
    therapy: str
    match: tuple[StepMatch, ...] = ()
    next: str | None = None
    next_rule: str | None = None
    next_if_ppf: str | None = None
    next_if_ppf_rule: str | None = None
    on_intolerance: str | None = None  # a step id, or None: switch agent within this step
    source: str = ""

    @property
    def biologic(self) -> bool:
        """True when the step is recognised by at least one active b/tsDMARD."""
        return any(m.bts is not None and m.bts.low >= 1 for m in self.match)


@dataclass(frozen=True)
class Rule:
    """One row of the rule table: conditions (all must hold), an action and a reason."""

    id: str
    when: dict[str, object]
    action: str
    reason: str
    source: str
    evidence: Literal["V", "P", "U"]
    co_action: bool = False
    taper_class: str | None = None
    to_step: str | None = None
    next_visit_days: float | None = None


@dataclass(frozen=True)
class Target:
    """Target predicate: the index at or below a threshold, plus optional clinical/imaging parts."""

    index_threshold: float
    index_inclusive: bool  # True: index <= threshold; False: index < threshold
    level: str  # "remission", "low_activity" or "custom"
    swollen_joints_max: int | None = None
    no_mri_bme: bool = False
    us_pd_joints_max: int | None = None

    def describe(self, index_label: str) -> str:
        parts = [f"{index_label} {'<=' if self.index_inclusive else '<'} {self.index_threshold:g}"]
        if self.swollen_joints_max is not None:
            parts.append(f"28-joint swollen count <= {self.swollen_joints_max}")
        if self.us_pd_joints_max is not None:
            parts.append(f"power-Doppler joint count <= {self.us_pd_joints_max}")
        if self.no_mri_bme:
            parts.append("no MRI bone marrow oedema")
        return " and ".join(parts)


@dataclass(frozen=True)
class Improvement:
    """What counts as improvement since the last therapy change."""

    kind: Literal["relative", "absolute"]
    min: float  # fraction (relative) or index units (absolute); improvement >= min is "improved"
    source: str

    def describe(self) -> str:
        return f"{self.min:.0%}" if self.kind == "relative" else f"{self.min:g}"


@dataclass(frozen=True)
class Timing:
    """Decision windows and visit intervals, all in days."""

    visit_window_days: float
    sustained_days: float | None
    visit_active_days: float
    visit_after_change_days: float
    visit_at_target_days: float
    visit_sustained_days: float
    sustained_min_visits: int = 1


@dataclass(frozen=True)
class Option:
    """A named choice the user can make when loading a strategy."""

    name: str
    description: str
    default: str
    values: dict[str, dict[str, object]]  # value -> overrides ("dotted.path" -> value)


@dataclass(frozen=True)
class Parameters:
    """Engine parameters used by some facts (documented, with the source of each default)."""

    crp_uln_mg_l: float | None = None
    nsaid_trial_min_drugs: int | None = None
    nsaid_trial_min_days: float | None = None
    bme_present_above: float = 0.0


@dataclass(frozen=True)
class Strategy:
    """A complete, validated treat-to-target strategy."""

    id: str
    name: str
    disease: Literal["RA", "axSpA"]
    summary: str
    sources: tuple[str, ...]
    index: str
    index_label: str
    cutoffs: str
    target: Target
    improvement: Improvement | None
    timing: Timing
    ladder: tuple[Step, ...]
    rules: tuple[Rule, ...]
    change_classes: tuple[str, ...]
    parameters: Parameters
    options: dict[str, Option] = field(default_factory=dict)
    chosen: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    path: str = ""

    @property
    def target_text(self) -> str:
        return self.target.describe(self.index_label)
