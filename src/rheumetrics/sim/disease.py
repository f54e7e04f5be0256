"""Virtual patients: latent inflammation evolving month by month, and what clinicians and readers see.

Each patient carries a latent synovitis level (on the scale of the expected 28-joint swollen count),
a persistent bone-marrow-oedema component, a non-inflammatory pain level and a true Sharp/van der
Heijde (SvdH) score. The current regimen sets the level synovitis returns to; flares add to it.
Observation models turn the latent state into joint counts, CRP, patient global, DAS28-CRP
(computed with :func:`rheumetrics.measures.das28_crp`), a RAMRIS osteitis read with reader error
and radiographic change with reading error. All functions are vectorised over patients and take
explicit per-replicate random streams (:class:`~rheumetrics.sim.streams.Streams`); the model and its assumptions are described in docs/simulation.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rheumetrics.measures import das28_crp, das28_esr
from rheumetrics.sim.parameters import Parameters
from rheumetrics.sim.streams import Streams


@dataclass
class Cohort:
    """Latent state of every patient of one simulated arm (arrays of equal length)."""

    untreated: np.ndarray  # synovitis level without treatment
    synovitis: np.ndarray
    oedema_persistent: np.ndarray  # osteitis units present regardless of synovitis
    pain: np.ndarray  # non-inflammatory tender joints
    svdh: np.ndarray  # true Sharp/van der Heijde score (continuous)
    suppression: np.ndarray  # current regimen's factor on untreated synovitis
    oedema_factor: np.ndarray  # current regimen's extra factor on osteitis
    first_course: np.ndarray  # DMARD-naive: relative improvement on the first course (else NaN)
    sacroiliitis: np.ndarray  # axial SpA: radiographic sacroiliitis (bool; False in RA)


def treated_level(untreated: np.ndarray, suppression: np.ndarray) -> np.ndarray:
    """The synovitis level a patient returns to on a regimen."""
    return untreated * suppression


def month(c: Cohort, p: Parameters, rng: Streams, persistence: float | None = None) -> None:
    """Advance every patient by one month: mean reversion, noise, flares and progression.

    ``persistence`` overrides ``activity.persistence`` (the month-to-month autocorrelation of
    synovitis around its treated level), e.g. for DMARD-naive patients on their first courses.
    """
    a = p.activity
    level = treated_level(c.untreated, c.suppression)
    rho = a.persistence.value if persistence is None else persistence
    noise = rng.normal(0.0, a.noise_sd.value)
    flare = rng.random() < a.flare_rate.value
    jump = np.where(flare, rng.exponential(a.flare_size.value), 0.0)
    c.synovitis = np.maximum(level + rho * (c.synovitis - level) + noise + jump, 0.0)
    rate = (
        p.radiographs.progression_base.value
        + p.radiographs.progression_per_inflammation.value * (c.synovitis + true_oedema(c, p))
    )
    c.svdh = c.svdh + rng.poisson(rate)


def true_oedema(c: Cohort, p: Parameters) -> np.ndarray:
    """Latent osteitis: the persistent component plus a synovitis-linked part, under treatment."""
    return (c.oedema_persistent + p.oedema.per_synovitis_unit.value * c.synovitis) * c.oedema_factor


@dataclass
class Observed:
    """What a visit records: the visit columns as the engine reads them, by name, and the value of
    the population's outcome index (DAS28-CRP, DAS28-ESR or ASDAS-CRP)."""

    columns: dict[str, np.ndarray]
    index: np.ndarray

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["columns"][name]
        except KeyError:
            raise AttributeError(name) from None

    def take(self, idx: np.ndarray) -> Observed:
        return Observed({k: v[idx] for k, v in self.columns.items()}, self.index[idx])

    @staticmethod
    def concat(parts: list[Observed]) -> Observed:
        names = parts[0].columns
        return Observed(
            {k: np.concatenate([x.columns[k] for x in parts]) for k in names},
            np.concatenate([x.index for x in parts]),
        )


def observe_ra(c: Cohort, p: Parameters, rng: Streams, index: str = "das28_crp") -> Observed:
    """Joint counts, CRP, patient global, DAS28-CRP and an MRI osteitis read at a visit; with
    ``index="das28_esr"`` also ESR and DAS28-ESR (:func:`rheumetrics.measures.das28_esr`)."""
    o = p.observation
    sjc = np.minimum(rng.poisson(c.synovitis), 28)
    tjc = np.minimum(rng.poisson(o.tender_per_synovitis.value * c.synovitis + c.pain), 28)
    log_crp = (
        np.log(o.crp_median_quiet_mg_l.value)
        + o.crp_per_synovitis.value * c.synovitis
        + rng.normal(0.0, o.crp_sdlog.value)
    )
    crp = np.round(np.minimum(np.exp(log_crp), 500.0), 1)
    gh = o.gh_quiet_mm.value + o.gh_per_synovitis_mm.value * c.synovitis
    gh = gh + o.gh_per_pain_mm.value * c.pain + rng.normal(0.0, o.gh_sd_mm.value)
    gh = np.clip(np.round(gh), 0, 100)
    osteitis = read_osteitis(true_oedema(c, p), p, rng)
    das = np.asarray(das28_crp(tjc28=tjc, sjc28=sjc, crp_mg_l=crp, gh_mm=gh), dtype=float)
    columns = {
        "tjc28": tjc.astype(float),
        "sjc28": sjc.astype(float),
        "crp_mg_l": crp,
        "gh_mm": gh,
        "das28_crp": das,
        "mri_bme_total": osteitis,
    }
    if index != "das28_esr":
        return Observed(columns, das)
    # ESR drawn last, so populations scored with DAS28-CRP keep their random streams.
    log_esr = (
        np.log(o.esr_median_quiet_mm_h.value)
        + o.esr_per_synovitis.value * c.synovitis
        + rng.normal(0.0, o.esr_sdlog.value)
    )
    esr = np.clip(np.round(np.exp(log_esr)), 1, 150)
    das_esr = np.asarray(das28_esr(tjc28=tjc, sjc28=sjc, esr_mm_h=esr, gh_mm=gh), dtype=float)
    pd_count = np.minimum(rng.poisson(o.pd_per_synovitis.value * c.synovitis), 28)
    columns |= {"esr_mm_h": esr, "das28_esr": das_esr, "us_pd_joint_count": pd_count.astype(float)}
    return Observed(columns, das_esr)


def read_osteitis(true: np.ndarray, p: Parameters, rng: Streams) -> np.ndarray:
    """A RAMRIS osteitis read in whole units: visible oedema (true score >= 0.5) is read with
    normal reader error; a bone without visible oedema is read 0, or 1 with the false-positive
    probability."""
    o = p.oedema
    noisy = np.maximum(np.round(true + rng.normal(0.0, o.reader_error_sd.value)), 0.0)
    false_positive = rng.random() < o.false_positive_rate.value
    return np.where(true >= 0.5, noisy, false_positive.astype(float))


def read_svdh_change(true_change: np.ndarray, p: Parameters, rng: Streams) -> np.ndarray:
    """A paired reading of SvdH change: the true change plus reading error, in 0.5 units."""
    error = rng.normal(0.0, p.radiographs.reading_error_sd.value)
    return np.round((true_change + error) * 2) / 2


def smallest_detectable_change(p: Parameters) -> float:
    """SDC of a one-patient change score read once: 1.96 x the reading-error SD (Bruynesteyn K et
    al. Ann Rheum Dis 2005;64:179-182)."""
    return 1.96 * p.radiographs.reading_error_sd.value
