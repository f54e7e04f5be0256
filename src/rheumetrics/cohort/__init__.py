"""Cohort assembly: analysis frames (visits + therapies + imaging in windows) from a store or files.

Used by the treat-to-target command, the study reports, the app and the simulator, so that a
cohort is put together in one place. See :mod:`rheumetrics.cohort.frames`.
"""

from rheumetrics.cohort.files import flatten_attributes, from_files, score_visits
from rheumetrics.cohort.frames import (
    MRI_WINDOW_DAYS,
    CohortFrames,
    attach_nearest,
    from_store,
    imaging_totals,
    t2t_inputs,
    with_mri_bme_total,
)

__all__ = [
    "MRI_WINDOW_DAYS",
    "CohortFrames",
    "attach_nearest",
    "flatten_attributes",
    "from_files",
    "from_store",
    "imaging_totals",
    "score_visits",
    "t2t_inputs",
    "with_mri_bme_total",
]
