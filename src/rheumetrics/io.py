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
    """Read a table; CSV cells are kept as text where they are not numbers (no silent coercion)."""
    path = Path(path)
    suffix = _suffix(path)
    if not path.exists():
        raise RheumetricsError(f"{path}: no such file")
    if suffix == ".csv":
        return pd.read_csv(path, keep_default_na=False, na_values=[""], low_memory=False)
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
