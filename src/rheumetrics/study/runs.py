"""The runs of a study file's analyses and the keys that name them.

An ``[analyses]`` entry is ``true``, one table of options, or a list of tables; each table is one
*run*. A run is keyed by its ``name`` option when it has one, otherwise by its position:
``roc`` for the first table, ``roc_2``, ``roc_3`` ... for the next. The key names everything of
the run: its report section (the HTML anchor ``#<key>``), its tables and their CSV files
(``<key>.csv``; a second table such as ``meta_studies`` becomes ``<key>_studies``), the
published-figure locators (``<key>[...].column``), the run a ``sensitivity`` analysis repeats
and the problems found while it runs (``analyses.<key>``). A name keeps these stable when runs
are added, removed or reordered.

A name is a lowercase identifier (it becomes a file name, also on case-insensitive file
systems, and an HTML anchor), unique among the study's runs, and never a name the report
gives itself: another analysis's name, a positional key (``roc_2``), ``methods`` or
``published``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rheumetrics.errors import ProblemCollector, ValidationError

if TYPE_CHECKING:
    from rheumetrics.study.definitions import Study
    from rheumetrics.study.file_tables import StudyFileCheck
    from rheumetrics.study.registry import Section

#: A run's name: a lowercase letter, then lowercase letters, digits and underscores (64 at most).
NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")

#: Keys of the report's own parts: the methods section and the published-figure comparison
#: (its anchor and ``published.csv``).
RESERVED = frozenset({"methods", "published"})

#: What a name may be, as problems say it.
ALLOWED = ("lowercase letters a-z, digits and underscores, starting with a letter, at most 64 "
           "characters (it names the run's section anchor and CSV files), e.g. 'roc_progression'")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Run:
    """One run of an analysis as the study file gives it: where its options are
    (``analyses.roc[1]``), the registered analysis, its positional key and its options."""

    where: str
    kind: str
    positional: str
    options: dict[str, Any]

    @property
    def name(self) -> Any:
        """The ``name`` option as given (None when absent)."""
        return self.options.get("name")


def instances(c: StudyFileCheck, name: str, raw: Any) -> list[tuple[str, Any]]:
    """The runs an ``[analyses]`` entry asks for, each with where its problems are reported:
    ``true`` (defaults) or one table is one run at ``analyses.<name>``; a list of tables is one
    run per table at ``analyses.<name>[<index>]``; ``false`` is none."""
    if isinstance(raw, list):
        if not raw:
            c.add(
                "analyses",
                name,
                raw,
                "an empty list: give one table of options or a list of tables",
            )
        return [(f"analyses.{name}[{k}]", spec) for k, spec in enumerate(raw)]
    if isinstance(raw, bool):
        return [(f"analyses.{name}", {})] if raw else []
    return [(f"analyses.{name}", raw)]


def positional_key(kind: str, index: int) -> str:
    """The key of the run at ``index`` of ``kind``'s list when it has no name.

    >>> positional_key("roc", 0), positional_key("roc", 1)
    ('roc', 'roc_2')
    """
    return kind if index == 0 else f"{kind}_{index + 1}"


def name_problem(name: Any, kind: str, analyses: Iterable[str]) -> str | None:
    """Why ``name`` cannot name a run of the analysis ``kind`` (None when it can).

    >>> name_problem("roc_progression", "roc", ["roc", "logistic"]) is None
    True
    >>> name_problem("logistic", "roc", ["roc", "logistic"])
    "the name of another analysis (logistic); choose a name of this run's own"
    >>> name_problem("roc_2", "roc", ["roc", "logistic"])
    'the form of a positional key (roc_2, roc_3, ... key the runs of roc without a name); choose another name'
    """
    known = set(analyses)
    if not isinstance(name, str):
        return f"must be text: {ALLOWED}"
    if NAME.fullmatch(name) is None:
        return f"must be {ALLOWED}"
    if name in RESERVED:
        what = "methods section" if name == "methods" else "published-figure table and CSV"
        return f"reserved for the report's {what}; choose another name"
    if name in known and name != kind:
        return f"the name of another analysis ({name}); choose a name of this run's own"
    stem, _, number = name.rpartition("_")
    if stem in known and number.isdigit():
        return (f"the form of a positional key ({stem}_2, {stem}_3, ... key the runs of {stem} "
                "without a name); choose another name")  # fmt: skip
    return None


def run_keys(c: StudyFileCheck, runs: list[Run], analyses: Iterable[str]) -> list[str]:
    """The key of each run: its ``name`` when it has a valid one, otherwise its positional key.

    Every invalid name is a problem at the run (``analyses.roc[1]``, field ``name``), as is a
    name another run already has (as its name or as its positional key), naming that run.
    """
    known = list(analyses)
    keys = [run.positional for run in runs]
    taken = {run.positional: (run.where, "a run without a name, keyed by position")
             for run in runs if run.name is None}  # fmt: skip
    for k, run in enumerate(runs):
        if run.name is None:
            continue
        why = name_problem(run.name, run.kind, known)
        if why is None and run.name in taken:
            where, how = taken[run.name]
            why = f"already the key of the run at {where} ({how}); each run needs its own key"
        if why is not None:
            c.add(run.where, "name", run.name, why)
            continue
        keys[k] = run.name
        taken[run.name] = (run.where, "its name")
    return keys


@contextmanager
def problems_of(study: Study, kind: str, key: str) -> Iterator[None]:
    """Problems raised while the run ``key`` of ``kind`` computes are reported at the run: the
    record ``analyses.<kind>`` becomes ``analyses.<key>`` (``analyses.roc_2``,
    ``analyses.progression``) and they name the study file."""
    try:
        yield
    except ValidationError as err:
        source = str(study.path) if study.path is not None else None
        moved = [dataclasses.replace(p, record=f"analyses.{key}" if p.record == f"analyses.{kind}"
                                     else p.record, source=p.source or source)
                 for p in err.problems]  # fmt: skip
        raise ValidationError(moved, err.context) from None


def check_tables(study: Study, sections: dict[str, Section]) -> None:
    """Refuse two runs writing a table of the same name (their CSV files would overwrite each
    other), which only a name can cause: ``name = "meta_studies"`` given to a run of a study
    whose ``meta`` analysis writes ``meta_studies.csv``. The problem is reported at the named
    run, naming the other."""
    owners: dict[str, list[str]] = {}
    for key, section in sections.items():
        for table in section.tables:
            owners.setdefault(table, []).append(key)
    problems = ProblemCollector("invalid study file")
    source = str(study.path) if study.path is not None else None
    for table, keys in owners.items():
        for key in keys if len(keys) > 1 else ():
            if study.analyses[key].get("name") is None:
                continue
            others = ", ".join(k for k in keys if k != key)
            problems.add(f"analyses.{key}", "name", key,
                         f"its table {table} ({table}.csv) is also a table of the run {others}; "
                         "choose another name", source)  # fmt: skip
    problems.raise_if_any()
