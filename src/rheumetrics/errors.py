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
    ``source`` names the file (or table) when there is one.
    """

    record: Any
    field: str
    value: Any
    rule: str
    source: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}record {self.record!s}, field '{self.field}', value {self.value!r}: {self.rule}"


class RheumetricsError(Exception):
    """Base class of the errors this package raises on purpose."""


class ValidationError(RheumetricsError, ValueError):
    """Input that cannot be used as given; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem], context: str = "invalid input") -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
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
        """All problems as a table with columns source, record, field, value, rule."""
        cols = ["source", "record", "field", "value", "rule"]
        return pd.DataFrame([asdict(p) for p in self.problems], columns=cols)


class ProblemCollector:
    """Accumulates problems across checks and raises them together."""

    def __init__(self, context: str = "invalid input") -> None:
        self.context = context
        self.problems: list[Problem] = []

    def add(
        self, record: Any, field: str, value: Any, rule: str, source: str | None = None
    ) -> None:
        self.problems.append(Problem(record, field, value, rule, source))

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
