"""One reader for CSV, Excel (.xlsx), Parquet and REDCap exports, rows numbered by source line.

Text files are read as text (every cell a string or NA), so that parsing, and every complaint
about it, happens in one place (:mod:`rheumetrics.schema.validate`). Excel and Parquet keep the
types their cells already have (an Excel TRUE stays a boolean, so a numeric field can refuse it).

Every frame is indexed by ``line``, the 1-based line a user finds the row on: for CSV and REDCap
the text line (header = line 1, first data row = line 2, a quoted value spanning lines moves the
following rows down), for Excel the sheet row, for Parquet the row number.

Structure errors come with their line: a row with fewer or more cells than the header, bytes
that are not valid in the file's encoding. Inputs are bounded: a file larger than ``max_bytes``
is refused before it is read, and an .xlsx is checked before it is opened (its parts' unpacked
sizes and compression ratios are read from the zip directory, so a small file holding a huge
shared string is refused without unpacking it); its XML is parsed with defusedxml (no entity
expansion).

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "v.csv"
>>> _ = p.write_text("patient_id,crp\\nP1,5\\nP2,7,9\\n")
>>> try:
...     read_source(p)
... except ValidationError as e:
...     print(e.problems[0])
v.csv: line 3, field '(row)', value 'P2,7,9': has 3 cells, the header has 2
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from rheumetrics.errors import Problem, ValidationError

Format = Literal["csv", "redcap", "excel", "parquet"]
#: Largest source file read (bytes); larger files are refused before reading.
MAX_BYTES = 4 * 1024**3
#: Largest unpacked size of one part of an .xlsx, and the largest compression ratio of a part
#: bigger than :data:`XLSX_RATIO_FLOOR` (typical worksheets compress 5-20x).
XLSX_MAX_PART = 1024**3
XLSX_MAX_RATIO = 100.0
XLSX_RATIO_FLOOR = 10 * 1024**2
_SUFFIX_FORMAT: dict[str, Format] = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "excel",
    ".parquet": "parquet",
}


def format_of(path: Path) -> Format:
    """The format implied by a file's extension."""
    fmt = _SUFFIX_FORMAT.get(path.suffix.lower())
    if fmt is None:
        raise _file_error(path, "path", path.suffix, f"unsupported file type; use one of "
                          f"{', '.join(sorted(_SUFFIX_FORMAT))}")  # fmt: skip
    return fmt


def _file_error(path: Path, field: str, value: object, rule: str) -> ValidationError:
    return ValidationError([Problem("(file)", field, value, rule, path.name)], "unreadable source")


def _check_size(path: Path, max_bytes: int) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _file_error(path, "path", str(path), f"cannot read: {exc.strerror}") from exc
    if size > max_bytes:
        raise _file_error(path, "size", size, f"file larger than the limit of {max_bytes:,} bytes")


def read_source(
    path: str | Path,
    format: Format | None = None,
    *,
    sheet: str | int | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    na_values: tuple[str, ...] = ("",),
    max_bytes: int = MAX_BYTES,
) -> pd.DataFrame:
    """The whole source as a raw frame indexed by source ``line``.

    Raises :class:`~rheumetrics.errors.ValidationError` naming the file and line of every
    structure problem (or the one reason the file cannot be read at all).
    """
    path = Path(path)
    fmt = format or format_of(path)
    _check_size(path, max_bytes)
    if fmt in ("csv", "redcap"):
        return _read_text(path, delimiter, encoding, na_values)
    if fmt == "excel":
        return _read_excel(path, sheet, na_values)
    try:
        df = pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise _file_error(path, "path", str(path), f"cannot read as Parquet: {exc}") from exc
    df.index = pd.RangeIndex(1, len(df) + 1, name="line")
    return df


def read_header(
    path: str | Path,
    format: Format | None = None,
    *,
    sheet: str | int | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> list[str]:
    """Column names of the source without reading its rows."""
    path = Path(path)
    fmt = format or format_of(path)
    try:
        if fmt in ("csv", "redcap"):
            with path.open(encoding=encoding, newline="") as fh:
                first = fh.readline().rstrip("\r\n")
            return list(pd.read_csv(io.StringIO(first), nrows=0, sep=delimiter).columns)
        if fmt == "excel":
            _check_xlsx(path)
            return [str(c) for c in pd.read_excel(path, sheet_name=sheet or 0, nrows=0).columns]
        return list(pq.read_schema(path).names)
    except UnicodeDecodeError as exc:
        raise _file_error(path, "(header)", None, f"line 1 is not valid {encoding}") from exc
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise _file_error(path, "path", str(path), f"cannot read: {exc}") from exc


def _read_text(
    path: Path, delimiter: str, encoding: str, na_values: tuple[str, ...]
) -> pd.DataFrame:
    """CSV as text with line numbers; every short, long or undecodable row is reported."""
    data = path.read_bytes()
    _check_encoding(path, data, encoding)
    if len(delimiter) != 1:
        return _read_text_multichar(path, data, delimiter, encoding, na_values)
    bad: list[pacsv.InvalidRow] = []
    blank: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        if row.text.strip() == "" and row.number is not None:
            blank.append(row.number)
        else:
            bad.append(row)
        return "skip"

    header = _header_names(path, data, delimiter, encoding)
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(use_threads=False, encoding=encoding),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                invalid_row_handler=on_invalid,
                newlines_in_values=True,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                null_values=list(na_values),
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise _file_error(path, "path", str(path), f"cannot read as CSV: {exc}") from exc
    if bad:
        n = len(header)
        problems = [
            Problem(
                r.number,
                "(row)",
                r.text if len(r.text) <= 200 else r.text[:200] + "...",
                f"has {r.actual_columns} cell{'s' if r.actual_columns != 1 else ''}, "
                f"the header has {n}",
                path.name,
                line=r.number,
            )
            for r in bad
        ]
        raise ValidationError(problems, f"{path.name}: rows do not match the header")
    df = table.to_pandas()
    df.index = pd.Index(_line_numbers(df, blank), name="line")
    return df


def _header_names(path: Path, data: bytes, delimiter: str, encoding: str) -> list[str]:
    first = data.split(b"\n", 1)[0].decode(encoding).rstrip("\r")
    names = list(pd.read_csv(io.StringIO(first), nrows=0, sep=delimiter).columns)
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise _file_error(path, "(header)", ", ".join(dupes), "column names must be unique")
    return [str(c) for c in names]


def _check_encoding(path: Path, data: bytes, encoding: str) -> None:
    """Refuse bytes invalid in ``encoding``, naming the first bad line."""
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        snippet = data[exc.start : exc.start + 4]
        problem = Problem(line, "(row)", repr(snippet), f"bytes that are not valid {encoding} "
                          f"(save the file as {encoding})", path.name, line=line)  # fmt: skip
        raise ValidationError([problem], f"{path.name}: cannot decode") from exc


def _line_numbers(df: pd.DataFrame, blank: list[int]) -> np.ndarray:
    """1-based text line of each row: rows spanning lines and skipped blank lines move later
    rows down."""
    n = len(df)
    extra = np.zeros(n, dtype=np.int64)
    for col in df.columns:
        text = df[col]
        has_nl = text.str.contains("\n", regex=False).fillna(False).to_numpy(dtype=bool)
        if has_nl.any():
            extra += np.where(has_nl, text.str.count("\n").fillna(0).to_numpy(dtype=np.int64), 0)
    span = 1 + extra
    lines = 2 + np.concatenate([[0], np.cumsum(span)[:-1]]) if n else np.empty(0, np.int64)
    if blank:
        skipped = np.sort(np.asarray(blank, dtype=np.int64))
        inserted_at = skipped - np.arange(len(skipped))  # position in the blank-free numbering
        lines = lines + np.searchsorted(inserted_at, lines, side="right")
    return lines.astype(np.int64)


def _read_text_multichar(
    path: Path, data: bytes, delimiter: str, encoding: str, na_values: tuple[str, ...]
) -> pd.DataFrame:
    """A delimiter of several characters: pandas' Python parser, rows checked cell by cell."""
    problems: list[Problem] = []
    header = _header_names(path, data, delimiter, encoding)

    def on_bad(cells: list[str]) -> None:
        problems.append(Problem("(row)", "(row)", delimiter.join(cells),
                                f"has {len(cells)} cells, the header has {len(header)}",
                                path.name))  # fmt: skip
        return None

    df = pd.read_csv(io.BytesIO(data), dtype=str, sep=delimiter, encoding=encoding,
                     keep_default_na=False, na_values=list(na_values), engine="python",
                     on_bad_lines=on_bad, skip_blank_lines=False)  # fmt: skip
    if problems:
        raise ValidationError(problems, f"{path.name}: rows do not match the header")
    df = df.astype(object).where(df.notna(), None)
    df.index = pd.Index(_line_numbers(df, []), name="line")
    return df


def _check_xlsx(path: Path) -> None:
    """Refuse an .xlsx whose parts would unpack to more than the limits (zip bombs)."""
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                size, packed = info.file_size, max(info.compress_size, 1)
                if size > XLSX_MAX_PART or (
                    size > XLSX_RATIO_FLOOR and size / packed > XLSX_MAX_RATIO
                ):
                    raise _file_error(
                        path, "(file)", info.filename,
                        f"part unpacks to {size:,} bytes from {packed:,} (limits: "
                        f"{XLSX_MAX_PART:,} bytes, ratio {XLSX_MAX_RATIO:g}); not read",
                    )  # fmt: skip
    except zipfile.BadZipFile as exc:
        raise _file_error(path, "path", str(path), "not an .xlsx file (not a zip archive)") from exc


def _read_excel(path: Path, sheet: str | int | None, na_values: tuple[str, ...]) -> pd.DataFrame:
    """An Excel sheet with its cells' own types, indexed by sheet row."""
    from defusedxml import DefusedXmlException

    _check_xlsx(path)
    try:
        df = pd.read_excel(path, sheet_name=sheet or 0, keep_default_na=False,
                           na_values=list(na_values), engine="openpyxl")  # fmt: skip
    except DefusedXmlException as exc:
        raise _file_error(path, "(file)", type(exc).__name__,
                          "XML with entity declarations is refused") from exc  # fmt: skip
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise _file_error(path, "path", str(path), f"cannot read as .xlsx: {exc}") from exc
    df.index = pd.RangeIndex(2, len(df) + 2, name="line")
    return df
