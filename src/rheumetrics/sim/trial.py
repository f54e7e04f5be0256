"""One arm of an in-silico trial: visits, the real engine's decision, the regimen applied.

At every scheduled visit the simulator records what clinicians and readers would see for all
patients of a batch of replicates, asks the treat-to-target engine (:func:`rheumetrics.t2t.decide`)
for the decision at that visit in one vectorised call, and, with probability ``adherence``, gives
the patient the regimen of the step the engine proposes. Between visits the latent disease evolves
month by month (:mod:`rheumetrics.sim.disease`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.errors import RheumetricsError
from rheumetrics.measures import asdas_improvement, eular_response
from rheumetrics.sim.disease import (
    Cohort,
    month,
    read_svdh_change,
    smallest_detectable_change,
)
from rheumetrics.sim.parameters import END_OUTCOMES, OUTCOME_INDICES, Parameters
from rheumetrics.sim.populations import enrol, observe, regimen_factors
from rheumetrics.sim.streams import Streams, replicate_seeds
from rheumetrics.sim.therapies import TherapyRecords

#: Treat-to-target indices the observation models generate, by disease: DAS28 from TJC28,
#: SJC28, CRP or ESR and GH; ASDAS-CRP from the BASDAI items 2, 3 and 6, PtGA and CRP.
GENERATED_INDICES = {
    "RA": ("das28_crp", "das28_crp_3v", "das28_esr", "das28_esr_3v"),
    "axSpA": ("asdas_crp",),
}
#: Actions after which the patient moves to the engine's proposed step.
MOVES = ("escalate", "switch", "optimise", "reinstate")
START = pd.Timestamp("2020-01-01")
DAYS_PER_MONTH = 365.25 / 12
#: The outcome columns of :func:`run_arm`, one row per replicate (plus one column per anchor of
#: the population that names an outcome at a visit month, see :func:`timed_anchors`).
OUTCOMES = END_OUTCOMES


@dataclass(frozen=True)
class Arm:
    """A strategy run on a population, with the share of recommendations followed."""

    strategy: str
    population: str = "imagine_ra"
    adherence: float = 1.0
    #: Strategy options chosen for this arm, as (name, value) pairs, e.g. (("cadence", "ticospa"),).
    options: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        """The arm's key in anchors and results: the strategy, then ``:option=value`` pairs."""
        return self.strategy + "".join(f":{k}={v}" for k, v in self.options)

    @classmethod
    def parse(cls, name: str, population: str = "imagine_ra", adherence: float = 1.0) -> Arm:
        """The arm named ``strategy[:option=value]...`` (see :attr:`name`)."""
        strategy, *pairs = name.split(":")
        options = []
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key or not value:
                raise RheumetricsError(f"arm {name!r}: options are written :name=value")
            options.append((key, value))
        return cls(strategy, population, adherence, tuple(options))

    def load(self) -> Any:
        """The arm's strategy with its options."""
        from rheumetrics.t2t import load_strategy

        return load_strategy(self.strategy, dict(self.options))


def check_arm(arm: Arm, p: Parameters) -> None:
    """Refuse an arm whose population or strategy the simulator cannot run, naming why."""
    if arm.population not in p.population:
        known = ", ".join(sorted(p.population))
        raise RheumetricsError(f"unknown population {arm.population!r}; known: {known}")
    try:
        strategy = arm.load()
    except FileNotFoundError as err:
        raise RheumetricsError(str(err)) from None
    pop = p.population[arm.population]
    generated = GENERATED_INDICES[pop.disease]
    if pop.outcome_index == "das28_crp":
        generated = tuple(g for g in generated if not g.startswith("das28_esr"))
    if strategy.index.name not in generated:
        raise RheumetricsError(
            f"strategy {arm.strategy!r} targets {strategy.index.name}, which the simulator does not"
            f" generate for population {arm.population!r} ({pop.disease}); it generates"
            f" {', '.join(generated)}"
        )
    if not 0 <= arm.adherence <= 1:
        raise RheumetricsError(f"adherence must lie in [0, 1]; got {arm.adherence}")


def timed_anchors(population: str, p: Parameters) -> dict[str, tuple[str, int]]:
    """The population's anchors at a visit month: column name -> (outcome, month)."""
    anchors = p.anchors.get(population, {})
    return {
        k: (a.outcome, a.month) for k, a in anchors.items() if a.outcome and a.month is not None
    }


def _timed(
    outcome: str, value: np.ndarray, baseline: np.ndarray, index: str = "das28_crp"
) -> np.ndarray:
    remission, low = OUTCOME_INDICES[index]
    if outcome == "index_change":
        return value - baseline
    if outcome == "remission":
        return value < remission
    if outcome == "low_activity":
        return value < low if index.startswith("asdas") else value <= low
    if outcome == "asdas_cii":
        # Clinically important improvement: ASDAS fall >= 1.1 (Machado P et al. Ann Rheum Dis
        # 2011;70:47-53), major improvement included.
        change = np.asarray(asdas_improvement(baseline, value), dtype=object)
        return np.isin(change, ["clinically_important_improvement", "major_improvement"])
    # EULAR response (van Gestel AM et al. Arthritis Rheum 1996;39:34-40) from the entry visit.
    response = np.asarray(eular_response(baseline, value), dtype=object)
    return response == outcome.removeprefix("eular_")


def _date(months: float) -> pd.Timestamp:
    return START + pd.Timedelta(days=round(months * DAYS_PER_MONTH))


def run_arm(
    arm: Arm, p: Parameters, seed: int, replicates: list[int], arm_number: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate one arm for the given replicates.

    Returns the per-replicate outcome shares (columns :data:`OUTCOMES` plus ``replicate``) and the
    per-patient treatment sequences (``replicate, patient, sequence`` and ``path``: the ladder step
    after each decision visit, joined by ``|``).
    """
    from rheumetrics.t2t import decide

    strategy = arm.load()
    pop = p.population[arm.population]
    every = pop.visit_every(arm.name)
    ladder = p.ladders[pop.ladder]
    n = pop.patients_per_arm
    seeds = replicate_seeds(seed, replicates)
    children = [s.spawn(2 * (arm_number + 1))[2 * arm_number : 2 * arm_number + 2] for s in seeds]
    entries = [enrol(arm.population, p, np.random.default_rng(c[0]), n) for c in children]
    rng = Streams([np.random.default_rng(c[1]) for c in children], n)
    fields = Cohort.__dataclass_fields__
    c = Cohort(*(np.concatenate([getattr(e.cohort, f) for e in entries]) for f in fields))
    step = np.concatenate([e.step for e in entries]).astype(object)
    k = len(replicates)
    # Zero-padded, so the engine's order by patient is the batch order.
    pid = np.array([f"r{r:06d}-p{i:06d}" for r in replicates for i in range(n)], dtype=object)
    number = np.arange(k * n)
    naive = pop.dmard_naive
    rho = p.first_course.persistence.value if naive else None
    # A DMARD-naive patient starts the entry regimen at the entry visit; others have been on it.
    therapies = TherapyRecords(pid, ladder)
    therapies.add(number, step, _date(0 if naive else -12))
    timed = timed_anchors(arm.population, p)
    for key, (_, at) in timed.items():
        if at % every:
            raise RheumetricsError(
                f"anchors.{arm.population}.{key}: month {at} is not a visit month of arm"
                f" {arm.name} (visits every {every} months)"
            )
    timed_values: dict[str, np.ndarray] = {}
    baseline_das = np.full(k * n, np.nan)
    sequence = step.astype(str).astype(object)
    escalated = np.zeros(k * n, dtype=bool)
    biologic = np.array([ladder[s].biologic for s in step])
    ever_biologic = biologic.copy()
    sae = np.zeros(k * n, dtype=bool)
    intolerant = np.zeros(k * n, dtype=bool)
    optimised = np.zeros(k * n, dtype=bool)
    visits: list[pd.DataFrame] = []
    svdh0 = c.svdh.copy()
    last_das = np.full(k * n, np.nan)
    saf = p.safety
    path = [step.astype(str)]
    for m in range(0, pop.months + 1, every):
        if m > 0:
            for _ in range(every):
                month(c, p, rng, rho)
                on_bio = biologic
                sae |= rng.random() < np.where(
                    on_bio, saf.sae_biologic.value, saf.sae_csdmard.value
                )
                intolerant |= rng.random() < np.where(
                    on_bio, saf.intolerance_biologic.value, saf.intolerance_csdmard.value
                )
        seen = observe(c, p, rng, arm.population)
        last_das = seen.index
        if m == 0:
            baseline_das = seen.index
        for key, (outcome, at) in timed.items():
            if at == m:
                timed_values[key] = _timed(outcome, seen.index, baseline_das, pop.outcome_index)
        date = _date(m)
        visits.append(
            pd.DataFrame(
                {
                    "patient_id": pid,
                    "visit_date": date,
                    **seen.columns,
                    "intolerance": intolerant.copy(),
                }
            )
        )
        if m == pop.months:
            break
        log = decide(pd.concat(visits, ignore_index=True), strategy, therapies.frame())
        today = log[log["visit_date"] == date]
        if not np.array_equal(today["patient_id"].to_numpy(dtype=object), pid):
            today = today.set_index("patient_id").reindex(pid)
        follow = rng.random() < arm.adherence
        to = today["to_step"].to_numpy(dtype=object)
        move = (
            today["action"].isin(MOVES).to_numpy()
            & follow
            & pd.notna(to)
            & np.isin(to.astype(str), list(ladder))
            & (to.astype(str) != step.astype(str))
        )
        if move.any():
            new = to[move].astype(str).astype(object)
            escalated[move] |= today["action"].to_numpy()[move] != "switch"
            who = number[move]
            why = np.where(intolerant[move], "intolerance", "inefficacy").astype(object)
            therapies.stop_open(who, date, why)
            therapies.add(who, new, date)
            step[move] = new
            sequence[move] = sequence[move] + " > " + new
            if naive:
                sup, oed = regimen_factors(
                    step[move],
                    ladder,
                    p,
                    c.first_course[move],
                    tuple(pop.entry_step_shares.steps),
                )
            else:
                sup, oed = regimen_factors(step[move], ladder, p)
            c.suppression[move] = sup
            c.oedema_factor[move] = oed
            biologic = np.array([ladder[s].biologic for s in step])
            ever_biologic |= biologic
            intolerant[move] = False
            optimised[move] = False
        # Optimise in place: the step's doses are raised to the maximum (its `optimised` drugs).
        can = np.array([ladder[s].optimised is not None for s in step]) & ~optimised
        raise_dose = (
            (today["action"].to_numpy() == "optimise")
            & follow
            & can
            & (to.astype(str) == step.astype(str))
        )
        if raise_dose.any():
            who = number[raise_dose]
            therapies.stop_open(who, date, "inefficacy")
            therapies.add(who, step[raise_dose], date, optimised=True)
            reserve = p.regimens.cs_improvement.value
            c.suppression[raise_dose] *= (1 - reserve) if naive else 1 / (1 + reserve)
            optimised[raise_dose] = True
            escalated[raise_dose] = True
            sequence[raise_dose] = sequence[raise_dose] + " > " + step[raise_dose] + "+"
        path.append(step.astype(str))
    change = read_svdh_change(c.svdh - svdh0, p, rng)
    per_patient = pd.DataFrame(
        {
            "replicate": np.repeat(replicates, n),
            "remission": last_das < OUTCOME_INDICES[pop.outcome_index][0],
            "no_progression": change <= 0,
            "progression_beyond_sdc": change > smallest_detectable_change(p),
            "any_escalation": escalated,
            "reached_biologic": ever_biologic,
            "any_sae": sae,
            **timed_values,
        }
    )
    columns = [*OUTCOMES, *timed_values]
    shares = per_patient.groupby("replicate", sort=True)[columns].mean().reset_index()
    seqs = pd.DataFrame(
        {
            "replicate": np.repeat(replicates, n),
            "patient": pid,
            "sequence": sequence,
            "path": ["|".join(x) for x in np.stack(path, axis=1)],
        }
    )
    return shares, seqs
