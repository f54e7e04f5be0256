"""Read an import's source file with :mod:`rheumetrics.schema.readers` (rows numbered by line).

The mapping gives the format, delimiter, encoding, sheet and missing-value spellings; the frame
is indexed by the line a user sees (CSV header = line 1, first data row = line 2; Excel: the
sheet row; Parquet: the row number).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pandas as pd

from rheumetrics.schema import readers
from rheumetrics.store.mapping import Mapping


def read_source(mapping: Mapping, path: Path) -> pd.DataFrame:
    """The whole source as a raw frame indexed by source line."""
    return readers.read_source(
        path,
        cast(readers.Format, mapping.format),
        sheet=mapping.sheet,
        delimiter=mapping.delimiter,
        encoding=mapping.encoding,
        na_values=tuple(mapping.na_values),
    )


def read_header(mapping: Mapping, path: Path) -> list[str]:
    """Column names of the source without reading its rows."""
    return readers.read_header(
        path, cast(readers.Format, mapping.format), sheet=mapping.sheet, delimiter=mapping.delimiter,
        encoding=mapping.encoding,
    )  # fmt: skip
