"""Regimens of the simulator's parameter file: expected effects and the drugs of ladder steps.

RA regimen effects come from ACR20/50/70 probabilities, axial SpA ones from ASAS20/40; a ladder
step names its regimen and the concrete drugs (checked against the drug catalogue) the simulator
gives a patient placed on it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from rheumetrics.schema.drugs import dose_factor, find_drug
from rheumetrics.schema.vocab import DRUG_CLASSES, ROUTES
from rheumetrics.sim.entries import Parameter, Probability, Strict


class RegimenEffect(Strict):
    """6-month ACR20/50/70 probabilities of a regimen and its extra effect on osteitis."""

    acr20: Probability
    acr50: Probability
    acr70: Probability
    oedema_factor: Annotated[float, Field(gt=0, le=1)]
    source: Annotated[str, Field(min_length=3)]

    @model_validator(mode="after")
    def _check(self) -> RegimenEffect:
        if not self.acr20 >= self.acr50 >= self.acr70:
            raise ValueError("ACR20 >= ACR50 >= ACR70 must hold")
        return self

    @property
    def reduction(self) -> float:
        """Expected relative improvement: ACR <20, 20-50, 50-70, >=70 as 10%, 35%, 60%, 85%."""
        shares = (1 - self.acr20, self.acr20 - self.acr50, self.acr50 - self.acr70, self.acr70)
        return sum(s * m for s, m in zip(shares, (0.10, 0.35, 0.60, 0.85), strict=True))


class AsasEffect(Strict):
    """ASAS20/ASAS40 response probabilities of an axial SpA regimen (Anderson JJ et al. Arthritis
    Rheum 2001;44:1876-1886; Brandt J et al. Ann Rheum Dis 2004;63:1438-1444).

    ``on_nsaid``: the trial ran on background NSAIDs, so the effect acts on what a full-dose NSAID
    leaves (suppression = (1 - NSAID improvement) x (1 - this improvement)).
    """

    asas20: Probability
    asas40: Probability
    on_nsaid: bool = False
    oedema_factor: Annotated[float, Field(gt=0, le=1)] = 1.0
    source: Annotated[str, Field(min_length=3)]

    @model_validator(mode="after")
    def _check(self) -> AsasEffect:
        if not self.asas20 >= self.asas40:
            raise ValueError("ASAS20 >= ASAS40 must hold")
        return self

    @property
    def reduction(self) -> float:
        """Expected relative improvement: below ASAS20, ASAS20-40, ASAS40 as 10%, 30%, 65%."""
        shares = (1 - self.asas20, self.asas20 - self.asas40, self.asas40)
        return sum(s * m for s, m in zip(shares, (0.10, 0.30, 0.65), strict=True))


class Regimens(Strict):
    cs_mono: RegimenEffect
    cs_combination: RegimenEffect
    cs_triple: RegimenEffect
    tnf_cs: RegimenEffect
    other_biologic_cs: RegimenEffect
    nsaid: AsasEffect
    tnf_axspa: AsasEffect
    il17_axspa: AsasEffect
    cs_improvement: Parameter

    def suppression(self, regimen: str) -> float:
        """One minus the regimen's expected relative improvement (before any dose reserve)."""
        effect = getattr(self, regimen)
        left = 1 - effect.reduction
        if isinstance(effect, AsasEffect) and effect.on_nsaid:
            left *= 1 - self.nsaid.reduction
        return left


class Drug(Strict):
    """A drug of a ladder step's regimen, checked against the drug catalogue."""

    drug: Annotated[str, Field(min_length=1)]
    drug_class: str
    dose: Annotated[float, Field(gt=0)]
    dose_unit: str
    route: str

    @field_validator("drug_class")
    @classmethod
    def _known_class(cls, v: str) -> str:
        if v not in DRUG_CLASSES:
            raise ValueError(f"unknown drug class {v!r}; known: {', '.join(DRUG_CLASSES)}")
        return v

    @field_validator("route")
    @classmethod
    def _known_route(cls, v: str) -> str:
        if v not in ROUTES:
            raise ValueError(f"unknown route {v!r}; known: {', '.join(ROUTES)}")
        return v

    @model_validator(mode="after")
    def _in_catalogue(self) -> Drug:
        known = find_drug(self.drug)
        if known is None:
            raise ValueError(f"unknown drug {self.drug!r}: not in the drug catalogue")
        if known.drug_class != self.drug_class:
            raise ValueError(f"{self.drug} is a {known.drug_class}, not a {self.drug_class}")
        dosing = known.dosing_for(self.route) if self.route in known.routes else None
        if dosing is None:
            raise ValueError(
                f"{self.drug} is not given by route {self.route!r}; routes: {', '.join(known.routes)}"
            )
        dose = self.dose * dose_factor(self.dose_unit, dosing.unit)
        if not dose <= dosing.label_max:
            raise ValueError(
                f"{self.drug} {self.dose:g} {self.dose_unit} is above the label maximum ({dosing.label_max:g} {dosing.unit})"
            )
        return self


class LadderStep(Strict):
    """The concrete regimen the simulator gives a patient placed on a ladder step."""

    regimen: Literal[
        "cs_mono",
        "cs_combination",
        "cs_triple",
        "tnf_cs",
        "other_biologic_cs",
        "nsaid",
        "tnf_axspa",
        "il17_axspa",
    ]
    below_max: bool = False
    drugs: list[Drug]
    #: The drugs after the engine optimises the step in place (doses raised to the maximum).
    optimised: list[Drug] | None = None

    @model_validator(mode="after")
    def _optimised_needs_reserve(self) -> LadderStep:
        if self.optimised is not None and not self.below_max:
            raise ValueError("only a step below the maximum dose (below_max) can be optimised")
        return self

    @property
    def biologic(self) -> bool:
        return any(d.drug_class in ("bDMARD", "tsDMARD") for d in self.drugs)
