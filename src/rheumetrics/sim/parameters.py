"""The simulator's parameter file: every value with its range and published source, validated.

The file is TOML (the shipped one is ``parameters.toml`` beside this module); its schema is the
pydantic model :class:`Parameters`, so a probability outside [0, 1], an entry without a source, an
unknown entry or an unknown drug class is refused with a message naming the entry.

>>> p = load_parameters()
>>> p.activity.flare_rate.calibrated
True
>>> 0 <= p.activity.flare_rate.value <= 1
True
"""

from __future__ import annotations

import math
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from rheumetrics import __version__
from rheumetrics.errors import RheumetricsError
from rheumetrics.sim.entries import Parameter, Probability
from rheumetrics.sim.entries import Strict as _Strict
from rheumetrics.sim.regimens import AsasEffect, Drug, LadderStep, RegimenEffect, Regimens

__all__ = [
    "Anchor",
    "AsasEffect",
    "Drug",
    "LadderStep",
    "Parameter",
    "Parameters",
    "Probability",
    "RegimenEffect",
    "Regimens",
    "load_parameters",
    "parse_parameters",
    "write_parameters",
]

SHIPPED = "parameters.toml"
#: Sections whose entries are single parameters (and may be calibrated).
_SECTIONS = ("activity", "first_course", "oedema", "observation", "radiographs", "safety", "axspa")
#: End-of-trial outcomes an anchor without ``month`` may name (the columns of a trial's shares).
END_OUTCOMES = (
    "remission",
    "no_progression",
    "progression_beyond_sdc",
    "any_escalation",
    "reached_biologic",
    "any_sae",
)
#: How reports name the end-of-trial outcomes.
OUTCOME_LABELS = {
    "remission": "remission at the end (DAS28 < 2.6; ASDAS-CRP < 1.3 in axial SpA)",
    "no_progression": "no radiographic progression (SvdH change <= 0)",
    "progression_beyond_sdc": "SvdH progression beyond the smallest detectable change",
    "any_escalation": "at least one escalation",
    "reached_biologic": "reached a biologic",
    "any_sae": "at least one serious adverse event",
}
#: Outcomes an anchor may name at a visit month: DAS28-CRP < 2.6 at that visit, or the EULAR
#: response category from the entry visit to that visit.
TIMED_OUTCOMES = (
    "remission",
    "low_activity",
    "eular_good",
    "eular_moderate",
    "eular_none",
    "asdas_cii",
    "index_change",
)
#: Outcome indices a population may report, with the published remission and low-activity
#: cut-offs: DAS28 < 2.6 and <= 3.2 (Prevoo ML et al. Arthritis Rheum 1995;38:44-48; Fransen J et
#: al. Rheumatology 2004;43:1252-1255), ASDAS < 1.3 (inactive disease) and < 2.1 (Machado P et al.
#: Ann Rheum Dis 2011;70:47-53; Machado PM et al. Ann Rheum Dis 2018;77:1539-1540).
OUTCOME_INDICES = {
    "das28_crp": (2.6, 3.2),
    "das28_esr": (2.6, 3.2),
    "asdas_crp": (1.3, 2.1),
}


class Population(_Strict):
    """Who enters the trial and how long it runs."""

    description: str
    ladder: str
    patients_per_arm: Annotated[int, Field(gt=0)]
    months: Annotated[int, Field(gt=0, le=120)]
    visit_every_months: Annotated[int, Field(gt=0, le=12)]
    #: Arms (by name, see :attr:`rheumetrics.sim.trial.Arm.name`) visited at another cadence.
    arm_visit_every_months: dict[str, Annotated[int, Field(gt=0, le=12)]] = Field(
        default_factory=dict
    )
    share_female: Parameter
    age_mean: Parameter
    age_sd: Parameter
    #: Inclusion: the outcome index at entry at most / at least this value.
    entry_das28_crp_max: Parameter | None = None
    entry_index_min: Parameter | None = None
    entry_step_shares: EntrySteps
    disease: Literal["RA", "axSpA"] = "RA"
    #: The index of the end-of-trial and timed outcomes (remission, low activity, responses).
    outcome_index: Literal["das28_crp", "das28_esr", "asdas_crp"] = "das28_crp"
    #: DMARD-naive at entry: the run-in is untreated, the entry regimen starts at the first visit
    #: and csDMARD steps act through the patient's first-course response (``first_course``).
    dmard_naive: bool = False

    @model_validator(mode="after")
    def _check(self) -> Population:
        axial = self.outcome_index.startswith("asdas")
        if axial != (self.disease == "axSpA"):
            raise ValueError(f"outcome index {self.outcome_index} does not fit {self.disease}")
        if self.disease == "axSpA" and self.dmard_naive:
            raise ValueError("dmard_naive applies to RA populations only")
        return self

    def visit_every(self, arm: str) -> int:
        """Months between decision visits of an arm."""
        return self.arm_visit_every_months.get(arm, self.visit_every_months)


class EntrySteps(_Strict):
    """Shares of patients entering on each ladder step (they must add up to 1)."""

    value: list[Annotated[float, Field(ge=0, le=1)]]
    steps: list[str]
    source: Annotated[str, Field(min_length=3)]

    @model_validator(mode="after")
    def _check(self) -> EntrySteps:
        if len(self.value) != len(self.steps):
            raise ValueError("value and steps must have the same length")
        if abs(sum(self.value) - 1) > 1e-9:
            raise ValueError(f"shares add up to {sum(self.value)}, not 1")
        return self


class Activity(_Strict):
    untreated_median_imagine_ra: Parameter
    untreated_median_early_ra: Parameter
    untreated_median_ticospa: Parameter
    untreated_median_taser: Parameter
    untreated_sdlog: Parameter
    persistence: Parameter
    noise_sd: Parameter
    flare_rate: Parameter
    flare_size: Parameter
    pain_mean: Parameter


class FirstCourse(_Strict):
    """Response of DMARD-naive patients to their first methotrexate course.

    A share ``nonresponder_share`` of patients are primary non-responders (no improvement on the
    first course); the others' relative improvement of synovitis is Beta-distributed with mean
    ``mean_improvement`` and concentration ``concentration`` (a + b of the Beta);
    ``persistence`` is their month-to-month autocorrelation of synovitis around its treated level
    (how fast a new regimen takes effect).
    """

    mean_improvement: Parameter
    concentration: Parameter
    persistence: Parameter
    nonresponder_share: Parameter


class Axspa(_Strict):
    """Observation model of axial SpA: latent inflammation (0-10) to the ASDAS-CRP items."""

    pain_mean: Parameter
    back_pain_per_inflammation: Parameter
    stiffness_per_inflammation: Parameter
    ptga_per_inflammation: Parameter
    peripheral_per_inflammation: Parameter
    item_sd: Parameter
    crp_median_quiet_mg_l: Parameter
    crp_per_inflammation: Parameter
    crp_sdlog: Parameter
    radiographic_sacroiliitis_share: Parameter


class Oedema(_Strict):
    share_with_persistent_oedema: Parameter
    persistent_median: Parameter
    per_synovitis_unit: Parameter
    reader_error_sd: Parameter
    false_positive_rate: Parameter
    present_at_least: Parameter


class Observation(_Strict):
    tender_per_synovitis: Parameter
    crp_median_quiet_mg_l: Parameter
    crp_per_synovitis: Parameter
    crp_sdlog: Parameter
    gh_quiet_mm: Parameter
    gh_per_synovitis_mm: Parameter
    gh_per_pain_mm: Parameter
    gh_sd_mm: Parameter
    esr_median_quiet_mm_h: Parameter
    esr_per_synovitis: Parameter
    esr_sdlog: Parameter
    pd_per_synovitis: Parameter


class Radiographs(_Strict):
    progression_base: Parameter
    progression_per_inflammation: Parameter
    reading_error_sd: Parameter


class Safety(_Strict):
    sae_csdmard: Parameter
    sae_biologic: Parameter
    intolerance_csdmard: Parameter
    intolerance_biologic: Parameter


class Anchor(_Strict):
    """A published figure for one or more arms (by arm name), with the numbers analysed.

    Without ``month`` the anchor's name is an end-of-trial outcome (:data:`END_OUTCOMES`); with
    ``month`` it names ``outcome`` (:data:`TIMED_OUTCOMES`) at the visit of that month. A share
    anchor (``kind = "share"``) gives proportions; a mean anchor (``kind = "mean"``, outcome
    ``index_change``) gives the mean change of the outcome index from entry, with the
    between-patient SD of that change (``sd``) for its standard error.
    """

    shares: dict[str, float]
    n: dict[str, Annotated[int, Field(gt=0)]]
    use: Literal["calibration", "held_out"]
    source: Annotated[str, Field(min_length=3)]
    outcome: (
        Literal[TIMED_OUTCOMES]  # type: ignore[valid-type]
        | None
    ) = None
    month: Annotated[int, Field(ge=0)] | None = None
    kind: Literal["share", "mean"] = "share"
    sd: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _check(self) -> Anchor:
        if not self.shares:
            raise ValueError("an anchor needs the share of at least one arm")
        if set(self.shares) != set(self.n):
            raise ValueError(f"shares name arms {sorted(self.shares)} but n names {sorted(self.n)}")
        if (self.month is None) != (self.outcome is None):
            raise ValueError("outcome and month go together (an outcome at a visit month)")
        if (self.kind == "mean") != (self.outcome == "index_change"):
            raise ValueError('kind = "mean" goes with outcome = "index_change"')
        if self.kind == "mean" and self.sd is None:
            raise ValueError("a mean anchor needs the between-patient sd of the change")
        if self.kind == "share":
            bad = {k: v for k, v in self.shares.items() if not 0 <= v <= 1}
            if bad:
                raise ValueError(f"shares must lie in [0, 1]; got {bad}")
        return self

    def se(self, arm: str) -> float:
        """Standard error of the published figure: binomial (floored at 1/n) or sd / sqrt(n)."""
        n = self.n[arm]
        if self.kind == "mean":
            assert self.sd is not None
            return self.sd / math.sqrt(n)
        share = self.shares[arm]
        return max(math.sqrt(share * (1 - share) / n), 1.0 / n)


class Parameters(_Strict):
    population: dict[str, Population]
    activity: Activity
    oedema: Oedema
    observation: Observation
    radiographs: Radiographs
    regimens: Regimens
    safety: Safety
    first_course: FirstCourse
    axspa: Axspa
    anchors: dict[str, dict[str, Anchor]]
    ladders: dict[str, dict[str, LadderStep]]

    @model_validator(mode="after")
    def _ladders_known(self) -> Parameters:
        for name, pop in self.population.items():
            if pop.ladder not in self.ladders:
                raise ValueError(f"population {name}: unknown ladder {pop.ladder!r}")
            if not hasattr(self.activity, f"untreated_median_{name}"):
                raise ValueError(f"population {name}: no activity.untreated_median_{name}")
            unknown = set(pop.entry_step_shares.steps) - set(self.ladders[pop.ladder])
            if unknown:
                raise ValueError(
                    f"population {name}: entry steps {sorted(unknown)} not in ladder {pop.ladder}"
                )
        for trial, anchors in self.anchors.items():
            if trial not in self.population:
                raise ValueError(f"anchors.{trial}: no population {trial!r}")
            for key, anchor in anchors.items():
                if anchor.month is None and key not in END_OUTCOMES:
                    raise ValueError(
                        f"anchors.{trial}.{key}: without a month the name must be an end-of-trial"
                        f" outcome ({', '.join(END_OUTCOMES)})"
                    )
        for section in _SECTIONS:
            for name, p in getattr(self, section):
                if p.calibrated and p.fitted_to not in self.anchors:
                    raise ValueError(
                        f"{section}.{name}: fitted_to {p.fitted_to!r} has no anchors; known:"
                        f" {', '.join(sorted(self.anchors))}"
                    )
        return self

    def calibrated(self, trial: str | None = None) -> dict[str, Parameter]:
        """The free parameters (of one trial's fit, or all), by dotted name (``activity.flare_rate``)."""
        out: dict[str, Parameter] = {}
        for section in _SECTIONS:
            for name, p in getattr(self, section):
                if p.calibrated and trial in (None, p.fitted_to):
                    out[f"{section}.{name}"] = p
        return out

    def with_values(self, values: dict[str, float]) -> Parameters:
        """A copy with some parameters (dotted names) set to new values, re-validated."""
        data = self.model_dump()
        for dotted, v in values.items():
            section, name = dotted.split(".")
            data[section][name]["value"] = float(v)
        return Parameters.model_validate(data)


def write_parameters(
    p: Parameters, out: str | Path, fit: Any = None, start: str | Path | None = None
) -> Path:
    """Write ``p`` as a parameter file: the starting file's text with the calibrated values
    replaced (comments and sources kept) and the fit's diagnostics as a header comment."""
    if start is None:
        text = resources.files("rheumetrics.sim").joinpath(SHIPPED).read_text(encoding="utf-8")
    else:
        text = Path(start).read_text(encoding="utf-8")
    lines = text.splitlines()
    kept: list[str] = []  # headers of other trials' fits are kept
    keep = True
    while lines and (lines[0].startswith("# Calibrated ") or lines[0].startswith("#   ")):
        line = lines.pop(0)
        if line.startswith("# Calibrated "):
            keep = fit is None or not line.startswith(f"# Calibrated to {fit.trial} ")
        if keep:
            kept.append(line)
    section = ""
    for i, line in enumerate(lines):
        head = re.match(r"^\[([\w.]+)\]", line)
        if head:
            section = head.group(1)
            continue
        key = re.match(r"^(\w+) = \{", line)
        if key and section in _SECTIONS:
            param = getattr(getattr(p, section), key.group(1), None)
            if isinstance(param, Parameter) and param.calibrated:
                lines[i] = re.sub(
                    r"value = [-+0-9.eE]+", f"value = {param.value:.6g}", line, count=1
                )
    header = []
    if fit is not None:
        header = [
            f"# Calibrated to {fit.trial} by rheumetrics {__version__}: objective {fit.objective:.4g} after "
            f"{fit.evaluations} evaluations ({'converged' if fit.converged else 'evaluation limit'}).",
            *(f"#   {k} = {v:.6g}" for k, v in fit.values.items()),
        ]
    path = Path(out)
    path.write_text("\n".join([*header, *kept, *lines]) + "\n", encoding="utf-8")
    return path


def _message(err: ValidationError, source: str) -> str:
    lines = [f"{source}: {err.error_count()} problem(s)"]
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"])
        lines.append(f"  - entry '{where}', value {e.get('input')!r}: {e['msg']}")
    return "\n".join(lines)


def parse_parameters(data: dict[str, Any], source: str = "parameters") -> Parameters:
    """Validate a parameter mapping; every problem is named with its entry."""
    try:
        return Parameters.model_validate(data)
    except ValidationError as err:
        raise RheumetricsError(_message(err, source)) from None


def load_parameters(path: str | Path | None = None) -> Parameters:
    """Read a parameter file (default: the shipped, calibrated one)."""
    if path is None:
        text = resources.files("rheumetrics.sim").joinpath(SHIPPED).read_text(encoding="utf-8")
        source = SHIPPED
    else:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RheumetricsError(f"{path}: cannot read ({exc.strerror})") from None
        source = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RheumetricsError(f"{source}: not valid TOML ({exc})") from None
    return parse_parameters(data, source)
