"""The analyses a study file can ask for, each registered once.

An analysis is one :class:`Analysis`: its study-file key, the options it accepts, whether it
needs a change between two visits, the function that computes its :class:`Section` (tidy tables
for the CSVs, a display table, figures, notes), the sentence it adds to the generated methods
and, optionally, the check of its options.
The study-file checker (every analysis's options, then its ``check`` hook), the report (its
sections in registry order) and the generated methods read this registry, so a new analysis is
one :func:`register` call (see :mod:`rheumetrics.study.sections`) and a row in the table of
analyses in ``docs/reports.md``, which is written by hand (a test checks that every registered
analysis has its row there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rheumetrics.study.definitions import Study
    from rheumetrics.study.design import StudyData
    from rheumetrics.study.file_tables import StudyFileCheck


@dataclass
class Section:
    """What one analysis adds to the report.

    ``tables`` are tidy (written as CSV, named by key); ``display`` is the table as printed
    (columns may be a two-level header); ``figures`` are matplotlib figures with captions;
    ``diagrams`` are SVG documents drawn directly (the flow diagram) with captions, numbered
    with the figures.
    """

    title: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    display: pd.DataFrame | None = None
    caption: str = ""
    footnotes: list[str] = field(default_factory=list)
    figures: dict[str, tuple[Figure, str]] = field(default_factory=dict)
    diagrams: dict[str, tuple[str, str]] = field(default_factory=dict)
    conventions: dict[str, Any] = field(default_factory=dict)


Runner = Callable[["Study", "StudyData", dict[str, Any]], Section]
Methods = Callable[["Study", dict[str, Any]], str]
#: Checks an analysis's options when the study file is read: (checker, study, where, options).
Check = Callable[["StudyFileCheck", "Study", str, dict[str, Any]], None]


@dataclass(frozen=True)
class Analysis:
    """A registered analysis (see the module docstring)."""

    name: str
    options: frozenset[str]
    run: Runner
    methods: Methods
    needs_change: bool = False
    needs_cohort: bool = True
    doc: str = ""
    check: Check | None = None


#: Registered analyses in report order (the built-in ones once :mod:`rheumetrics.study.sections`
#: is imported; :func:`rheumetrics.study.sections.analyses` gives it with them).
REGISTRY: dict[str, Analysis] = {}


def register(
    name: str,
    options: set[str] | frozenset[str] = frozenset(),
    *,
    methods: Methods,
    needs_change: bool = False,
    needs_cohort: bool = True,
    check: Check | None = None,
) -> Callable[[Runner], Runner]:
    """Decorator registering ``run`` as the analysis ``name`` (its docstring documents it);
    ``check`` reports problems of its options when the study file is read."""

    def wrap(run: Runner) -> Runner:
        REGISTRY[name] = Analysis(name, frozenset(options), run, methods, needs_change,
                                  needs_cohort, (run.__doc__ or "").strip(), check)  # fmt: skip
        return run

    return wrap
