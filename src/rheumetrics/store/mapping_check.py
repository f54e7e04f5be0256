"""Checking a mapping file on its own, and against a source file exactly as ``import`` reads it
(``rheumetrics db check-mapping MAPPING --source FILE``)."""

from __future__ import annotations

import re
from pathlib import Path

from rheumetrics.errors import ProblemCollector
from rheumetrics.store.importer import stage_file
from rheumetrics.store.mapping import JointSpec, Mapping, load_mapping
from rheumetrics.store.readers import read_header

_CHECKBOX = re.compile(r"^(?P<field>.+)___(?P<code>[^_].*)$")


def check_mapping(
    path: str | Path,
    source: str | Path | None = None,
    *,
    dictionary: str | Path | None = None,
    allow_outside: bool = False,
) -> Mapping:
    """Check a mapping on its own, and against ``source`` when one is given.

    The mapping is validated exactly as ``import`` validates it
    (:class:`~rheumetrics.store.mapping.tables.MappingFile`). With a source, the file is read and
    checked as ``import`` reads it, and every problem that would make ``import`` refuse the file
    as a whole (a missing column, an unreadable encoding, a REDCap dictionary that does not fit)
    is reported. Raises :class:`ValidationError`.
    """
    mapping = load_mapping(path, allow_outside=allow_outside)
    if source is not None:
        header = read_header(mapping, Path(source))
        found = ProblemCollector("mapping does not fit the source")
        present = set(header)
        if mapping.format == "redcap":
            present |= {m["field"] for col in header if (m := _CHECKBOX.match(col))}
        joint_patterns = _pattern_columns(mapping.joints) if mapping.joints else set()
        for col in sorted(mapping.source_columns() - present - joint_patterns):
            found.add(
                "(header)", col, None, "column named by the mapping is not in the file", str(source)
            )
        found.raise_if_any()
        staged = stage_file(mapping, source, dictionary)
        found.extend(p for p in staged.problems if p.record in ("(file)", "(header)"))
        found.raise_if_any()
    return mapping


def _pattern_columns(joints: JointSpec) -> set[str]:
    """Columns of pattern-given joints: joints absent from the file are simply not assessed."""
    return {col for state in joints.pattern for col in joints.columns[state].values()}
