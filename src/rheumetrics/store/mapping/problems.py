"""Problems of a mapping file from pydantic's errors: one line each, naming the file, the key
path, the value and what is allowed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from rheumetrics.errors import Problem
from rheumetrics.store.items import items
from rheumetrics.store.mapping import tables as T

_SCALARS = (str, int, float, bool, dt.date, dt.datetime, dt.time)
_FIELD_KEYS = sorted(T.FieldTable.model_fields)
_RULES = {
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "float_type": "must be a number",
    "list_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "missing": "required key is missing",
    "greater_than_equal": "a sheet number counts from 0",
    "less_than": "a sheet number counts from 0 and is below 10,000",
}


def short(value: Any) -> Any:
    """A value as shown in a problem: scalars as they are, tables and lists as short text."""
    if value is None or isinstance(value, _SCALARS):
        return value if not isinstance(value, str) or len(value) <= 200 else value[:197] + "..."
    try:
        text = repr(value)
    except RecursionError:
        return "(a value nested too deeply to show)"
    return text if len(text) <= 80 else text[:77] + "..."


def _allowed(where: tuple[str, ...]) -> str:
    """What keys the table at ``where`` allows."""
    if not where:
        keys = sorted(T.MappingFile.model_fields)
    elif where == ("values",):
        return "unknown item; allowed: " + ", ".join(items())
    elif len(where) == 1 and where[0] in T.GROUPS:
        keys = sorted(T.group_table(where[0]).model_fields)
    elif where[0] in (*T.GROUPS, "values"):
        keys = _FIELD_KEYS
    else:
        tables: dict[str, type[BaseModel]] = {"source": T.SourceTable, "joints": T.JointsTable,
                                              "long": T.LongTable, "redcap": T.RedcapTable}  # fmt: skip
        model = tables.get(where[0])
        if len(where) == 2 and where[0] == "joints" and where[1] in T.JOINT_STATES:
            model = T.JointStateTable
        keys = sorted(model.model_fields) if model is not None else []
    return "unknown key; allowed: " + ", ".join(keys)


def _rule(err: Any, where: tuple[str, ...]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return _allowed(where)
    if kind == "literal_error":
        return "must be one of " + err["ctx"]["expected"].replace("'", "").replace(" or ", ", ")
    if kind in _RULES:
        return _RULES[kind]
    return str(err["msg"]).removeprefix("Value error, ")


def problems(exc: PydanticError, source: str) -> list[Problem]:
    """One problem per error: record = the table's key path, field = the key."""
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        if err["type"] == "mapping_tables":
            out += [Problem(w, k, short(v), r, source) for w, k, v, r in err["ctx"]["problems"]]
            continue
        loc = [str(p) for p in err["loc"] if p not in (T.NAME_TAG, T.TABLE_TAG)]
        if loc and loc[-1] == "[key]":  # a table key (a code or joint id) that is not allowed
            loc = loc[:-1]
        key = (err.get("ctx") or {}).get("key")
        if key is not None:  # a rule about one key of the table at loc
            loc.append(key)
        if err["type"] == "missing" and loc == ["patient"]:
            out.append(Problem("(top)", "patient", None,
                               "a [patient] table with at least id is required", source))  # fmt: skip
            continue
        where, field = (tuple(loc[:-1]), loc[-1]) if loc else ((), "(file)")
        value = None if err["type"] == "missing" else short(err.get("input"))
        if key is not None:
            value = None
        out.append(Problem(".".join(where) or "(top)", field, value, _rule(err, where), source))
    return out
