"""Reading and writing tables by file extension: CSV, Excel (.xlsx) and Parquet."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from rheumetrics.errors import RheumetricsError
from rheumetrics.schema import writers

SUFFIXES = (".csv", ".xlsx", ".parquet")


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise RheumetricsError(f"{path}: unsupported file type {suffix!r}; use one of {SUFFIXES}")
    return suffix


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a table; CSV cells are kept as text where they are not numbers (no silent coercion).

    A CSV column of true/false words stays text: a measure reading it as a number reports it,
    rather than taking True as 1 (:mod:`rheumetrics.schema.validate`). Infinities and
    overflowing numbers (``inf``, ``1e400``) read as infinite floats, which every field refuses.
    For imports with source line numbers and structure checks use
    :func:`rheumetrics.schema.readers.read_source`.
    """
    path = Path(path)
    suffix = _suffix(path)
    if not path.exists():
        raise RheumetricsError(f"{path}: no such file")
    if suffix == ".csv":
        df = pd.read_csv(path, keep_default_na=False, na_values=[""], low_memory=False)
        words = [c for c in df.columns if pd.api.types.is_bool_dtype(df[c].dtype)]
        if words:
            text = pd.read_csv(path, usecols=words, dtype=str, keep_default_na=False,
                               na_values=[""])  # fmt: skip
            df[words] = text[words].astype(object)
        return df
    if suffix == ".xlsx":
        return pd.read_excel(path)
    return pd.read_parquet(path)


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write a table, choosing the format from the extension (formula-safe CSV and XLSX, see
    :mod:`rheumetrics.schema.writers`); ``-`` writes the same safe CSV to stdout."""
    if str(path) == "-":
        writers.escape_frame(df).to_csv(sys.stdout, index=False)
        return
    path = Path(path)
    _suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writers.write_table(df, path)
