"""The in-silico trial report: outcomes per arm with intervals, calibration table, sequences.

A self-contained HTML page (figures embedded as SVG): what was simulated (population, arms,
patients, months, replicates, seed, adherence, parameter file), each outcome's mean and 95%
interval over replicates, the calibration table (published anchor beside the simulated value and
interval, inside or outside, calibration or held out) and the treatment sequences as a table and a
flow figure.
"""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path

import pandas as pd
from jinja2 import Environment, select_autoescape
from markupsafe import Markup
from matplotlib.figure import Figure

from rheumetrics import __version__
from rheumetrics.sim.parameters import OUTCOME_LABELS
from rheumetrics.sim.replicates import TrialResult


def flow_figure(
    sequences: pd.DataFrame, arm: str, months_per_visit: int, ladder: list[str]
) -> Figure:
    """Ladder step after each decision visit: lines between visits, width by patients moving."""
    paths = sequences.loc[sequences["arm"] == arm, "path"].str.split("|", expand=True)
    seen = set(pd.unique(paths.to_numpy().ravel()))
    steps = [s for s in ladder if s in seen]
    y = {s: i for i, s in enumerate(steps)}
    fig = Figure(figsize=(6.5, 0.5 + 0.4 * len(steps)))
    ax = fig.add_subplot()
    total = len(paths)
    for j in range(paths.shape[1] - 1):
        moves = paths.groupby([paths[j], paths[j + 1]]).size()
        for (a, b), count in moves.items():
            ax.plot(
                [j * months_per_visit, (j + 1) * months_per_visit],
                [y[a], y[b]],
                color="#0072B2" if a == b else "#D55E00",
                linewidth=0.5 + 12 * count / total,
                alpha=0.7,
                solid_capstyle="round",
            )
    ax.set_yticks(range(len(steps)), [f"step {s}" for s in steps])
    ax.set_xlabel("months since entry")
    ax.set_title(f"{arm}: ladder step after each visit (orange: moved)", fontsize=9)
    fig.tight_layout()
    return fig


def _svg(fig: Figure) -> Markup:
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    return Markup(buf.getvalue()[buf.getvalue().index("<svg") :])


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _figure(row: dict[str, object], x: float) -> str:
    """A calibration-table figure: a share as a percentage, a mean change to 2 decimals."""
    return f"{x:.2f}" if row.get("kind") == "mean" else _pct(x)


def _every(visit_every_months: int | dict[str, int], arm: str) -> int:
    if isinstance(visit_every_months, int):
        return visit_every_months
    return visit_every_months[arm]


def render(
    result: TrialResult,
    calibration: pd.DataFrame | None,
    meta: dict[str, object],
    visit_every_months: int | dict[str, int],
    ladder: list[str],
) -> str:
    """The report as one HTML string."""
    s = result.summary()
    outcomes = [
        {
            "label": OUTCOME_LABELS[o],
            "cells": [
                (lambda r: f"{_pct(r['mean'])} ({_pct(r['low'])} to {_pct(r['high'])})")(
                    s[(s["arm"] == a.name) & (s["outcome"] == o)].iloc[0]
                )
                for a in result.arms
            ],
        }
        for o in OUTCOME_LABELS
    ]
    seq = (
        result.sequences.groupby(["arm", "sequence"])
        .size()
        .rename("patients")
        .reset_index()
        .sort_values(["arm", "patients"], ascending=[True, False])
    )
    seq["share"] = seq["patients"] / seq.groupby("arm")["patients"].transform("sum")
    seq = seq.groupby("arm").head(8)
    env = Environment(autoescape=select_autoescape(["html"]))
    template = env.from_string(
        resources.files("rheumetrics.sim").joinpath("templates/report.html").read_text("utf-8")
    )
    return template.render(
        meta=meta,
        version=__version__,
        arms=[a.name for a in result.arms],
        outcomes=outcomes,
        calibration=None if calibration is None else calibration.to_dict("records"),
        labels=OUTCOME_LABELS,
        pct=_pct,
        figure=_figure,
        sequences=seq.to_dict("records"),
        flows=[
            _svg(flow_figure(result.sequences, a.name, _every(visit_every_months, a.name), ladder))
            for a in result.arms
        ],
    )


def write_report(
    result: TrialResult,
    calibration: pd.DataFrame | None,
    meta: dict[str, object],
    visit_every_months: int | dict[str, int],
    ladder: list[str],
    out: str | Path,
) -> Path:
    """Write the HTML report; returns its path."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result, calibration, meta, visit_every_months, ladder), encoding="utf-8")
    return path
