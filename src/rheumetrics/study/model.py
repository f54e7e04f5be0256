"""Study files: a short TOML description of a clinical-versus-imaging study, checked as a whole.

A study file names the cohort (a store URL, optionally built from bundled files, or plain files),
how patients are enrolled into groups (a therapy start, a patient attribute, or everyone), the
visits with their windows around the enrolment date, the clinical and imaging outcomes, the
patient characteristics and confounders, and which analyses to run: each ``[analyses]`` key is
``true``, one table of options, or a list of tables (``[[analyses.roc]]`` twice: two ROC
analyses, keyed ``roc`` and ``roc_2`` in the report, its CSV names and the published-figure
locators, or by each run's ``name`` option; see :mod:`rheumetrics.study.runs`).
``docs/reports.md`` documents every key, ``docs/studies.md`` the runs of an analysis;
``rheumetrics/studies/`` holds worked examples.

:func:`load_study` reports *every* problem of a study file at once (a :class:`ValidationError`
naming the key path, the value and what is allowed): an unknown outcome, a group without a rule,
a visit window that ends before it starts, an analysis that names an undefined outcome, ...
A group that turns out empty in the data is reported when the study is run.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

from rheumetrics.errors import ProblemCollector
from rheumetrics.study.analysis_checks import check_analyses
from rheumetrics.study.definitions import (
    BUNDLED,
    CORRELATIONS,
    ENROLMENT_SOURCES,
    GROUP_TESTS,
    MEDIAN_VARIANTS,
    PATIENT_FIELDS,
    SUMMARIES,
    Characteristic,
    CohortSource,
    Enrolment,
    Group,
    ImagingSpec,
    Import,
    Outcome,
    Published,
    Study,
    VisitSpec,
)
from rheumetrics.study.file_tables import (
    StudyFileCheck,
    characteristics_table,
    cohort_table,
    convention_names,
    enrolment_table,
    outcomes_table,
    published_table,
    visits_table,
)
from rheumetrics.study.sections import analyses as registered

__all__ = [
    "BUNDLED",
    "CORRELATIONS",
    "ENROLMENT_SOURCES",
    "GROUP_TESTS",
    "MEDIAN_VARIANTS",
    "PATIENT_FIELDS",
    "SUMMARIES",
    "Characteristic",
    "CohortSource",
    "Enrolment",
    "Group",
    "ImagingSpec",
    "Import",
    "Outcome",
    "Published",
    "Study",
    "VisitSpec",
    "bundled_path",
    "load_study",
    "parse_study",
    "resolve_study",
]


def bundled_path(name: str) -> Path:
    """Path of a bundled study file by name (``"nz_mri"``, ``"rapport"``)."""
    return Path(str(files("rheumetrics") / "studies" / f"{name}.toml"))


def resolve_study(spec: str | Path) -> Path:
    """A study file path, or the bundled study of that name when ``spec`` names no file (a
    folder called ``rapport``, such as a report's output folder, does not hide the bundled
    ``rapport`` study).

    >>> resolve_study("rapport").name
    'rapport.toml'
    """
    path = Path(spec)
    if not path.is_file() and str(spec) in BUNDLED:
        return bundled_path(str(spec))
    return path


def load_study(spec: str | Path, *, allow_outside: bool = False) -> Study:
    """Read and check a study file (or a bundled study by name); every problem is reported.

    Paths in the file must stay inside its folder (``package:`` paths inside the installed
    package) unless ``allow_outside`` is true (``rheumetrics report --allow-outside``).
    """
    path = resolve_study(spec)
    try:
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a folder, not a study file")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems = ProblemCollector("invalid study file")
        problems.add(
            "(file)", "path", str(spec), f"cannot read: {exc}; bundled: {', '.join(BUNDLED)}"
        )
        problems.raise_if_any()
        raise AssertionError("unreachable") from exc
    return parse_study(text, path, allow_outside=allow_outside)


_TOP = {"study", "cohort", "enrolment", "groups", "visits", "outcomes", "characteristics",
        "analyses", "imaging", "published", "conventions"}  # fmt: skip


def parse_study(text: str, path: Path | None = None, *, allow_outside: bool = False) -> Study:
    """Check a study given as TOML text; relative paths resolve against ``path``'s folder and
    must stay inside it unless ``allow_outside`` (see :func:`load_study`)."""
    base = path.parent if path else Path.cwd()
    c = StudyFileCheck(str(path) if path else "(study)", base, allow_outside)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        c.add("(file)", "toml", None, f"not valid TOML: {exc}")
        c.problems.raise_if_any()
        raise AssertionError("unreachable") from exc
    c.keys("(top)", doc, _TOP)

    head = c.keys("study", doc.get("study", {}),
                  {"title", "synthetic", "description", "reference", "built_to_match"})  # fmt: skip
    asked = doc.get("analyses", {})
    cohort_free = (
        isinstance(asked, dict)
        and bool(asked)
        and all(
            k in registered() and not registered()[k].needs_cohort for k in asked if k != "change"
        )
    )
    title = c.text("study", head, "title")
    synthetic = head.get("synthetic", False)
    if not isinstance(synthetic, bool):
        c.add("study", "synthetic", synthetic, "must be true or false")

    if cohort_free and "cohort" not in doc:  # a meta-analysis or planning study: no patients
        cohort = CohortSource()
        enrolment = Enrolment("all", None, None, (Group("all", "All"),))
        visits: tuple[VisitSpec, ...] = ()
        outcomes: tuple[Outcome, ...] = ()
    else:
        cohort = cohort_table(c, doc.get("cohort"), base)
        enrolment = enrolment_table(c, doc.get("enrolment", {}), doc.get("groups"))
        visits = visits_table(c, doc.get("visits"))
        outcomes = outcomes_table(c, doc.get("outcomes"), [v.id for v in visits])
    visit_ids = [v.id for v in visits]
    chars_raw = c.keys("characteristics", doc.get("characteristics", {}), {"unit", "variables"})
    unit = chars_raw.get("unit", "patient")
    if unit not in ("patient", "enrolment"):
        c.add("characteristics", "unit", unit, "must be 'patient' (first enrolment) or 'enrolment'")
    characteristics = characteristics_table(c, chars_raw.get("variables", []))
    imaging_raw = c.keys("imaging", doc.get("imaging", {}), {"session"})
    session = str(imaging_raw.get("session", "1"))

    analyses_raw = c.keys("analyses", doc.get("analyses", {}), {*registered(), "change"})
    published = published_table(c, doc.get("published", []))
    conventions = c.keys("conventions", doc.get("conventions", {}), convention_names())
    if conventions:
        from rheumetrics.measures.conventions import Conventions

        try:
            Conventions().with_(**{k: v for k, v in conventions.items() if k in convention_names()})
        except (ValueError, TypeError, KeyError) as exc:
            c.add(
                "conventions", "conventions", conventions, f"not a valid set of conventions: {exc}"
            )
    change = None
    if "change" in analyses_raw:
        pair = analyses_raw["change"]
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(v in visit_ids for v in pair)
        ) or (isinstance(pair, list) and len(pair) == 2 and pair[0] == pair[1]):
            c.add(
                "analyses",
                "change",
                pair,
                f"must be two different visits of: {', '.join(visit_ids)}",
            )
        else:
            change = (pair[0], pair[1])
    elif len(visit_ids) >= 2:
        change = (visit_ids[0], visit_ids[-1])
    study = Study(
        path=path,
        title=title,
        synthetic=bool(synthetic),
        description=str(head.get("description", "")),
        reference=str(head.get("reference", "")),
        cohort=cohort,
        enrolment=enrolment,
        visits=visits,
        outcomes=outcomes,
        characteristics=characteristics,
        characteristics_unit=str(unit),
        analyses={k: v for k, v in analyses_raw.items() if k != "change"},
        change=change,
        imaging_session=session,
        built_to_match=str(head.get("built_to_match", "")),
        published=published,
        conventions=dict(conventions),
    )
    check_analyses(c, study, base, registered())
    c.problems.raise_if_any()
    return study
