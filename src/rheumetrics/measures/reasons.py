"""What could not be scored, and why: the problems of missing values and the reason texts.

A missing value a chosen measure needs is a problem in strict mode and, in lenient mode, the
reason a row has NA (``<measure>_reason``). :func:`~rheumetrics.measures.panel.score_frame`
keeps missing values as masks (one per input column) rather than one problem object per value:
problems are built only for an error, and reasons by combination of missing inputs, so a
registry where every visit lacks one laboratory value costs a few texts, not millions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from rheumetrics.errors import Problem
from rheumetrics.measures.base import Measure


def needed_by(chosen: list[Measure]) -> dict[str, str]:
    """For each input some chosen measure requires, the problem of a missing value: ``is
    missing; das28_esr, sdai needs it``."""
    needs: dict[str, list[str]] = defaultdict(list)
    for m in chosen:
        for f in m.inputs:
            if f not in m.optional:
                needs[f].append(m.name)
    return {f: f"is missing; {', '.join(names)} needs it" for f, names in needs.items()}


def missing_problems(
    index: pd.Index, missing: dict[str, np.ndarray], needs: dict[str, str]
) -> list[Problem]:
    """A problem per missing value a chosen measure needs, field by field in the order of
    ``needs``, row by row."""
    return [
        Problem(index[pos], f, None, needs[f]) for f in needs if f in missing
        for pos in np.flatnonzero(missing[f])
    ]  # fmt: skip


def first_per_field(problems: list[Problem]) -> list[Problem]:
    """The first problem of each record and field (a value checked twice is reported once)."""
    first: dict[tuple[object, str], Problem] = {}
    for pr in problems:
        first.setdefault((pr.record, pr.field), pr)
    return list(first.values())


def reason_columns(
    index: pd.Index,
    chosen: list[Measure],
    unscored: Callable[[str], np.ndarray],
    problems: list[Problem],
    missing: dict[str, np.ndarray],
) -> dict[str, pd.Series]:
    """``<measure>_reason`` columns (on ``index``): why each unscored row could not be scored,
    ``problems`` naming rows by position. Rows only missing values get their text by the
    combination missing (a few texts for any number of rows); rows with an invalid value or a
    broken row rule are described one by one."""
    by_row: dict[int, dict[str, Problem]] = defaultdict(dict)
    for pr in problems:
        by_row[int(pr.record)][pr.field] = pr
    flagged = np.zeros(len(index), bool)
    flagged[list(by_row)] = True
    cols = {}
    for m in chosen:
        rows = unscored(m.name)
        required = [f for f in m.inputs if f in missing and f not in m.optional]
        combination = np.zeros(len(index), np.int32)  # a bit per required input missing
        for bit, f in enumerate(required):
            combination[missing[f]] |= 1 << bit
        texts: dict[str, int] = {}  # each distinct text, numbered
        plain = rows & ~flagged & (combination > 0)
        number = np.full(1 << len(required), -1, dtype=np.int32)  # a text's number, by combination
        for k in np.flatnonzero(np.bincount(combination[plain], minlength=len(number))):
            text = "; ".join(f"{f} missing" for bit, f in enumerate(required) if k >> bit & 1)
            number[k] = texts.setdefault(text, len(texts))
        codes = np.where(plain, number[combination], np.int32(-1))  # per row (-1: no text)
        for pos in np.flatnonzero(rows & flagged):
            text = _reason(m, by_row[int(pos)], [f for f in required if missing[f][pos]])
            if text:
                codes[pos] = texts.setdefault(text, len(texts))
        if texts:
            cols[f"{m.name}_reason"] = pd.Series(_strings(codes, list(texts)), index=index)
    return cols


def _strings(codes: np.ndarray, texts: list[str]) -> pd.api.extensions.ExtensionArray:
    """A ``string`` array of ``texts[code]`` per code (NA for -1), taken by Arrow without a
    Python object per row."""
    if pd.StringDtype().storage != "pyarrow":
        return pd.array(np.array([*texts, None], dtype=object)[codes], dtype="string")
    return pd.arrays.ArrowStringArray(
        pa.array(texts, pa.large_string()).take(pa.array(codes, mask=codes < 0))
    )


def _reason(m: Measure, found: dict[str, Problem], missing: list[str]) -> str:
    """Why ``m`` could not score a row with the problems ``found`` (by field) and ``missing``
    inputs: ``esr_mm_h=0.0 must be ...; gh_mm missing``."""
    why = []
    for f in m.inputs:
        pr = found.get(f)
        if pr is not None and pr.value is not None:
            why.append(f"{f}={pr.value} {pr.rule}")
        elif f in missing:
            why.append(f"{f} missing")
    own = found.get(m.name)
    if own is not None:
        why.append(own.rule)
    return "; ".join(why)
