"""Command line for registry scale: ``export parquet`` and Parquet datasets as command input.

The top-level command line runs ``score``, ``imaging``, ``t2t``, ``report`` and ``export``
through the extended commands built here (see :func:`__getattr__`), without changing the packages
below: ``export`` gains the ``parquet`` kind (``--buckets``), ``--json`` and progress bars;
``score``, ``imaging`` and ``t2t`` accept a dataset folder as their input and ``report`` and
``export tidy|fhir|deid`` take ``--dataset``, running out of core on Dask with ``--scheduler ADDRESS`` (an existing cluster) and
``--workers N`` (a local cluster). Files as input take the commands' own, unchanged paths.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from rheumetrics.clitools import console, parse_conventions, print_json
from rheumetrics.errors import RheumetricsError, ValidationError
from rheumetrics.scale.cli_parts import fail, option, partition_progress

_SCHEDULER = option(
    "scheduler", "--scheduler", None, str | None,
    "Dataset input: Dask scheduler address (tcp://host:8786), 'local' or 'synchronous'; "
    "default: a local cluster above 5 million rows, else this process.",
)  # fmt: skip
_WORKERS = option(
    "workers", "--workers", None, int | None, "Dataset input: worker processes of a local cluster."
)


def _extend(
    original: Callable[..., None],
    extra: list[inspect.Parameter],
    route: Callable[[dict[str, Any]], bool],
    handler: Callable[..., None],
    replace: dict[str, inspect.Parameter] | None = None,
    around: Callable[[Callable[[], None], dict[str, Any], dict[str, Any]], None] | None = None,
) -> Callable[..., None]:
    """A command with ``original``'s parameters plus ``extra``; ``handler`` runs when ``route``,
    else ``original`` (through ``around(call, extra_values, kwargs)`` when given)."""
    sig = inspect.signature(original, eval_str=True)
    extra = [p for p in extra if p.name not in sig.parameters]  # the original's own win
    params = [replace.get(p.name, p) if replace else p for p in sig.parameters.values()]
    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params] + extra
    names = {p.name for p in extra}

    def command(**kwargs: Any) -> None:
        if route(kwargs):
            handler(**kwargs)
            return
        values = {name: kwargs.pop(name) for name in names}
        if replace:
            for name in replace:
                kwargs[name] = sig.parameters[name].annotation(kwargs[name].value)
        if around is None:
            original(**kwargs)
        else:
            around(lambda: original(**kwargs), values, kwargs)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = original.__doc__
    command.__name__ = original.__name__
    return command


def _score_dataset(**kw: Any) -> None:
    from rheumetrics.measures import DEFAULT
    from rheumetrics.scale import execution, open_dataset, scores_frame, write_frame
    from rheumetrics.scale.scores import all_problems

    conv = parse_conventions(kw["convention"], DEFAULT)
    try:
        ds = open_dataset(kw["input"])
        n = ds.n_rows("visits")
        with execution(n, scheduler=kw["scheduler"], workers=kw["workers"]) as where:
            try:
                frame = scores_frame(
                    ds, conv, measures=kw["measure"] or None, lenient=kw["lenient"]
                )
                path = write_frame(frame, kw["out"])
            except ValidationError as first:  # report the problems of every file, not the first
                fail(all_problems(ds, conv, measures=kw["measure"] or None) or first,
                     kw.get("problems"))  # fmt: skip
    except (RheumetricsError, ValueError) as err:
        fail(err, kw.get("problems"))
    record = {**dataclasses.asdict(conv), "measures": kw["measure"] or "all available",
              "dataset": str(kw["input"]), "execution": where}  # fmt: skip
    Path(f"{path}.conventions.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    console.print(f"scored {n:,} visits of {kw['input']} ({where['scheduler']}, "
                  f"{where['workers']} worker(s)) -> {path}")  # fmt: skip


def _imaging_dataset(**kw: Any) -> None:
    from rheumetrics.io import write_table
    from rheumetrics.scale import execution, open_dataset
    from rheumetrics.scale.imaging_outputs import ChangeRequest, run_imaging
    from rheumetrics.scale.scores import all_problems

    if kw.get("change") is not None and (kw.get("baseline") is None or kw.get("followup") is None):
        raise typer.BadParameter("--change needs --baseline and --followup")
    if kw.get("out") is None or str(kw["out"]) == "-":
        raise typer.BadParameter(
            "a dataset's per-read scores need --out FILE (too many for a terminal)"
        )
    targets = {k: kw[k] for k in ("out", "means", "states", "change") if kw.get(k) is not None}
    request = None
    if kw.get("change") is not None:
        request = ChangeRequest(str(kw["baseline"]), str(kw["followup"]), tuple(kw.get("rule") or ()),
                                kw.get("sdc"), kw.get("mcid"))  # fmt: skip
    try:
        ds = open_dataset(kw["reads"])
        n = ds.n_rows("imaging_reads")
        parts = len(ds.files("imaging_reads"))
        with (execution(n, scheduler=kw["scheduler"], workers=kw["workers"]) as where,
              partition_progress(n, parts, "imaging") as tick):  # fmt: skip
            try:
                written, conventions = run_imaging(ds, targets, request, tick)
            except ValidationError as first:
                fail(all_problems(ds, table="imaging_reads") or first, kw.get("problems"))
        for key, result in written.items():
            if not isinstance(result, Path):
                write_table(result, targets[key])
    except (RheumetricsError, ValueError) as err:
        fail(err, kw.get("problems"))
    conventions["execution"] = where
    Path(f"{kw['out']}.conventions.json").write_text(
        json.dumps(conventions, indent=2, default=str, ensure_ascii=False) + "\n"
    )
    console.print(f"scored {n:,} site reads of {kw['reads']} ({where['scheduler']}, "
                  f"{where['workers']} worker(s)) -> {kw['out']}")  # fmt: skip


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    out = {}
    for pair in values or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{option} {pair!r}: expected NAME=VALUE")
        out[key.strip()] = value.strip()
    return out


def _strategy_label(strategy: Any) -> str:
    """The column name of a strategy in a comparison (its id, with options changed from default)."""
    changed = {k: v for k, v in strategy.chosen.items() if v != strategy.options[k].default}
    extra = ", ".join(f"{k}={v}" for k, v in sorted(changed.items()))
    return f"{strategy.id} ({extra})" if changed else str(strategy.id)


def _print_summary(table: Any, title: str, as_json: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    if as_json:
        records = table.drop(columns=["description"]).to_dict(orient="records")
        print_json([{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
                    for r in records])  # fmt: skip
        return
    shown = Table(title=title)
    for col in table.columns.drop("description"):
        shown.add_column(str(col), overflow="fold")
    for row in table.drop(columns=["description"]).itertuples(index=False):
        shown.add_row(*[f"{v:.3g}" if isinstance(v, float) else escape(str(v)) for v in row])
    console.print(shown)


def _t2t_dataset(**kw: Any) -> None:
    from rheumetrics.cohort import MRI_WINDOW_DAYS
    from rheumetrics.io import read_table, write_table
    from rheumetrics.scale import execution, open_dataset
    from rheumetrics.scale.t2t_summary import run_decisions
    from rheumetrics.t2t import load_strategy

    given = [name for key, name in (("db", "--db"), ("therapies", "--therapies"),
             ("visit", "--visit"), ("regimen", "--regimen")) if kw.get(key)]  # fmt: skip
    if given:
        fail(RheumetricsError(f"{kw['input']} is a dataset (it holds the visits and therapies): "
                              f"{', '.join(given)} cannot be used with it"))  # fmt: skip
    out = Path(kw["out"])
    gather = out.suffix.lower() in (".csv", ".xlsx", ".parquet")
    try:
        options = _pairs(kw.get("option"), "--option")
        chosen = [load_strategy(kw["strategy"], options)]
        if kw.get("compare"):
            chosen.append(load_strategy(kw["compare"]))
        ds = open_dataset(kw["input"])
        n = ds.n_rows("visits")
        extra: dict[str, Any] = {
            "event_flags_missing": kw.get("event_flags_missing", "no_event"),
            "mri_window_days": MRI_WINDOW_DAYS,
        }  # as t2t --db
        if kw.get("contraindications") is not None:
            extra["contraindications"] = read_table(kw["contraindications"])
        buckets = len(ds.bucket_files("visits"))
        summaries, logs = [], []
        with execution(n, scheduler=kw["scheduler"], workers=kw["workers"]) as where:
            for k, strategy in enumerate(chosen):
                # a folder log: one file per bucket, in a folder per strategy when comparing
                folder = None if gather else out / strategy.id if len(chosen) > 1 else out
                with partition_progress(n, buckets, f"t2t {strategy.id}") as tick:
                    summary, log = run_decisions(
                        ds, kw["strategy"] if k == 0 else kw["compare"], options if k == 0 else {},
                        out=folder, gather=gather, progress=tick, **extra,
                    )  # fmt: skip
                summaries.append(summary)
                if log is not None:
                    logs.append(log)
        if logs:  # both strategies in one log, told apart by its strategy column
            import pandas as pd

            write_table(pd.concat(logs, ignore_index=True), out)
    except ValidationError as err:
        fail(err)
    except (RheumetricsError, FileNotFoundError, ValueError, KeyError) as err:
        fail(err)
    table = summaries[0]
    if len(summaries) > 1:
        import pandas as pd

        labels = [_strategy_label(s) for s in chosen]
        if labels[0] == labels[1]:
            fail(ValueError(f"strategy {labels[0]} given twice"))
        table = pd.DataFrame({"metric": table["metric"],
                              **{lab: s["value"].to_numpy() for lab, s in zip(labels, summaries, strict=True)},
                              "description": table["description"]})  # fmt: skip
    if kw.get("summary") is not None:
        write_table(table, kw["summary"])
    _print_summary(table, f"{chosen[0].name}: {n:,} visits ({where['scheduler']}, "
                   f"{where['workers']} worker(s))", bool(kw.get("as_json")))  # fmt: skip
    console.print(f"decision log written to {out}")


_DATASET = option(
    "dataset", "--dataset", None, Path | None,
    "Read the cohort from this Parquet dataset (export parquet), out of core on Dask, instead "
    "of the study file's cohort.",
)  # fmt: skip


def _report_dataset(**kw: Any) -> None:
    from rheumetrics.scale import execution, open_dataset
    from rheumetrics.scale.study_cohort import dataset_cohort
    from rheumetrics.study.model import load_study
    from rheumetrics.study.report import run_study, write_report

    if kw.get("db"):
        fail(RheumetricsError("give --db or --dataset, not both"))
    out = Path(kw["out"])
    try:
        spec = load_study(kw["study"])
        ds = open_dataset(kw["dataset"])
        n = ds.n_rows("visits") if "visits" in ds.tables else 0
        buckets = len({b for t in ds.tables for b in ds.bucket_files(t)})
        with (execution(n, scheduler=kw["scheduler"], workers=kw["workers"]) as where,
              partition_progress(n, buckets, "reading the dataset") as tick):  # fmt: skip
            cohort = dataset_cohort(spec, ds, tick)
        with console.status("running the study") as status:
            rep = run_study(spec, cohort, progress=lambda msg: status.update(msg))
        written = write_report(rep, out)
    except (RheumetricsError, ValueError) as err:
        fail(err)
    console.print(f"wrote {out} and {len(written) - 1} tables in {out.parent / (out.stem + '_tables')}"
                  f" (cohort from {kw['dataset']}: {where['scheduler']}, "
                  f"{where['workers']} worker(s))")  # fmt: skip
    if rep.reproduction is not None:
        from rheumetrics.study.published import summary

        console.print(f"reproduction: {summary(rep.reproduction)}")


def _is_dataset(value: Any) -> bool:
    from rheumetrics.scale.dataset import is_dataset

    return value is not None and is_dataset(value)


def __getattr__(name: str) -> Callable[..., None]:
    """``score_command``, ``imaging_command`` and ``export_command``: the commands of the packages
    below, extended with the Parquet dataset paths, each built when its command first runs."""
    if name == "score_command":
        from rheumetrics.measures.cli import score

        return _extend(score, [_SCHEDULER, _WORKERS], lambda kw: _is_dataset(kw["input"]),
                       _score_dataset)  # fmt: skip
    if name == "imaging_command":
        from rheumetrics.imaging.cli import imaging_command

        return _extend(imaging_command, [_SCHEDULER, _WORKERS],
                       lambda kw: _is_dataset(kw["reads"]), _imaging_dataset)  # fmt: skip
    if name == "export_command":
        from rheumetrics.scale.export_cli import (
            BUCKETS,
            EXPORT_DATASET,
            JSON,
            export_other,
            export_store,
        )
        from rheumetrics.store.cli import export_command

        kind = inspect.signature(export_command, eval_str=True).parameters["kind"]
        kinds = StrEnum("ExportKind", [*(k.value for k in kind.annotation), "parquet"])  # type: ignore[misc]
        help_text = kind.default.help + " parquet: a Parquet dataset folder (patient buckets)."
        new_kind = kind.replace(annotation=kinds, default=typer.Argument(..., help=help_text))
        return _extend(export_command, [BUCKETS, EXPORT_DATASET, _SCHEDULER, _WORKERS, JSON],
                       lambda kw: kw["kind"].value == "parquet" or kw.get("dataset") is not None,
                       export_other, replace={"kind": new_kind}, around=export_store)  # fmt: skip
    if name == "t2t_command":
        from rheumetrics.t2t.cli import t2t_command

        return _extend(t2t_command, [_SCHEDULER, _WORKERS], lambda kw: _is_dataset(kw["input"]),
                       _t2t_dataset)  # fmt: skip
    if name == "report_command":
        from rheumetrics.study.cli import report_command

        return _extend(report_command, [_DATASET, _SCHEDULER, _WORKERS],
                       lambda kw: kw.get("dataset") is not None, _report_dataset)  # fmt: skip
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
