"""Entry populations: virtual patients drawn until each replicate has its trial's eligible size.

Candidates get an untreated activity level, non-inflammatory pain, a persistent osteitis component
and an entry regimen (ladder step) from the parameter file; their synovitis is run in for a year
on that regimen (untreated for a DMARD-naive population, whose entry regimen starts at the entry
visit and acts through each patient's first-course response), then the trial's inclusion rule is applied to what a visit would record (for
IMAGINE-RA: DAS28-CRP <= 3.2 and no swollen joint; Møller-Bisgaard S et al. JAMA 2019;321:461-472).
What a visit records is the observation model of the population's disease (:func:`observe`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rheumetrics.errors import RheumetricsError
from rheumetrics.sim.axial import observe_axial
from rheumetrics.sim.disease import Cohort, Observed, month, observe_ra
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
    steps: np.ndarray,
    ladder: dict[str, LadderStep],
    p: Parameters,
    first_course: np.ndarray | None = None,
    entry_steps: tuple[str, ...] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Synovitis suppression and osteitis factor of each patient's ladder step.

    Suppression is one minus the regimen's expected relative improvement (see
    :attr:`~rheumetrics.sim.regimens.RegimenEffect.reduction`); a step below the maximum dose
    keeps ``cs_improvement`` of that improvement in reserve. For DMARD-naive patients
    (``first_course`` given: each patient's improvement on the first course) an entry step
    suppresses to ``1 - first_course``, and a later step acts on what the first course left:
    ``(1 - first_course) x (1 - its improvement)``.
    """
    sup = np.empty(len(steps))
    red = np.empty(len(steps))
    oed = np.empty(len(steps))
    reserve = p.regimens.cs_improvement.value
    for sid, step in ladder.items():
        on = steps == sid
        effect = getattr(p.regimens, step.regimen)
        sup[on] = p.regimens.suppression(step.regimen) * ((1 + reserve) if step.below_max else 1.0)
        red[on] = effect.reduction
        oed[on] = effect.oedema_factor
    if first_course is not None:
        left = 1 - first_course
        sup = np.where(np.isin(steps, list(entry_steps)), left, left * (1 - red))
    return np.minimum(sup, 1.0), oed


def _candidates(
    population: str, p: Parameters, rng: Streams
) -> tuple[Cohort, np.ndarray, np.ndarray, np.ndarray]:
    pop = p.population[population]
    ladder = p.ladders[p.population[population].ladder]
    a = p.activity
    median = getattr(a, f"untreated_median_{population}").value
    untreated = median * np.exp(rng.normal(0.0, a.untreated_sdlog.value))
    axial = pop.disease == "axSpA"
    pain = rng.exponential((p.axspa.pain_mean if axial else a.pain_mean).value)
    has_oedema = rng.random() < p.oedema.share_with_persistent_oedema.value
    oedema = np.where(
        has_oedema, p.oedema.persistent_median.value * np.exp(rng.normal(0.0, 0.5)), 0.0
    )
    steps = np.asarray(pop.entry_step_shares.steps, dtype=object)[
        rng.choice(pop.entry_step_shares.value)
    ]
    female = rng.random() < pop.share_female.value
    age = np.round(rng.normal(pop.age_mean.value, pop.age_sd.value))
    n = len(untreated)
    if pop.dmard_naive:
        fc = p.first_course
        mean, conc = fc.mean_improvement.value, fc.concentration.value
        first = rng.beta(mean * conc, (1 - mean) * conc)
        # Primary non-responders: no improvement on the first course.
        first = np.where(rng.random() < fc.nonresponder_share.value, 0.0, first)
        # Untreated until the entry visit; the entry regimen starts there (see enrol).
        sup, oed = np.ones(n), np.ones(n)
    else:
        first = np.full(n, np.nan)
        sup, oed = regimen_factors(steps, ladder, p)
    if axial:
        sacroiliitis = rng.random() < p.axspa.radiographic_sacroiliitis_share.value
    else:
        sacroiliitis = np.zeros(n, dtype=bool)
    cohort = Cohort(
        untreated, untreated * sup, oedema, pain, np.zeros(n), sup, oed, first, sacroiliitis
    )
    return cohort, steps, female, age


def entry_factors(
    population: str, steps: np.ndarray, first_course: np.ndarray, p: Parameters
) -> tuple[np.ndarray, np.ndarray]:
    """Suppression and osteitis factors of the entry regimens (first-course response if naive)."""
    pop = p.population[population]
    ladder = p.ladders[pop.ladder]
    if not pop.dmard_naive:
        return regimen_factors(steps, ladder, p)
    return regimen_factors(steps, ladder, p, first_course, tuple(pop.entry_step_shares.steps))


def _take(c: Cohort, keep: np.ndarray) -> Cohort:
    return Cohort(*(getattr(c, f)[keep] for f in Cohort.__dataclass_fields__))


def observe(c: Cohort, p: Parameters, rng: Streams, population: str = "imagine_ra") -> Observed:
    """What a visit of ``population`` records: the observation model of its disease, RA
    (:func:`rheumetrics.sim.disease.observe_ra`, scored with the population's outcome index) or
    axial SpA (:func:`rheumetrics.sim.axial.observe_axial`)."""
    pop = p.population[population]
    if pop.disease == "axSpA":
        return observe_axial(c, p, rng)
    return observe_ra(c, p, rng, pop.outcome_index)


def enrol(population: str, p: Parameters, generator: np.random.Generator, patients: int) -> Entry:
    """Eligible patients of one replicate's arm, drawn with ``generator``."""
    if population not in p.population:
        raise RheumetricsError(
            f"unknown population {population!r}; known: {', '.join(sorted(p.population))}"
        )
    pop = p.population[population]
    parts: list[tuple[Cohort, np.ndarray, np.ndarray, np.ndarray, Observed]] = []
    have = 0
    for _ in range(50):
        rng = Streams([generator], 4 * patients)
        cohort, steps, female, age = _candidates(population, p, rng)
        for _ in range(RUN_IN_MONTHS):
            month(cohort, p, rng)
        seen = observe(cohort, p, rng, population)
        ok = np.ones(len(seen.index), dtype=bool)
        if pop.entry_das28_crp_max is not None:
            ok &= seen.index <= pop.entry_das28_crp_max.value
        if pop.entry_index_min is not None:
            ok &= seen.index >= pop.entry_index_min.value
        if population == "imagine_ra":
            ok &= seen.columns["sjc28"] == 0
        idx = np.flatnonzero(ok)[: patients - have]
        cohort.svdh = np.zeros(len(cohort.svdh))
        parts.append((_take(cohort, idx), steps[idx], female[idx], age[idx], seen.take(idx)))
        have += len(idx)
        if have == patients:
            break
    else:
        raise RheumetricsError(
            f"{population}: too few candidates meet the inclusion rule; check the parameters"
        )
    fields = Cohort.__dataclass_fields__
    cohort = Cohort(*(np.concatenate([getattr(x[0], f) for x in parts]) for f in fields))
    obs = Observed.concat([x[4] for x in parts])
    step, female, age = (np.concatenate([x[i] for x in parts]) for i in (1, 2, 3))
    if p.population[population].dmard_naive:
        # The entry regimen starts at the entry visit, after the untreated run-in.
        cohort.suppression, cohort.oedema_factor = entry_factors(
            population, step, cohort.first_course, p
        )
    return Entry(cohort, step, female, age, obs)
