"""Named cut-off sets and decimal-safe classification.

The sets are data (``catalogues/cutoffs.toml``): a new variant is a new entry, not a new branch.
Classification compares values as if snapped to 9 decimals (``rheumetrics.numeric``) with each bound,
honouring whether the bound itself belongs to the lower band, so ``DAS28 = 3.2`` is "low" under the
EULAR set and "moderate" under ACR 2012.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.numeric import SNAP_TOLERANCE


@dataclass(frozen=True)
class CutoffSet:
    """Ordered bands of one score family, separated by ``bounds``."""

    name: str
    family: str
    labels: tuple[str, ...]
    bounds: tuple[float, ...]
    lower_gets_bound: tuple[bool, ...]
    source: str

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.bounds) + 1 or len(self.bounds) != len(
            self.lower_gets_bound
        ):
            raise ValueError(f"cut-off set {self.name}: labels must be one more than bounds")
        if list(self.bounds) != sorted(self.bounds):
            raise ValueError(f"cut-off set {self.name}: bounds must increase")

    def thresholds(self) -> tuple[tuple[float, bool], ...]:
        """Per bound, ``(t, strict)``: a value is above the bound when ``value > t`` (strict, the
        bound belongs to the lower band) or ``value >= t``; ``t`` is the bound moved by
        :data:`~rheumetrics.numeric.SNAP_TOLERANCE`, so the value compares as if snapped.

        >>> cutoff_set("das28_eular").thresholds()[:2]  # remission < 2.6 <= low <= 3.2 < moderate
        ((2.5999999995, False), (3.2000000005, True))
        """
        return tuple(
            (bound + SNAP_TOLERANCE, True) if lower else (bound - SNAP_TOLERANCE, False)
            for bound, lower in zip(self.bounds, self.lower_gets_bound, strict=True)
        )

    def codes(self, values: Any, out: np.ndarray | None = None) -> np.ndarray:
        """Band index per value (int8), -1 where the value is missing; into ``out`` if given."""
        x = np.asarray(values, dtype=float)
        code = np.empty(x.shape, dtype=np.int8) if out is None else out
        hit = np.empty(x.shape, dtype=bool)  # reused; added as 0/1 bytes without a cast
        if not self.bounds:
            code[...] = 0
        for i, (threshold, strict) in enumerate(self.thresholds()):
            target = code.view(bool) if i == 0 else hit  # the first writes 0/1 into code
            (np.greater if strict else np.greater_equal)(x, threshold, out=target)
            if i:
                code += hit.view(np.int8)
        if x.size and np.isnan(x.min()):  # NaN passes no bound: 0 - 1 = -1
            code -= np.isnan(x, out=hit).view(np.int8)
        return code

    def classify(self, values: Any) -> Any:
        """Band labels: a ``str`` (or None) for a scalar, an ordered Categorical otherwise.

        A pandas Series input gives a Series with the same index.
        """
        codes = self.codes(values)
        if codes.ndim == 0:
            c = int(codes)
            return None if c < 0 else self.labels[c]
        cat = pd.Categorical.from_codes(codes, categories=list(self.labels), ordered=True)
        if isinstance(values, pd.Series):
            return pd.Series(cat, index=values.index, name=values.name)
        return cat

    def describe(self) -> str:
        """The bands in words, e.g. ``remission < 2.6; low <= 3.2; ...``."""
        parts = []
        for label, bound, lower in zip(
            self.labels, self.bounds, self.lower_gets_bound, strict=False
        ):
            parts.append(f"{label} {'<=' if lower else '<'} {bound:g}")
        last_op = ">" if self.lower_gets_bound[-1] else ">="
        parts.append(f"{self.labels[-1]} {last_op} {self.bounds[-1]:g}")
        return "; ".join(parts)


def _load() -> dict[str, CutoffSet]:
    raw = tomllib.loads((files("rheumetrics") / "catalogues" / "cutoffs.toml").read_text("utf-8"))
    return {
        name: CutoffSet(
            name=name,
            family=entry["family"],
            labels=tuple(entry["labels"]),
            bounds=tuple(float(b) for b in entry["bounds"]),
            lower_gets_bound=tuple(entry["lower_gets_bound"]),
            source=entry["source"],
        )
        for name, entry in raw.items()
    }


#: Every shipped cut-off set by name.
CUTOFF_SETS: dict[str, CutoffSet] = _load()


def cutoff_set(name: str, family: str | None = None) -> CutoffSet:
    """Look up a set by name, checking it belongs to ``family`` when given."""
    try:
        cs = CUTOFF_SETS[name]
    except KeyError:
        raise KeyError(
            f"unknown cut-off set {name!r}; known: {', '.join(sorted(CUTOFF_SETS))}"
        ) from None
    if family is not None and cs.family != family:
        options = sorted(n for n, c in CUTOFF_SETS.items() if c.family == family)
        raise ValueError(
            f"cut-off set {name!r} is for {cs.family}, not {family}; use one of {options}"
        )
    return cs
