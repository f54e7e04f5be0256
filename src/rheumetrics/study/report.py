"""Run a study and write its self-contained HTML report, with every table also as CSV.

:func:`run_study` loads the cohort, builds the analysis frame and computes every analysis the
study file asks for; :func:`write_report` renders the HTML (Jinja2, figures embedded as base64
PNG) and writes each tidy table as ``<report>_tables/<name>.csv`` next to it.
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
from matplotlib.figure import Figure

from rheumetrics import __version__
from rheumetrics import stats as st
from rheumetrics.study import analyses as an
from rheumetrics.study.cohort import Cohort, load_cohort
from rheumetrics.study.design import StudyData, study_data
from rheumetrics.study.figures import change_scatter, embed
from rheumetrics.study.model import Study

#: Section order and titles.
TITLES = {
    "flow": "Patient flow",
    "characteristics": "Patient characteristics at enrolment",
    "scores": "Clinical and imaging scores at each visit",
    "changes": "Change from the first to the last visit",
    "direction": "Direction of change",
    "correlation": "Correlation of clinical change with imaging change",
    "regression": "Adjusted regression",
    "reliability": "Reliability of the imaging scores",
    "responsiveness": "Responsiveness (standardised response mean)",
    "scatter": "Imaging change against clinical change",
    "roc": "ROC analysis",
    "meta": "Meta-analysis",
}


@dataclass
class StudyReport:
    """The computed study: tidy tables (CSV), display tables (HTML) and figures."""

    study: Study
    source: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    displays: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    scoring: dict[str, Any] = field(default_factory=dict)
    data: StudyData | None = None


def format_p(p: float) -> str:
    """p-values as printed: ``<0.0001``, four decimals below 0.01, else three."""
    if p is None or not np.isfinite(p):
        return ""
    if p < 0.0001:
        return "<0.0001"
    return st.format_number(p, 4 if p < 0.01 else 3)


def _num(x: float, digits: int) -> str:
    return "" if x is None or not np.isfinite(x) else st.format_number(float(x), digits)


def run_study(
    study: Study,
    cohort: Cohort | None = None,
    *,
    db_url: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyReport:
    """Compute every analysis of ``study`` (loading the cohort unless given)."""
    note = progress or (lambda _msg: None)
    cohort = cohort or load_cohort(study, db_url, note)
    note("building the analysis frame")
    data = study_data(study, cohort)
    rep = StudyReport(study=study, source=cohort.source, scoring=cohort.conventions, data=data)
    labels = {g.id: g.label for g in study.groups}
    asked = study.analyses

    def want(name: str) -> bool:
        return name in asked

    note("computing the tables")
    if want("flow"):
        t = an.patient_flow(study, data)
        rep.tables["flow"] = t
        rep.displays["flow"] = _wide(t, "stage", labels, lambda r: str(r["n"]))
    if want("characteristics") and study.characteristics:
        t = an.characteristics(study, data, asked["characteristics"])
        rep.tables["characteristics"] = t
        rep.displays["characteristics"] = _characteristics_display(t, labels)
    if want("scores"):
        t = an.scores_by_visit(study, data, asked["scores"])
        rep.tables["scores"] = t
        rep.displays["scores"] = _scores_display(study, t, labels)
    if want("changes"):
        t = an.scores_by_visit(study, data, asked["changes"], change=True)
        rep.tables["changes"] = t
        rep.displays["changes"] = _scores_display(study, t, labels)
    if want("direction"):
        t = an.direction(study, data, asked["direction"])
        rep.tables["direction"] = t
        rep.displays["direction"] = _direction_display(t, labels)
    if want("correlation"):
        t = an.correlation(study, data, asked["correlation"])
        rep.tables["correlation"] = t
        rep.displays["correlation"] = pd.DataFrame({
            "change": t["label"], "n": t["n"], "r": [_num(r, 2) for r in t["r"]],
            "95% CI": [f"{_num(a, 2)} to {_num(b, 2)}" for a, b in zip(t["ci_low"], t["ci_high"], strict=True)],
            "p": [format_p(p) for p in t["p"]], "p method": t["method"],
        })  # fmt: skip
        rep.notes["correlation"] = (
            f"{asked['correlation'].get('method', 'spearman').title()} correlation with {data.labels.get('change:' + str(asked['correlation']['x']))}; all groups together."
        )
    if want("regression"):
        t = an.regression(study, data, asked["regression"])
        rep.tables["regression"] = t
        model = t.attrs.get("model", {})
        rep.displays["regression"] = pd.DataFrame({
            "term": t["label"], "role": t["role"], "estimate": [_num(x, 3) for x in t["estimate"]],
            "SE": [_num(x, 3) for x in t["se"]],
            "95% CI": [f"{_num(a, 3)} to {_num(b, 3)}" for a, b in zip(t["ci_low"], t["ci_high"], strict=True)],
            "p": [format_p(p) for p in t["p"]],
        })  # fmt: skip
        rep.notes["regression"] = (
            f"Outcome {data.labels.get(asked['regression']['outcome'], asked['regression']['outcome'])}; "
            f"ordinary least squares on complete cases: n = {model.get('n')}, "
            f"{model.get('n_dropped')} enrolments dropped for missing values, R² = {_num(model.get('r2', np.nan), 3)}."
        )
    if want("reliability"):
        t = an.reliability(study, data, asked["reliability"])
        rep.tables["reliability"] = t
        if not t.empty:
            rep.displays["reliability"] = pd.DataFrame({
                "form": t["form"], "description": t["description"], "n": t["n"], "k": t["k"],
                "ICC": [_num(x, 2) for x in t["icc"]],
                "CI": [f"{_num(a, 2)} to {_num(b, 2)}" for a, b in zip(t["ci_low"], t["ci_high"], strict=True)],
                "reported": np.where(t["reported"], "yes", ""),
            })  # fmt: skip
            alpha = float(asked["reliability"].get("alpha", 0.05))
            rep.notes["reliability"] = (f"Scans read in more than one session, {100 * (1 - alpha):g}% confidence intervals; "
                                        f"the study reports {asked['reliability'].get('form', 'ICC(2,k)')}.")  # fmt: skip
        t = an.responsiveness(study, data)
        if not t.empty:
            rep.tables["responsiveness"] = t
            rep.displays["responsiveness"] = t.assign(
                group=t["group"].map(labels), mean=[_num(x, 2) for x in t["mean"]],
                sd=[_num(x, 2) for x in t["sd"]], srm=[_num(x, 2) for x in t["srm"]],
            ).drop(columns="outcome")  # fmt: skip
    if want("scatter"):
        spec = asked["scatter"]
        t = an.scatter_outliers(study, data, spec)
        rep.tables["scatter"] = t
        x, y = f"change:{spec['x']}", f"change:{spec['y']}"
        rep.figures["scatter"] = change_scatter(
            t, x, y, data.labels[x], data.labels[y], list(labels.items())
        )
        rep.displays["scatter"] = (
            t[t["outlier"]]
            .assign(group=lambda f: f["group"].astype(str).map(labels))[
                ["patient_id", "group", x, y, "studentised_residual"]
            ]
            .rename(columns={x: data.labels[x], y: data.labels[y]})
        )
        rep.notes["scatter"] = t.attrs.get("conventions", {}).get("outlier", "")
    if want("roc"):
        t, curves = an.roc(study, data, asked["roc"])
        rep.tables["roc"] = t
        rep.figures["roc"] = st.plot_roc(curves)
        rep.displays["roc"] = pd.DataFrame({
            "score": t["label"], "AUC": [_num(x, 3) for x in t["auc"]],
            "95% CI": [f"{_num(a, 3)} to {_num(b, 3)}" for a, b in zip(t["ci_low"], t["ci_high"], strict=True)],
            "cut-off": [_num(x, 2) for x in t["cutoff"]], "sensitivity": [_num(x, 3) for x in t["sensitivity"]],
            "specificity": [_num(x, 3) for x in t["specificity"]],
        })  # fmt: skip
        rep.notes["roc"] = f"Positive: {t['positive'].iloc[0]}; AUC with DeLong CI, Youden cut-off." + (
            f" DeLong test of the two AUCs: p = {format_p(t['delong_p'].iloc[0])}." if "delong_p" in t else "")  # fmt: skip
    if want("meta"):
        t, fig = an.meta(asked["meta"])
        rep.tables["meta"] = t
        rep.tables["meta_studies"] = t.attrs["studies"]
        rep.figures["meta"] = fig
        rep.displays["meta"] = t[
            ["model", "k", "estimate", "ci_low", "ci_high", "p", "tau2", "i2", "q", "q_p"]
        ].round(4)
    return rep


def _wide(
    t: pd.DataFrame, row: str, labels: dict[str, str], cell: Callable[[pd.Series], str]
) -> pd.DataFrame:
    t = t.assign(_cell=t.apply(cell, axis=1))
    wide = t.pivot_table(index=row, columns="group", values="_cell", aggfunc="first", sort=False)
    cols = ["all", *labels]
    wide = wide[[c for c in cols if c in wide.columns]]
    wide.columns.name = None
    return wide.rename(columns={"all": "Total", **labels}).reset_index()


def _characteristics_display(t: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    t = t.assign(row=t["label"] + np.where(t["level"] != "", ": " + t["level"], ""))
    wide = _wide(t, "row", labels, lambda r: str(r["text"]))
    p = t.groupby("row", sort=False).agg(p=("p", "first"), test=("test", "first"))
    wide["p"] = [format_p(x) for x in p.loc[wide["row"], "p"]]
    wide["test"] = list(p.loc[wide["row"], "test"])
    return wide.rename(columns={"row": "characteristic"})


def _scores_display(study: Study, t: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    if t.empty:
        return t
    visit_label = {v.id: v.label for v in study.visits}
    rows = []
    for (visit, oid), part in t.groupby(["visit", "outcome"], sort=False):
        digits = study.outcome(str(oid)).digits
        row: dict[str, Any] = {
            "visit": visit_label.get(str(visit), str(visit)),
            "outcome": part["label"].iloc[0],
        }
        for g, name in [("all", "Total"), *labels.items()]:
            r = part[part["group"] == g]
            if r.empty:
                continue
            r = r.iloc[0]
            row[f"{name} N"] = int(r["n"])
            for stat in ("median", "min", "max"):
                row[f"{name} {stat}"] = _num(r[stat], digits)
        row["p"] = format_p(part["p"].iloc[0])
        rows.append(row)
    return pd.DataFrame(rows)


def _direction_display(t: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    if t.empty:
        return t
    t = t.assign(row=t["label"] + ": " + t["direction"].str.replace("_", " "))
    return _wide(t, "row", labels, lambda r: f"{int(r['n'])} ({_num(r['percent'], 2)}%)").rename(
        columns={"row": "change"}
    )


def _html_table(df: pd.DataFrame) -> Markup:
    return Markup(df.to_html(index=False, escape=True, na_rep="", border=0))


def render_html(rep: StudyReport, tables_dir: str = "") -> str:
    """The report as one self-contained HTML page."""
    env = Environment(autoescape=select_autoescape(["html"]))
    template = env.from_string(
        (files("rheumetrics.study") / "templates" / "report.html").read_text("utf-8")
    )
    sections = []
    for key, title in TITLES.items():
        if key not in rep.tables and key not in rep.figures:
            continue
        display = rep.displays.get(key)
        fig = rep.figures.get(key)
        sections.append({
            "id": key, "title": title, "text": rep.notes.get(key, ""),
            "table": _html_table(display) if display is not None and not display.empty else None,
            "figure": embed(fig) if fig is not None else None,
            "caption": {"scatter": "Each point is one enrolment, drawn as its group; circled: outliers.",
                        "roc": "Empirical ROC curves.", "meta": "Forest plot: study estimates, pooled diamond, prediction interval."}.get(key, ""),
            "conventions": {k: v for k, v in rep.tables.get(key, pd.DataFrame()).attrs.get("conventions", {}).items()},
        })  # fmt: skip
    return template.render(
        title=rep.study.title, synthetic=rep.study.synthetic, description=rep.study.description,
        reference=rep.study.reference, source=rep.source, version=__version__,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), sections=sections,
        scoring=rep.scoring, tables_dir=tables_dir,
    )  # fmt: skip


def write_report(rep: StudyReport, out: str | Path) -> dict[str, Path]:
    """Write the HTML report to ``out`` and each table as CSV in ``<stem>_tables/``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = out.parent / f"{out.stem}_tables"
    folder.mkdir(exist_ok=True)
    written = {}
    for name, table in rep.tables.items():
        path = folder / f"{name}.csv"
        table.to_csv(path, index=False, lineterminator="\n")
        written[name] = path
    out.write_text(render_html(rep, folder.name), encoding="utf-8")
    written["html"] = out
    return written
