"""``rheumetrics quarantine list|export|clear``: the rows imports kept aside, with their reasons.

The database URL comes from ``--db``, else ``$RHEUMETRICS_DB_URL``, else ``sqlite:///rheumetrics.sqlite``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from sqlalchemy import Engine

from rheumetrics.clitools import console, print_frame
from rheumetrics.errors import RheumetricsError
from rheumetrics.schema.writers import write_csv, write_xlsx
from rheumetrics.store.database import URL_ENV, make_engine, require_current, resolve_url
from rheumetrics.store.quarantine import clear_quarantine, quarantine_frame

quarantine_app = typer.Typer(
    help="List, export or clear the rows imports kept aside (import --quarantine).",
    no_args_is_help=True,
)

_DB = typer.Option(
    None, "--db", help=f"Database URL (default ${URL_ENV}, else sqlite:///rheumetrics.sqlite)."
)
_FILE = typer.Option(None, "--file", help="Only the imports of this file (path or file name).")
_BATCH = typer.Option(None, "--batch", help="Only this import (batch id, as listed).")


def _engine(db: str | None) -> Engine:
    engine = make_engine(resolve_url(db))
    require_current(engine)
    return engine


def _fail(err: Exception) -> None:
    console.print(f"[red]error:[/red] {err}")
    raise typer.Exit(code=1)


@quarantine_app.command("list")
def quarantine_list(
    db: str | None = _DB,
    file: str | None = _FILE,
    batch: int | None = _BATCH,
    as_json: bool = typer.Option(False, "--json", help="JSON records instead of a table."),
) -> None:
    """Show quarantined rows: batch, file, line, key, field, value and reason."""
    try:
        df = quarantine_frame(_engine(db), file, batch)
    except RheumetricsError as err:
        _fail(err)
        return
    if as_json:
        print_frame(df, as_json=True)
        return
    if df.empty:
        console.print("the quarantine is empty")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(df)} quarantined problem(s)")
    for col in df.columns:
        table.add_column(
            col, overflow="fold", justify="right" if col in ("batch", "line") else "left"
        )
    for row in df.itertuples(index=False):
        table.add_row(*("" if pd.isna(v) else str(v) for v in row))
    Console().print(table)


@quarantine_app.command("export")
def quarantine_export(
    out: Path = typer.Argument(..., help="Output file: .csv or .xlsx (formula cells escaped)."),
    db: str | None = _DB,
    file: str | None = _FILE,
    batch: int | None = _BATCH,
) -> None:
    """Write the quarantined rows to CSV or Excel, with the same columns as ``list``."""
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        _fail(ValueError(f"{out}: use a .csv or .xlsx file"))
    try:
        df = quarantine_frame(_engine(db), file, batch)
    except RheumetricsError as err:
        _fail(err)
        return
    (write_csv if suffix == ".csv" else write_xlsx)(df, out)
    console.print(f"wrote {len(df)} quarantined problem(s) to {out}")


@quarantine_app.command("clear")
def quarantine_clear(
    db: str | None = _DB,
    file: str | None = _FILE,
    batch: int | None = _BATCH,
    everything: bool = typer.Option(False, "--all", help="Clear the whole quarantine."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: without it nothing is removed."),
) -> None:
    """Remove quarantined rows of one file, one batch, or all, in one transaction."""
    if everything == (file is not None or batch is not None):
        _fail(ValueError("give --file and/or --batch, or --all (not both)"))
    try:
        engine = _engine(db)
        pending = len(quarantine_frame(engine, file, batch))
        if not yes:
            _fail(
                ValueError(
                    f"this would remove {pending} quarantined problem(s); add --yes to do it"
                )
            )
        removed = clear_quarantine(engine, file, batch)
    except RheumetricsError as err:
        _fail(err)
        return
    console.print(f"removed {removed} quarantined problem(s)")
