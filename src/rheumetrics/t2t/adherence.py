"""Protocol adherence: what was actually done after each visit, and whether it followed the
recommendation (the treatment given, read from the therapy changes before the next visit)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rheumetrics.t2t.facts import Facts

#: Recommended action -> actual actions that count as following it (protocol adherence).
ADHERENT = {
    "continue": ("continue",),
    "escalate": ("escalate",),
    "reinstate": ("escalate",),
    "optimise": ("escalate", "switch"),
    "switch": ("switch", "escalate"),
    "taper": ("taper",),
}


def adherence(action: np.ndarray, f: Facts) -> tuple[np.ndarray, pd.arrays.BooleanArray]:
    """What was actually done after each visit, and whether it follows the recommendation.

    Actual action from the therapy changes between the visit and the next one: a new drug added is
    an escalation; a new drug replacing a stopped one is a switch, or an escalation when the next
    visit's ladder step is later on the ladder; a dose increase or modification is an escalation;
    a dose reduction or a stop without replacement is a taper; nothing is "continue". The last visit
    of a patient has no follow-up and is not assessable.
    """
    n = len(action)
    adherent = pd.array(np.zeros(n, bool), dtype="boolean")
    adherent[:] = pd.NA
    t = f.therapy
    if t is None:
        return np.full(n, "", dtype=object), adherent
    cur = f.step
    after = np.r_[cur[1:], -1]
    went_up = (cur >= 0) & (after > cur)
    new, stops, inc, tap = t.new_starts > 0, t.final_stops > 0, t.increases > 0, t.tapers > 0
    actual = np.select(
        [new & ~stops, new & stops & went_up, new & stops, inc, tap | stops],
        ["escalate", "escalate", "switch", "escalate", "taper"],
        default="continue",
    ).astype(object)
    actual[~t.assessable] = ""
    for rec, accepted in ADHERENT.items():
        rows = (action == rec) & t.assessable
        adherent[rows] = np.isin(actual[rows], accepted)
    return actual, adherent
