"""Inputs of criteria that compare two visits, and decimal-safe change between them.

Response criteria (BASDAI50, ASAS20/40, ASAS 5/6, ASDAS improvement, DAPSA response) take a
baseline and a follow-up visit of the same patients, paired by position or by index label.
:func:`prepare_paired` validates both against the field registry and reports every problem of both
visits together, each field labelled with its visit. Change is snapped
(:func:`rheumetrics.numeric.snap`) before any comparison, so ``(3.0 - 2.4) / 3.0`` meets 20 %.

Relative change from a baseline of 0 is undefined; :func:`relative_change` returns NaN there, which
meets no threshold. Criteria with an absolute arm decide such rows on
that arm where their conventions say so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from rheumetrics.errors import Problem, ValidationError
from rheumetrics.measures.base import Prepared, prepare
from rheumetrics.measures.units import ALTERNATIVES, STIFFNESS_DURATION_COLUMNS
from rheumetrics.numeric import snap

#: A visit: a mapping or DataFrame of canonical column name -> scalar, array or Series.
Visit: TypeAlias = Mapping[str, Any] | pd.DataFrame


def _missing(visit: Visit, names: Sequence[str], which: str) -> list[Problem]:
    problems = []
    for n in names:
        if n in visit:
            continue
        alt = [a for a, (canonical, _) in ALTERNATIVES.items() if canonical == n and a in visit]
        if n == "basdai_q6":
            alt += [a for a in STIFFNESS_DURATION_COLUMNS if a in visit]
        rule = f"column is missing from the {which}"
        if alt:
            rule += f"; found {alt[0]}: convert it with rheumetrics.measures.units.to_canonical"
        problems.append(Problem("all", n, None, rule))
    return problems


def columns(visit: Visit, names: Sequence[str], which: str = "visit") -> dict[str, Any]:
    """Pick ``names`` from a visit; one ValidationError lists every missing column."""
    problems = _missing(visit, names, which)
    if problems:
        raise ValidationError(problems, f"{which} lacks required columns")
    return {n: visit[n] for n in names}


def column_pairs(
    baseline: Visit, followup: Visit, names: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pick ``names`` from both visits; one ValidationError lists what either visit lacks."""
    problems = _missing(baseline, names, "baseline") + _missing(followup, names, "follow-up")
    if problems:
        raise ValidationError(problems, "visits lack required columns")
    return {n: baseline[n] for n in names}, {n: followup[n] for n in names}


@dataclass
class Paired:
    """Validated float inputs of a baseline and a follow-up visit."""

    baseline: dict[str, np.ndarray]
    followup: dict[str, np.ndarray]
    index: pd.Index | None
    scalar: bool
    invalid: np.ndarray  # pairs with an invalid or missing input at either visit
    problems: list[Problem]

    def flag(self, ok: np.ndarray, name: str) -> Any:
        """A yes/no result shaped like the input (see :func:`as_flag`)."""
        return as_flag(ok, self.invalid, self.scalar, self.index, name)

    def category(self, codes: np.ndarray, labels: Sequence[str], name: str) -> Any:
        """Ordered categories shaped like the input: ``str`` / Categorical / categorical Series."""
        return as_category(np.where(self.invalid, -1, codes), labels, self.scalar, self.index, name)


def as_flag(
    ok: np.ndarray, invalid: np.ndarray, scalar: bool, index: pd.Index | None, name: str
) -> Any:
    """A yes/no result shaped like the input, as :class:`~.base.Measure` flags are.

    Scalar -> ``bool`` (``None`` if not computable); Series -> nullable ``boolean`` Series;
    array -> float array of 1.0 / 0.0 / NaN.
    """
    out = np.where(invalid, np.nan, np.asarray(ok, dtype=float))
    if scalar:
        v = float(out.reshape(-1)[0])
        return None if np.isnan(v) else bool(v)
    if index is not None:
        return pd.Series(out, index=index, name=name).astype("boolean")
    return out


def as_category(
    codes: np.ndarray, labels: Sequence[str], scalar: bool, index: pd.Index | None, name: str
) -> Any:
    """Codes (-1 = not computable) as a label, an ordered Categorical or a categorical Series."""
    codes = np.asarray(codes, dtype=np.int8)
    if scalar:
        c = int(codes.reshape(-1)[0])
        return None if c < 0 else labels[c]
    cat = pd.Categorical.from_codes(codes.reshape(-1), categories=list(labels), ordered=True)
    if index is not None:
        return pd.Series(cat, index=index, name=name)
    return cat


def _label(problems: list[Problem], visit: str) -> list[Problem]:
    return [replace(p, field=f"{p.field} ({visit})") for p in problems]


def prepare_paired(
    baseline: Mapping[str, Any],
    followup: Mapping[str, Any],
    *,
    context: str,
    lenient: bool = False,
) -> Paired:
    """Validate both visits' inputs; strict mode raises one ValidationError with all problems."""
    b = prepare(baseline, context=context, lenient=True)
    f = prepare(followup, context=context, lenient=True)
    if b.index is not None and f.index is not None and not b.index.equals(f.index):
        raise ValueError(
            f"{context}: baseline and follow-up are Series/DataFrames with different indexes; "
            "pair them by giving both the same index (one label per patient)"
        )
    try:
        shape = np.broadcast_shapes(b.invalid.shape, f.invalid.shape)
    except ValueError:
        raise ValueError(
            f"{context}: baseline has shape {b.invalid.shape}, follow-up {f.invalid.shape}"
        ) from None
    problems = _label(b.problems, "baseline") + _label(f.problems, "follow-up")
    if problems and not lenient:
        raise ValidationError(problems, f"cannot compute {context}")
    invalid = np.broadcast_to(b.invalid, shape) | np.broadcast_to(f.invalid, shape)
    return Paired(
        baseline=b.arrays,
        followup=f.arrays,
        index=b.index if b.index is not None else f.index,
        scalar=b.scalar and f.scalar,
        invalid=invalid,
        problems=problems,
    )


def prepare_visit(
    visit: Visit, names: Sequence[str], *, context: str, lenient: bool = False
) -> Prepared:
    """Pick and validate the named columns of one visit."""
    return prepare(columns(visit, names), context=context, lenient=lenient)


def relative_change(base: np.ndarray, follow: np.ndarray, *, increase: bool = False) -> np.ndarray:
    """Improvement as a fraction of baseline, snapped; NaN where the baseline is 0.

    A fall is an improvement unless ``increase`` (e.g. lateral spinal flexion, where a rise is).
    """
    delta = (follow - base) if increase else (base - follow)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ratio = np.where(base != 0, delta / np.where(base != 0, base, 1.0), np.nan)
        return snap(ratio)


def absolute_change(base: np.ndarray, follow: np.ndarray, *, increase: bool = False) -> np.ndarray:
    """Improvement in units, snapped (a fall unless ``increase``)."""
    return snap((follow - base) if increase else (base - follow))
