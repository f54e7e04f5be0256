"""One (sub)frame of a source file with its mapping: where each field's raw values come from."""

from __future__ import annotations

from typing import Any

import pandas as pd

from rheumetrics.schema import validate as V
from rheumetrics.schema.fields import Field
from rheumetrics.store.mapping import FieldSpec, Mapping


class SourceFrame:
    """Parsing context of one (sub)frame of the source."""

    def __init__(self, mapping: Mapping, raw: pd.DataFrame, rep: V.Reporter) -> None:
        self.m = mapping
        self.raw = raw
        self.rep = rep

    def column(self, spec: FieldSpec, key: str) -> tuple[pd.Series, str]:
        """Raw values of a field (constant, column, or code-translated column) and its name."""
        if spec.column is None:
            return pd.Series(
                [spec.constant] * len(self.raw), index=self.raw.index, dtype=object
            ), key
        if spec.column not in self.raw.columns:
            self.rep.file_problem(
                spec.column, None, f"column named by the mapping ({key}) is not in the file"
            )
            return pd.Series(
                [None] * len(self.raw), index=self.raw.index, dtype=object
            ), spec.column
        raw = self.raw[spec.column]
        if spec.values is not None:
            raw = V.apply_value_map(raw, spec.values, spec.column, self.rep)
        return raw, spec.column

    def field(
        self, specs: dict[str, FieldSpec], key: str, ftype: Field, default: Any = None
    ) -> pd.Series:
        spec = specs.get(key)
        if spec is None:
            if ftype.required:
                self.rep.file_problem(key, None, "required field is not mapped")
            return pd.Series([default] * len(self.raw), index=self.raw.index, dtype=object)
        raw, name = self.column(spec, key)
        return V.parse_field(raw, ftype, name, self.rep, spec.date_format or self.m.date_format)
