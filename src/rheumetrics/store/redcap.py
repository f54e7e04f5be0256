"""REDCap exports: the data dictionary, events, repeating instruments and checkbox columns.

Conventions (REDCap data export format, Harris PA et al. J Biomed Inform 2009;42:377-381): the records CSV starts with the record id; longitudinal projects add
``redcap_event_name``; repeating instruments add ``redcap_repeat_instrument`` and
``redcap_repeat_instance``; a checkbox field exports one column per choice, ``<field>___<code>``
(three underscores). The data dictionary has 18 columns ("Variable / Field Name", "Form Name",
..., "Choices, Calculations, OR Slider Labels", ...); the API's snake_case names are accepted too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rheumetrics.errors import Problem
from rheumetrics.store.mapping import Mapping

EVENT = "redcap_event_name"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"

_DICT_COLUMNS = {
    "Variable / Field Name": "field_name",
    "Form Name": "form_name",
    "Field Type": "field_type",
    "Choices, Calculations, OR Slider Labels": "select_choices_or_calculations",
}
_CHECKBOX = re.compile(r"^(?P<field>.+?)___(?P<code>.+)$")


def read_dictionary(path: Path) -> pd.DataFrame:
    """Data dictionary indexed by field name: ``form_name``, ``field_type``, ``choices``."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False).rename(columns=_DICT_COLUMNS)
    missing = {"field_name", "form_name", "field_type"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: not a REDCap data dictionary (no {', '.join(sorted(missing))})")
    choices_col = df.get("select_choices_or_calculations", pd.Series("", index=df.index))
    df["choices"] = [
        parse_choices(c) if t in ("checkbox", "radio", "dropdown") else {}
        for c, t in zip(choices_col, df["field_type"], strict=True)
    ]
    return df.set_index("field_name")[["form_name", "field_type", "choices"]]


def parse_choices(text: str) -> dict[str, str]:
    """``"1, Right shoulder | 2, Left shoulder"`` -> ``{"1": "Right shoulder", ...}``."""
    out: dict[str, str] = {}
    for part in text.split("|"):
        code, _, label = part.strip().partition(",")
        if code.strip():
            out[code.strip()] = label.strip()
    return out


def checkbox_columns(columns: list[str], field: str) -> dict[str, str]:
    """``{choice code: column}`` of one checkbox field's export columns."""
    out = {}
    for col in columns:
        m = _CHECKBOX.match(col)
        if m and m["field"] == field:
            out[m["code"]] = col
    return out


def check_dictionary(mapping: Mapping, dictionary: pd.DataFrame, source: str) -> list[Problem]:
    """Every mapped field must be in the dictionary; checkbox choices must match it."""
    problems = []
    known = set(dictionary.index) | {EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE}
    for col in sorted(mapping.source_columns() - known):
        problems.append(
            Problem("(dictionary)", col, None, "field is not in the REDCap data dictionary", source)
        )
    if mapping.joints:
        for state, field in mapping.joints.checkbox.items():
            if field not in dictionary.index or dictionary.at[field, "field_type"] != "checkbox":
                problems.append(
                    Problem(
                        "(dictionary)",
                        field,
                        state,
                        "joint findings need a checkbox field of the dictionary",
                        source,
                    )
                )
                continue
            dict_codes = set(dictionary.at[field, "choices"])
            for code in sorted(set(mapping.joints.choices) - dict_codes):
                problems.append(
                    Problem(
                        "(dictionary)",
                        f"{field}___{code}",
                        code,
                        "choice code not defined for this field in the dictionary",
                        source,
                    )
                )
            for code in sorted(dict_codes - set(mapping.joints.choices)):
                problems.append(
                    Problem(
                        "(dictionary)",
                        f"{field}___{code}",
                        code,
                        "dictionary choice has no joint id in [joints] choices",
                        source,
                    )
                )
    return problems


def duplicate_events(raw: pd.DataFrame, record_col: str, rows: Any) -> dict[int, str]:
    """Positions of non-repeating rows whose record id and event appear twice, with the rule
    naming every line that holds the pair (REDCap exports each record and event once; a second
    row is a data error, not a second visit)."""
    if record_col not in raw.columns or EVENT not in raw.columns:
        return {}
    keys = pd.DataFrame({"record": raw[record_col].astype("string").str.strip(),
                         "event": raw[EVENT].astype("string").str.strip()})  # fmt: skip
    plain = np.asarray(rows, dtype=bool) & keys.notna().all(axis=1).to_numpy()
    dup = np.zeros(len(keys), dtype=bool)
    dup[plain] = keys[plain].duplicated(keep=False).to_numpy()
    if not dup.any():
        return {}
    lines = pd.Series(raw.index[dup], index=raw.index[dup])
    groups = lines.groupby([keys["record"][dup], keys["event"][dup]]).agg(list)
    out = {}
    for pos in map(int, dup.nonzero()[0]):
        rec, ev = keys.iat[pos, 0], keys.iat[pos, 1]
        where = " and ".join(map(str, groups[(rec, ev)]))
        out[pos] = (
            f"record {rec} has event {ev} twice (lines {where}); REDCap exports one row per "
            "record and event: keep one"
        )
    return out
