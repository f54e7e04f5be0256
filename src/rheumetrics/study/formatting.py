"""How numbers print in a report: one p-value style, counts without decimals, readable labels."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from rheumetrics import stats as st


def format_p(p: Any) -> str:
    """p-values as printed: ``<0.0001``, four decimals below 0.01, else three.

    >>> [format_p(x) for x in (0.00004, 0.0052, 0.12, 1.0)]
    ['<0.0001', '0.0052', '0.120', '1.000']
    """
    if p is None or not np.isfinite(p):
        return ""
    if p < 0.0001:
        return "<0.0001"
    return st.format_number(float(p), 4 if p < 0.01 else 3)


def p_text(p: Any) -> str:
    """``p = 0.037`` or ``p < 0.0001`` for running text."""
    shown = format_p(p)
    return f"p {shown[0]} {shown[1:]}" if shown.startswith("<") else f"p = {shown}"


def num(x: Any, digits: int, *, trim: bool = False) -> str:
    """``x`` at ``digits`` decimals (half-up); ``trim`` drops trailing zeros (counts and grades
    print as ``11`` and ``5.5``, not ``11.0``); missing prints empty.

    >>> num(11.0, 1, trim=True), num(5.5, 1, trim=True), num(-0.944, 2)
    ('11', '5.5', '-0.94')
    """
    if x is None or not np.isfinite(x):
        return ""
    text = st.format_number(float(x), digits)
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def percent(share: Any, digits: int = 1) -> str:
    """A share (0 to 1) as a percentage that never rounds to a certainty: ``more than 99.9%``
    rather than ``100.0%`` (and ``less than 0.1%`` rather than ``0.0%``) unless it is exact.

    >>> percent(0.80), percent(0.99999), percent(1.0), percent(0.00001)
    ('80.0%', 'more than 99.9%', '100.0%', 'less than 0.1%')
    """
    if share is None or not np.isfinite(share):
        return ""
    text = num(100 * float(share), digits)
    step = 10.0**-digits
    if float(text) >= 100 and share < 1:
        return f"more than {num(100 - step, digits)}%"
    if float(text) <= 0 < share:
        return f"less than {num(step, digits)}%"
    return f"{text}%"


def count(x: Any) -> str:
    """A count as a whole number (``84``, never ``84.0``)."""
    return "" if x is None or (isinstance(x, float) and not np.isfinite(x)) else str(int(x))


def interval(low: Any, high: Any, digits: int) -> str:
    """A confidence interval as ``low to high``."""
    return f"{num(low, digits)} to {num(high, digits)}" if np.isfinite(low) else ""


def integer_valued(values: pd.Series) -> bool:
    """True when every present value is a whole number (joint counts, imaging grades)."""
    v = pd.to_numeric(values, errors="coerce").dropna().to_numpy(float)
    return bool(v.size) and bool(np.all(v == np.round(v)))


_FACTOR = re.compile(r"^(?P<var>.+)\[T\.(?P<level>.+)\]$")  # patsy: sex[T.male]
_CONTRAST = re.compile(r"^(?P<var>[^:]+): (?P<level>.+) vs (?P<ref>.+)$")  # sex: male vs female


def term_label(term: str, labels: dict[str, str], levels: dict[str, dict[str, str]],
               references: dict[str, str]) -> str:  # fmt: skip
    """A regression term as a reader would name it: ``Intercept``, ``Group B (vs Group A)``,
    ``Gender: male (vs female)``, or the variable's label.

    >>> term_label("sex[T.male]", {"sex": "Gender"}, {}, {"sex": "female"})
    'Gender: male (vs female)'
    >>> term_label("const", {}, {}, {})
    'Intercept'
    >>> term_label("group: B vs A", {}, {"group": {"A": "Group A", "B": "Group B"}}, {})
    'Group B (vs Group A)'
    """
    if term in ("const", "Intercept"):
        return "Intercept"
    m = _FACTOR.match(term) or _CONTRAST.match(term)
    if m is None:
        return labels.get(term, term)
    var, level = m["var"], m["level"]
    names = levels.get(var, {})
    ref = m["ref"] if "ref" in m.groupdict() else references.get(var)
    shown = names.get(level, level)
    against = f" (vs {names.get(ref, ref)})" if ref is not None else ""
    if var == "group":
        return f"{shown}{against}"
    return f"{labels.get(var, var)}: {shown}{against}"
