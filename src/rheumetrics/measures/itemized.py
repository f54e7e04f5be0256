"""Measures scored from questionnaire items, whose missing-data rule spans several inputs.

For a plain :class:`~rheumetrics.measures.base.Measure` each input is required or optional on its
own. Questionnaire scores decide missingness across items instead: HAQ-DI needs at least 6 of its 8
categories, RAPID3 needs all ten MDHAQ function items or a pre-computed
FN. :class:`ItemizedMeasure` adds such a row rule (``check``): rows that fail it are a
:class:`~rheumetrics.errors.Problem` in strict mode and NaN with that problem as the reason in
lenient mode, never a silent NaN. ``any_of`` names the columns of which at least one must be present
before a table is scored with the measure at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rheumetrics.errors import Problem, ValidationError
from rheumetrics.measures.base import Measure, Prepared
from rheumetrics.measures.conventions import DEFAULT, Conventions


@dataclass(frozen=True)
class RowIssue:
    """Rows that a row rule rejects, with what to report for each of them."""

    mask: np.ndarray  # True where the row cannot be scored
    field: str  # name reported in the Problem (the measure's name for cross-item rules)
    value: np.ndarray  # value reported per row (e.g. the number of categories answered)
    rule: Callable[[int], str]  # the rule, in words, for the row at a flat position


#: A row rule: conventions and the inputs (broadcast to one shape) -> the issues found.
RowCheck = Callable[[Conventions, Mapping[str, np.ndarray]], Sequence[RowIssue]]


@dataclass(frozen=True, kw_only=True)
class ItemizedMeasure(Measure):
    """A :class:`Measure` with a row rule over several items (see the module docstring)."""

    check: RowCheck | None = None
    any_of: tuple[str, ...] = ()

    def row_problems(
        self,
        conventions: Conventions,
        arrays: Mapping[str, np.ndarray],
        records: Sequence[Any] | None = None,
    ) -> tuple[np.ndarray, list[Problem]]:
        """Mask of rows failing the row rule and one Problem per failing row and issue.

        ``records`` labels rows by flat position (e.g. the frame's index); positions otherwise.
        """
        shape = np.broadcast_shapes(*(np.shape(a) for a in arrays.values()))
        full = {k: np.broadcast_to(np.asarray(v, dtype=float), shape) for k, v in arrays.items()}
        failing = np.zeros(shape, dtype=bool)
        problems: list[Problem] = []
        if self.check is None:
            return failing, problems
        for issue in self.check(conventions, full):
            mask = np.broadcast_to(issue.mask, shape)
            failing |= mask
            values = np.broadcast_to(issue.value, shape).reshape(-1)
            for pos in map(int, np.flatnonzero(mask.reshape(-1))):
                record = records[pos] if records is not None else pos
                value = values[pos].item()
                if isinstance(value, float) and np.isnan(value):
                    value = None
                problems.append(Problem(record, issue.field, value, issue.rule(pos)))
        return failing, problems

    def evaluate(
        self,
        inputs: Mapping[str, Any],
        conventions: Conventions = DEFAULT,
        lenient: bool = False,
    ) -> tuple[np.ndarray, Prepared]:
        """As :meth:`Measure.evaluate`, and rows failing the row rule are problems too."""
        out, p = super().evaluate(inputs, conventions, lenient=True)
        failing, problems = self.row_problems(conventions, p.arrays, p.index)
        p.problems.extend(problems)
        p.invalid = np.broadcast_to(p.invalid, failing.shape) | failing
        out = np.where(p.invalid, np.nan, out)
        if p.problems and not lenient:
            raise ValidationError(p.problems, f"cannot compute {self.name}")
        return out, p
