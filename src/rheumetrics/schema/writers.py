"""Safe table writers: every CSV and XLSX file rheumetrics writes goes through here.

A spreadsheet program evaluates a cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some programs, a tab or carriage return) as a formula, so a value such as
``=HYPERLINK("http://evil", "click")`` or ``=cmd|' /C calc'!A0`` copied from an input file into an
output file would run on the reader's machine ("CSV injection"). Following the OWASP guidance
(OWASP Foundation, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection):

- **CSV**: a text cell starting with one of those characters is written with a leading single
  quote (``'=HYPERLINK(...)``), which spreadsheet programs show as text. Numbers stay numbers:
  a numeric column is never touched, and a text cell that is just a plain number such as
  ``-1.5`` or ``+3`` is left as it is (a number is not a formula). Lines end with CRLF as in
  RFC 4180 (Shafranovich 2005, https://www.rfc-editor.org/rfc/rfc4180), so a text cell holding a
  carriage return or a newline is always quoted and can never split a row.
- **XLSX**: every text cell is written as a string cell (never a formula cell), and a cell that
  starts with a formula character also carries Excel's own "quote prefix" style, the mark Excel
  sets when a user types a leading apostrophe; the stored text is the original value.
- **Parquet** is typed and has no formulas; it is written unchanged.

Examples
--------
>>> escape_text("=1+1"), escape_text("-1.5"), escape_text("@SUM(A1)"), escape_text("DAS28")
("'=1+1", '-1.5', "'@SUM(A1)", 'DAS28')
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Text that is a plain decimal number (optionally signed, with exponent) is data, not a formula.
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_RISKY = "^[" + re.escape("".join(FORMULA_START)) + "]"
#: RFC 4180 line ending; with it every cell holding CR or LF is quoted.
CSV_LINE_END = "\r\n"


def is_risky(text: str) -> bool:
    """True when a spreadsheet would read ``text`` as a formula."""
    return text.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(text)


def escape_text(text: str) -> str:
    """``text`` with a leading single quote when a spreadsheet would read it as a formula."""
    return "'" + text if is_risky(text) else text


def _text_columns(df: pd.DataFrame) -> list[Any]:
    return [
        c
        for c in df.columns
        if df[c].dtype == object or isinstance(df[c].dtype, (pd.StringDtype, pd.CategoricalDtype))
    ]


def escape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells cannot be read as formulas (numbers untouched).

    Column names are escaped too: a header cell is a cell.
    """
    out = df.copy()
    for col in _text_columns(out):
        s = out[col].astype(object)
        starts = s.str.contains(_RISKY, regex=True, na=False).to_numpy(dtype=bool)
        if not starts.any():
            continue
        plain = s.str.match(_PLAIN_NUMBER, na=False).to_numpy(dtype=bool)
        risky = starts & ~plain
        if risky.any():
            s = s.copy()
            s[risky] = "'" + s[risky].astype(str)
            out[col] = s
    out.columns = [escape_text(c) if isinstance(c, str) else c for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write ``df`` as CSV with formula cells escaped and CR/LF inside cells quoted."""
    path = Path(path)
    escape_frame(df).to_csv(path, index=False, lineterminator=CSV_LINE_END, **kwargs)
    return path


def write_xlsx(df: pd.DataFrame, path: str | Path, sheet: str = "data") -> Path:
    """Write ``df`` as an .xlsx sheet whose text cells are strings, never formulas."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    path = Path(path)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)

    def cell(value: Any) -> Any:
        if value is None or value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, float) and np.isnan(value):
            return None
        if isinstance(value, (np.generic,)):
            value = value.item()
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        if isinstance(value, (bool, int, float, dt.date, dt.datetime)):
            return value
        text = str(value)
        c = WriteOnlyCell(ws)
        c.value = text
        c.data_type = "s"  # a string cell, whatever the text starts with
        if is_risky(text):
            c.quotePrefix = True
        return c

    ws.append([cell(str(c)) for c in df.columns])
    for row in df.itertuples(index=False, name=None):
        ws.append([cell(v) for v in row])
    wb.save(path)
    return path


def write_table(df: pd.DataFrame, path: str | Path, **csv_kwargs: Any) -> Path:
    """Write ``df`` by suffix: .csv (:func:`write_csv`), .xlsx (:func:`write_xlsx`), .parquet."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return write_csv(df, path, **csv_kwargs)
    if suffix == ".xlsx":
        return write_xlsx(df, path)
    if suffix == ".parquet":
        df.to_parquet(path, index=False)
        return path
    raise ValueError(f"{path}: cannot write {suffix!r}; use .csv, .xlsx or .parquet")


def non_finite_paths(obj: Any, where: str = "$") -> list[tuple[str, float]]:
    """JSON paths of every NaN or infinite number inside nested dicts and lists.

    Walks the structure with an explicit stack (no recursion limit on deep documents).

    >>> non_finite_paths({"entry": [{"value": 1.0}, {"value": float("inf")}]})
    [('$.entry[1].value', inf)]
    """
    found: list[tuple[str, float]] = []
    stack: list[tuple[str, Any]] = [(where, obj)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack.extend((f"{path}.{k}", v) for k, v in reversed(list(node.items())))
        elif isinstance(node, (list, tuple)):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(node))))
        elif isinstance(node, (float, np.floating)) and not np.isfinite(node):
            found.append((path, float(node)))
    return found


def write_json(obj: Any, path: str | Path, default: Any = None, source: str = "") -> Path:
    """Write ``obj`` as strict JSON (RFC 8259 has no NaN or Infinity): a non-finite number is
    refused with a :class:`~rheumetrics.errors.ValidationError` naming its path, and nothing is
    written."""
    import json

    from rheumetrics.errors import Problem, ValidationError

    path = Path(path)
    bad = non_finite_paths(obj)
    if bad:
        raise ValidationError(
            [
                Problem(
                    p,
                    "value",
                    v,
                    "must be a finite number (JSON has no NaN or Infinity)",
                    source or str(path),
                )
                for p, v in bad
            ],
            f"{path}: not written",
        )
    text = json.dumps(obj, default=default, allow_nan=False)
    path.write_text(text, encoding="utf-8")
    return path
