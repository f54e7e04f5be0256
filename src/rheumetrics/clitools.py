"""Helpers shared by the command-line modules: error reports, progress bars, conventions."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from rheumetrics.errors import ValidationError
from rheumetrics.schema.writers import write_csv

console = Console(stderr=True)

#: Show a progress bar only for inputs at least this long.
PROGRESS_MIN_ROWS = 100_000


def report_problems(err: ValidationError, problems_csv: Path | None = None) -> None:
    """Print every problem (up to 200 in the table) and optionally write them all to CSV."""
    table = Table(title=f"{err.context}: {len(err.problems)} problem(s)", show_lines=False)
    for col in ("source", "record", "field", "value", "rule"):
        table.add_column(col, overflow="fold")
    for p in err.problems[:200]:
        table.add_row(p.source or "", str(p.record), p.field, repr(p.value), p.rule)
    console.print(table)
    if len(err.problems) > 200:
        console.print(f"... {len(err.problems) - 200} more not shown")
    if problems_csv is not None:
        write_csv(err.to_frame(), problems_csv)
        console.print(f"all problems written to {problems_csv}")


@contextmanager
def row_progress(total: int, description: str) -> Iterator[Any]:
    """A callback taking rows done, drawing a Rich progress bar on large inputs."""
    if total < PROGRESS_MIN_ROWS:
        yield None
        return
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
