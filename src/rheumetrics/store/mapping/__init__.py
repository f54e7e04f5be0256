"""Mapping files: how the columns of a user's file become store records (TOML, checkable alone).

A mapping names, for each stored field, the source column it comes from (``"col"``), a constant
(``{ value = ... }``), or a column translated through a code table
(``{ column = "sex", values = { M = "male", V = "female" } }``). See ``docs/store.md`` for the
full format and ``rheumetrics/store/mappings/`` for worked examples (RAPPORT, REDCap).

- :mod:`~rheumetrics.store.mapping.tables`: the file format as pydantic models, the one
  validation ``check-mapping`` and ``import`` share;
- :mod:`~rheumetrics.store.mapping.problems`: pydantic errors as one-line problems (file, key
  path, value, what is allowed);
- :mod:`~rheumetrics.store.mapping.specs`: the checked mapping import reads;
- :mod:`~rheumetrics.store.mapping.files`: :func:`load_mapping` and :func:`parse_mapping`.

A mapping is checked against a source file's columns and a REDCap data dictionary, as ``import``
reads them, by :func:`rheumetrics.store.mapping_check.check_mapping`.
"""

from rheumetrics.store.mapping.files import (
    MAX_MAPPING_BYTES,
    load_mapping,
    parse_mapping,
)
from rheumetrics.store.mapping.specs import FieldSpec, JointSpec, LongSpec, Mapping, RedcapSpec
from rheumetrics.store.mapping.tables import FORMATS, JOINT_STATES, LAYOUTS

__all__ = [
    "FORMATS",
    "JOINT_STATES",
    "LAYOUTS",
    "MAX_MAPPING_BYTES",
    "FieldSpec",
    "JointSpec",
    "LongSpec",
    "Mapping",
    "RedcapSpec",
    "load_mapping",
    "parse_mapping",
]
