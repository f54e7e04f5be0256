"""What the dataset commands of :mod:`rheumetrics.scale.cli` and :mod:`rheumetrics.scale.export_cli`
share: an option added to an existing command, the exit on an error, and a progress bar counting
partitions."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer

from rheumetrics.clitools import PROGRESS_MIN_ROWS, console, report_problems
from rheumetrics.errors import ValidationError


def option(name: str, flag: str, default: Any, annotation: Any, help: str) -> inspect.Parameter:
    """A keyword-only ``--flag`` option, added to the signature of an existing command."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=typer.Option(default, flag, help=help))  # fmt: skip


def fail(err: Exception, problems: Path | None = None) -> NoReturn:
    """Report ``err`` (a validation error's problems, also to ``problems`` when given) and exit 1."""
    if isinstance(err, ValidationError):
        report_problems(err, problems)
    else:
        console.print(f"[red]error:[/red] {err}")
    raise typer.Exit(code=1) from None


@contextmanager
def partition_progress(
    n_rows: int, parts: int, description: str
) -> Iterator[Callable[[int], None] | None]:
    """A Rich bar counting partitions done, for inputs of :data:`PROGRESS_MIN_ROWS` rows or more."""
    if n_rows < PROGRESS_MIN_ROWS or parts < 2:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total} partitions"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=parts)
        yield lambda done: bar.update(task, completed=done)
