"""Run a study and write its self-contained report (HTML, or PDF on A4), with every table as CSV.

:func:`run_study` loads the cohort, builds the analysis frame and runs every analysis the study
file asks for (each registered once in :mod:`rheumetrics.study.sections`); :func:`write_report`
renders numbered tables and figures with captions and footnotes, the methods generated from the
study file, the published figures beside the computed ones (reproduction mode) and the
conventions of the measures used, and writes each tidy table as ``<report>_tables/<name>.csv``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from rheumetrics import __version__
from rheumetrics.measures import MEASURES
from rheumetrics.measures.base import Measure
from rheumetrics.study import published as pub
from rheumetrics.study import runs
from rheumetrics.study.analyses.groups import enrolment_text
from rheumetrics.study.cohort import Cohort, load_cohort
from rheumetrics.study.definitions import Outcome, Study
from rheumetrics.study.design import StudyData, empty_data, study_data
from rheumetrics.study.figures import embed
from rheumetrics.study.formatting import format_p, num
from rheumetrics.study.registry import Section
from rheumetrics.study.sections import analyses

__all__ = [
    "StudyReport",
    "format_p",
    "outcome_measure",
    "render_html",
    "report_steps",
    "results_json",
    "run_study",
    "write_report",
]


@dataclass
class StudyReport:
    """The computed study: its sections (in report order), tidy tables and the comparison with
    the published figures."""

    study: Study
    source: str
    sections: dict[str, Section] = field(default_factory=dict)
    scoring: dict[str, Any] = field(default_factory=dict)
    data: StudyData | None = None
    reproduction: pd.DataFrame | None = None

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every tidy table by name (the CSVs)."""
        return {k: v for s in self.sections.values() for k, v in s.tables.items()}

    @property
    def figures(self) -> dict[str, Any]:
        return {k: fig for s in self.sections.values() for k, (fig, _) in s.figures.items()}


def report_steps(study: Study, *, with_cohort: bool | None = None) -> list[str]:
    """The steps :func:`run_study` announces to its ``progress`` callback, in order (a progress
    bar's total): loading the cohort and building the analysis frame (studies with patients),
    one step per analysis, and the comparison with the published figures."""
    has_patients = study.cohort.store is not None or study.cohort.visits is not None
    steps = ["loading the cohort", "building the analysis frame"]
    if not (has_patients if with_cohort is None else with_cohort):
        steps = []
    steps += [f"analysis: {key}" for key in _runs(study)]
    if study.published:
        steps.append("comparing with the published figures")
    return steps


def run_study(
    study: Study,
    cohort: Cohort | None = None,
    *,
    db_url: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyReport:
    """Compute every analysis of ``study`` (loading the cohort unless given or not needed).

    ``progress`` is called with each step of :func:`report_steps` as it starts (and with finer
    messages, such as the file being imported, in between).
    """
    note = progress or (lambda _msg: None)
    registry = analyses()
    asked = study.analyses
    has_patients = study.cohort.store is not None or study.cohort.visits is not None
    needs_cohort = has_patients or cohort is not None or db_url is not None
    if needs_cohort:
        note("loading the cohort")
        cohort = cohort or load_cohort(study, db_url, note)
        note("building the analysis frame")
        data = study_data(study, cohort)
        source, scoring = cohort.source, _used_conventions(study, cohort.conventions)
    else:
        data, source, scoring = empty_data(), "study-level table (no patient data)", {}
    rep = StudyReport(study=study, source=source, scoring=scoring, data=data)
    for key in _runs(study):
        note(f"analysis: {key}")
        kind = study.kind(key)
        with runs.problems_of(study, kind, key):
            section = registry[kind].run(study, data, asked[key])
        titles = {sec.title for sec in rep.sections.values()}
        rep.sections[key] = _as_run(section, kind, key, asked[key], titles)
    runs.check_tables(study, rep.sections)
    if study.published:
        note("comparing with the published figures")
        rep.reproduction = pub.compare(rep.tables, study.published)
        _flag_sections(rep)
    return rep


def _runs(study: Study) -> list[str]:
    """The keys of the study's analyses in report order: the registry's order, and the runs of
    an analysis given a list of option tables (``roc``, ``roc_2``, ...) in the file's order."""
    order = {name: k for k, name in enumerate(analyses())}
    return sorted(study.analyses, key=lambda key: order[study.kind(key)])


def _as_run(
    section: Section, kind: str, key: str, spec: dict[str, Any], titles: set[str]
) -> Section:
    """``section`` of the run ``key`` of the analysis ``kind``: its ``title`` option as title,
    numbered when an earlier section (``titles``) has the same, and for a repeated or named run
    (``roc_2``, ``repair``) its key in the names of its tables and figures (``roc_2.csv``;
    ``meta_studies`` -> ``meta_2_studies``)."""
    if key != kind:

        def rename(name: str) -> str:
            if name == kind or name.startswith(f"{kind}_"):
                return key + name[len(kind) :]
            return f"{key}_{name}"

        section.tables = {rename(k): v for k, v in section.tables.items()}
        section.figures = {rename(k): v for k, v in section.figures.items()}
        section.diagrams = {rename(k): v for k, v in section.diagrams.items()}
    if isinstance(spec.get("title"), str):
        section.title = spec["title"]
    if section.title in titles:  # two runs with the same title: numbered, "ROC analysis (2)"
        section.title = f"{section.title} ({key.removeprefix(kind + '_')})"
    return section


def results_json(rep: StudyReport) -> dict[str, Any]:
    """The computed results as a JSON-ready document: the study, the data source, the scoring
    conventions, every tidy table (the CSVs) as records, and the reproduction comparison.

    Non-finite numbers become null; dates become ISO strings.
    """
    import json

    def plain(value: Any) -> Any:
        if isinstance(value, dt.date | pd.Timestamp):
            return value.isoformat()
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not np.isfinite(value):
            return None
        if value is pd.NA or value is pd.NaT:
            return None
        return value if isinstance(value, str | int | float | bool | type(None)) else str(value)

    def records(df: pd.DataFrame) -> list[dict[str, Any]]:
        cols = [str(c) for c in df.columns]
        return [
            {c: plain(v) for c, v in zip(cols, row, strict=True)}
            for row in df.itertuples(index=False, name=None)
        ]

    doc: dict[str, Any] = {
        "study": {
            "title": rep.study.title,
            "file": str(rep.study.path) if rep.study.path else None,
            "synthetic": rep.study.synthetic,
        },
        "source": rep.source,
        "rheumetrics_version": __version__,
        "conventions": json.loads(json.dumps(rep.scoring, default=str)),
        "analyses": {
            key: {"analysis": rep.study.kind(key), "title": sec.title, "tables": list(sec.tables)}
            for key, sec in rep.sections.items()
        },
        "tables": {name: records(df) for name, df in rep.tables.items()},
    }
    if rep.reproduction is not None:
        doc["reproduction"] = {
            "summary": pub.summary(rep.reproduction),
            "figures": records(rep.reproduction),
        }
    return doc


def outcome_measure(outcome: Outcome) -> Measure | None:
    """The registered measure an outcome's values are scored with, or None.

    A clinical outcome whose visit-frame column is a measure's name holds that measure, scored
    by the cohort under the study's conventions (see :mod:`rheumetrics.study.cohort`). Any other
    clinical column is a value as recorded (an item such as ``tjc28``, or a score taken as
    reported such as ``das28_reported``), and an imaging outcome is a total of reads, described
    by its scoring system and version instead; no scoring convention applies to either. Change
    scores are computed from the outcomes, so they follow their outcome's measure.

    >>> from rheumetrics.study.definitions import Outcome
    >>> outcome_measure(Outcome("crp", "DAS28-CRP", 2, ("V1",), column="das28_crp")).name
    'das28_crp'
    >>> outcome_measure(Outcome("das28", "DAS28", 2, ("V1",), column="das28_reported")) is None
    True
    """
    if outcome.is_imaging:
        return None
    return MEASURES.get(str(outcome.column))


#: Recorded with every result, whichever measures are used.
_ALWAYS_KEPT = ("rounding", "rheumetrics_version")


def _used_conventions(study: Study, conventions: dict[str, Any]) -> dict[str, Any]:
    """The scoring conventions that concern the measures the study's outcomes are scored with
    (each measure's declared :attr:`~rheumetrics.measures.base.Measure.convention_fields`),
    plus the rounding and the package version: for a DAS28-CRP outcome the DAS28-CRP cut-offs
    and the DAS28 global item, not the DAS28-ESR cut-offs; none for a value taken as reported."""
    used = (outcome_measure(o) for o in study.outcomes)
    wanted = {f for m in used if m is not None for f in m.convention_fields}
    return {k: v for k, v in conventions.items() if k in wanted or k in _ALWAYS_KEPT}


def _plain(value: Any, labels: dict[str, str]) -> str:
    """A convention's value as prose: lists joined, dictionaries as ``key: value``, booleans as
    yes/no, variable names by their labels ("" for None or an empty collection: left out).

    >>> _plain(["age_years", "erosion@V1"], {"age_years": "Age (years)"})
    'Age (years), erosion@V1'
    >>> _plain(False, {}), _plain(None, {}), _plain({}, {}), _plain(0.05, {})
    ('no', '', '', '0.05')
    """
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, dict):
        parts = [(str(k).replace("_", " "), _plain(v, labels)) for k, v in value.items()]
        return "; ".join(f"{k}: {v}" for k, v in parts if v)
    if isinstance(value, list | tuple | set):
        return ", ".join(x for x in (_plain(v, labels) for v in value) if x)
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return labels.get(str(value), str(value))


def _plain_items(conventions: dict[str, Any], labels: dict[str, str]) -> list[tuple[str, str]]:
    """(name, text) pairs of a conventions dictionary, leaving out empty values."""
    pairs = [(str(k).replace("_", " "), _plain(v, labels)) for k, v in conventions.items()]
    return [(k, v) for k, v in pairs if v]


#: How many figures not reproduced a table's footnote names (the rest are counted and pointed to).
SHOWN_NOT_REPRODUCED = 12


def _flag_sections(rep: StudyReport) -> None:
    """A footnote under each table saying how many of its published figures were reproduced."""
    comp = rep.reproduction
    assert comp is not None
    for section in rep.sections.values():
        mine = comp[comp["source"].isin(list(section.tables))]
        if mine.empty:
            continue
        ok = int((mine["status"] == pub.REPRODUCED).sum())
        bad = mine[mine["status"] != pub.REPRODUCED]
        text = (
            f"Published figures for this table: {ok} of {len(mine)} reproduced at printed precision"
        )
        if len(bad):
            listed = "; ".join(f"{r.row} {r.statistic} published {num(r.published, r.digits)}, "
                               f"computed {num(r.computed, r.digits) or 'not computed'}"
                               for r in bad.head(SHOWN_NOT_REPRODUCED).itertuples())  # fmt: skip
            text += f". NOT reproduced ({len(bad)}): {listed}"
            if len(bad) > SHOWN_NOT_REPRODUCED:
                text += (f"; and {len(bad) - SHOWN_NOT_REPRODUCED} more, listed in the table of "
                         "published and computed figures at the end of the report")  # fmt: skip
        section.footnotes.append(text + ".")


# -- rendering ------------------------------------------------------------------------------------


def _html_table(df: pd.DataFrame) -> Markup:
    return Markup(df.to_html(index=False, escape=True, na_rep="", border=0, sparsify=True))


def _reproduction_display(comp: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Published in": comp["table"], "Row": comp["row"], "Statistic": comp["statistic"],
        "Published": [num(v, int(d)) for v, d in zip(comp["published"], comp["digits"], strict=True)],
        "Computed": [num(v, int(d)) for v, d in zip(comp["computed"], comp["digits"], strict=True)],
        "Status": comp["status"], "Targeted": np.where(comp["targeted"], "targeted", ""),
    })  # fmt: skip


def methods_text(rep: StudyReport) -> list[str]:
    """The methods section, one paragraph per analysis asked for, generated from the study file."""
    registry = analyses()
    study = rep.study
    paras = []
    if study.groups and study.visits:
        names = {v.id: v.label for v in study.visits}
        a, b = (names[v] for v in study.change) if study.change else ("", "")
        paras.append(
            f"Enrolment: {enrolment_text(study)}; groups: "
            + ", ".join(g.label for g in study.groups) + ". Visits: "
            + ", ".join(f"{v.label} ({v.window[0]} to {v.window[1]} days, target {v.target})" for v in study.visits)
            + (f". Change: {b} minus {a}." if study.change else ".")
        )  # fmt: skip
    for name in rep.sections:
        text = registry[study.kind(name)].methods(study, study.analyses[name])
        if text not in paras:  # repeated runs of an analysis share its methods sentence
            paras.append(text)
    paras.append(f"Analyses were computed with rheumetrics {__version__} (Python; statistics "
                 "checked against R reference implementations). p-values print with three "
                 "decimals, four below 0.01 and as <0.0001 below that; display rounding is half-up.")  # fmt: skip
    return paras


def render_html(rep: StudyReport, tables_dir: str = "", *, pdf: bool = False) -> str:
    """The report as one self-contained HTML page (``pdf``: styled for A4 pages)."""
    env = Environment(autoescape=select_autoescape(["html"]))
    template = env.from_string(
        (files("rheumetrics.study") / "templates" / "report.html").read_text("utf-8")
    )
    blocks, n_table, n_figure = [], 0, 0
    labels = rep.data.labels if rep.data is not None else {}
    for key, sec in rep.sections.items():
        table = None
        if sec.display is not None and not sec.display.empty:
            n_table += 1
            table = {"number": n_table, "caption": sec.caption, "html": _html_table(sec.display),
                     "wide": len(sec.display.columns) > 9}  # fmt: skip
        figures = []
        for svg, caption in sec.diagrams.values():
            n_figure += 1
            figures.append({"number": n_figure, "caption": caption, "svg": Markup(svg)})
        for fig, caption in sec.figures.values():
            n_figure += 1
            figures.append(
                {"number": n_figure, "caption": caption, "src": embed(fig, "svg" if pdf else "png")}
            )
        blocks.append({"id": key, "title": sec.title, "table": table, "figures": figures,
                       "footnotes": sec.footnotes,
                       "conventions": _plain_items(sec.conventions, labels)})  # fmt: skip
    comp = rep.reproduction
    reproduction = None
    if comp is not None and len(comp):
        reproduction = {
            "summary": pub.summary(comp),
            "number": n_table + 1,
            "caption": "Each published figure beside the value computed here, rounded to the "
            "decimals the publication printed.",
            "table": _html_table(_reproduction_display(comp)),
        }
    scoring = _plain_items(rep.scoring, labels)
    if rep.data is not None:
        scoring += [(o.label, rep.data.imaging_versions[o.id]) for o in rep.study.outcomes
                    if o.id in rep.data.imaging_versions]  # fmt: skip
    return template.render(
        title=rep.study.title, synthetic=rep.study.synthetic, built_to_match=rep.study.built_to_match,
        description=rep.study.description, reference=rep.study.reference, source=rep.source,
        version=__version__, generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        sections=blocks, scoring=scoring, tables_dir=tables_dir, methods=methods_text(rep),
        reproduction=reproduction, pdf=pdf,
    )  # fmt: skip


def write_report(rep: StudyReport, out: str | Path) -> dict[str, Path]:
    """Write the report to ``out`` (``.pdf``: an A4 PDF; otherwise HTML) and each table as CSV
    in ``<stem>_tables/``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = out.parent / f"{out.stem}_tables"
    folder.mkdir(exist_ok=True)
    written = {}
    tables = dict(rep.tables)
    if rep.reproduction is not None:
        tables["published"] = rep.reproduction
    for name, table in tables.items():
        path = folder / f"{name}.csv"
        table.to_csv(path, index=False, lineterminator="\n")
        written[name] = path
    if out.suffix.lower() == ".pdf":
        from rheumetrics.study.pdf import html_to_pdf

        html_to_pdf(render_html(rep, folder.name, pdf=True), out)
        written["pdf"] = out
    else:
        out.write_text(render_html(rep, folder.name), encoding="utf-8")
        written["html"] = out
    return written
