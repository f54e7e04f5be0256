"""A checked mapping as import reads it: where each stored field comes from.

These are built from a validated mapping file (:mod:`rheumetrics.store.mapping.tables`) and
read by the importer's readers and staging.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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
    """REDCap exports: the data dictionary, events and repeating instruments."""

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
        groups = (self.patient, self.attributes, self.visit, self.values, self.therapy,
                  self.imaging)  # fmt: skip
        for group in groups:
            for spec in (group or {}).values():
                cols.update(spec.columns())
        if self.long:
            cols.update(c for c in (self.long.item, self.long.value, self.long.unit) if c)
        if self.joints:
            for by_joint in self.joints.columns.values():
                cols.update(by_joint.values())
        return cols
