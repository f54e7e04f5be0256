"""``rheumetrics db init|check-mapping|rescore``, ``rheumetrics import``, ``rheumetrics export``.

The database URL comes from ``--db``, else ``$RHEUMETRICS_DB_URL``, else ``sqlite:///rheumetrics.sqlite``.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from rheumetrics.clitools import (
    PROGRESS_MIN_ROWS,
    console,
    parse_conventions,
    print_json,
    report_problems,
)
from rheumetrics.errors import RheumetricsError, ValidationError
from rheumetrics.measures import DEFAULT
from rheumetrics.store.database import URL_ENV, init_db, make_engine, resolve_url
from rheumetrics.store.export import export_deidentified, export_fhir, export_tidy
from rheumetrics.store.importer import import_file, stage_file
from rheumetrics.store.mapping import load_mapping
from rheumetrics.store.mapping_check import check_mapping
from rheumetrics.store.scoring import rescore

db_app = typer.Typer(help="Create and maintain the cohort store.", no_args_is_help=True)

DB_HELP = f"Database URL (default ${URL_ENV}, else sqlite:///rheumetrics.sqlite)."
_DB = typer.Option(None, "--db", help=DB_HELP)
_CONVENTION = typer.Option(None, "--convention", "-c", help="KEY=VALUE scoring convention.")
_OUTSIDE = typer.Option(
    False,
    "--allow-outside-paths",
    help="Let the mapping name files outside its own folder (e.g. a REDCap dictionary).",
)


def _url(db: str | None) -> str:
    return resolve_url(db)


def _show(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db_app.command("init")
def db_init(db: str | None = _DB) -> None:
    """Create the store, or upgrade it to this version's schema (alembic upgrade head)."""
    url = _url(db)
    try:
        rev = init_db(make_engine(url))
    except Exception as exc:  # a clear message for any database failure
        console.print(f"[red]error:[/red] cannot initialise {_show(url)}: {exc}")
        raise typer.Exit(code=1) from None
    console.print(f"{_show(url)} is at schema revision {rev}")


@db_app.command("check-mapping")
def db_check_mapping(
    mapping: Path = typer.Argument(..., help="Mapping file (TOML)."),
    source: Path = typer.Option(
        None, "--source", help="Also check it against this file, as import would read it."
    ),
    dictionary: Path = typer.Option(None, help="REDCap data dictionary (overrides the mapping's)."),
    allow_outside_paths: bool = _OUTSIDE,
) -> None:
    """Check a mapping file on its own (and against a source file, as import would read it)."""
    try:
        check_mapping(mapping, source, dictionary=dictionary, allow_outside=allow_outside_paths)
    except ValidationError as err:
        report_problems(err)
        raise typer.Exit(code=1) from None
    console.print(f"{mapping}: mapping is valid")


@db_app.command("rescore")
def db_rescore(db: str | None = _DB, convention: list[str] = _CONVENTION) -> None:
    """Score every stored visit under the given conventions (a new score run if they are new)."""
    out = rescore(make_engine(_url(db)), parse_conventions(convention, DEFAULT))
    console.print(f"scored {out['visits']} visits (score run {out['run_id']})")


class _Bars:
    """One Rich progress bar per import stage, shown for large inputs only."""

    def __init__(self) -> None:
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.completed:,}/{task.total:,}"), TimeRemainingColumn(),
                                 console=console, transient=True)  # fmt: skip
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total < PROGRESS_MIN_ROWS and stage not in self.tasks:
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)


def import_command(
    source: Path = typer.Argument(..., help="File to import (CSV, Excel, Parquet or REDCap CSV)."),
    mapping: Path = typer.Option(..., "--mapping", "-m", help="Mapping file (TOML)."),
    db: str | None = _DB,
    quarantine: bool = typer.Option(
        False, help="Store valid rows; keep bad rows aside with reasons."
    ),
    update: bool = typer.Option(False, help="Replace stored values that differ (default: refuse)."),
    dictionary: Path = typer.Option(None, help="REDCap data dictionary (overrides the mapping's)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the file only; store nothing."),
    problems: Path = typer.Option(None, help="Write every problem found to this CSV."),
    score: bool = typer.Option(True, help="Score the visits that changed."),
    convention: list[str] = _CONVENTION,
    lock_wait: float = typer.Option(
        600.0, "--lock-wait", help="Seconds to wait while another import holds the store."
    ),
    allow_outside_paths: bool = _OUTSIDE,
    as_json: bool = typer.Option(
        False, "--json", help="Print the summary (or the problems) as JSON on standard output."
    ),
) -> None:
    """Import a file into the store: all-or-nothing unless --quarantine; re-import is a no-op."""
    try:
        m = load_mapping(mapping, allow_outside=allow_outside_paths)
        if dry_run:
            staged = stage_file(m, source, dictionary)
            if staged.problems:
                raise ValidationError(
                    staged.problems, f"{source}: {len(staged.problems)} problem(s)"
                )
            if as_json:
                print_json({"source": str(source), "dry_run": True, "rows": len(staged.raw),
                            "patients": len(staged.patients), "visits": len(staged.visits),
                            "therapies": len(staged.therapies), "imaging": len(staged.imaging),
                            "warnings": staged.warnings, "problems": []})  # fmt: skip
                return
            console.print(f"{source}: {len(staged.raw)} rows, no problems "
                          f"({len(staged.patients)} patients, {len(staged.visits)} visits)")  # fmt: skip
            _warn(staged.warnings)
            return
        bars = _Bars()
        with bars.progress:
            result = import_file(
                make_engine(_url(db)), source, m, mode="quarantine" if quarantine else "all_or_nothing",
                on_conflict="update" if update else "error", dictionary=dictionary, score=score,
                conventions=parse_conventions(convention, DEFAULT), progress=bars, lock_wait=lock_wait,
            )  # fmt: skip
    except ValidationError as err:
        if as_json:
            print_json({"source": str(source), "stored": False, "problems": _problem_records(err)})
        report_problems(err, problems)
        raise typer.Exit(code=1) from None
    except RheumetricsError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(code=1) from None
    if as_json:
        quarantined = ValidationError(result.problems, "quarantined rows")
        print_json({"source": str(source), "stored": True, "mode": result.mode,
                    "changed": result.changed, **result.summary(), "warnings": result.warnings,
                    "problems": _problem_records(quarantined)})  # fmt: skip
        if result.problems and problems is not None:
            report_problems(quarantined, problems)
        return
    _warn(result.warnings)
    summary = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result.summary().items() if v)
    console.print(
        f"{source}: {summary}" if result.changed else f"{source}: already stored, nothing changed"
    )
    if result.problems:
        report_problems(ValidationError(result.problems, "quarantined rows"), problems)


def _warn(messages: list[str]) -> None:
    for text in messages:
        console.print(f"[yellow]warning:[/yellow] {text}")


def _problem_records(err: ValidationError) -> list[dict[str, object]]:
    """Problems as JSON-ready records (source, line, record, key, field, value, rule)."""
    frame = err.to_frame().astype(object)
    return [
        {k: (None if not isinstance(v, (dict, list)) and pd.isna(v) else v) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]


class ExportKind(StrEnum):
    tidy = "tidy"
    fhir = "fhir"
    deid = "deid"


def export_command(
    kind: ExportKind = typer.Argument(
        ..., help="tidy (CSV/Parquet), fhir (R4 Bundle JSON) or deid."
    ),
    out: Path = typer.Argument(
        ..., help="Output file (tidy: .csv/.parquet; fhir: .json) or folder (deid)."
    ),
    db: str | None = _DB,
    patient: list[str] = typer.Option(None, "--patient", "-p", help="Only these patient keys."),
    run: int = typer.Option(
        None, help="Score run id to export (default: the run of the default conventions)."
    ),
    joints: bool = typer.Option(
        False, help="tidy: add per-joint columns; fhir: per-joint Observations."
    ),
    secret_env: str = typer.Option(
        "RHEUMETRICS_DEID_SECRET", help="deid: environment variable holding the pseudonym secret."
    ),
    max_shift_days: int = typer.Option(180, help="deid: largest date shift in days."),
    fmt: str = typer.Option("csv", "--format", help="deid: csv or parquet."),
) -> None:
    """Export the store: tidy visits with scores, a FHIR R4 Bundle, or a de-identified set."""
    engine = make_engine(_url(db))
    keys = patient or None
    try:
        if kind is ExportKind.tidy:
            path = export_tidy(engine, out, keys, run=run, joints=joints)
        elif kind is ExportKind.fhir:
            path = export_fhir(engine, out, keys, run=run, joints=joints)
        else:
            secret = os.environ.get(secret_env)
            if not secret:
                console.print(f"[yellow]note:[/yellow] ${secret_env} is not set: pseudonyms use a random "
                              "secret and will not link to later exports")  # fmt: skip
            path = export_deidentified(engine, out, secret=secret, max_shift_days=max_shift_days, fmt=fmt,
                                       patients=keys)["visits"].parent  # fmt: skip
    except (RheumetricsError, ValueError) as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(code=1) from None
    console.print(f"wrote {path}")
