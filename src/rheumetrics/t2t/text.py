"""Vectorised text assembly for reasons and sentences.

Decision texts repeat: thousands of visits share the same few hundred reasons. :func:`concat`
therefore joins the *distinct* combinations of its pieces once (hash codes per piece, combined
with NumPy) and maps them back; when nearly every row is distinct it joins with pyarrow's string
kernels instead. No Python loop runs per visit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and their labels (missing values get the label "")."""
    codes, uniques = pd.factorize(values)
    labels = np.asarray(uniques, dtype=object)
    missing = codes < 0
    if missing.any():  # missing values join as ''
        codes = np.where(missing, len(labels), codes)
        labels = np.append(labels, "")
    return codes.astype(np.int64), labels


def _first(codes: np.ndarray) -> np.ndarray:
    """Position of the first row of each code (codes numbered in order of first appearance)."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    seen = np.maximum.accumulate(codes)
    return np.flatnonzero(np.r_[True, codes[1:] > seen[:-1]])


def concat(*parts: str | np.ndarray) -> np.ndarray:
    """Element-wise concatenation of string arrays and constant strings, as an object array."""
    arrays = [p for p in parts if not isinstance(p, str)]
    if not arrays:
        raise ValueError("concat needs at least one array")
    n = len(arrays[0])
    if n == 0:
        return np.zeros(0, dtype=object)
    pieces = [p if isinstance(p, str) else _codes(np.asarray(p, dtype=object)) for p in parts]
    key = np.zeros(n, dtype=np.int64)
    for p in pieces:
        if not isinstance(p, str):
            key = pd.factorize(key * len(p[1]) + p[0])[0].astype(np.int64)
    first = _first(key)
    if len(first) > max(1000, n // 4):  # mostly distinct: join with arrow
        arrs = [
            pa.scalar(p, pa.string())
            if isinstance(p, str)
            else pa.array(p[1], pa.string()).take(pa.array(p[0]))
            for p in pieces
        ]
        joined = pc.binary_join_element_wise(*arrs, "")
        return np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)
    texts = np.asarray(
        ["".join(p if isinstance(p, str) else p[1][p[0][i]] for p in pieces) for i in first],
        dtype=object,
    )
    return texts[key]


def concat_rows(*parts: str | np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Element-wise concatenation when nearly every row differs (pyarrow kernels, no hashing),
    as a pandas string array backed by the joined pyarrow array."""
    arrs = [
        pa.scalar(p, pa.string())
        if isinstance(p, str)
        else pa.array(p, pa.string(), from_pandas=True)
        for p in parts
    ]
    joined = pc.binary_join_element_wise(*arrs, "")
    return pd.array(joined, dtype=pd.StringDtype("pyarrow"))


def append(acc: np.ndarray, extra: np.ndarray, mask: np.ndarray, sep: str = "; ") -> None:
    """In place: add ``extra`` to ``acc`` where ``mask``, separated by ``sep`` when ``acc`` is not empty."""
    rows = np.flatnonzero(mask)
    if not len(rows):
        return
    empty = acc[rows] == ""
    acc[rows[empty]] = extra[rows[empty]]
    both = rows[~empty]
    if len(both):
        acc[both] = concat(acc[both], sep, extra[both])
