"""``rheumetrics score`` and ``rheumetrics conventions``."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from rheumetrics.clitools import console, parse_conventions, report_problems, row_progress
from rheumetrics.errors import RheumetricsError, UnitWarning, ValidationError
from rheumetrics.io import read_table, write_table
from rheumetrics.measures import DEFAULT, MEASURES
from rheumetrics.measures.panel import score_frame


def score(
    input: Path = typer.Argument(..., help="Visits table (.csv, .xlsx or .parquet)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output table (.csv, .xlsx or .parquet)."),
    convention: list[str] = typer.Option(
        None, "--convention", "-c", help="KEY=VALUE, e.g. das28_crp_cutoffs=das28crp_fleischmann."
    ),
    measure: list[str] = typer.Option(None, "--measure", "-m", help="Only these measures."),
    lenient: bool = typer.Option(False, help="NA plus a reason column instead of failing."),
    round_display: bool = typer.Option(
        False, "--round", help="Round scores for display (categories always use full precision)."
    ),
    problems: Path = typer.Option(None, help="Write every problem found to this CSV."),
) -> None:
    """Score every measure whose inputs are present; write inputs plus scores and categories.

    The conventions used are written next to OUTPUT as OUTPUT.conventions.json.
    """
    conv = parse_conventions(convention, DEFAULT)
    try:
        visits = read_table(input)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnitWarning)
            with row_progress(len(visits), "scoring") as progress:
                scores = score_frame(
                    visits, conv, lenient=lenient, measures=measure or None, progress=progress
                )
        for w in caught:
            console.print(f"[yellow]warning:[/yellow] {w.message}")
    except ValidationError as err:
        located = [dataclasses.replace(p, source=p.source or str(input)) for p in err.problems]
        report_problems(ValidationError(located, err.context), problems)
        raise typer.Exit(code=1) from None
    except RheumetricsError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(code=1) from None
    if round_display:
        for name in scores.attrs["measures"]:
            m = MEASURES[name]
            if m.kind == "score":
                scores[name] = m.display(scores[name], conv)
    result = pd.concat([visits.drop(columns=scores.columns, errors="ignore"), scores], axis=1)
    write_table(result, out)
    record = {
        **scores.attrs["conventions"],
        "measures": scores.attrs["measures"],
        "rounded": round_display,
    }
    Path(f"{out}.conventions.json").write_text(json.dumps(record, indent=2) + "\n")
    console.print(f"scored {len(result):,} rows, {len(scores.attrs['measures'])} measures -> {out}")


def conventions() -> None:
    """List every scoring convention with its default value."""
    table = Table(title="scoring conventions (set with --convention KEY=VALUE)")
    table.add_column("key")
    table.add_column("default")
    for f in dataclasses.fields(DEFAULT):
        table.add_row(f.name, str(getattr(DEFAULT, f.name)))
    console.print(table)


def catalogue(
    out: Path = typer.Option(
        Path("docs/measures.md"), "--out", "-o", help="Markdown file to write."
    ),
) -> None:
    """Write the generated catalogue of measures, input columns, cut-off sets and conventions."""
    from rheumetrics.measures.catalogue import render

    out.write_text(render(), encoding="utf-8")
    console.print(f"catalogue written to {out}")
