"""The mapping file format as pydantic models: every key's type, allowed values and the rules
that tie tables together. ``check-mapping`` and ``import`` both validate with
:class:`MappingFile`, so a mapping one accepts the other never refuses for a mapping reason.

Pass ``context={"path": mapping_path, "allow_outside": bool}`` to ``model_validate`` so that
paths inside the mapping (the REDCap data dictionary) are confined to its folder.
"""

from __future__ import annotations

import codecs
import datetime as dt
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from rheumetrics.schema import records as F
from rheumetrics.schema import vocab
from rheumetrics.schema.fields import Field as SchemaField
from rheumetrics.store.items import allowed_units, conversion_factor, items
from rheumetrics.store.jointbits import BIT_OF, STORAGE_ORDER

FORMATS = ("csv", "excel", "parquet", "redcap")
LAYOUTS = ("wide", "long")
JOINT_STATES = ("tender", "swollen")
#: Tags of the two forms of a field (stripped from key paths in problems).
NAME_TAG, TABLE_TAG = "<column name>", "<table>"
COLUMN_OR_TABLE = 'must be a column name or a table like { column = "..." }'

Scalar = str | int | float | bool | dt.date | dt.datetime | dt.time


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _problem(rule: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError("mapping", rule.replace("{", "{{").replace("}", "}}"), ctx or None)


# -- [source] -----------------------------------------------------------------------------------


class SourceTable(_Table):
    """How to read the file."""

    format: Literal["csv", "excel", "parquet", "redcap"] = "csv"
    layout: Literal["wide", "long"] = "wide"
    sheet: str | Annotated[int, Field(ge=0, lt=10_000)] = 0
    delimiter: str = ","
    encoding: str = "utf-8"
    na_values: list[str] = ["", "NA"]
    date_format: str = "%Y-%m-%d"

    @field_validator("encoding")
    @classmethod
    def _text_encoding(cls, enc: str) -> str:
        try:
            known = codecs.lookup(enc)._is_text_encoding  # bytes codecs (hex, zlib) read no text
        except (LookupError, ValueError):
            known = False
        if not known:
            raise _problem("unknown text encoding; e.g. utf-8, latin-1, cp1252")
        return enc

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, delim: str) -> str:
        if len(delim) != 1 or delim in "\r\n\"'":
            raise _problem("must be one character (not a quote or line break)")
        return delim

    @field_validator("date_format")
    @classmethod
    def _strptime_format(cls, fmt: str) -> str:
        try:
            ok = "%" in fmt and "\x00" not in fmt and bool(dt.date(2001, 2, 3).strftime(fmt))
        except ValueError:
            ok = False
        if not ok:
            raise _problem('must be a strptime format like "%Y-%m-%d"')
        return fmt


# -- one field: a column name, or a table --------------------------------------------------------


class FieldTable(_Table):
    """``{ column = ... }``, ``{ value = ... }`` or ``{ days_after | months_after = ..., anchor }``,
    with an optional code table, unit, unit column and date format."""

    column: str | None = None
    format: str | None = None
    value: Scalar | None = None
    values: dict[str, Scalar] | None = None
    unit: str | None = None
    unit_column: str | None = None
    months_after: str | None = None
    days_after: str | None = None
    anchor: Scalar | None = None

    @field_validator("column", "unit_column", "months_after", "days_after")
    @classmethod
    def _named(cls, name: str | None) -> str | None:
        if name == "":
            raise _problem("column name must not be empty")
        return name

    @field_validator("anchor")
    @classmethod
    def _anchor_date(cls, anchor: Scalar | None) -> Scalar | None:
        try:
            day = dt.date.fromisoformat(str(anchor)) if not isinstance(anchor, bool) else None
        except ValueError:
            day = None
        if day is None:
            raise _problem("an offset date needs anchor = an ISO date (YYYY-MM-DD)")
        if not dt.date(1900, 1, 1) <= day <= dt.date.today():
            raise _problem("the anchor date must be from 1900-01-01 to today")
        return day

    @model_validator(mode="after")
    def _one_source(self) -> FieldTable:
        given = [
            k
            for k in ("column", "value", "months_after", "days_after")
            if k in self.model_fields_set
        ]
        if len(given) != 1:
            raise _problem("give exactly one of column, value, months_after, days_after")
        if given[0].endswith("_after") and "anchor" not in self.model_fields_set:
            raise _problem("an offset date needs anchor = an ISO date (YYYY-MM-DD)")
        return self


def _constant(ftype: SchemaField) -> Any:
    """A check of a constant as import checks every row's value (same parser, same rule)."""

    def check(value: Scalar | None, info: ValidationInfo) -> Scalar | None:
        if value is None:
            return value
        if ftype.kind == "enum":
            if value not in ftype.choices:
                raise _problem(ftype.rule)
            return value
        import pandas as pd

        from rheumetrics.schema import validate as V

        shown = (
            value.isoformat()[:10] if isinstance(value, dt.date) and ftype.kind == "date" else value
        )
        rep = V.Reporter("(mapping)", pd.Index(["value"]))
        fmt = info.data.get("format") or "%Y-%m-%d"
        V.parse_field(pd.Series([shown], dtype=object), ftype, "value", rep, fmt)
        if rep.problems:
            raise _problem(rep.problems[0].rule)
        return value

    return check


def _code(ftype: SchemaField) -> Any:
    def check(value: Scalar) -> Scalar:
        if value not in ftype.choices:
            raise _problem(ftype.rule)
        return value

    return check


def _field_form(value: Any) -> str | None:
    return NAME_TAG if isinstance(value, str) else TABLE_TAG if isinstance(value, dict) else None


def _spec_type(table: type[FieldTable]) -> Any:
    """A column name or a field table (one message when it is neither)."""
    return Annotated[
        Annotated[str, AfterValidator(FieldTable._named), Tag(NAME_TAG)]
        | Annotated[table, Tag(TABLE_TAG)],
        Discriminator(
            _field_form, custom_error_type="mapping", custom_error_message=COLUMN_OR_TABLE
        ),
    ]


@cache
def typed_table(group: str, name: str) -> Any:
    """The field table of a record field: constants and codes checked against its type."""
    ftype = GROUPS[group][name]
    validators: dict[str, Any] = {"_check_value": field_validator("value")(_constant(ftype))}
    fields: dict[str, Any] = {}
    if ftype.kind == "enum":
        fields["values"] = (dict[str, Annotated[Scalar, AfterValidator(_code(ftype))]] | None, None)
    model = create_model(
        f"{group}_{name}", __base__=FieldTable, __validators__=validators, **fields
    )
    return _spec_type(model)


@cache
def item_table(item: str) -> Any:
    """The field table of a stored item: its unit must be one the item converts from."""

    def unit_known(unit: str | None) -> str | None:
        if unit is not None and conversion_factor(item, unit) is None:
            raise _problem(
                f"unit not accepted for {item}; allowed: " + ", ".join(allowed_units(item))
            )
        return unit

    model = create_model(f"item_{item}", __base__=FieldTable,
                         __validators__={"_unit": field_validator("unit")(unit_known)})  # fmt: skip
    return _spec_type(model)


GROUPS: dict[str, dict[str, SchemaField]] = {
    "patient": F.PATIENT_FIELDS, "visit": F.VISIT_FIELDS, "therapy": F.THERAPY_FIELDS,
    "imaging": F.IMAGING_FIELDS,
}  # fmt: skip


@cache
def group_table(group: str) -> type[_Table]:
    """``[patient]``, ``[visit]``, ``[therapy]`` or ``[imaging]``: the record's fields."""
    fields: dict[str, Any] = {
        name: (typed_table(group, name), ... if ftype.required else None)
        for name, ftype in GROUPS[group].items()
    }
    if group == "patient":
        attributes: Any = dict[str, _spec_type(FieldTable)]  # type: ignore[misc]
        fields["attributes"] = (attributes, {})
    return create_model(f"{group}_table", __base__=_Table, **fields)


@cache
def values_table() -> type[_Table]:
    """``[values]``: stored item = where its value comes from."""
    fields: dict[str, Any] = {item: (item_table(item), None) for item in items()}
    return create_model("values_table", __base__=_Table, **fields)


# -- [joints], [long], [redcap] ------------------------------------------------------------------


def _joint_id(joint: str) -> str:
    if joint not in BIT_OF:
        raise _problem("unknown joint id; joint ids are {R|L}_{NAME}, e.g. "
                       + ", ".join(STORAGE_ORDER[:8]) + " ...")  # fmt: skip
    return joint


JointId = Annotated[str, AfterValidator(_joint_id)]


class JointStateTable(_Table):
    """One state's columns: a pattern, an explicit table, or a REDCap checkbox field."""

    pattern: str | None = None
    columns: dict[JointId, str] | None = None
    checkbox: str | None = None

    @field_validator("pattern")
    @classmethod
    def _has_joint(cls, pattern: str | None) -> str | None:
        if pattern is not None and "{joint}" not in pattern:
            raise _problem("must contain {joint}")
        return pattern

    @model_validator(mode="after")
    def _one_form(self) -> JointStateTable:
        if len(self.model_fields_set) != 1:
            raise _problem('give one of { pattern = "tender_{joint}" }, { columns = { R_MCP1 = "col" } } '
                           'or { checkbox = "redcap_field" }')  # fmt: skip
        return self


class JointsTable(_Table):
    """``[joints]``: per-joint tender and swollen findings."""

    tender: JointStateTable | None = None
    swollen: JointStateTable | None = None
    choices: dict[str, JointId] = {}
    true_values: list[str | int | float | bool] = ["1"]
    false_values: list[str | int | float | bool] = ["0"]

    @model_validator(mode="after")
    def _consistent(self) -> JointsTable:
        states = [s for s in (self.tender, self.swollen) if s is not None]
        if any(s.checkbox for s in states) and not self.choices:
            raise _problem("checkbox fields need choices = { code = joint id }", key="choices")
        if {str(v) for v in self.true_values} & {str(v) for v in self.false_values}:
            raise _problem("must not overlap false_values", key="true_values")
        return self


def _item_name(name: str) -> str:
    if name not in items():
        raise _problem("unknown item; allowed: " + ", ".join(items()))
    return name


class LongTable(_Table):
    """``[long]``: the item and value columns of a long file, and its item codes."""

    item: str
    value: str
    unit: str | None = None
    items: dict[str, Annotated[str, AfterValidator(_item_name)]]
    ignore: list[str] = []


class RedcapTable(_Table):
    """``[redcap]``: the data dictionary, event names and repeating instruments."""

    dictionary: str | None = None
    events: dict[str, Literal[vocab.VISIT_KINDS]] = {}  # type: ignore[valid-type]
    therapy_instrument: str | None = None
    imaging_instrument: str | None = None

    @field_validator("dictionary")
    @classmethod
    def _confined(cls, value: str | None, info: ValidationInfo) -> str | None:
        ctx = info.context or {}
        if (
            value is not None
            and confined(value, ctx.get("path"), ctx.get("allow_outside", False)) is None
        ):
            folder = _folder(ctx.get("path"))
            raise _problem(f"must be a file inside the mapping's folder {folder} "
                           "(pass --allow-outside-paths to read files elsewhere)")  # fmt: skip
        return value


def _folder(path: Path | None) -> Path:
    return (path.parent if path is not None else Path.cwd()).resolve()


def confined(value: str, path: Path | None, allow_outside: bool) -> Path | None:
    """``value`` resolved against the mapping file's folder; None when it leaves that folder
    and ``allow_outside`` (``--allow-outside-paths``) is not given."""
    folder, target = _folder(path), Path(value)
    if "\x00" in value:
        return None
    full = (target if target.is_absolute() else folder / target).resolve()
    if not allow_outside and not full.is_relative_to(folder):
        return None
    return full if target.is_absolute() or path is None else path.parent / target


# -- the whole file ------------------------------------------------------------------------------


class MappingFile(_Table):
    """A mapping file: the tables and the rules between them."""

    source: SourceTable = SourceTable()
    patient: group_table("patient")  # type: ignore[valid-type]
    visit: group_table("visit") | None = None  # type: ignore[valid-type]
    therapy: group_table("therapy") | None = None  # type: ignore[valid-type]
    imaging: group_table("imaging") | None = None  # type: ignore[valid-type]
    values: values_table() = values_table()()  # type: ignore[valid-type]
    joints: JointsTable | None = None
    long: LongTable | None = None
    redcap: RedcapTable | None = None

    @model_validator(mode="after")
    def _tables_fit(self) -> MappingFile:
        problems: list[tuple[str, str, Any, str]] = []
        fmt, layout = self.source.format, self.source.layout
        kinds = [self.visit, self.therapy, self.imaging]
        if fmt != "redcap" and sum(k is not None for k in kinds) != 1:
            problems.append(("(top)", "visit/therapy/imaging", None, "a flat file holds one kind of "
                             "record: give exactly one of [visit], [therapy], [imaging]"))  # fmt: skip
        given = sorted(self.values.model_fields_set)
        if given and self.visit is None:
            problems.append(("values", "values", given, "[values] needs a [visit] table"))
        if self.joints is not None and self.visit is None:
            problems.append(("joints", "joints", None, "[joints] needs a [visit] table"))
        if layout == "long" and fmt != "redcap" and self.long is None:
            problems.append(
                ("(top)", "long", None, "layout = 'long' needs a [long] table (item, value, items)")
            )
        if self.long is not None and layout != "long":
            problems.append(
                ("long", "long", None, "a [long] table needs layout = 'long' in [source]")
            )
        if fmt == "redcap" and self.redcap is None:
            problems.append(("redcap", "redcap", None, "format = 'redcap' needs a [redcap] table"))
        if (
            fmt == "redcap"
            and self.redcap
            and self.redcap.therapy_instrument
            and self.therapy is None
        ):
            problems.append(("redcap", "therapy_instrument", self.redcap.therapy_instrument,
                             "needs a [therapy] table"))  # fmt: skip
        if fmt != "redcap" and self.redcap is not None:
            problems.append(("redcap", "redcap", None, "a [redcap] table needs format = 'redcap'"))
        if problems:
            raise PydanticCustomError("mapping_tables", "the tables do not fit together",
                                      {"problems": problems})  # fmt: skip
        return self
