"""Read a source file (CSV, Excel, Parquet, REDCap export) into a raw frame, nothing coerced.

Text files are read as text (every cell a string or NA) so that parsing, and every complaint
about it, happens in one place (:mod:`rheumetrics.store.fields`). Excel and Parquet keep the
types their cells already have. Each raw frame is indexed by the row number a user sees: for
CSV and Excel the spreadsheet line (header = line 1, first data row = 2), for Parquet the
1-based row number.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from rheumetrics.errors import Problem, ValidationError
from rheumetrics.store.mapping import Mapping


def _fail(path: Path, exc: Exception) -> ValidationError:
    return ValidationError([Problem("(file)", "path", str(path), f"cannot read: {exc}")],
                           "unreadable source")  # fmt: skip


def read_source(mapping: Mapping, path: Path) -> pd.DataFrame:
    """The whole source as a raw frame indexed by user-visible row number."""
    try:
        if mapping.format in ("csv", "redcap"):
            df = pd.read_csv(
                path,
                dtype=str,
                sep=mapping.delimiter,
                encoding=mapping.encoding,
                keep_default_na=False,
                na_values=list(mapping.na_values),
                engine="pyarrow" if len(mapping.delimiter) == 1 else "python",
            )
            first = 2
        elif mapping.format == "excel":
            df = pd.read_excel(path, sheet_name=mapping.sheet, keep_default_na=False,
                               na_values=list(mapping.na_values))  # fmt: skip
            first = 2
        else:
            df = pd.read_parquet(path)
            first = 1
    except (OSError, ValueError, KeyError) as exc:
        raise _fail(path, exc) from exc
    df.index = pd.RangeIndex(first, first + len(df), name="row")
    return df


def read_header(mapping: Mapping, path: Path) -> list[str]:
    """Column names of the source without reading its rows."""
    try:
        if mapping.format in ("csv", "redcap"):
            return list(pd.read_csv(path, nrows=0, sep=mapping.delimiter,
                                    encoding=mapping.encoding).columns)  # fmt: skip
        if mapping.format == "excel":
            return [str(c) for c in pd.read_excel(path, sheet_name=mapping.sheet, nrows=0).columns]
        return list(pq.read_schema(path).names)
    except (OSError, ValueError, KeyError) as exc:
        raise _fail(path, exc) from exc
