"""The ``rheumetrics`` command line. Each subcommand lives beside the code it drives.

Subcommands are registered by name as ``"module:attribute"`` and imported only when that command
runs, so ``rheumetrics --help`` and ``--version`` load no SciPy, statsmodels, SQLAlchemy or pandas.
One handler (:class:`rheumetrics.clitools.CommandGroup`) turns every error into a one-line message
and a non-zero exit; ``--debug`` shows the full details.
"""

from __future__ import annotations

import typer

from rheumetrics import __version__
from rheumetrics.clitools import CommandGroup, set_debug

app = typer.Typer(
    name="rheumetrics",
    help="Scores, imaging reads, cohort store, treat-to-target and study reports for RA and axSpA.",
    cls=CommandGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
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
    debug: bool = typer.Option(
        False, "--debug", help="Show full error details (tracebacks) instead of one line."
    ),
) -> None:
    """rheumetrics command line."""
    set_debug(debug)


# name -> ("module:attribute" of a command function or Typer app, one-line help)
CommandGroup.lazy.update(
    {
        # clinical scores (rheumetrics.measures)
        "score": (
            "rheumetrics.scale.cli:score_command",
            "Score visits from a file, flags or JSON.",
        ),
        "conventions": ("rheumetrics.measures.cli:conventions", "List scoring conventions."),
        "catalogue": ("rheumetrics.measures.cli:catalogue", "Print the catalogue of measures."),
        # imaging reads (rheumetrics.imaging)
        "imaging": ("rheumetrics.scale.cli:imaging_command", "Score imaging site reads."),
        "agreement": ("rheumetrics.imaging.cli:agreement_command", "Reader agreement (ICC, SDC)."),
        # cohort store (rheumetrics.store)
        "db": ("rheumetrics.store.cli:db_app", "Create and maintain the cohort store."),
        "import": ("rheumetrics.store.cli:import_command", "Import a file into the store."),
        "quarantine": (
            "rheumetrics.store.quarantine_cli:quarantine_app",
            "List, export or clear rows kept aside at import.",
        ),
        "export": (
            "rheumetrics.scale.cli:export_command",
            "Export the store (FHIR, tidy, de-identified, Parquet).",
        ),
        # treat-to-target (rheumetrics.t2t)
        "t2t": ("rheumetrics.scale.cli:t2t_command", "Treat-to-target decisions per visit."),
        "strategies": ("rheumetrics.t2t.cli:strategies_command", "List or explain strategies."),
        # study reports (rheumetrics.study)
        "report": ("rheumetrics.scale.cli:report_command", "Write a study's HTML report."),
        # clinic web application (rheumetrics.app)
        "serve": ("rheumetrics.app.cli:serve_command", "Serve the clinic web application."),
        "user": ("rheumetrics.app.cli:user_app", "Manage clinic application users."),
        # in-silico trials (rheumetrics.sim)
        "simulate": (
            "rheumetrics.sim.cli:simulate_command",
            "Run an in-silico treat-to-target trial.",
        ),
        "calibrate": (
            "rheumetrics.sim.cli:calibrate_command",
            "Fit simulator parameters to anchors.",
        ),
    }
)
