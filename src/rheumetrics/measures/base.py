"""A measure is a small declaration: inputs, formula, display precision, cut-off family, reference.

:class:`Measure` turns the declaration into a vectorised, validated callable: it accepts scalars,
NumPy arrays or pandas Series, checks every input against its :class:`~rheumetrics.measures.fields.Field`
(reporting all problems together), computes on float arrays and returns the input's shape. In
lenient mode invalid or missing rows give NaN instead of an error, and the reasons are available
through :meth:`Measure.evaluate`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import pandas as pd

from rheumetrics.errors import Problem, ValidationError
from rheumetrics.measures.conventions import DEFAULT, RECORDED_BY_INPUT, Conventions
from rheumetrics.measures.cutoffs import CutoffSet, cutoff_set
from rheumetrics.measures.fields import FIELDS
from rheumetrics.numeric import ASCII_SPACE, is_plain_number, round_display


@dataclass
class Prepared:
    """Validated float inputs of one call, with where they came from."""

    arrays: dict[str, np.ndarray]
    index: pd.Index | None
    scalar: bool
    invalid: np.ndarray  # rows with an invalid or missing (required) input
    problems: list[Problem] = field(default_factory=list)
    bad: dict[str, np.ndarray] = field(default_factory=dict)  # per input: present but invalid

    def wrap(self, out: np.ndarray, name: str) -> Any:
        if self.scalar:
            return float(out.reshape(-1)[0]) if out.dtype.kind == "f" else out.reshape(-1)[0]
        if self.index is not None:
            return pd.Series(out, index=self.index, name=name)
        return out


#: What a value of a non-numeric dtype kind is, for the problem message.
_NOT_NUMBERS = {"b": "true/false", "c": "a complex number", "M": "a date", "m": "a duration",
                "S": "bytes", "V": "raw bytes"}  # fmt: skip


def _what(v: Any) -> str | None:
    """Why one Python value is not a number (None when it is one or is missing)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, bool | np.bool_):
        return "true/false"
    if isinstance(v, np.datetime64 | datetime.date):
        return "a date"
    if isinstance(v, np.timedelta64 | datetime.timedelta):  # timedelta64 is a NumPy integer
        return "a duration"
    if isinstance(v, int | float | np.integer | np.floating):
        return None
    if isinstance(v, str):
        return None if is_plain_number(v) else "text"
    if isinstance(v, Decimal | Fraction):
        return None
    return {bytes: "bytes", complex: "a complex number"}.get(type(v), type(v).__name__)


def as_float(name: str, value: Any, problems: list[Problem]) -> tuple[np.ndarray, np.ndarray]:
    """Float array of ``value`` and a mask of entries that were present but not numbers.

    Numbers are accepted as numeric dtypes or as plain ASCII decimal text; everything else present
    (true/false, bytes, complex, dates, durations, Unicode digits, ``"1_0"``) is a problem, in
    the scalar API exactly as in :func:`~rheumetrics.measures.panel.score_frame`.
    """
    if isinstance(value, pd.Series):
        series, kind = value, value.dtype.kind
    elif np.ndim(value) == 0 and not isinstance(value, np.ndarray):
        return _scalar_float(name, value, problems)
    else:
        arr = np.asarray(value)
        if arr.dtype.kind in "fiu":
            arr = arr.astype(float)
            return arr, np.zeros(arr.shape, dtype=bool)
        series, kind = pd.Series(list(arr.reshape(-1)), dtype=object), arr.dtype.kind
    dtype = series.dtype
    shape = np.shape(value) if not isinstance(value, pd.Series) else (len(series),)
    if kind in "fiu" and not pd.api.types.is_bool_dtype(dtype):
        arr = series.to_numpy(dtype=float, na_value=np.nan).reshape(shape)
        return arr, np.zeros(shape, dtype=bool)
    if kind in _NOT_NUMBERS or pd.api.types.is_bool_dtype(dtype):
        whats = pd.Series(None, index=series.index, dtype=object)
        whats[series.notna().to_numpy()] = _NOT_NUMBERS.get(kind, "true/false")
        numbers = pd.Series(np.nan, index=series.index)
    else:
        obj = series.astype(object)
        whats = obj.map(_what, na_action="ignore")
        ok = obj.notna() & whats.isna()
        texts = obj[ok].map(lambda v: v.strip(ASCII_SPACE) if isinstance(v, str) else v)
        numbers = pd.Series(np.nan, index=series.index)
        numbers[ok] = pd.to_numeric(texts.map(lambda v: float(v)), errors="coerce")
    nonnum = whats.notna().to_numpy()
    if nonnum.any():
        rule = FIELDS[name].rule
        labels = value.index if isinstance(value, pd.Series) else range(len(series))
        for pos in np.flatnonzero(nonnum):
            v = series.iloc[pos]
            v = v.item() if isinstance(v, np.generic) else v
            record = labels[pos] if isinstance(value, pd.Series) else (pos if shape else 0)
            problems.append(Problem(record, name, v, f"{rule}; got {whats.iloc[pos]}"))
    arr = numbers.to_numpy(dtype=float, na_value=np.nan).reshape(shape)
    return arr, nonnum.reshape(shape)


def _scalar_float(name: str, value: Any, problems: list[Problem]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`as_float` of one value, without building a Series (the point-of-care path)."""
    kind = np.asarray(value).dtype.kind
    if kind in "fiu":
        return np.asarray(float(value)), np.zeros((), dtype=bool)
    if pd.isna(value):
        return np.asarray(np.nan), np.zeros((), dtype=bool)
    what = _NOT_NUMBERS.get(kind) or _what(value)
    if what is None:
        text = value.strip(ASCII_SPACE) if isinstance(value, str) else value
        return np.asarray(float(text)), np.zeros((), dtype=bool)
    shown = value.item() if isinstance(value, np.generic) else value
    problems.append(Problem(0, name, shown, f"{FIELDS[name].rule}; got {what}"))
    return np.asarray(np.nan), np.ones((), dtype=bool)


def prepare(
    inputs: Mapping[str, Any],
    *,
    context: str,
    lenient: bool = False,
    optional: tuple[str, ...] = (),
) -> Prepared:
    """Convert and validate named inputs; raise one ValidationError with every problem (strict).

    ``optional`` inputs may be missing (NaN) without it being a problem.
    """
    problems: list[Problem] = []
    arrays: dict[str, np.ndarray] = {}
    index: pd.Index | None = None
    scalar = True
    nonnumeric: dict[str, np.ndarray] = {}
    for name, value in inputs.items():
        arr, nonnumeric[name] = as_float(name, value, problems)
        idx = value.index if isinstance(value, pd.Series) else None
        if idx is not None:
            if index is not None and not idx.equals(index):
                raise ValueError(f"{context}: inputs are Series with different indexes")
            index = idx
        scalar &= arr.ndim == 0
        arrays[name] = arr
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        raise ValueError(
            f"{context}: inputs have different lengths "
            f"({', '.join(f'{k}: {v.shape}' for k, v in arrays.items())})"
        ) from None
    invalid = np.zeros(shape, dtype=bool)
    bad_by_field: dict[str, np.ndarray] = {}
    for name, arr in arrays.items():
        spec = FIELDS[name]
        nonnum = nonnumeric[name]
        bad = spec.invalid(arr) | nonnum
        bad_by_field[name] = bad
        missing = np.isnan(arr) & ~nonnum if name not in optional else np.zeros(arr.shape, bool)
        if bad.any() or missing.any():
            flagged = np.broadcast_to(bad | missing, shape)
            invalid |= flagged
            labels = index if index is not None else None
            report = np.broadcast_to(~nonnum, shape) & flagged
            for pos in np.flatnonzero(report.reshape(-1)):
                v = np.broadcast_to(arr, shape).reshape(-1)[pos]
                record = labels[pos] if labels is not None else pos
                rule = spec.rule if not np.isnan(v) else f"is missing; {context} needs it"
                problems.append(Problem(record, name, None if np.isnan(v) else float(v), rule))
    prepared = Prepared(arrays, index, scalar, invalid, problems, bad_by_field)
    if problems and not lenient:
        raise ValidationError(problems, f"cannot compute {context}")
    return prepared


@dataclass(frozen=True, kw_only=True)
class Measure:
    """Declaration of one score and the validated, vectorised callable computing it.

    ``formula`` is the formula in words; for a ``compute`` declared as data (see
    :mod:`rheumetrics.measures.formulas`) it is written from the declaration when not given.
    """

    name: str
    label: str
    inputs: tuple[str, ...]
    reference: str
    compute: Callable[..., np.ndarray]
    digits: int
    formula: str = ""
    cutoffs: str | None = None  # the Conventions field naming this measure's cut-off set
    conventions: tuple[str, ...] = ()  # Conventions fields the formula and its row rule read
    optional: tuple[str, ...] = ()  # inputs that may be missing
    note: str = ""
    kind: Literal["score", "flag"] = "score"  # a flag is a yes/no criterion (1.0 / 0.0 / NaN)
    #: Kept per visit in the cohort store's score runs (and exported, e.g. to FHIR).
    store: bool = False
    #: (code, display) of the LOINC term for the score, where one exists (https://loinc.org);
    #: without one, exports use the project's own code system.
    loinc: tuple[str, str] | None = None
    #: Usable as a treat-to-target index (a disease-activity score with a cut-off set), under
    #: this short name in decisions and their reasons (e.g. ``"DAS28-CRP"``).
    t2t_index: str | None = None
    #: FHIR observation category of the score (``exam`` or ``survey``).
    fhir_category: str = "exam"

    def __post_init__(self) -> None:
        if not self.formula:
            text = getattr(self.compute, "text", None)
            if not isinstance(text, str):
                raise ValueError(f"measure {self.name}: give the formula in words")
            object.__setattr__(self, "formula", text)

    def evaluate(
        self,
        inputs: Mapping[str, Any],
        conventions: Conventions = DEFAULT,
        lenient: bool = False,
    ) -> tuple[np.ndarray, Prepared]:
        """Compute on named inputs; returns raw float values and the prepared inputs."""
        p = prepare(inputs, context=self.name, lenient=lenient, optional=self.optional)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.asarray(self.compute(conventions, **p.arrays), dtype=float)
        if p.invalid.any():
            out = np.where(p.invalid, np.nan, out)
        return out, p

    def __call__(
        self, *args: Any, conventions: Conventions = DEFAULT, lenient: bool = False, **kwargs: Any
    ) -> Any:
        if len(args) > len(self.inputs):
            raise TypeError(
                f"{self.name} takes {len(self.inputs)} inputs: {', '.join(self.inputs)}"
            )
        named = dict(zip(self.inputs, args, strict=False))
        for k, v in kwargs.items():
            if k not in self.inputs or k in named:
                raise TypeError(f"{self.name}: unexpected or repeated argument {k!r}")
            named[k] = v
        absent = [k for k in self.inputs if k not in named and k not in self.optional]
        if absent:
            raise TypeError(f"{self.name} needs {', '.join(absent)}")
        for k in self.optional:
            named.setdefault(k, np.nan)
        out, p = self.evaluate(named, conventions, lenient)
        if self.kind == "flag":
            if p.scalar:
                return None if np.isnan(out) else bool(out)
            if p.index is not None:
                return pd.Series(out, index=p.index, name=self.name).astype("boolean")
        return p.wrap(out, self.name)

    def cutoff_set(self, conventions: Conventions = DEFAULT) -> CutoffSet | None:
        return None if self.cutoffs is None else cutoff_set(getattr(conventions, self.cutoffs))

    def category(self, values: Any, conventions: Conventions = DEFAULT) -> Any:
        """Disease-activity category of (unrounded) values under the conventions' cut-off set."""
        cs = self.cutoff_set(conventions)
        if cs is None:
            raise ValueError(f"{self.name} has no categories")
        return cs.classify(values)

    def display(self, values: Any, conventions: Conventions = DEFAULT) -> Any:
        """Values rounded for display at this measure's precision and the conventions' mode."""
        return round_display(values, self.digits, conventions.rounding)

    @property
    def convention_fields(self) -> tuple[str, ...]:
        """Every :class:`Conventions` field that concerns this measure's results: those its
        formula and row rule read (``conventions``), the one naming its cut-off set
        (``cutoffs``), the display rounding, and those recording what its inputs hold
        (:data:`~rheumetrics.measures.conventions.RECORDED_BY_INPUT`, e.g. which VAS fed
        ``gh_mm``).

        Examples
        --------
        >>> from rheumetrics.measures import MEASURES
        >>> MEASURES["das28_crp"].convention_fields
        ('das28_crp_cutoffs', 'rounding', 'das28_global_item')
        >>> MEASURES["asdas_esr"].convention_fields
        ('asdas_coefficients', 'asdas_cutoffs', 'rounding')
        """
        cutoffs = () if self.cutoffs is None else (self.cutoffs,)
        recorded = (c for f in self.inputs for c in RECORDED_BY_INPUT.get(f, ()))
        return tuple(dict.fromkeys((*self.conventions, *cutoffs, "rounding", *recorded)))


#: Every measure computable from one visit's inputs, by output column name.
MEASURES: dict[str, Measure] = {}


def register(measure: Measure) -> Measure:
    """Add a measure to :data:`MEASURES` (names are unique) and return it."""
    if measure.name in MEASURES:
        raise ValueError(f"measure {measure.name!r} registered twice")
    unknown = [f for f in measure.inputs if f not in FIELDS]
    if unknown:
        raise ValueError(f"measure {measure.name!r} uses unregistered fields {unknown}")
    if measure.t2t_index and measure.cutoffs is None:
        raise ValueError(f"measure {measure.name!r}: a treat-to-target index needs cut-offs")
    MEASURES[measure.name] = measure
    return measure


def stored_measures() -> list[Measure]:
    """Measures kept in the cohort store, in registration order."""
    return [m for m in MEASURES.values() if m.store]


def t2t_indices() -> list[Measure]:
    """Measures usable as a treat-to-target index, in registration order."""
    return [m for m in MEASURES.values() if m.t2t_index]
