"""Vectorised text assembly for reasons and sentences.

Decision texts repeat: a million visits share a few thousand reasons. A text column is therefore
held as :class:`Texts`, integer codes into its distinct labels; :func:`join` combines the codes of
its pieces with NumPy and writes each *distinct* combination once, so no Python loop runs per visit
and no string is hashed twice. Only the final sentence, nearly unique per visit, is joined row by
row, with pyarrow's string kernels (:func:`join_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Texts:
    """A column of strings as ``labels[codes]`` (labels distinct or not; "" is an empty text)."""

    codes: np.ndarray
    labels: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray | Texts) -> Texts:
        """Code an object array of strings (one hash pass); a :class:`Texts` is returned as is."""
        if isinstance(values, Texts):
            return values
        return cls(*_codes(np.asarray(values, dtype=object)))

    @classmethod
    def take(cls, labels: list[str] | np.ndarray, codes: np.ndarray) -> Texts:
        """``labels[codes]`` without decoding; a negative code is the empty text."""
        lab = np.asarray([*labels, ""], dtype=object)
        codes = np.asarray(codes, dtype=np.int64)
        return cls(np.where(codes < 0, len(lab) - 1, codes), lab)

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, rows: np.ndarray) -> Texts:
        return Texts(self.codes[rows], self.labels)

    def decoded(self) -> np.ndarray:
        """The strings as an object array."""
        return self.labels[self.codes]

    def empty(self) -> np.ndarray:
        """Per row: the text is empty."""
        return (self.labels == "")[self.codes]

    def isin(self, values: list[str]) -> np.ndarray:
        return np.isin(self.labels, values)[self.codes]

    def blank(self, keep: np.ndarray) -> Texts:
        """The texts where ``keep``, the empty text elsewhere."""
        labels = np.append(self.labels, "")
        return Texts(np.where(keep, self.codes, len(labels) - 1), labels)

    def arrow(self) -> pa.Array:
        """A pyarrow string array (empty texts stay "")."""
        return pa.array(self.labels, pa.string()).take(pa.array(self.codes))

    def column(self) -> pd.api.extensions.ExtensionArray:
        """A pandas string column ('' -> NA) from a pyarrow dictionary take."""
        labels = self.labels
        dictionary = pa.array(labels, pa.string(), mask=labels == "")
        return pd.array(dictionary.take(pa.array(self.codes)), dtype=pd.StringDtype("pyarrow"))


def join(*parts: str | np.ndarray | Texts) -> Texts:
    """Element-wise concatenation of text columns and constant strings, each distinct
    combination joined once."""
    coded = [p if isinstance(p, str) else Texts.of(p) for p in parts]
    columns = [p for p in coded if isinstance(p, Texts)]
    if not columns:
        raise ValueError("join needs at least one column")
    n = len(columns[0])
    if n == 0:
        return Texts(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object))
    key = np.zeros(n, dtype=np.int64)
    for p in columns:
        key = pd.factorize(key * len(p.labels) + p.codes)[0].astype(np.int64)
    first = _first(key)
    if len(first) > max(1000, n // 4):  # mostly distinct: join with arrow
        arrs = [pa.scalar(p, pa.string()) if isinstance(p, str) else p.arrow() for p in coded]
        joined = pc.binary_join_element_wise(*arrs, "")
        return Texts(np.arange(n), np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object))
    labels = np.asarray(
        ["".join(p if isinstance(p, str) else p.labels[p.codes[i]] for p in coded) for i in first],
        dtype=object,
    )
    return Texts(key, labels)


def concat(*parts: str | np.ndarray | Texts) -> np.ndarray:
    """Element-wise concatenation of string arrays and constant strings, as an object array."""
    return join(*parts).decoded()


def join_rows(*parts: str | np.ndarray | Texts) -> pd.api.extensions.ExtensionArray:
    """Element-wise concatenation when nearly every row differs (pyarrow kernels, no hashing),
    as a pandas string array backed by the joined pyarrow array."""
    arrs = [
        pa.scalar(p, pa.string())
        if isinstance(p, str)
        else p.arrow()
        if isinstance(p, Texts)
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
