"""Scores that are weighted sums of (transformed) inputs, and criteria that are limits on
inputs, declared as data.

DAS28 (all four forms), SDAI, CDAI, DAPSA and cDAPSA are each a sum of terms
``weight * f(input)``, with ``f`` the identity, a square root, a natural logarithm (of the value
or of the value + 1) or a division by 10 (CRP mg/L to mg/dL), possibly scaled and shifted at the
end (:class:`Linear`); Boolean remission is met when every input is at most its limit
(:class:`AllAtMost`). Each declaration gives the formula's text and is evaluated two ways with
the same operations in the same order, so both give the same bits:

- called as a measure's ``compute``, with NumPy on arrays of any shape (scalars included);
- compiled into one loop over a chunk of rows by :mod:`rheumetrics.measures.compiled`, which
  :func:`~rheumetrics.measures.panel.score_frame` can use for large tables.

The original DAS and ASDAS are weighted sums too, but their weights (and ASDAS's CRP floor) are
chosen by a convention, which these declarations do not express; they stay functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np

from rheumetrics.measures.conventions import Conventions


def _tenth(x: np.ndarray) -> np.ndarray:
    return x / 10.0


@dataclass(frozen=True)
class Transform:
    """A function a term applies to its input: ``numpy`` computes it (None: the input itself);
    ``written`` is how formulas write it and ``inline`` how the compiled loop does (None: NumPy
    fills a column per chunk), with ``{x}`` for the input."""

    numpy: Callable[..., np.ndarray] | None
    written: str
    inline: str | None


TRANSFORMS: dict[str, Transform] = {
    "": Transform(None, "{x}", "{x}"),
    "sqrt": Transform(np.sqrt, "sqrt({x})", "np.sqrt({x})"),
    "log": Transform(np.log, "ln({x})", None),
    "log1p": Transform(np.log1p, "ln({x} + 1)", None),
    "tenth": Transform(_tenth, "{x}/10", "({x} / 10.0)"),
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


@dataclass(frozen=True)
class Term:
    """``weight * transform(field)``, ``transform`` a key of :data:`TRANSFORMS`."""

    field: str
    weight: float = 1.0
    transform: str = ""

    def __post_init__(self) -> None:
        if self.transform not in TRANSFORMS:
            raise ValueError(f"term {self.field}: transform must be one of {sorted(TRANSFORMS)}")

    @property
    def text(self) -> str:
        """The term as published formulas write it, e.g. ``0.36*ln(CRP[mg/L] + 1)``."""
        value = TRANSFORMS[self.transform].written.format(x=SYMBOLS.get(self.field, self.field))
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
            fn = TRANSFORMS[term.transform].numpy
            if fn is not None:  # computed once per chunk for all measures (never modified)
                x = shared_term(term.transform, fn, x)
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
    >>> remission.text
    'TJC28 <= 1 and SJC28 <= 1 and PtGA(0-10) <= 2'
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


#: Terms computed once per chunk while :func:`shared_terms` is active, keyed by name and the
#: identity of their input arrays (which the cache holds, so the identities stay valid).
_TERMS: ContextVar[dict[tuple[object, ...], tuple[tuple[np.ndarray, ...], np.ndarray]] | None] = (
    ContextVar("rheumetrics_shared_terms", default=None)
)


@contextmanager
def shared_terms() -> Iterator[None]:
    """Within this block, :func:`shared_term` computes a term once for the same input arrays.

    :func:`~rheumetrics.measures.panel.score_frame` opens one block per chunk of rows, so a
    transformed input several measures share (e.g. ``sqrt(TJC28)`` of every DAS28 form) is
    computed once; the arrays must not be changed inside the block.
    """
    token = _TERMS.set({})
    try:
        yield
    finally:
        _TERMS.reset(token)


def shared_term(name: str, fn: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """``fn(*arrays)``, computed once per :func:`shared_terms` block (always, outside one).

    Examples
    --------
    >>> x = np.array([1.0, 4.0])
    >>> with shared_terms():
    ...     a = shared_term("root", np.sqrt, x)
    ...     b = shared_term("root", np.sqrt, x)
    >>> a is b, b.tolist()
    (True, [1.0, 2.0])
    """
    cache = _TERMS.get()
    if cache is None:
        return fn(*arrays)
    key = (name, *map(id, arrays))
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = (arrays, fn(*arrays))
    return hit[1]


def add_into(total: Any, term: Any) -> Any:
    """``total + term``, adding in place when ``total`` is an array of the result's shape.

    For formulas evaluated on fresh temporaries: the same additions in the same order, without
    a new array per term (``total`` must not be a caller's input).

    Examples
    --------
    >>> t = np.array([1.0, 2.0])
    >>> add_into(t, 0.5) is t, t.tolist()
    (True, [1.5, 2.5])
    >>> add_into(np.float64(1.0), t).tolist()  # a scalar total: a new array
    [2.5, 3.5]
    """
    same_shape = np.ndim(term) == 0 or np.shape(term) == np.shape(total)
    if isinstance(total, np.ndarray) and total.ndim and same_shape:
        total += term
        return total
    return total + term
