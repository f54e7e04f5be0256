"""Mapping files: how the columns of a user's file become store records (TOML, checkable alone).

A mapping names, for each stored field, the source column it comes from (``"col"``), a constant
(``{ value = ... }``), or a column translated through a code table
(``{ column = "sex", values = { M = "male", V = "female" } }``). See ``docs/store.md`` for the
full format and ``rheumetrics/store/mappings/`` for worked examples (RAPPORT, REDCap).

:func:`load_mapping` reports *every* problem of a mapping at once, each naming the key path,
the offending value and what is allowed; :func:`check_mapping` also checks it against a source
file's columns (and a REDCap data dictionary).
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rheumetrics.errors import Problem, ProblemCollector, ValidationError
from rheumetrics.schema import records as F
from rheumetrics.schema.fields import Field
from rheumetrics.store.items import allowed_units, conversion_factor, items
from rheumetrics.store.jointbits import BIT_OF, STORAGE_ORDER

FORMATS = ("csv", "excel", "parquet", "redcap")
LAYOUTS = ("wide", "long")
JOINT_STATES = ("tender", "swollen")
DATE_OFFSET_UNITS = ("days", "months")


@dataclass(frozen=True)
class FieldSpec:
    """Where one stored field comes from."""

    column: str | None = None
    constant: Any = None
    values: dict[str, Any] | None = None
    unit: str | None = None  # values: unit of the source column
    unit_column: str | None = None  # values: column holding each row's unit
    date_format: str | None = None
    offset_unit: str | None = None  # visit.date as an offset from an anchor date
    anchor: dt.date | None = None

    def columns(self) -> list[str]:
        return [c for c in (self.column, self.unit_column) if c]


@dataclass(frozen=True)
class JointSpec:
    """Per-joint findings: one column per joint and state, or REDCap checkbox fields."""

    columns: dict[str, dict[str, str]]  # state -> joint id -> column
    checkbox: dict[str, str]  # state -> REDCap checkbox field name
    choices: dict[str, str]  # REDCap choice code -> joint id
    true_values: tuple[str, ...]
    false_values: tuple[str, ...]
    pattern: dict[str, str]  # state -> pattern with {joint}, used to spot unknown joint columns


@dataclass(frozen=True)
class LongSpec:
    """Long layout: one row per patient, date and item."""

    item: str
    value: str
    unit: str | None
    items: dict[str, str]  # source item code -> stored item
    ignore: tuple[str, ...]


@dataclass(frozen=True)
class RedcapSpec:
    dictionary: Path | None
    events: dict[str, str]  # unique event name -> visit kind
    therapy_instrument: str | None
    imaging_instrument: str | None


@dataclass(frozen=True)
class Mapping:
    """A checked mapping file."""

    path: Path | None
    sha256: str
    format: str
    layout: str
    sheet: str | int
    delimiter: str
    encoding: str
    na_values: tuple[str, ...]
    date_format: str
    patient: dict[str, FieldSpec]
    attributes: dict[str, FieldSpec]
    visit: dict[str, FieldSpec] | None
    values: dict[str, FieldSpec]
    joints: JointSpec | None
    long: LongSpec | None
    therapy: dict[str, FieldSpec] | None
    imaging: dict[str, FieldSpec] | None
    redcap: RedcapSpec | None

    def source_columns(self) -> set[str]:
        """Every source column the mapping reads (before REDCap checkbox expansion)."""
        cols: set[str] = set()
        for group in (
            self.patient,
            self.attributes,
            self.visit,
            self.values,
            self.therapy,
            self.imaging,
        ):
            for spec in (group or {}).values():
                cols.update(spec.columns())
        if self.long:
            cols.update(c for c in (self.long.item, self.long.value, self.long.unit) if c)
        if self.joints:
            for by_joint in self.joints.columns.values():
                cols.update(by_joint.values())
        return cols


_TOP = {"source", "patient", "visit", "values", "joints", "long", "therapy", "imaging", "redcap"}
_SOURCE_KEYS = {"format", "layout", "sheet", "delimiter", "encoding", "na_values", "date_format"}
_SPEC_KEYS = {"column", "value", "values", "unit", "unit_column", "format", "months_after",
              "days_after", "anchor"}  # fmt: skip


class _Checker:
    def __init__(self, source: str) -> None:
        self.p = ProblemCollector("invalid mapping")
        self.source = source

    def add(self, where: str, key: str, value: Any, rule: str) -> None:
        self.p.add(where, key, _short(value), rule, self.source)

    def keys(self, where: str, table: dict[str, Any], allowed: set[str] | dict[str, Any]) -> None:
        for key in table:
            if key not in allowed:
                self.add(
                    where, key, table[key], "unknown key; allowed: " + ", ".join(sorted(allowed))
                )

    def constant(self, where: str, value: Any, ftype: Field, fmt: str | None) -> None:
        """A constant is checked as import checks every row's value (same parser, same rule)."""
        import pandas as pd

        if isinstance(value, (dt.date, dt.datetime)) and ftype.kind == "date":
            value = value.isoformat()[:10]
        from rheumetrics.schema import validate as V

        rep = V.Reporter(self.source, pd.Index([where]))
        V.parse_field(pd.Series([value], dtype=object), ftype, "value", rep, fmt or "%Y-%m-%d")
        for p in rep.problems:
            self.add(where, "value", p.value, p.rule)

    def spec(self, where: str, key: str, raw: Any, ftype: Field | None) -> FieldSpec | None:
        if isinstance(raw, str):
            if not raw:
                self.add(where, key, raw, "column name must not be empty")
                return None
            return FieldSpec(column=raw)
        if not isinstance(raw, dict):
            self.add(where, key, raw, 'must be a column name or a table like { column = "..." }')
            return None
        self.keys(f"{where}.{key}", raw, _SPEC_KEYS)
        offset = [k for k in ("months_after", "days_after") if k in raw]
        has = [k for k in ("column", "value") if k in raw] + offset
        if len(has) != 1:
            self.add(where, key, raw, "give exactly one of column, value, months_after, days_after")
            return None
        values = raw.get("values")
        if values is not None and not isinstance(values, dict):
            self.add(f"{where}.{key}", "values", values, "must be a table of code = value")
            values = None
        if values is not None:
            values = {str(k): v for k, v in values.items()}
            if ftype is not None and ftype.kind == "enum":
                for code, v in values.items():
                    if v not in ftype.choices:
                        self.add(f"{where}.{key}.values", code, v, ftype.rule)
        enum = ftype.choices if ftype is not None and ftype.kind == "enum" else None
        if enum is not None and "value" in raw and raw["value"] not in enum:
            assert ftype is not None
            self.add(f"{where}.{key}", "value", raw["value"], ftype.rule)
        elif ftype is not None and enum is None and "value" in raw:
            self.constant(f"{where}.{key}", raw["value"], ftype, raw.get("format"))
        anchor = None
        if offset:
            try:
                anchor = dt.date.fromisoformat(str(raw.get("anchor", "")))
                if not dt.date(1900, 1, 1) <= anchor <= dt.date.today():
                    self.add(f"{where}.{key}", "anchor", raw.get("anchor"),
                             "the anchor date must be from 1900-01-01 to today")  # fmt: skip
                    anchor = None
            except ValueError:
                self.add(
                    f"{where}.{key}",
                    "anchor",
                    raw.get("anchor"),
                    "an offset date needs anchor = an ISO date (YYYY-MM-DD)",
                )
        return FieldSpec(
            column=raw.get("column") or (raw.get(offset[0]) if offset else None),
            constant=raw.get("value"),
            values=values,
            unit=raw.get("unit"),
            unit_column=raw.get("unit_column"),
            date_format=raw.get("format"),
            offset_unit=offset[0].removesuffix("_after") if offset else None,
            anchor=anchor,
        )

    def group(self, where: str, table: Any, known: dict[str, Field]) -> dict[str, FieldSpec]:
        out: dict[str, FieldSpec] = {}
        if not isinstance(table, dict):
            self.add(where, where, table, "must be a table")
            return out
        self.keys(where, table, set(known) | ({"attributes"} if where == "patient" else set()))
        for key, raw in table.items():
            if key in known:
                spec = self.spec(where, key, raw, known[key])
                if spec is not None:
                    out[key] = spec
        for key, ftype in known.items():
            if ftype.required and key not in table:
                self.add(where, key, None, "required key is missing")
        return out


# -- the shape of a mapping file: every key's type, checked before anything reads it ------------

#: Type tokens: "str", "int", "scalar" (text, number, boolean or date), "strs" (list of text),
#: "scalars" (list of scalars), "spec" (a column name or a field table), a dict (a table with
#: these keys) or ("table of", token) (a table whose values all have one type).
_SCALAR_TYPES = (str, int, float, bool, dt.date, dt.datetime, dt.time)
_SPEC_SHAPE: dict[str, Any] = {"column": "str", "value": "scalar", "values": ("table of", "scalar"),
                               "unit": "str", "unit_column": "str", "format": "str",
                               "months_after": "str", "days_after": "str", "anchor": "scalar"}  # fmt: skip
_JOINT_STATE_SHAPE: dict[str, Any] = {"pattern": "str", "columns": ("table of", "str"),
                                      "checkbox": "str"}  # fmt: skip
_SHAPE: dict[str, Any] = {
    "source": {"format": "str", "layout": "str", "sheet": "sheet", "delimiter": "str",
               "encoding": "str", "na_values": "strs", "date_format": "str"},
    "patient": ("table of", "spec"),
    "visit": ("table of", "spec"),
    "therapy": ("table of", "spec"),
    "imaging": ("table of", "spec"),
    "values": ("table of", "spec"),
    "joints": {"tender": _JOINT_STATE_SHAPE, "swollen": _JOINT_STATE_SHAPE,
               "choices": ("table of", "scalar"), "true_values": "scalars",
               "false_values": "scalars"},
    "long": {"item": "str", "value": "str", "unit": "str", "items": ("table of", "str"),
             "ignore": "strs"},
    "redcap": {"dictionary": "str", "events": ("table of", "str"), "therapy_instrument": "str",
               "imaging_instrument": "str"},
}  # fmt: skip
_WHAT = {"str": "text", "int": "a whole number", "scalar": "a text, number, boolean or date",
         "strs": "a list of texts", "scalars": "a list of texts or numbers",
         "sheet": "a sheet name or a 0-based sheet number",
         "spec": 'a column name or a table like { column = "..." }'}  # fmt: skip


def _fits(value: Any, token: str) -> bool:
    if token == "str":
        return isinstance(value, str)
    if token == "scalar":
        return isinstance(value, _SCALAR_TYPES)
    if token == "sheet":
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    if token in ("strs", "scalars"):
        inner = "str" if token == "strs" else "scalar"
        return isinstance(value, list) and all(_fits(v, inner) for v in value)
    raise AssertionError(token)


def _check_shape(c: _Checker, where: str, table: dict[str, Any], shape: Any) -> None:
    """Report and remove every value whose type the mapping format does not allow, so the
    checks after this one only see well-typed values (and never a traceback)."""
    if isinstance(shape, tuple):  # ("table of", token)
        for key in list(table):
            _check_value(c, where, table, key, shape[1])
        return
    for key in list(table):
        if key in shape:
            _check_value(c, where, table, key, shape[key])


def _check_value(c: _Checker, where: str, table: dict[str, Any], key: str, token: Any) -> None:
    value = table[key]
    path = f"{where}.{key}" if where != "(top)" else key
    if isinstance(token, (dict, tuple)):
        if not isinstance(value, dict):
            c.add(where, key, _short(value), "must be a table")
            del table[key]
            return
        _check_shape(c, path, value, token)
    elif token == "spec" and where == "patient" and key == "attributes":
        _check_value(c, where, table, key, ("table of", "spec"))
    elif token == "spec":
        if isinstance(value, dict):
            _check_shape(c, path, value, _SPEC_SHAPE)
        elif not isinstance(value, str):
            c.add(where, key, _short(value), "must be " + _WHAT["spec"])
            del table[key]
    elif not _fits(value, token):
        c.add(where, key, _short(value), "must be " + _WHAT[token])
        del table[key]


def _short(value: Any) -> Any:
    """A value as shown in a problem: scalars as they are, tables and lists as short text."""
    if value is None or isinstance(value, _SCALAR_TYPES):
        return value if not isinstance(value, str) or len(value) <= 200 else value[:197] + "..."
    try:
        text = repr(value)
    except RecursionError:
        return "(a value nested too deeply to show)"
    return text if len(text) <= 80 else text[:77] + "..."


def _check_source_values(c: _Checker, src: dict[str, Any]) -> None:
    """Values of [source] that the readers would otherwise fail on."""
    enc = src.get("encoding")
    if enc is not None:
        try:
            codecs.lookup(enc)
        except LookupError:
            c.add("source", "encoding", enc, "unknown text encoding; e.g. utf-8, latin-1, cp1252")
            del src["encoding"]
    delim = src.get("delimiter")
    if delim is not None and (len(delim) != 1 or delim in "\r\n\"'"):
        c.add("source", "delimiter", delim, "must be one character (not a quote or line break)")
        del src["delimiter"]
    sheet = src.get("sheet")
    if isinstance(sheet, int) and not 0 <= sheet < 10_000:
        c.add("source", "sheet", sheet, "a sheet number counts from 0")
        del src["sheet"]
    fmt = src.get("date_format")
    if fmt is not None:
        try:
            dt.date(2001, 2, 3).strftime(fmt)
            ok = "%" in fmt
        except ValueError:
            ok = False
        if not ok:
            c.add("source", "date_format", fmt, 'must be a strptime format like "%Y-%m-%d"')
            del src["date_format"]


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


#: Largest mapping file read (a mapping is a few kilobytes; this bounds parsing time and memory).
MAX_MAPPING_BYTES = 1_000_000


def load_mapping(path: str | Path, *, allow_outside: bool = False) -> Mapping:
    """Read and check a mapping file; raise :class:`ValidationError` listing every problem.

    Paths inside the mapping (the REDCap data dictionary) must lie in the mapping file's own
    folder unless ``allow_outside`` is true.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_MAPPING_BYTES:
            raise ValidationError(
                [Problem("(file)", "size", size, f"a mapping file is at most {MAX_MAPPING_BYTES:,} bytes", str(path))],
                "invalid mapping",
            )  # fmt: skip
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(
            [Problem("(file)", "path", str(path), f"cannot read as UTF-8 text: {exc}")],
            "invalid mapping",
        ) from None
    return parse_mapping(text, path, allow_outside=allow_outside)


def parse_mapping(text: str, path: Path | None = None, *, allow_outside: bool = False) -> Mapping:
    """Check a mapping given as TOML text (``path`` resolves the REDCap dictionary)."""
    source = str(path) if path else "(mapping)"
    c = _Checker(source)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        c.add("(file)", "toml", None, f"not valid TOML: {exc}")
        c.p.raise_if_any()
        raise AssertionError("unreachable") from exc
    except RecursionError:
        c.add("(file)", "toml", None, "nested too deeply (a mapping needs at most 4 levels)")
        c.p.raise_if_any()
        raise AssertionError("unreachable") from None
    _check_shape(c, "(top)", doc, _SHAPE)
    _check_source_values(c, doc.get("source", {}))
    try:
        return _build(c, doc, text, path, allow_outside)
    except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as exc:
        if isinstance(exc, ValidationError):
            raise
        c.add("(file)", "mapping", None, f"cannot be read as a mapping ({type(exc).__name__})")
        c.p.raise_if_any()
        raise AssertionError("unreachable") from None


def _build(
    c: _Checker, doc: dict[str, Any], text: str, path: Path | None, allow_outside: bool
) -> Mapping:
    c.keys("(top)", doc, _TOP)

    src = doc.get("source", {})
    c.keys("source", src, _SOURCE_KEYS)
    fmt = src.get("format", "csv")
    if fmt not in FORMATS:
        c.add("source", "format", fmt, "must be one of " + ", ".join(FORMATS))
    layout = src.get("layout", "wide")
    if layout not in LAYOUTS:
        c.add("source", "layout", layout, "must be one of " + ", ".join(LAYOUTS))
    na_values = src.get("na_values", ["", "NA"])
    if not isinstance(na_values, list) or not all(isinstance(v, str) for v in na_values):
        c.add("source", "na_values", na_values, "must be a list of strings")
        na_values = ["", "NA"]
    date_format = src.get("date_format", "%Y-%m-%d")
    if not isinstance(date_format, str) or "%" not in date_format:
        c.add("source", "date_format", date_format, 'must be a strptime format like "%Y-%m-%d"')

    if "patient" not in doc:
        c.add("(top)", "patient", None, "a [patient] table with at least id is required")
    patient_raw = dict(doc.get("patient", {}))
    attrs_raw = patient_raw.pop("attributes", {})
    patient = c.group("patient", patient_raw, F.PATIENT_FIELDS)
    attributes: dict[str, FieldSpec] = {}
    if not isinstance(attrs_raw, dict):
        c.add("patient", "attributes", attrs_raw, "must be a table of name = column")
    else:
        for key, raw in attrs_raw.items():
            spec = c.spec("patient.attributes", key, raw, None)
            if spec is not None:
                attributes[key] = spec

    visit = c.group("visit", doc["visit"], F.VISIT_FIELDS) if "visit" in doc else None
    therapy = c.group("therapy", doc["therapy"], F.THERAPY_FIELDS) if "therapy" in doc else None
    imaging = c.group("imaging", doc["imaging"], F.IMAGING_FIELDS) if "imaging" in doc else None
    if fmt != "redcap" and sum(x is not None for x in (visit, therapy, imaging)) != 1:
        c.add(
            "(top)",
            "visit/therapy/imaging",
            None,
            "a flat file holds one kind of record: give exactly one of [visit], [therapy], "
            "[imaging]",
        )

    values = _values(c, doc.get("values", {}))
    if values and visit is None:
        c.add("values", "values", list(values), "[values] needs a [visit] table")
    joints = _joints(c, doc["joints"]) if "joints" in doc else None
    if joints and visit is None:
        c.add("joints", "joints", None, "[joints] needs a [visit] table")
    long = _long(c, doc["long"]) if "long" in doc else None
    if layout == "long" and fmt != "redcap" and long is None:
        c.add("(top)", "long", None, "layout = 'long' needs a [long] table (item, value, items)")
    if long is not None and layout != "long":
        c.add("long", "long", None, "a [long] table needs layout = 'long' in [source]")
    redcap = _redcap(c, doc.get("redcap"), path, allow_outside) if fmt == "redcap" else None
    if fmt == "redcap" and redcap is not None:
        if redcap.therapy_instrument and therapy is None:
            c.add(
                "redcap", "therapy_instrument", redcap.therapy_instrument, "needs a [therapy] table"
            )
    elif "redcap" in doc:
        c.add("redcap", "redcap", None, "a [redcap] table needs format = 'redcap'")
    c.p.raise_if_any()
    return Mapping(
        path=path,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        format=fmt,
        layout=layout,
        sheet=src.get("sheet", 0),
        delimiter=src.get("delimiter", ","),
        encoding=src.get("encoding", "utf-8"),
        na_values=tuple(na_values),
        date_format=date_format,
        patient=patient,
        attributes=attributes,
        visit=visit,
        values=values,
        joints=joints,
        long=long,
        therapy=therapy,
        imaging=imaging,
        redcap=redcap,
    )


def _values(c: _Checker, table: Any) -> dict[str, FieldSpec]:
    out: dict[str, FieldSpec] = {}
    if not isinstance(table, dict):
        c.add("values", "values", table, "must be a table of item = column")
        return out
    catalogue = items()
    for key, raw in table.items():
        if key not in catalogue:
            c.add("values", key, raw, "unknown item; allowed: " + ", ".join(catalogue))
            continue
        spec = c.spec("values", key, raw, None)
        if spec is None:
            continue
        if spec.unit is not None and conversion_factor(key, spec.unit) is None:
            c.add(
                f"values.{key}",
                "unit",
                spec.unit,
                f"unit not accepted for {key}; allowed: " + ", ".join(allowed_units(key)),
            )
        out[key] = spec
    return out


def _joints(c: _Checker, table: Any) -> JointSpec | None:
    if not isinstance(table, dict):
        c.add("joints", "joints", table, "must be a table")
        return None
    c.keys("joints", table, {*JOINT_STATES, "choices", "true_values", "false_values"})
    columns: dict[str, dict[str, str]] = {}
    checkbox: dict[str, str] = {}
    pattern: dict[str, str] = {}
    for state in JOINT_STATES:
        raw = table.get(state)
        if raw is None:
            continue
        if not isinstance(raw, dict) or len(raw) != 1:
            c.add(
                "joints",
                state,
                raw,
                'give one of { pattern = "tender_{joint}" }, { columns = { R_MCP1 = "col" } } '
                'or { checkbox = "redcap_field" }',
            )
            continue
        kind, val = next(iter(raw.items()))
        if kind == "pattern":
            if not isinstance(val, str) or "{joint}" not in val:
                c.add(f"joints.{state}", "pattern", val, "must contain {joint}")
                continue
            pattern[state] = val
            columns[state] = {j: val.replace("{joint}", j) for j in STORAGE_ORDER}
        elif kind == "columns":
            if not isinstance(val, dict):
                c.add(f"joints.{state}", "columns", val, "must be a table of joint id = column")
                continue
            for joint in val:
                if joint not in BIT_OF:
                    c.add(f"joints.{state}.columns", joint, val[joint], _unknown_joint(joint))
            columns[state] = {j: str(col) for j, col in val.items() if j in BIT_OF}
        elif kind == "checkbox":
            checkbox[state] = str(val)
        else:
            c.add(f"joints.{state}", kind, val, "allowed: pattern, columns, checkbox")
    choices = {str(k): str(v) for k, v in table.get("choices", {}).items()}
    for code, joint in choices.items():
        if joint not in BIT_OF:
            c.add("joints.choices", code, joint, _unknown_joint(joint))
    if checkbox and not choices:
        c.add("joints", "choices", None, "checkbox fields need choices = { code = joint id }")
    true_values = tuple(str(v) for v in table.get("true_values", ["1"]))
    false_values = tuple(str(v) for v in table.get("false_values", ["0"]))
    if set(true_values) & set(false_values):
        c.add("joints", "true_values", list(true_values), "must not overlap false_values")
    return JointSpec(columns, checkbox, choices, true_values, false_values, pattern)


def _unknown_joint(joint: str) -> str:
    return (
        "unknown joint id; joint ids are {R|L}_{NAME}, e.g. "
        + ", ".join(STORAGE_ORDER[:8])
        + " ..."
    )


def _long(c: _Checker, table: Any) -> LongSpec | None:
    if not isinstance(table, dict):
        c.add("long", "long", table, "must be a table")
        return None
    c.keys("long", table, {"item", "value", "unit", "items", "ignore"})
    for key in ("item", "value", "items"):
        if key not in table:
            c.add("long", key, None, "required key is missing")
    item_map = {str(k): str(v) for k, v in table.get("items", {}).items()}
    for code, name in item_map.items():
        if name not in items():
            c.add("long.items", code, name, "unknown item; allowed: " + ", ".join(items()))
    if "item" not in table or "value" not in table:
        return None
    return LongSpec(
        item=str(table["item"]),
        value=str(table["value"]),
        unit=table.get("unit"),
        items=item_map,
        ignore=tuple(str(v) for v in table.get("ignore", [])),
    )


def _redcap(c: _Checker, table: Any, path: Path | None, allow_outside: bool) -> RedcapSpec | None:
    if not isinstance(table, dict):
        c.add("redcap", "redcap", table, "format = 'redcap' needs a [redcap] table")
        return None
    c.keys("redcap", table, {"dictionary", "events", "therapy_instrument", "imaging_instrument"})
    events = {str(k): str(v) for k, v in table.get("events", {}).items()}
    from rheumetrics.store.models import VISIT_KINDS

    for event, kind in events.items():
        if kind not in VISIT_KINDS:
            c.add(
                "redcap.events", event, kind, "visit kind must be one of " + ", ".join(VISIT_KINDS)
            )
    dictionary = None
    if "dictionary" in table:
        dictionary = confined_path(
            c, "redcap", "dictionary", table["dictionary"], path, allow_outside
        )
    return RedcapSpec(
        dictionary, events, table.get("therapy_instrument"), table.get("imaging_instrument")
    )


def confined_path(
    c: _Checker, where: str, key: str, value: str, path: Path | None, allow_outside: bool
) -> Path | None:
    """``value`` resolved against the mapping file's folder; a path leaving that folder is a
    problem unless ``allow_outside`` (``--allow-outside-paths``)."""
    folder = (path.parent if path is not None else Path.cwd()).resolve()
    target = Path(value)
    full = (target if target.is_absolute() else folder / target).resolve()
    if not allow_outside and not full.is_relative_to(folder):
        c.add(where, key, value, f"must be a file inside the mapping's folder {folder} "
              "(pass --allow-outside-paths to read files elsewhere)")  # fmt: skip
        return None
    return full if target.is_absolute() or path is None else path.parent / target


_CHECKBOX = re.compile(r"^(?P<field>.+)___(?P<code>[^_].*)$")


def check_mapping(
    path: str | Path,
    source: str | Path | None = None,
    *,
    dictionary: str | Path | None = None,
    allow_outside: bool = False,
) -> Mapping:
    """Check a mapping on its own, and against ``source`` when one is given.

    With a source, the file is read and checked exactly as ``import`` reads it, and every problem
    that would make ``import`` refuse the file as a whole (a missing column, an unreadable
    encoding, a REDCap dictionary that does not fit) is reported: ``check-mapping`` accepts only
    what ``import`` accepts. Raises :class:`ValidationError` with every problem found.
    """
    mapping = load_mapping(path, allow_outside=allow_outside)
    if source is not None:
        from rheumetrics.store.importer import prepare
        from rheumetrics.store.readers import read_header

        header = read_header(mapping, Path(source))
        problems = ProblemCollector("mapping does not fit the source")
        present = set(header)
        if mapping.format == "redcap":
            present |= {m["field"] for col in header if (m := _CHECKBOX.match(col))}
        for col in sorted(mapping.source_columns() - present):
            if mapping.joints and col in _pattern_columns(mapping.joints):
                continue  # joints absent from the file are simply not assessed
            problems.add(
                "(header)", col, None, "column named by the mapping is not in the file", str(source)
            )
        problems.raise_if_any()
        staged = prepare(mapping, source, dictionary)
        problems.extend(p for p in staged.problems if p.record in ("(file)", "(header)"))
        problems.raise_if_any()
    return mapping


def _pattern_columns(joints: JointSpec) -> set[str]:
    return {col for state in joints.pattern for col in joints.columns[state].values()}
