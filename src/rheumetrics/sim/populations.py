"""Entry populations: virtual patients drawn until each replicate has its trial's eligible size.

Candidates get an untreated activity level, non-inflammatory pain, a persistent osteitis component
and an entry regimen (ladder step) from the parameter file; their synovitis is run in for a year
on that regimen, then the trial's inclusion rule is applied to what a visit would record (for
IMAGINE-RA: DAS28-CRP <= 3.2 and no swollen joint; Møller-Bisgaard S et al. JAMA 2019;321:461-472).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rheumetrics.errors import RheumetricsError
from rheumetrics.sim.disease import Cohort, Observed, month, observe
from rheumetrics.sim.parameters import LadderStep, Parameters
from rheumetrics.sim.streams import Streams

RUN_IN_MONTHS = 12


@dataclass
class Entry:
    """The patients of one arm at entry: latent state, entry ladder steps, sex and age."""

    cohort: Cohort
    step: np.ndarray  # ladder step id per patient (object array of str)
    female: np.ndarray
    age: np.ndarray
    observed: Observed


def regimen_factors(
    steps: np.ndarray, ladder: dict[str, LadderStep], p: Parameters
) -> tuple[np.ndarray, np.ndarray]:
    """Synovitis suppression and osteitis factor of each patient's ladder step.

    Suppression is one minus the regimen's expected relative improvement (see
    :attr:`~rheumetrics.sim.parameters.RegimenEffect.reduction`); a step below the maximum dose
    keeps ``cs_improvement`` of that improvement in reserve.
    """
    sup = np.empty(len(steps))
    oed = np.empty(len(steps))
    reserve = p.regimens.cs_improvement.value
    for sid, step in ladder.items():
        on = steps == sid
        effect = getattr(p.regimens, step.regimen)
        sup[on] = (1 - effect.reduction) * ((1 + reserve) if step.below_max else 1.0)
        oed[on] = effect.oedema_factor
    return np.minimum(sup, 1.0), oed


def _candidates(
    population: str, p: Parameters, rng: Streams
) -> tuple[Cohort, np.ndarray, np.ndarray, np.ndarray]:
    pop = p.population[population]
    ladder = p.ladders[p.population[population].ladder]
    a = p.activity
    median = getattr(a, f"untreated_median_{population}").value
    untreated = median * np.exp(rng.normal(0.0, a.untreated_sdlog.value))
    pain = rng.exponential(a.pain_mean.value)
    has_oedema = rng.random() < p.oedema.share_with_persistent_oedema.value
    oedema = np.where(
        has_oedema, p.oedema.persistent_median.value * np.exp(rng.normal(0.0, 0.5)), 0.0
    )
    steps = np.asarray(pop.entry_step_shares.steps, dtype=object)[
        rng.choice(pop.entry_step_shares.value)
    ]
    female = rng.random() < pop.share_female.value
    age = np.round(rng.normal(pop.age_mean.value, pop.age_sd.value))
    sup, oed = regimen_factors(steps, ladder, p)
    cohort = Cohort(untreated, untreated * sup, oedema, pain, np.zeros(len(untreated)), sup, oed)
    return cohort, steps, female, age


def _take(c: Cohort, keep: np.ndarray) -> Cohort:
    return Cohort(*(getattr(c, f)[keep] for f in Cohort.__dataclass_fields__))


def enrol(population: str, p: Parameters, generator: np.random.Generator, patients: int) -> Entry:
    """Eligible patients of one replicate's arm, drawn with ``generator``."""
    if population not in p.population:
        raise RheumetricsError(
            f"unknown population {population!r}; known: {', '.join(sorted(p.population))}"
        )
    limit = p.population[population].entry_das28_crp_max.value
    parts: list[tuple[Cohort, np.ndarray, np.ndarray, np.ndarray, Observed]] = []
    have = 0
    for _ in range(50):
        rng = Streams([generator], 4 * patients)
        cohort, steps, female, age = _candidates(population, p, rng)
        for _ in range(RUN_IN_MONTHS):
            month(cohort, p, rng)
        seen = observe(cohort, p, rng)
        ok = seen.das28_crp <= limit
        if population == "imagine_ra":
            ok &= seen.sjc28 == 0
        idx = np.flatnonzero(ok)[: patients - have]
        cohort.svdh = np.zeros(len(cohort.svdh))
        obs = Observed(*(getattr(seen, f)[idx] for f in Observed.__dataclass_fields__))
        parts.append((_take(cohort, idx), steps[idx], female[idx], age[idx], obs))
        have += len(idx)
        if have == patients:
            break
    else:
        raise RheumetricsError(
            f"{population}: too few candidates meet the inclusion rule; check the parameters"
        )
    fields = Cohort.__dataclass_fields__
    cohort = Cohort(*(np.concatenate([getattr(x[0], f) for x in parts]) for f in fields))
    obs = Observed(
        *(np.concatenate([getattr(x[4], f) for x in parts]) for f in Observed.__dataclass_fields__)
    )
    step, female, age = (np.concatenate([x[i] for x in parts]) for i in (1, 2, 3))
    return Entry(cohort, step, female, age, obs)
