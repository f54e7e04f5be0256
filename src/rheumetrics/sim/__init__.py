"""In-silico treat-to-target trials: virtual patients run through the real engine.

>>> from rheumetrics.sim import load_parameters, simulate, imagine_arms, trial_arms
>>> result = simulate(imagine_arms(), load_parameters(), replicates=2, seed=1, workers=0)
>>> sorted(result.summary()["arm"].unique())
['imagine_ra_conventional', 'imagine_ra_mri']
>>> [a.strategy for a in trial_arms(load_parameters(), "early_ra")]   # arms of early RA's anchors
['dream_ra']

The model, its parameters and their sources: docs/simulation.md.
"""

from rheumetrics.sim.calibration import calibrate, calibration_table, imagine_arms, trial_arms
from rheumetrics.sim.parameters import load_parameters, write_parameters
from rheumetrics.sim.replicates import TrialResult, simulate
from rheumetrics.sim.trial import Arm, run_arm

__all__ = [
    "Arm",
    "TrialResult",
    "calibrate",
    "calibration_table",
    "imagine_arms",
    "load_parameters",
    "run_arm",
    "simulate",
    "trial_arms",
    "write_parameters",
]
