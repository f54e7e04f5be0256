"""``rheumetrics report STUDY --out report.html``: run a study file and write its report (HTML,
or an A4 PDF when ``--out`` ends in ``.pdf``)."""

from __future__ import annotations

from pathlib import Path

import typer

from rheumetrics.clitools import console, report_problems
from rheumetrics.errors import RheumetricsError, ValidationError
from rheumetrics.study.model import BUNDLED, load_study
from rheumetrics.study.report import run_study, write_report


def report_command(
    study: str = typer.Argument(
        ..., help=f"Study file (TOML), or a bundled study: {', '.join(BUNDLED)}."
    ),
    out: Path = typer.Option(
        Path("report.html"), "--out", "-o", help="Report to write: .html, or .pdf for A4 PDF."
    ),
    db: str | None = typer.Option(
        None, "--db", help="Cohort store URL, instead of the one in the study file."
    ),
) -> None:
    """Run a study (cohort, groups, visits, outcomes, analyses) and write a self-contained HTML
    report (or an A4 PDF), with every table also as CSV in <report>_tables/."""
    try:
        spec = load_study(study)
        with console.status("running the study") as status:
            rep = run_study(spec, db_url=db, progress=lambda msg: status.update(msg))
        written = write_report(rep, out)
    except ValidationError as err:
        report_problems(err)
        raise typer.Exit(code=1) from None
    except RheumetricsError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(code=1) from None
    tables = len(written) - 1
    console.print(f"wrote {out} and {tables} tables in {out.parent / (out.stem + '_tables')}")
    if rep.reproduction is not None:
        from rheumetrics.study.published import summary

        console.print(f"reproduction: {summary(rep.reproduction)}")
