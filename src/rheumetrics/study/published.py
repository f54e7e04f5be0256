"""Reproduction mode: published figures printed beside the computed ones.

A study file may list the figures a publication printed (``[[published]]``: table, row,
statistic, value, printed decimals) with a locator saying where the report computes each one,
``table[key=value, ...].column`` over the report's tidy tables, e.g.
``scores[visit=V1, outcome=das28_crp, group=A].median``. A figure is *reproduced* when the
computed value, rounded half-up to the printed decimals, equals the printed value. Figures the
example-cohort generator was tuned to are flagged ``targeted``: they prove only the generator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.numeric import round_display
from rheumetrics.study.definitions import Published

_LOCATOR = re.compile(r"^\s*(?P<table>\w+)\s*\[(?P<where>[^\]]*)\]\s*\.\s*(?P<column>\w+)\s*$")

#: Commas outside parentheses separate conditions (``form=ICC(3,k)`` is one condition).
_CONDITIONS = re.compile(r",(?![^(]*\))")

#: Status of one published figure.
REPRODUCED, DIFFERS, NOT_COMPUTED = "reproduced", "not reproduced", "not computed"


def locate(
    tables: Mapping[str, pd.DataFrame],
    at: str,
    _text: dict[tuple[str, str], np.ndarray] | None = None,
) -> float:
    """The value a locator points at (NaN when the table, row or column is absent).

    >>> t = {"scores": pd.DataFrame({"group": ["A", "B"], "median": [4.24, 5.15]})}
    >>> locate(t, "scores[group=B].median")
    5.15
    """
    m = _LOCATOR.match(at)
    if m is None or m["table"] not in tables:
        return float("nan")
    name, table = m["table"], tables[m["table"]]
    if m["column"] not in table.columns:
        return float("nan")
    text = {} if _text is None else _text
    keep = np.ones(len(table), dtype=bool)
    for cond in filter(None, (c.strip() for c in _CONDITIONS.split(m["where"]))):
        key, _, value = (part.strip() for part in cond.partition("="))
        if key not in table.columns:
            return float("nan")
        if (name, key) not in text:
            text[(name, key)] = np.asarray(table[key].astype(str).to_numpy(dtype=object))
        keep &= text[(name, key)] == value
    hits = np.flatnonzero(keep)
    if hits.size != 1:
        return float("nan")
    value = pd.to_numeric(table[m["column"]].iat[int(hits[0])], errors="coerce")
    return float(value) if pd.notna(value) else float("nan")


def valid_locator(at: str) -> bool:
    """Whether ``at`` has the locator form ``table[key=value, ...].column``."""
    return _LOCATOR.match(at) is not None


def compare(tables: Mapping[str, pd.DataFrame], published: tuple[Published, ...]) -> pd.DataFrame:
    """One row per published figure: published and computed value, status, targeted."""
    rows: list[dict[str, Any]] = []
    text: dict[tuple[str, str], np.ndarray] = {}  # key columns as text, converted once
    for f in published:
        computed = locate(tables, f.at, text) if f.at else float("nan")
        if not np.isfinite(computed):
            status, shown = NOT_COMPUTED, float("nan")
        else:
            shown = float(round_display(computed, f.digits))
            status = REPRODUCED if abs(shown - f.value) < 10.0 ** -(f.digits + 3) else DIFFERS
        rows.append({"table": f.table, "row": f.row, "statistic": f.statistic,
                     "published": f.value, "digits": f.digits, "computed": computed,
                     "computed_shown": shown, "status": status, "targeted": f.targeted,
                     "at": f.at, "source": f.at.split("[", 1)[0] if f.at else ""})  # fmt: skip
    return pd.DataFrame(rows, columns=["table", "row", "statistic", "published", "digits", "computed",
                                       "computed_shown", "status", "targeted", "at", "source"])  # fmt: skip


def summary(comparison: pd.DataFrame) -> str:
    """One sentence: how many published figures were reproduced, targeted ones apart.

    >>> c = pd.DataFrame({"status": ["reproduced", "not reproduced", "reproduced"],
    ...                   "targeted": [True, False, False]})
    >>> summary(c)
    '2 of 3 published figures reproduced at their printed precision (1 of them targeted by the example generator; 1 of the 2 not targeted reproduced).'
    """
    n = len(comparison)
    ok = comparison["status"] == REPRODUCED
    targeted = comparison["targeted"].astype(bool)
    text = f"{int(ok.sum())} of {n} published figures reproduced at their printed precision"
    if targeted.any():
        free = ~targeted
        text += (f" ({int((ok & targeted).sum())} of them targeted by the example generator; "
                 f"{int((ok & free).sum())} of the {int(free.sum())} not targeted reproduced)")  # fmt: skip
    return text + "."
