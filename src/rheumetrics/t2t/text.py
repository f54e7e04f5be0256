"""Vectorised text assembly for reasons and sentences (pyarrow string kernels, no Python loops)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def concat(*parts: str | np.ndarray) -> np.ndarray:
    """Element-wise concatenation of string arrays and constant strings, as an object array."""
    arrays = [
        pa.scalar(p, pa.string()) if isinstance(p, str) else pa.array(p, type=pa.string())
        for p in parts
    ]
    if all(isinstance(p, str) for p in parts):
        raise ValueError("concat needs at least one array")
    return np.asarray(
        pc.binary_join_element_wise(*arrays, "").to_numpy(zero_copy_only=False), dtype=object
    )


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
