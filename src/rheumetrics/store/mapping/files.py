"""Reading mapping files: TOML text to a checked :class:`~rheumetrics.store.mapping.specs.Mapping`
(checked against a source file by :func:`rheumetrics.store.mapping_check.check_mapping`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticError

from rheumetrics.errors import Problem, RheumetricsError, ValidationError
from rheumetrics.store.jointbits import STORAGE_ORDER
from rheumetrics.store.mapping import tables as T
from rheumetrics.store.mapping.problems import problems
from rheumetrics.store.mapping.specs import FieldSpec, JointSpec, LongSpec, Mapping, RedcapSpec

#: Largest mapping file read (a mapping is a few kilobytes; this bounds parsing time and memory).
MAX_MAPPING_BYTES = 1_000_000


def _refuse(source: str, field: str, value: Any, rule: str) -> ValidationError:
    return ValidationError([Problem("(file)", field, value, rule, source)], "invalid mapping")


def load_mapping(path: str | Path, *, allow_outside: bool = False) -> Mapping:
    """Read and check a mapping file; raise :class:`ValidationError` listing every problem.

    Paths inside the mapping (the REDCap data dictionary) must lie in the mapping file's own
    folder unless ``allow_outside`` is true.
    """
    path = Path(path)
    if not path.is_file():
        raise RheumetricsError(f"{path}: no such file")
    try:
        size = path.stat().st_size
        if size > MAX_MAPPING_BYTES:
            raise _refuse(
                str(path), "size", size, f"a mapping file is at most {MAX_MAPPING_BYTES:,} bytes"
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _refuse(str(path), "path", str(path), f"cannot read as UTF-8 text: {exc}") from None
    return parse_mapping(text, path, allow_outside=allow_outside)


def parse_mapping(text: str, path: Path | None = None, *, allow_outside: bool = False) -> Mapping:
    """Check a mapping given as TOML text (``path`` resolves the REDCap dictionary).

    >>> m = parse_mapping('[patient]\\nid = "pid"\\n[visit]\\ndate = "d"\\n[values]\\nesr_mm_h = "esr"')
    >>> sorted(m.source_columns())
    ['d', 'esr', 'pid']
    """
    source = str(path) if path else "(mapping)"
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _refuse(source, "toml", None, f"not valid TOML: {exc}") from None
    except RecursionError:
        raise _refuse(
            source, "toml", None, "nested too deeply (a mapping needs at most 4 levels)"
        ) from None
    try:
        checked = T.MappingFile.model_validate(
            doc, context={"path": path, "allow_outside": allow_outside}
        )
    except PydanticError as exc:
        raise ValidationError(problems(exc, source), "invalid mapping") from None
    except RecursionError:
        raise _refuse(
            source, "mapping", None, "nested too deeply (a mapping needs at most 4 levels)"
        ) from None
    return _mapping(checked, text, path, allow_outside)


def _specs(table: Any) -> dict[str, FieldSpec]:
    """The fields given in a record table (or the attributes table) as field specs."""
    raw = (
        table if isinstance(table, dict) else {k: getattr(table, k) for k in table.model_fields_set}
    )
    return {k: _spec(v) for k, v in raw.items() if k != "attributes"}


def _spec(given: str | T.FieldTable) -> FieldSpec:
    if isinstance(given, str):
        return FieldSpec(column=given)
    offset = "months_after" if given.months_after else "days_after" if given.days_after else None
    return FieldSpec(
        column=given.column or (getattr(given, offset) if offset else None),
        constant=given.value,
        values=given.values,
        unit=given.unit,
        unit_column=given.unit_column,
        date_format=given.format,
        offset_unit=offset.removesuffix("_after") if offset else None,
        anchor=given.anchor if offset and isinstance(given.anchor, dt.date) else None,
    )


def _joints(j: T.JointsTable) -> JointSpec:
    columns: dict[str, dict[str, str]] = {}
    checkbox: dict[str, str] = {}
    pattern: dict[str, str] = {}
    for state in T.JOINT_STATES:
        s: T.JointStateTable | None = getattr(j, state)
        if s is None:
            continue
        if s.pattern is not None:
            pattern[state] = s.pattern
            columns[state] = {jt: s.pattern.replace("{joint}", jt) for jt in STORAGE_ORDER}
        elif s.columns is not None:
            columns[state] = dict(s.columns)
        elif s.checkbox is not None:
            checkbox[state] = s.checkbox
    return JointSpec(columns, checkbox, dict(j.choices), tuple(str(v) for v in j.true_values),
                     tuple(str(v) for v in j.false_values), pattern)  # fmt: skip


def _mapping(m: T.MappingFile, text: str, path: Path | None, allow_outside: bool) -> Mapping:
    src, rc, lg = m.source, m.redcap, m.long
    return Mapping(
        path=path,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        format=src.format,
        layout=src.layout,
        sheet=src.sheet,
        delimiter=src.delimiter,
        encoding=src.encoding,
        na_values=tuple(src.na_values),
        date_format=src.date_format,
        patient=_specs(m.patient),
        attributes=_specs(m.patient.attributes),
        visit=_specs(m.visit) if m.visit is not None else None,
        values=_specs(m.values),
        joints=_joints(m.joints) if m.joints is not None else None,
        long=LongSpec(lg.item, lg.value, lg.unit, dict(lg.items), tuple(lg.ignore)) if lg else None,
        therapy=_specs(m.therapy) if m.therapy is not None else None,
        imaging=_specs(m.imaging) if m.imaging is not None else None,
        redcap=RedcapSpec(
            T.confined(rc.dictionary, path, allow_outside) if rc.dictionary else None,
            dict(rc.events), rc.therapy_instrument, rc.imaging_instrument,
        ) if rc is not None and src.format == "redcap" else None,
    )  # fmt: skip
