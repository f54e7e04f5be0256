"""The ``rheumetrics`` command line. Each subcommand lives beside the code it drives."""

from __future__ import annotations

import typer

from rheumetrics import __version__
from rheumetrics.imaging.cli import agreement_command, imaging_command
from rheumetrics.measures.cli import catalogue, conventions, score
from rheumetrics.store.cli import db_app, export_command, import_command
from rheumetrics.sim.cli import calibrate_command, simulate_command
from rheumetrics.study.cli import report_command
from rheumetrics.t2t.cli import strategies_command, t2t_command

app = typer.Typer(
    name="rheumetrics",
    help="Scores, imaging reads, cohort store, treat-to-target and study reports for RA and axSpA.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rheumetrics {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """rheumetrics command line."""


# clinical scores (rheumetrics.measures)
app.command("score")(score)
app.command("conventions")(conventions)
app.command("catalogue")(catalogue)
# imaging reads (rheumetrics.imaging)
app.command("imaging")(imaging_command)
app.command("agreement")(agreement_command)
# cohort store (rheumetrics.store)
app.add_typer(db_app, name="db")
app.command("import")(import_command)
app.command("export")(export_command)
# treat-to-target (rheumetrics.t2t)
app.command("t2t")(t2t_command)
app.command("strategies")(strategies_command)
# study reports (rheumetrics.study)
app.command("report")(report_command)
# in-silico trials (rheumetrics.sim)
app.command("simulate")(simulate_command)
app.command("calibrate")(calibrate_command)
