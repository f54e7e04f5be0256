"""Command line for registry scale: ``export parquet`` and Parquet datasets as ``score``/``imaging`` input.

:func:`register` extends commands registered by the packages below without changing them: ``export``
gains the ``parquet`` kind (``--buckets``), and ``score`` and ``imaging`` accept a dataset folder as
their input, run out of core on Dask, with ``--scheduler ADDRESS`` (an existing cluster) and
``--workers N`` (a local cluster). Files as input take the commands' own, unchanged paths.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn

import typer

from rheumetrics.clitools import console, parse_conventions, report_problems
from rheumetrics.errors import RheumetricsError, ValidationError

_SCHEDULER = inspect.Parameter(
    "scheduler",
    inspect.Parameter.KEYWORD_ONLY,
    default=typer.Option(
        None,
        "--scheduler",
        help="Dataset input: Dask scheduler address (tcp://host:8786), 'local' or 'synchronous'; "
        "default: a local cluster above 5 million rows, else this process.",
    ),
    annotation=str | None,
)
_WORKERS = inspect.Parameter(
    "workers",
    inspect.Parameter.KEYWORD_ONLY,
    default=typer.Option(
        None, "--workers", help="Dataset input: worker processes of a local cluster."
    ),
    annotation=int | None,
)
_BUCKETS = inspect.Parameter(
    "buckets",
    inspect.Parameter.KEYWORD_ONLY,
    default=typer.Option(64, "--buckets", help="parquet: patient hash buckets (files per table)."),
    annotation=int,
)


def _extend(
    original: Callable[..., None],
    extra: list[inspect.Parameter],
    route: Callable[[dict[str, Any]], bool],
    handler: Callable[..., None],
    replace: dict[str, inspect.Parameter] | None = None,
) -> Callable[..., None]:
    """A command with ``original``'s parameters plus ``extra``; ``handler`` runs when ``route``."""
    sig = inspect.signature(original, eval_str=True)
    params = [replace.get(p.name, p) if replace else p for p in sig.parameters.values()]
    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params] + extra
    names = {p.name for p in extra}

    def command(**kwargs: Any) -> None:
        if route(kwargs):
            handler(**kwargs)
            return
        for name in names:
            kwargs.pop(name)
        if replace:
            for name in replace:
                kwargs[name] = sig.parameters[name].annotation(kwargs[name].value)
        original(**kwargs)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = original.__doc__
    command.__name__ = original.__name__
    return command


def _fail(err: Exception, problems: Path | None = None) -> NoReturn:
    if isinstance(err, ValidationError):
        report_problems(err, problems)
    else:
        console.print(f"[red]error:[/red] {err}")
    raise typer.Exit(code=1) from None


def _score_dataset(**kw: Any) -> None:
    from rheumetrics.measures import DEFAULT
    from rheumetrics.scale import execution, open_dataset, scores_frame, write_frame

    conv = parse_conventions(kw["convention"], DEFAULT)
    try:
        ds = open_dataset(kw["input"])
        n = ds.n_rows("visits")
        with execution(n, scheduler=kw["scheduler"], workers=kw["workers"]) as where:
            frame = scores_frame(ds, conv, measures=kw["measure"] or None, lenient=kw["lenient"])
            path = write_frame(frame, kw["out"])
    except (RheumetricsError, ValueError) as err:
        _fail(err, kw.get("problems"))
    record = {"conventions": str(conv), "dataset": str(kw["input"]), "execution": where}
    Path(f"{path}.conventions.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    console.print(f"scored {n:,} visits of {kw['input']} ({where['scheduler']}, "
                  f"{where['workers']} worker(s)) -> {path}")  # fmt: skip


def _imaging_dataset(**kw: Any) -> None:
    from rheumetrics.imaging import reader_mean
    from rheumetrics.scale import execution, imaging_frame, open_dataset, write_frame

    if any(kw.get(k) for k in ("states", "change")):
        console.print("[red]error:[/red] a dataset input gives --out and --means; for --states and "
                      "--change score the dataset first, then run them on the result")  # fmt: skip
        raise typer.Exit(code=1)
    try:
        ds = open_dataset(kw["reads"])
        n = ds.n_rows("imaging_reads")
        with execution(n, scheduler=kw["scheduler"], workers=kw["workers"]) as where:
            frame = imaging_frame(ds)
            path = write_frame(frame, kw["out"])
            if kw.get("means") is not None:
                write_frame(frame.map_partitions(reader_mean, meta=None), kw["means"])
    except (RheumetricsError, ValueError) as err:
        _fail(err, kw.get("problems"))
    console.print(f"scored {n:,} site reads of {kw['reads']} ({where['scheduler']}, "
                  f"{where['workers']} worker(s)) -> {path}")  # fmt: skip


def _export_parquet(**kw: Any) -> None:
    from rheumetrics.scale import export_parquet
    from rheumetrics.store import make_engine, resolve_url

    try:
        engine = make_engine(resolve_url(kw["db"]))
        written = export_parquet(engine, kw["out"], kw["patient"] or None, buckets=kw["buckets"],
                                 run=kw["run"])  # fmt: skip
    except (RheumetricsError, ValueError) as err:
        _fail(err)
    summary = ", ".join(f"{table} {n:,}" for table, n in written.items())
    console.print(f"wrote {kw['out']} ({summary})")


def _is_dataset(value: Any) -> bool:
    from rheumetrics.scale.dataset import is_dataset

    return value is not None and is_dataset(value)


def register(app: typer.Typer) -> None:
    """Extend ``export``, ``score`` and ``imaging`` of ``app`` with the Parquet dataset paths."""
    for info in app.registered_commands:
        name = info.name
        callback = info.callback
        if callback is None:
            continue
        if name == "score":
            info.callback = _extend(callback, [_SCHEDULER, _WORKERS],
                                    lambda kw: _is_dataset(kw["input"]), _score_dataset)  # fmt: skip
        elif name == "imaging":
            info.callback = _extend(callback, [_SCHEDULER, _WORKERS],
                                    lambda kw: _is_dataset(kw["reads"]), _imaging_dataset)  # fmt: skip
        elif name == "export":
            kind = inspect.signature(callback, eval_str=True).parameters["kind"]
            kinds = StrEnum("ExportKind", [*(k.value for k in kind.annotation), "parquet"])  # type: ignore[misc]
            help_text = kind.default.help + " parquet: a Parquet dataset folder (patient buckets)."
            new_kind = kind.replace(annotation=kinds, default=typer.Argument(..., help=help_text))
            info.callback = _extend(callback, [_BUCKETS],
                                    lambda kw: kw["kind"].value == "parquet", _export_parquet,
                                    replace={"kind": new_kind})  # fmt: skip
