"""Errors and warnings shared by every layer.

Validation never stops at the first problem: callers collect :class:`Problem` records
(record, field, value, what is allowed) and raise one :class:`ValidationError` holding all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

#: How many problems ``str(ValidationError)`` spells out; all of them stay in ``.problems``.
MAX_PROBLEMS_SHOWN = 50


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one value of the input.

    ``record`` is the row label, record id or line number; ``rule`` says what is allowed;
    ``source`` names the file (or table) when there is one; ``line`` is the 1-based line of the
    source file (CSV header = line 1, Excel: the sheet row) and ``key`` the record's natural key
    as ``(name, value)`` pairs (patient id and visit date; REDCap ``record_id`` and event).

    Examples
    --------
    >>> print(Problem(3, "crp_mg_l", "high", "not a number", "visits.csv", line=3,
    ...               key=(("patient_id", "P1"), ("visit_date", "2020-01-02"))))
    visits.csv: line 3 (patient_id P1, visit_date 2020-01-02), field 'crp_mg_l', value 'high': not a number
    """

    record: Any
    field: str
    value: Any
    rule: str
    source: str | None = None
    line: int | None = None
    key: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        at = f"line {self.line}" if self.line is not None else f"record {self.record!s}"
        if self.key:
            at += " (" + ", ".join(f"{k} {v}" for k, v in self.key) + ")"
        return f"{where}{at}, field '{self.field}', value {self.value!r}: {self.rule}"

    def sort_key(self) -> tuple[Any, ...]:
        """Order of reporting: by source, then line (problems without a line last)."""
        line = (
            self.line
            if self.line is not None
            else (self.record if isinstance(self.record, int) else None)
        )
        return (self.source or "", line is None, line or 0)


class RheumetricsError(Exception):
    """Base class of the errors this package raises on purpose."""


class ValidationError(RheumetricsError, ValueError):
    """Input that cannot be used as given; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem], context: str = "invalid input") -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(problems, key=Problem.sort_key))
        self.context = context
        super().__init__(self._message())

    def _message(self) -> str:
        n = len(self.problems)
        lines = [f"{self.context}: {n} problem{'s' if n != 1 else ''}"]
        lines += [f"  - {p}" for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        if n > MAX_PROBLEMS_SHOWN:
            lines.append(f"  ... and {n - MAX_PROBLEMS_SHOWN} more (see .problems / .to_frame())")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """All problems as a table with columns source, line, record, key, field, value, rule."""
        cols = ["source", "line", "record", "key", "field", "value", "rule"]
        rows = [{**asdict(p), "key": dict(p.key) or None} for p in self.problems]
        return pd.DataFrame(rows, columns=cols)


class ProblemCollector:
    """Accumulates problems across checks and raises them together."""

    def __init__(self, context: str = "invalid input") -> None:
        self.context = context
        self.problems: list[Problem] = []

    def add(
        self,
        record: Any,
        field: str,
        value: Any,
        rule: str,
        source: str | None = None,
        *,
        line: int | None = None,
        key: tuple[tuple[str, Any], ...] = (),
    ) -> None:
        self.problems.append(Problem(record, field, value, rule, source, line, key))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise ValidationError(self.problems, self.context)


class RheumetricsWarning(UserWarning):
    """Base class of the warnings this package emits (the test suite turns them into errors)."""


class UnitWarning(RheumetricsWarning):
    """A value is plausible only in another unit (e.g. a CRP in mg/L passed as mg/dL)."""
