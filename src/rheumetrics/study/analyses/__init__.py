"""The study's tables, each a tidy DataFrame computed with :mod:`rheumetrics.stats` and
:mod:`rheumetrics.imaging` (nothing statistical is computed here); every table records the
conventions it used in ``attrs["conventions"]``. One module per kind of analysis.
"""

from __future__ import annotations

from rheumetrics.study.analyses.associations import (
    association,
    correlation,
    paired,
    regression,
    reliability,
    scatter_outliers,
)
from rheumetrics.study.analyses.evidence import QUANTILE_COLUMNS, meta, sample_size
from rheumetrics.study.analyses.groups import (
    MIN_EXPECTED,
    characteristics,
    direction,
    patient_flow,
    response,
    responsiveness,
    scores_by_visit,
)
from rheumetrics.study.analyses.prediction import (
    dichotomised,
    logistic,
    paired_proportions,
    roc,
)

__all__ = [
    "MIN_EXPECTED",
    "QUANTILE_COLUMNS",
    "association",
    "characteristics",
    "correlation",
    "dichotomised",
    "direction",
    "logistic",
    "meta",
    "paired",
    "paired_proportions",
    "patient_flow",
    "regression",
    "reliability",
    "response",
    "responsiveness",
    "roc",
    "sample_size",
    "scatter_outliers",
    "scores_by_visit",
]
