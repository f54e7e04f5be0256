"""Helpers shared by the command-line modules: the error handler, output, progress, conventions.

Kept light on purpose: importing this module loads Typer and Rich's console only, so the command
line starts without pandas or SciPy (the modules implementing a command import those when it runs).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import sys
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    import pandas as pd

    from rheumetrics.errors import ValidationError

console = Console(stderr=True)

#: Show a progress bar only for inputs at least this long (about a second of work or more).
PROGRESS_MIN_ROWS = 100_000
#: Problems shown in the terminal table; all of them go to ``--problems FILE``.
PROBLEMS_SHOWN = 200

_debug = False


def set_debug(on: bool) -> None:
    """Show tracebacks instead of one-line errors (``--debug`` or ``RHEUMETRICS_DEBUG=1``)."""
    global _debug
    _debug = on or os.environ.get("RHEUMETRICS_DEBUG", "") not in ("", "0")


class CommandGroup(TyperGroup):
    """The top-level group: lazily imported subcommands and the one error handler.

    ``lazy`` maps a command name to ``("module:attribute", one-line help)``; the attribute is a
    command function or a :class:`typer.Typer`. The module is imported only when the command runs
    (or its own ``--help`` is asked for).
    """

    lazy: typing.ClassVar[dict[str, tuple[str, str]]] = {}
    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in self.lazy if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        target, short = self.lazy[cmd_name]
        if self._listing:  # the group's --help lists names and one-line help only
            return TyperCommand(cmd_name, help=short, short_help=short)
        module, _, attr = target.partition(":")
        obj = getattr(importlib.import_module(module), attr)
        if isinstance(obj, typer.Typer):
            return typer.main.get_command(obj)
        single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        single.command(cmd_name, help=obj.__doc__, short_help=short)(obj)
        return typer.main.get_command(single)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except typer.TyperException as exc:  # suggest lazily registered commands too
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            message = getattr(exc, "message", "")
            if matches and "Did you mean" not in message:
                exc.message = f"{message.rstrip('.')}. Did you mean {matches[0]!r}?"
            raise

    def format_help(self, ctx: Any, formatter: Any) -> None:
        type(self)._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            type(self)._listing = False

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):
            raise
        except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            console.print("[red]interrupted[/red]")
            raise typer.Exit(130) from None
        except Exception as exc:
            if _debug:
                raise
            report_error(exc)
            raise typer.Exit(1) from None


def error_line(exc: BaseException) -> str:
    """One line saying what went wrong, without internals (never row data from a database)."""
    from rheumetrics.errors import RheumetricsError

    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    orig = getattr(exc, "orig", None)  # a database driver error wrapped by SQLAlchemy
    text = str(orig if orig is not None else exc).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(exc, RheumetricsError):
        return first or type(exc).__name__
    name = type(orig if orig is not None else exc).__name__
    return f"{name}: {first}" if first else name


def report_error(exc: BaseException) -> None:
    """Print an error as one line (plus the problem table of a validation error)."""
    from rheumetrics.errors import RheumetricsError, ValidationError

    if isinstance(exc, ValidationError):
        report_problems(exc)
        console.print(f"[red]error:[/red] {exc.context}: {len(exc.problems)} problem(s)")
        return
    line = error_line(exc)
    if type(exc).__module__.startswith("sqlalchemy"):
        missing = any(s in line for s in ("no such table", "does not exist", "UndefinedTable"))
        hint = " (run `rheumetrics db init --db URL` to create the store)" if missing else ""
        line = f"database error: {line}"
    elif isinstance(exc, RheumetricsError | OSError):
        hint = ""
    else:
        hint = " (unexpected; --debug shows details)"
    console.print(f"[red]error:[/red] {line}{hint}", highlight=False, soft_wrap=True)


def report_problems(err: ValidationError, problems_csv: Path | None = None) -> None:
    """Print every problem (up to 200 in the table) and optionally write them all to CSV."""
    from rich.table import Table

    table = Table(title=f"{err.context}: {len(err.problems)} problem(s)", show_lines=False)
    for col in ("source", "record", "field", "value", "rule"):
        table.add_column(col, overflow="fold")
    for p in err.problems[:PROBLEMS_SHOWN]:
        table.add_row(p.source or "", str(p.record), p.field, repr(p.value), p.rule)
    console.print(table)
    if len(err.problems) > PROBLEMS_SHOWN:
        console.print(f"... {len(err.problems) - PROBLEMS_SHOWN} more not shown")
    if problems_csv is not None:
        from rheumetrics.schema.writers import write_csv

        write_csv(err.to_frame(), problems_csv)
        console.print(f"all problems written to {problems_csv}")


def to_terminal(out: Path | None) -> bool:
    """True when results go to the terminal: no ``--out`` or ``--out -``."""
    return out is None or str(out) == "-"


def print_frame(df: pd.DataFrame, as_json: bool = False) -> None:
    """Write a table to standard output: CSV, or JSON records with ``--json``."""
    if as_json:
        sys.stdout.write(df.to_json(orient="records", date_format="iso", indent=2) + "\n")
    else:
        df.to_csv(sys.stdout, index=False)


def print_json(obj: Any) -> None:
    """Write a JSON document to standard output (NaN written as null)."""
    sys.stdout.write(json.dumps(obj, indent=2, default=str, allow_nan=False) + "\n")


@contextmanager
def row_progress(total: int, description: str) -> Iterator[Any]:
    """A callback taking rows done, drawing a Rich progress bar on large inputs."""
    if total < PROGRESS_MIN_ROWS:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


def parse_conventions(pairs: list[str] | None, base: Any) -> Any:
    """Apply ``KEY=VALUE`` pairs to a frozen conventions dataclass, with a clear error."""
    if not pairs:
        return base
    hints = typing.get_type_hints(type(base))
    known = {f.name for f in dataclasses.fields(base)}
    changes: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in known:
            raise typer.BadParameter(
                f"{pair!r}: expected KEY=VALUE with KEY one of {sorted(known)}"
            )
        changes[key] = _coerce(raw.strip(), hints[key], key)
    try:
        return dataclasses.replace(base, **changes)
    except (ValueError, KeyError) as exc:
        raise typer.BadParameter(str(exc)) from exc


def _coerce(raw: str, hint: Any, key: str) -> Any:
    args = typing.get_args(hint)
    if raw.lower() in ("none", "off") and type(None) in args:
        return None
    target = next((a for a in args if a is not type(None)), hint) if args else hint
    if target is bool:
        if raw.lower() not in ("true", "false", "yes", "no", "1", "0"):
            raise typer.BadParameter(f"{key}: {raw!r} is not true/false")
        return raw.lower() in ("true", "yes", "1")
    if target in (int, float):
        try:
            return target(raw)
        except ValueError:
            raise typer.BadParameter(f"{key}: {raw!r} is not a number") from None
    if typing.get_origin(hint) is typing.Literal and raw not in args:
        raise typer.BadParameter(f"{key}: {raw!r} is not one of {list(args)}")
    return raw
