"""The terms a strategy's rules are written in: actions, the facts a rule may test, durations.

>>> parse_duration("12w"), format_duration(parse_duration("3mo"))
(84.0, '3 months')
"""

from __future__ import annotations

import re

#: Days in a month for every month-denominated interval (Julian year / 12).
DAYS_PER_MONTH = 365.25 / 12

#: Primary actions of a rule, and the actions only co-action rules take.
ACTIONS = ("continue", "escalate", "switch", "taper", "reinstate", "optimise", "review")
CO_ACTIONS = ("local_glucocorticoid", "taper")
#: What a ``taper`` action reduces.
TAPER_CLASSES = ("glucocorticoid", "b/tsDMARD", "csDMARD", "NSAID")
#: Boolean facts a rule may test (definitions in :mod:`rheumetrics.t2t.facts`).
BOOL_FACTS = (
    "target_met",
    "clinical_target_met",
    "index_at_target",
    "sustained",
    "sustained_remission",
    "improved",
    "intolerance",
    "adverse_event",
    "route_change",
    "swollen_joints",
    "mri_bme",
    "on_glucocorticoid",
    "on_csdmard",
    "on_bts",
    "on_nsaid",
    "ppf",
    "after_taper",
    "nsaid_trial_adequate",
    "objective_inflammation",
    "optimised",
    "primary_response",
    "loss_of_response",
    "low_activity",
)
#: Duration facts a rule may bound (``*_min`` inclusive, ``*_max`` exclusive).
DURATION_FACTS = ("since_change", "on_glucocorticoid_for", "on_bts_for")
#: Proposals a rule may take its regimen from instead of its action's own
#: (``route_change``: the drug not tolerated today on the route its ladder step asks for).
PROPOSALS = ("route_change",)
#: Placeholders a rule's reason may use.
REASON_FIELDS = (
    "index",
    "index_value",
    "target",
    "months_since_change",
    "improvement",
    "improvement_threshold",
    "months_in_target",
    "sustained",
    "swollen_joints",
    "min_on_step",
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mo|w|d)\s*$")


def parse_duration(text: str | int | float) -> float:
    """Days in a duration written ``"3mo"``, ``"12w"`` or ``"84d"`` (a bare number means months).

    >>> parse_duration("12w"), parse_duration("3mo") == 3 * DAYS_PER_MONTH
    (84.0, True)
    """
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ValueError(f"{text!r} is not a duration like '3mo', '12w' or '84d'")
    if isinstance(text, int | float):
        if not 0 <= text < float("inf"):
            raise ValueError(f"{text!r} must be a finite number of months, 0 or more")
        return float(text) * DAYS_PER_MONTH
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a duration like '3mo', '12w' or '84d'")
    return float(m.group(1)) * {"mo": DAYS_PER_MONTH, "w": 7.0, "d": 1.0}[m.group(2)]


def format_duration(days: float) -> str:
    """Inverse of :func:`parse_duration` for display: months when whole, else weeks or days."""
    months = days / DAYS_PER_MONTH
    if abs(months - round(months)) < 1e-9:
        return f"{round(months)} months"
    if abs(days / 7 - round(days / 7)) < 1e-9:
        return f"{round(days / 7)} weeks"
    return f"{days:g} days"
