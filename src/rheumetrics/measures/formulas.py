"""Scores that are weighted sums of (transformed) inputs, and criteria that are limits on
inputs, declared as data.

DAS28 (all four forms), SDAI, CDAI, DAPSA and cDAPSA are each a sum of terms ``weight * f(input)``, with ``f``
the identity, a square root, a natural logarithm (of the value or of the value + 1) or a division
by 10 (CRP mg/L to mg/dL), possibly scaled and shifted at the end (:class:`Linear`); Boolean
remission is met when every input is at most its limit (:class:`AllAtMost`). Each declaration is
evaluated two ways with the same operations in the same order, so both give the same bits:

- called as a measure's ``compute``, with NumPy on arrays of any shape (scalars included);
- compiled into one pass over a chunk of rows by :mod:`rheumetrics.measures.compiled`, which
  :func:`~rheumetrics.measures.panel.score_frame` uses for large tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from rheumetrics.measures.base import add_into, shared_term
from rheumetrics.measures.conventions import Conventions

Transform = Literal["", "sqrt", "log", "log1p", "tenth"]


def _tenth(x: np.ndarray) -> np.ndarray:
    return x / 10.0


#: The functions a term may apply to its input ("" is the input itself).
TRANSFORMS: dict[str, Callable[..., np.ndarray]] = {
    "sqrt": np.sqrt,
    "log": np.log,
    "log1p": np.log1p,
    "tenth": _tenth,
}


#: How formulas write the inputs they use (published notation; the unit where it matters).
SYMBOLS = {
    "tjc28": "TJC28",
    "sjc28": "SJC28",
    "tjc68": "TJC68",
    "sjc66": "SJC66",
    "esr_mm_h": "ESR",
    "crp_mg_l": "CRP[mg/L]",
    "gh_mm": "GH",
    "ptga": "PtGA(0-10)",
    "phga": "PhGA(0-10)",
    "pain": "pain(0-10)",
}
_WRITTEN = {"": "{x}", "sqrt": "sqrt({x})", "log": "ln({x})", "log1p": "ln({x} + 1)",
            "tenth": "{x}/10"}  # fmt: skip


@dataclass(frozen=True)
class Term:
    """``weight * transform(field)``."""

    field: str
    weight: float = 1.0
    transform: Transform = ""

    @property
    def text(self) -> str:
        """The term as published formulas write it, e.g. ``0.36*ln(CRP[mg/L] + 1)``."""
        value = _WRITTEN[self.transform].format(x=SYMBOLS.get(self.field, self.field))
        return value if self.weight == 1.0 else f"{self.weight:g}*{value}"


@dataclass(frozen=True)
class Linear:
    """``(terms[0] + terms[1] + ...) * scale + offset``, added left to right.

    Examples
    --------
    >>> joints = (Term("tjc28", 0.56, "sqrt"), Term("sjc28", 0.28, "sqrt"))
    >>> das28_crp = Linear((*joints, Term("crp_mg_l", 0.36, "log1p"), Term("gh_mm", 0.014)),
    ...                    offset=0.96)
    >>> das28_crp.text
    '0.56*sqrt(TJC28) + 0.28*sqrt(SJC28) + 0.36*ln(CRP[mg/L] + 1) + 0.014*GH + 0.96'
    >>> # 0.56*2 + 0.28*1 + 0.36*ln(10) + 0.014*50 + 0.96
    >>> round(float(das28_crp(None, tjc28=4.0, sjc28=1.0, crp_mg_l=9.0, gh_mm=50.0)), 4)
    3.8889
    """

    terms: tuple[Term, ...]
    scale: float = 1.0
    offset: float = 0.0

    @property
    def text(self) -> str:
        """The formula as published, e.g. ``[0.56*sqrt(TJC28) + ...] * 1.08 + 0.16``."""
        total = " + ".join(t.text for t in self.terms)
        if self.scale != 1.0:
            total = f"[{total}] * {self.scale:g}"
        return f"{total} + {self.offset:g}" if self.offset else total

    def __call__(self, conventions: Conventions | None, **inputs: Any) -> Any:
        """The score of ``inputs`` (NumPy arrays or scalars), as a measure's ``compute``."""
        total: Any = None
        owned = False  # whether ``total`` is a fresh array the sum may grow into
        for term in self.terms:
            x, fresh = inputs[term.field], False
            if term.transform:  # computed once per chunk for all measures (never modified)
                x = shared_term(term.transform, TRANSFORMS[term.transform], x)
            if term.weight != 1.0:
                x, fresh = x * term.weight, True
            if total is None:
                total, owned = x, fresh
            elif owned:
                total = add_into(total, x)
            else:
                total, owned = total + x, True
        if self.scale != 1.0:
            total, owned = total * self.scale, True
        if self.offset:
            total = add_into(total, self.offset) if owned else total + self.offset
        return total


@dataclass(frozen=True)
class AllAtMost:
    """A criterion met when every input is at most its limit, ``limits`` ``(field, limit)``.

    Examples
    --------
    >>> remission = AllAtMost((("tjc28", 1.0), ("sjc28", 1.0), ("ptga", 2.0)))
    >>> remission(None, tjc28=np.array([1.0, 2.0]), sjc28=np.array([0.0, 0.0]),
    ...           ptga=np.array([2.0, 0.0])).tolist()
    [True, False]
    """

    limits: tuple[tuple[str, float], ...]

    @property
    def text(self) -> str:
        """The criterion as published, e.g. ``TJC28 <= 1 and ... and CRP[mg/L] <= 10``."""
        return " and ".join(f"{SYMBOLS.get(f, f)} <= {limit:g}" for f, limit in self.limits)

    def __call__(self, conventions: Conventions | None, **inputs: Any) -> Any:
        """Booleans (NumPy) for ``inputs``, as a flag measure's ``compute``."""
        met: Any = None
        for field, limit in self.limits:
            at_most = inputs[field] <= limit
            met = at_most if met is None else met & at_most
        return met
