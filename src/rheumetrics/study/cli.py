"""``rheumetrics report STUDY --out report.html``: run a study file and write its report (HTML,
or an A4 PDF when ``--out`` ends in ``.pdf``); ``--json`` prints the computed results."""

from __future__ import annotations

from pathlib import Path

import typer

from rheumetrics.clitools import console, print_json, report_problems
from rheumetrics.errors import RheumetricsError, ValidationError
from rheumetrics.study.model import BUNDLED, Study, load_study
from rheumetrics.study.report import (
    StudyReport,
    report_steps,
    results_json,
    run_study,
    write_report,
)


def report_command(
    study: str = typer.Argument(
        ..., help=f"Study file (TOML), or a bundled study: {', '.join(BUNDLED)}."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Report to write: .html, or .pdf for A4 PDF (default report.html; with --json, "
        "only when given).",
    ),
    db: str | None = typer.Option(
        None, "--db", help="Cohort store URL, instead of the one in the study file."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the computed results (every table, reproduction) as JSON."
    ),
    allow_outside: bool = typer.Option(
        False,
        "--allow-outside",
        help="Let the study file read files outside its own folder (and package: paths outside "
        "the installed package).",
    ),
) -> None:
    """Run a study (cohort, groups, visits, outcomes, analyses) and write a self-contained HTML
    report (or an A4 PDF), with every table also as CSV in <report>_tables/."""
    target = out if out is not None or as_json else Path("report.html")
    try:
        spec = load_study(study, allow_outside=allow_outside)
        rep = _run_with_progress(spec, db, writes=target is not None)
        written = write_report(rep, target) if target is not None else {}
    except ValidationError as err:
        if len(err.problems) == 1:  # one line: file, key, value and what is allowed
            console.print(f"[red]error:[/red] {err.problems[0]}", highlight=False, soft_wrap=True)
        else:
            report_problems(err)
        raise typer.Exit(code=1) from None
    except RheumetricsError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(code=1) from None
    if target is not None:
        tables = len(written) - 1
        where = target.parent / (target.stem + "_tables")
        console.print(f"wrote {target} and {tables} tables in {where}")
    if rep.reproduction is not None:
        from rheumetrics.study.published import summary

        console.print(f"reproduction: {summary(rep.reproduction)}")
    if as_json:
        print_json(results_json(rep))


def _run_with_progress(spec: Study, db: str | None, *, writes: bool) -> StudyReport:
    """Run the study under a Rich progress bar over its steps (transient: gone when done)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    steps = report_steps(spec, with_cohort=None if db is None else True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("starting", total=len(steps) + int(writes))

        def note(message: str) -> None:
            if message in steps:
                bar.update(task, completed=steps.index(message), description=message)
            else:  # a finer message within a step (a file being imported)
                bar.update(task, description=message)

        rep = run_study(spec, db_url=db, progress=note)
        bar.update(task, completed=len(steps), description="writing the report")
    return rep
