"""Fitting the free parameters to published anchors, and the calibration table.

The objective is the sum over the anchors marked ``use = "calibration"`` and over their arms of the
squared z-distance between the simulated mean share and the published share, with the published
binomial standard error sqrt(p (1 - p) / n) (floored at 1/n). Random streams are held fixed during
the fit (common random numbers), and the search runs on each parameter's position in its
[low, high] range, kept inside it, with the bounded Nelder-Mead method (Nelder JA, Mead R. Comput J 1965;7:308-313;
:func:`scipy.optimize.minimize`). Held-out anchors are never used in the fit, only compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rheumetrics.errors import RheumetricsError
from rheumetrics.sim.parameters import OUTCOME_LABELS, Anchor, Parameters
from rheumetrics.sim.replicates import TrialResult, simulate
from rheumetrics.sim.trial import Arm

#: Anchor arm key -> the shipped strategy that encodes that arm.
ARM_STRATEGY = {"mri": "imagine_ra_mri", "conventional": "imagine_ra_conventional"}


def imagine_arms(adherence: float = 1.0) -> tuple[Arm, Arm]:
    """The two IMAGINE-RA arms as the trial ran them (conventional first)."""
    return (
        Arm(ARM_STRATEGY["conventional"], "imagine_ra", adherence),
        Arm(ARM_STRATEGY["mri"], "imagine_ra", adherence),
    )


def trial_arms(p: Parameters, trial: str, adherence: float = 1.0) -> tuple[Arm, ...]:
    """The arms a trial's anchors name (IMAGINE-RA: conventional first), on its population."""
    if trial == "imagine_ra":
        return imagine_arms(adherence)
    if trial not in p.anchors:
        known = ", ".join(sorted(p.anchors))
        raise RheumetricsError(
            f"no anchors for population {trial!r}; populations with anchors: {known}"
        )
    names = dict.fromkeys(s for a in p.anchors[trial].values() for s in a.shares)
    return tuple(Arm.parse(s, trial, adherence) for s in names)


_REMISSION = {
    "das28_crp": "DAS28-CRP < 2.6",
    "das28_esr": "DAS28-ESR < 2.6",
    "asdas_crp": "ASDAS-CRP < 1.3",
}
_INDEX_NAMES = {"das28_crp": "DAS28-CRP", "das28_esr": "DAS28-ESR", "asdas_crp": "ASDAS-CRP"}
_LOW = {
    "das28_crp": "DAS28-CRP <= 3.2",
    "das28_esr": "DAS28-ESR <= 3.2",
    "asdas_crp": "ASDAS-CRP < 2.1",
}


def _label(key: str, anchor: Anchor, trial_index: str | None = None) -> str:
    if anchor.month is None:
        return OUTCOME_LABELS.get(key, key)
    what = {
        "remission": "remission" if trial_index is None else _REMISSION[trial_index],
        "low_activity": "low activity" if trial_index is None else _LOW[trial_index],
        "asdas_cii": "ASDAS clinically important improvement",
        "index_change": "mean change of "
        + ("the index" if trial_index is None else _INDEX_NAMES[trial_index]),
        "eular_good": "EULAR good response",
        "eular_moderate": "EULAR moderate response",
        "eular_none": "no EULAR response",
    }[anchor.outcome or ""]
    return f"{what} at {anchor.month} months"


def calibration_table(
    result: TrialResult, p: Parameters, trial: str = "imagine_ra", level: float = 0.95
) -> pd.DataFrame:
    """Each published anchor beside the simulated mean and interval, marked inside or outside.

    The interval is the central ``level`` range of the replicate shares; a replicate has the
    trial's size, so the interval is the one to expect for a trial of that size. Anchors of arms
    or months the result does not hold are left out.
    """
    s = result.summary(level).set_index(["arm", "outcome"])
    rows = []
    for outcome, anchor in p.anchors[trial].items():
        for strategy, published in anchor.shares.items():
            if (strategy, outcome) not in s.index:
                continue
            sim = s.loc[(strategy, outcome)]
            rows.append(
                {
                    "anchor": outcome,
                    "label": _label(outcome, anchor, p.population[trial].outcome_index),
                    "arm": strategy,
                    "published": published,
                    "n": anchor.n[strategy],
                    "simulated": sim["mean"],
                    "low": sim["low"],
                    "high": sim["high"],
                    "inside": bool(sim["low"] <= published <= sim["high"]),
                    "kind": anchor.kind,
                    "use": anchor.use,
                    "source": anchor.source,
                }
            )
    return pd.DataFrame(rows)


def objective(result: TrialResult, anchors: dict[str, Anchor]) -> float:
    """Sum of squared z-distances over the calibration anchors."""
    s = result.summary().set_index(["arm", "outcome"])["mean"]
    total = 0.0
    for outcome, anchor in anchors.items():
        if anchor.use != "calibration":
            continue
        for strategy, pub in anchor.shares.items():
            total += ((s[(strategy, outcome)] - pub) / anchor.se(strategy)) ** 2
    return float(total)


@dataclass
class Fit:
    """The calibrated parameters and the diagnostics of the search."""

    parameters: Parameters
    values: dict[str, float]
    objective: float
    evaluations: int
    converged: bool
    history: pd.DataFrame
    trial: str = "imagine_ra"


def calibrate(
    p: Parameters,
    *,
    replicates: int = 8,
    seed: int = 2019,
    max_evaluations: int = 80,
    workers: int = 0,
    trial: str = "imagine_ra",
) -> Fit:
    """Fit the parameters marked ``calibrated`` (and ``fitted_to`` this trial) to its anchors."""
    from scipy.optimize import minimize

    arms = trial_arms(p, trial)
    free = p.calibrated(trial)
    if not free:
        raise RheumetricsError(f"no parameter is calibrated and fitted_to {trial!r}")
    names = list(free)
    lows = np.array([free[k].low for k in names])
    highs = np.array([free[k].high for k in names])

    def to_values(u: np.ndarray) -> dict[str, float]:
        return dict(zip(names, lows + np.clip(u, 0, 1) * (highs - lows), strict=True))

    start = np.array([(free[k].value - free[k].low) / (free[k].high - free[k].low) for k in names])
    # Initial simplex: each vertex moves one parameter a quarter of its range, inwards.
    steps = np.where(start > 0.5, -0.25, 0.25)
    simplex = np.vstack([start, start + np.diag(steps)])
    history: list[dict[str, float]] = []

    def f(u: np.ndarray) -> float:
        values = to_values(u)
        result = simulate(
            arms,
            p.with_values(values),
            replicates=replicates,
            seed=seed,
            workers=workers,
            batch=replicates,
        )
        value = objective(result, p.anchors[trial])
        history.append({**values, "objective": value})
        return value

    options = {"maxfev": max_evaluations, "xatol": 0.01, "fatol": 0.2, "initial_simplex": simplex}
    bounds = [(0.0, 1.0)] * len(names)
    res = minimize(f, start, method="Nelder-Mead", bounds=bounds, options=options)
    values = to_values(res.x)
    return Fit(
        p.with_values(values),
        values,
        float(res.fun),
        int(res.nfev),
        bool(res.success),
        pd.DataFrame(history),
        trial,
    )
