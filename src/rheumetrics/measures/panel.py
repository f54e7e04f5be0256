"""Score a whole table of visits: every measure whose inputs are present.

:func:`score_frame` converts alternative units once (``units.to_canonical``), derives joint counts
from per-joint findings when only those are given, validates every input column once, and computes
each measure in row chunks so memory stays close to the size of the output. In strict mode (the
default) all problems of the whole table are raised together; in lenient mode a row with a problem
gets NA for the measures that need the bad value, and ``<measure>_reason`` says why.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from collections.abc import Callable, Iterable
from functools import lru_cache

import numpy as np
import pandas as pd

from rheumetrics import joints
from rheumetrics.errors import Problem, ProblemCollector, ValidationError
from rheumetrics.measures import compiled as loops
from rheumetrics.measures.base import MEASURES, Measure, as_float
from rheumetrics.measures.conventions import DEFAULT, Conventions
from rheumetrics.measures.fields import FIELDS, Field
from rheumetrics.measures.formulas import shared_terms
from rheumetrics.measures.itemized import ItemizedMeasure
from rheumetrics.measures.reasons import (
    first_per_field,
    missing_problems,
    needed_by,
    reason_columns,
)
from rheumetrics.measures.units import to_canonical

#: Rows scored per chunk: bounds the memory taken by temporaries, and keeps each temporary
#: column (512 KiB) in the CPU cache, which measured about twice as fast as 256 Ki-row chunks.
CHUNK_ROWS = 65_536


def available_measures(columns: Iterable[str]) -> list[Measure]:
    """Measures whose required inputs are all among ``columns`` (all-optional: any of them)."""
    cols = set(columns)
    chosen = []
    for m in MEASURES.values():
        if isinstance(m, ItemizedMeasure) and m.any_of and not cols & set(m.any_of):
            continue
        required = [f for f in m.inputs if f not in m.optional]
        if (required and cols.issuperset(required)) or (not required and cols & set(m.inputs)):
            chosen.append(m)
    return chosen


def absent(n: int) -> np.ndarray:
    """An all-missing input column (for optional inputs the table does not have)."""
    return np.full(n, np.nan)


def _with_joint_counts(df: pd.DataFrame) -> pd.DataFrame:
    if not any(c.startswith(("tender_", "swollen_")) for c in df.columns):
        return df
    complete = tuple(
        name for name in joints.JOINT_SETS if set(joints.wide_columns(name)) <= set(df.columns)
    )
    counts = joints.joint_counts(df, sets=complete)
    new = [c for c in joints.COUNT_COLUMNS.values() if c in counts and c not in df.columns]
    return df.assign(**{c: counts[c] for c in new})


def score_frame(
    df: pd.DataFrame,
    conventions: Conventions = DEFAULT,
    *,
    lenient: bool = False,
    measures: Iterable[str] | None = None,
    progress: Callable[[int], None] | None = None,
    compiled: bool | None = None,
) -> pd.DataFrame:
    """Compute measures for every row of ``df``; returns score and category columns, same index.

    Parameters
    ----------
    df : visits with canonical input columns (see ``docs/measures.md``).
    conventions : cut-off sets, coefficients and other choices; recorded in ``attrs``.
    lenient : NA with a ``<measure>_reason`` column instead of an error for bad or missing inputs.
    measures : names of measures to compute; default every measure whose inputs are present.
    progress : called with the number of rows done after each chunk (for progress bars).
    compiled : compute the measures declared as data (DAS28, SDAI, CDAI, DAPSA with their
        categories, Boolean remission) in one compiled loop per chunk of rows (the same bits as
        NumPy, about 2.5 x as fast; needs Numba, :mod:`~rheumetrics.measures.compiled`). True
        loads it (about 0.35 s once per process); by default it is used once loaded, and loaded
        for :data:`COMPILED_ROWS` rows or more.

    Examples
    --------
    >>> import pandas as pd
    >>> visits = pd.DataFrame({"tjc28": [4, 0], "sjc28": [5, 1], "esr_mm_h": [44, 8],
    ...                        "gh_mm": [12, 5]})
    >>> out = score_frame(visits, measures=["das28_esr"])
    >>> out.round(2).to_dict("list")  # 0.28*sqrt(1) + 0.70*ln(8) + 0.014*5 = 1.81
    {'das28_esr': [4.56, 1.81], 'das28_esr_category': ['moderate', 'remission']}
    """
    df = _with_joint_counts(to_canonical(df))
    if measures is None:
        chosen = available_measures(df.columns)
    else:
        problems = ProblemCollector("measure selection")
        chosen = []
        for name in measures:
            m = MEASURES.get(name)
            if m is None:
                problems.add("all", "measures", name, f"unknown measure; known: {sorted(MEASURES)}")
                continue
            for f in m.inputs:
                if f not in df.columns and f not in m.optional:
                    problems.add("all", f, "column absent", f"{name} needs column {f}")
            chosen.append(m)
        problems.raise_if_any()
    fields = sorted({f for m in chosen for f in m.inputs if f in df.columns})
    columns = _columns(df, fields)
    n = len(df)
    out = _Output(chosen, n, conventions)
    fast = _compiled_pass(chosen, conventions, columns, n, compiled)
    declared = fast.measures if fast else ()
    rest = [m for m in chosen if m not in declared]
    if fast is not None:  # the loop's arguments, whole columns: sliced per chunk
        inputs, outputs = fast.columns(columns), out.views(fast.outputs)
        scratch = np.empty((len(fast.logs), CHUNK_ROWS))
    # problems name rows by position until reported (index labels may repeat)
    positions = pd.RangeIndex(n)
    problems_all: list[Problem] = []  # invalid values and row rules; missing values apart:
    needs = needed_by(chosen)
    missing_rows: dict[str, np.ndarray] = {}  # by field: the rows missing a value it needs
    for start in range(0, n, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        index = positions[start:stop]
        # the compiled loop computes the declared measures of every row and proves its inputs
        # present and allowed, or not: then NumPy finds the problems and the NA rows, as for
        # the other measures
        proven = fast is not None and fast.run(inputs, start, stop, outputs, scratch)
        trusted = fast.fields if proven and fast is not None else ()
        checked = {f: c for f, c in columns.items() if f not in trusted}
        arrays, bad, missing = _chunk_inputs(checked, start, stop, positions, problems_all)
        arrays |= {f: columns[f][start:stop] for f in columns.keys() - checked.keys()}
        for f in needs:
            if f in missing:
                missing_rows.setdefault(f, np.zeros(n, bool))[start:stop] = missing[f]
        for m in declared if bad or missing else ():
            out.put_na(m, start, stop, _unscored(m, bad, missing))
        if rest:
            with shared_terms():
                _score_chunk(rest, conventions, arrays, bad, missing, index, out, start,
                             problems_all)  # fmt: skip
        if progress is not None:
            progress(stop)
    problems_all = first_per_field(problems_all)
    if (problems_all or missing_rows) and not lenient:
        labelled = [dataclasses.replace(p, record=df.index[p.record]) for p in problems_all]
        every = labelled + missing_problems(df.index, missing_rows, needs)
        raise ValidationError(every, f"cannot score {n} row{'s' if n != 1 else ''}")
    frame = out.frame(df.index)
    if lenient and (problems_all or missing_rows):
        reasons = reason_columns(df.index, chosen, out.unscored, problems_all, missing_rows)
        frame = frame.assign(**reasons)
        frame.attrs = out.attrs
    return frame


def _score_chunk(
    chosen: list[Measure],
    conventions: Conventions,
    arrays: dict[str, np.ndarray],
    bad: dict[str, np.ndarray],
    missing: dict[str, np.ndarray],
    index: pd.Index,
    out: _Output,
    start: int,
    problems: list[Problem],
) -> None:
    """Compute every chosen measure on the chunk of rows ``index`` (from row ``start``) into
    ``out``; NaN where an input is invalid or a required one missing (see :func:`_unscored`);
    problems of row rules are added to ``problems``."""
    stop = start + len(index)
    with np.errstate(invalid="ignore", divide="ignore"):
        for m in chosen:
            args = {f: arrays[f] if f in arrays else absent(len(index)) for f in m.inputs}
            unscored = _unscored(m, bad, missing)
            result = np.asarray(m.compute(conventions, **args))
            if result.dtype != bool:  # a flag may give booleans: no NA without a mask
                result = result.astype(float, copy=False)
            if isinstance(m, ItemizedMeasure):
                failing, row_problems = m.row_problems(conventions, args, index)
                unscored = failing if unscored is None else unscored | failing
                problems.extend(row_problems)
            out.put(m, start, stop, result, unscored)


def _unscored(
    m: Measure, bad: dict[str, np.ndarray], missing: dict[str, np.ndarray]
) -> np.ndarray | None:
    """The rows of a chunk that ``m`` cannot score (None: none): an input invalid (``bad``) or
    a required one ``missing``."""
    masks = [bad[f] for f in m.inputs if f in bad]
    masks += [missing[f] for f in m.inputs if f in missing and f not in m.optional]
    return np.logical_or.reduce(masks) if masks else None


#: Without ``compiled``, :func:`score_frame` loads the compiled loop for tables of this many rows
#: or more: loading costs a new process about 0.35 s (importing Numba and loading the cached
#: machine code; about 0.9 s when Numba first compiles a panel on a machine), and the loop saves
#: about 14 ms per million rows (``benchmarks/scoring.py``). Once loaded, it is used from one
#: chunk of rows on.
COMPILED_ROWS = 25_000_000


def _compiled_pass(
    chosen: list[Measure],
    conventions: Conventions,
    columns: dict[str, np.ndarray | pd.Series],
    n: int,
    compiled: bool | None,
) -> loops.Plan | None:
    """The compiled loop for the declared measures of ``chosen`` on ``n`` rows, loaded; None
    for the NumPy path: not ``compiled``, no rows, an input column that is not numeric, or (by
    default) a loop not loaded yet for fewer than :data:`COMPILED_ROWS` rows. A loop that
    cannot be loaded is reported by a warning (the NumPy path gives the same results)."""
    if compiled is False or not n or (compiled is None and n < CHUNK_ROWS):
        return None
    if not all(isinstance(c, np.ndarray) for c in columns.values()):
        return None
    fast = loops.plan(chosen, conventions)
    if fast is None or fast.loaded:
        return fast
    if compiled is None and n < COMPILED_ROWS:
        return None
    why = loops.available()
    if why is not None and compiled:
        raise ImportError(f"score_frame(compiled=True): {why}")
    if why is not None:
        return None
    try:
        loops.load(fast)
    except Exception as err:  # any failure to build machine code: the NumPy path instead
        warnings.warn(
            f"rheumetrics: scoring with NumPy, the compiled loop failed to load: {err}",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    return fast


#: Up to this many rows, all-numeric inputs are read as one float block (one copy, no per-column
#: Series): the fixed cost of a few-row call (the clinic app's live score) instead of per-column
#: look-ups; larger frames are read column by column without copying.
SMALL_ROWS = 64


def _columns(df: pd.DataFrame, fields: list[str]) -> dict[str, np.ndarray | pd.Series]:
    """The input columns ``fields`` of ``df``, each read once (see :func:`_column`)."""
    small = len(df) <= SMALL_ROWS and fields and df.columns.is_unique
    if small and all(t.kind in "fiu" and not pd.api.types.is_bool_dtype(t) for t in df.dtypes):
        block = df.to_numpy(dtype=float, na_value=np.nan)
        at = df.columns.get_indexer(fields)
        return {f: np.ascontiguousarray(block[:, i]) for f, i in zip(fields, at, strict=True)}
    return {f: _column(df[f]) for f in fields}


def _column(values: pd.Series) -> np.ndarray | pd.Series:
    """An input column read once: a float array when its dtype is numeric (no copy for float64),
    else the Series itself, converted chunk by chunk with every non-number reported (indexed
    by position, as problems name rows until they are reported)."""
    if values.dtype.kind in "fiu" and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return values.set_axis(pd.RangeIndex(len(values)))


def _clean(spec: Field, x: np.ndarray) -> bool:
    """Whether every value of ``x`` is present and allowed, proved by two reductions (and an
    integrality check for integer fields) instead of building masks: NaN propagates through
    ``min``/``max`` and fails the comparisons, an infinity fails the finite bounds."""
    assert spec.low is not None and spec.high is not None
    lo, hi = x.min(), x.max()
    if not ((lo >= spec.low) if spec.low_inclusive else (lo > spec.low)):
        return False
    if not ((hi <= spec.high) if spec.high_inclusive else (hi < spec.high)):
        return False
    if spec.step:
        return not spec.invalid(x).any()
    return not spec.integer or bool((np.floor(x) == x).all())


def _chunk_inputs(
    columns: dict[str, np.ndarray | pd.Series],
    start: int,
    stop: int,
    index: pd.Index,
    problems: list[Problem],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Float inputs of rows ``start:stop`` and, only for columns that have any, the masks of
    invalid and of missing values; every invalid value is added to ``problems``.

    The same checks and messages as :func:`rheumetrics.measures.base.prepare` (all inputs
    optional), column by column: a clean column costs two reductions and no masks.
    """
    arrays: dict[str, np.ndarray] = {}
    nonnumeric: dict[str, np.ndarray] = {}
    for f, col in columns.items():
        if isinstance(col, np.ndarray):
            arrays[f] = col[start:stop]
        else:
            arrays[f], not_number = as_float(f, col.iloc[start:stop], problems)
            if not_number.any():
                nonnumeric[f] = not_number
    bad: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    for f, x in arrays.items():
        spec = FIELDS[f]
        nonnum = nonnumeric.get(f)
        if nonnum is None and _clean(spec, x):
            continue
        invalid = spec.invalid(x)
        absent_ = np.isnan(x)
        if nonnum is not None:
            invalid |= nonnum
            absent_ &= ~nonnum
        if invalid.any():
            bad[f] = invalid
            report = invalid if nonnum is None else invalid & ~nonnum
            for pos in np.flatnonzero(report):
                problems.append(Problem(index[start + pos], f, float(x[pos]), spec.rule))
        if absent_.any():
            missing[f] = absent_
    return arrays, bad, missing


class _Output:
    """Pre-allocated results, filled chunk by chunk: one float block for all scores (so the
    result frame wraps it without a copy), one int8 block of category codes and boolean blocks of
    flags and of their missing values."""

    def __init__(self, chosen: list[Measure], n: int, conventions: Conventions) -> None:
        self.scores = [m for m in chosen if m.kind == "score"]
        self.block = np.empty((len(self.scores), n))
        self.row = {m.name: i for i, m in enumerate(self.scores)}
        self.cutoffs = {m.name: cs for m in self.scores if (cs := m.cutoff_set(conventions))}
        self.code_block = np.empty((len(self.cutoffs), n), dtype=np.int8)
        self.code_row = {name: i for i, name in enumerate(self.cutoffs)}
        self.codes = {name: self.code_block[i] for name, i in self.code_row.items()}
        self.flag_row = {m.name: i for i, m in enumerate(m for m in chosen if m.kind == "flag")}
        self.flag_block = np.empty((len(self.flag_row), n), bool)  # met
        self.flag_na = np.zeros((len(self.flag_row), n), bool)  # not assessable
        self.flags = {
            name: (self.flag_block[i], self.flag_na[i]) for name, i in self.flag_row.items()
        }
        self.order = chosen
        self.attrs = {"conventions": _as_dict(conventions), "measures": [m.name for m in chosen]}

    def views(self, outputs: Iterable[tuple[str, str]]) -> list[np.ndarray]:
        """The ``(kind, measure)`` output arrays (``score``, ``code``, ``flag``)."""
        kinds = {
            "score": lambda name: self.block[self.row[name]],
            "code": lambda name: self.codes[name],
            "flag": lambda name: self.flags[name][0],
        }
        return [kinds[kind](name) for kind, name in outputs]

    def put_na(self, m: Measure, start: int, stop: int, unscored: np.ndarray | None) -> None:
        """NA for ``m`` where ``unscored`` in rows ``start:stop`` written through :meth:`views`
        (flags are assessable until then)."""
        if unscored is None:
            return
        if m.name in self.flags:
            value, na = (a[start:stop] for a in self.flags[m.name])
            na[...] = unscored
            np.putmask(value, unscored, False)
        else:
            np.putmask(self.block[self.row[m.name], start:stop], unscored, np.nan)
            if m.name in self.codes:
                np.putmask(self.codes[m.name][start:stop], unscored, -1)

    def put(
        self, m: Measure, start: int, stop: int, result: np.ndarray, unscored: np.ndarray | None
    ) -> None:
        """Store ``result`` for rows ``start:stop``; NA where ``unscored`` (when given)."""
        if m.name in self.flags:
            value, na = self.flags[m.name]
            if result.dtype == bool:
                if unscored is None:
                    value[start:stop], na[start:stop] = result, False
                else:
                    np.greater(result, unscored, out=value[start:stop])  # result and not NA
                    na[start:stop] = unscored
                return
            if unscored is not None:
                result = np.where(unscored, np.nan, result)
            np.equal(result, 1.0, out=value[start:stop])
            np.isnan(result, out=na[start:stop])
            return
        if unscored is not None:
            result = np.where(unscored, np.nan, result)
        self.block[self.row[m.name], start:stop] = result
        if m.name in self.cutoffs:
            self.cutoffs[m.name].codes(result, out=self.codes[m.name][start:stop])

    def unscored(self, name: str) -> np.ndarray:
        if name in self.flags:
            return self.flags[name][1]
        return np.isnan(self.block[self.row[name]])

    def frame(self, index: pd.Index) -> pd.DataFrame:
        """The results as a frame that wraps the arrays filled here (no copy)."""
        columns: dict[str, object] = {}
        for m in self.order:
            if m.name in self.flags:
                columns[m.name] = pd.arrays.BooleanArray(*self.flags[m.name])
                continue
            columns[m.name] = self.block[self.row[m.name]]
            if m.name in self.codes:
                columns[f"{m.name}_category"] = pd.Categorical.from_codes(
                    self.codes[m.name],
                    dtype=_category_dtype(self.cutoffs[m.name].labels),
                    validate=False,  # band indexes by construction
                )
        frame = pd.DataFrame(columns, index=index, copy=False)
        frame.attrs = self.attrs
        return frame


@lru_cache(maxsize=64)
def _category_dtype(labels: tuple[str, ...]) -> pd.CategoricalDtype:
    """The ordered categorical type of a cut-off set's bands (validated once, not per call)."""
    return pd.CategoricalDtype(list(labels), ordered=True)


@lru_cache(maxsize=16)
def _as_dict_cached(conventions: Conventions) -> dict[str, object]:
    return conventions.as_dict()


def _as_dict(conventions: Conventions) -> dict[str, object]:
    """``conventions.as_dict()``, built once per conventions (a fresh copy each call, so a
    caller editing a result's ``attrs`` changes no other result)."""
    try:
        d = _as_dict_cached(conventions)
    except TypeError:  # unhashable (a convention holding a list or dict)
        return conventions.as_dict()
    return copy.deepcopy(d)
