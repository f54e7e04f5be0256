"""Named imaging states (``catalogues/states.toml``): no bone marrow oedema, RAMRIS synovitis
acceptable state, Baker low-inflammation thresholds, SPARCC SIJ and Berlin spine remission.

Scores are compared after :func:`~rheumetrics.numeric.snap`, so reader means (non-integers) are
compared as real numbers. A state tied to a scale (``set_max``) is NA for
scores over any other set of scored sites rather than silently re-scaled.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from rheumetrics.errors import ProblemCollector
from rheumetrics.imaging import catalogue
from rheumetrics.imaging.scores import ID_COLUMNS
from rheumetrics.numeric import snap


def imaging_states(scores: pd.DataFrame, states: Iterable[str] | None = None) -> pd.DataFrame:
    """Evaluate named imaging states on score rows (per reader or reader means).

    Returns
    -------
    DataFrame
        One row per score row a state applies to: the score keys, ``state``, ``score``,
        ``max_possible``, ``applicable`` and ``met`` (nullable boolean, NA when not applicable).
        A state defined on a scale (``set_max``, e.g. synovitis 0-21) applies only to scores whose
        maximum over the sites actually scored is that scale: a wrist-only read, a bilateral read or
        a read with a not-assessable site gives NA. ``attrs["conventions"]["states"]`` holds each
        state's rule and source.
    """
    known = catalogue.state_definitions()
    chosen = list(known) if states is None else list(states)
    problems = ProblemCollector("invalid imaging states")
    for name in chosen:
        if name not in known:
            problems.add("-", "states", name, f"unknown state; known: {', '.join(known)}")
    problems.raise_if_any()
    keys = [
        c for c in ID_COLUMNS if c in scores.columns and c not in ("system", "feature", "subset")
    ]
    parts = []
    recorded = {}
    for name in chosen:
        state = known[name]
        rows = scores[
            (scores["system"] == state.system)
            & (scores["feature"] == state.feature)
            & (scores["subset"] == state.subset)
        ]
        score = snap(rows["score"].to_numpy(dtype=float))
        max_possible = rows["max_possible"].to_numpy(dtype=float)
        applicable = (
            np.ones(len(rows), dtype=bool)
            if state.set_max is None
            else snap(max_possible) == snap(state.set_max)
        )
        met = catalogue.OPERATORS[state.op](score, state.value)
        parts.append(
            rows[keys].assign(
                state=name,
                score=rows["score"].to_numpy(),
                max_possible=max_possible,
                applicable=applicable,
                met=pd.array(np.where(applicable & ~np.isnan(score), met, None), dtype="boolean"),
            )
        )
        site_set = "" if state.set_max is None else f" over a site set of maximum {state.set_max:g}"
        recorded[name] = (
            f"{state.system} {state.feature} ({state.subset}) {state.op} {state.value:g}{site_set}: "
            f"{state.source}"
        )
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    out.attrs["conventions"] = {"states": recorded}
    return out
