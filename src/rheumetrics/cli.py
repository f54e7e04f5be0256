"""The ``rheumetrics`` command line. Each subcommand lives beside the code it drives."""

from __future__ import annotations

import typer

from rheumetrics import __version__

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


# Subcommands are registered below, one line each, by the module that implements them.
from rheumetrics.measures.cli import conventions as _conventions  # noqa: E402
from rheumetrics.measures.cli import score as _score  # noqa: E402

app.command("score")(_score)
app.command("conventions")(_conventions)
from rheumetrics.measures.cli import catalogue as _catalogue  # noqa: E402

app.command("catalogue")(_catalogue)
from rheumetrics.imaging.cli import agreement_command as _agreement  # noqa: E402
from rheumetrics.imaging.cli import imaging_command as _imaging  # noqa: E402

app.command("imaging")(_imaging)
app.command("agreement")(_agreement)
from rheumetrics.t2t.cli import strategies_command as _strategies  # noqa: E402
from rheumetrics.t2t.cli import t2t_command as _t2t  # noqa: E402

app.command("t2t")(_t2t)
app.command("strategies")(_strategies)
from rheumetrics.store.cli import db_app as _db_app  # noqa: E402
from rheumetrics.store.cli import export_command as _export_command  # noqa: E402
from rheumetrics.store.cli import import_command as _import_command  # noqa: E402

app.add_typer(_db_app, name="db")
app.command("import")(_import_command)
app.command("export")(_export_command)
