"""``rheumetrics export``: the ``parquet`` kind (the store as a dataset), ``--dataset`` for the
store's own kinds (``tidy``, ``fhir``, ``deid`` from a dataset), ``--json`` summaries and progress
bars, added to the store's export command by :mod:`rheumetrics.scale.cli`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rheumetrics.clitools import console, print_json
from rheumetrics.errors import RheumetricsError, ValidationError
from rheumetrics.scale.cli_parts import fail, option, partition_progress

BUCKETS = option(
    "buckets", "--buckets", 64, int, "parquet: patient hash buckets (files per table)."
)
JSON = option("as_json", "--json", False, bool, "Print a summary of the export as JSON.")


def _written(out: Path) -> tuple[int, int]:
    """Files and bytes written at ``out`` (a file or a folder)."""
    if out.is_dir():
        files = [p for p in out.rglob("*") if p.is_file()]
        return len(files), sum(p.stat().st_size for p in files)
    return (1, out.stat().st_size) if out.exists() else (0, 0)


def _export_summary(kind: str, out: Path, seconds: float, **extra: Any) -> dict[str, Any]:
    files, size = _written(out)
    return {"kind": kind, "out": str(out), "files": files, "bytes": size,
            "seconds": round(seconds, 3), **extra}  # fmt: skip


def _export_parquet(**kw: Any) -> None:
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from rheumetrics.scale import export_parquet
    from rheumetrics.store import make_engine, resolve_url

    start = time.perf_counter()
    columns = (TextColumn("export parquet"), BarColumn(),
               TextColumn("{task.completed:,} patients"), TimeElapsedColumn())  # fmt: skip
    try:
        engine = make_engine(resolve_url(kw["db"]))
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("export", total=None)
            written = export_parquet(
                engine, kw["out"], kw["patient"] or None, buckets=kw["buckets"], run=kw["run"],
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip
    except (RheumetricsError, ValueError) as err:
        fail(err)
    if kw.get("as_json"):
        print_json(_export_summary("parquet", Path(kw["out"]), time.perf_counter() - start,
                                   buckets=kw["buckets"], rows=written))  # fmt: skip
        return
    summary = ", ".join(f"{table} {n:,}" for table, n in written.items())
    console.print(f"wrote {kw['out']} ({summary})")


EXPORT_DATASET = option(
    "dataset", "--dataset", None, Path | None,
    "tidy, fhir, deid: export this Parquet dataset (export parquet) instead of the store, out "
    "of core.",
)  # fmt: skip


def _export_dataset(**kw: Any) -> None:
    """``export tidy|fhir|deid --dataset DIR``: the store's exports, from a dataset."""
    import os
    import time

    from rheumetrics.scale import execution, open_dataset
    from rheumetrics.scale.dataset_exports import (
        export_deidentified_dataset,
        export_fhir_dataset,
        export_tidy_dataset,
    )

    kind = kw["kind"].value
    if kw.get("db"):
        fail(RheumetricsError("give --db or --dataset, not both"))
    start = time.perf_counter()
    keys = kw["patient"] or None
    try:
        ds = open_dataset(kw["dataset"])
        n = sum(ds.n_rows(t) for t in ("visits", "therapies") if t in ds.tables)
        with (execution(n, scheduler=kw["scheduler"], workers=kw["workers"]) as where,
              partition_progress(n, ds.buckets, f"export {kind}") as tick):  # fmt: skip
            if kind == "tidy":
                path = export_tidy_dataset(ds, kw["out"], keys, run=kw["run"],
                                           joints=kw["joints"], progress=tick)  # fmt: skip
            elif kind == "fhir":
                path = export_fhir_dataset(ds, kw["out"], keys, run=kw["run"],
                                           joints=kw["joints"], progress=tick)  # fmt: skip
            else:
                secret = os.environ.get(kw["secret_env"])
                if not secret:
                    console.print(f"[yellow]note:[/yellow] ${kw['secret_env']} is not set: "
                                  "pseudonyms use a random secret and will not link to later "
                                  "exports")  # fmt: skip
                path = export_deidentified_dataset(
                    ds, kw["out"], secret=secret, max_shift_days=kw["max_shift_days"],
                    fmt=kw["fmt"], patients=keys, progress=tick,
                )["visits"].parent  # fmt: skip
    except ValidationError as err:
        fail(err)
    except (RheumetricsError, ValueError) as err:
        fail(err)
    if kw.get("as_json"):
        print_json(_export_summary(kind, Path(kw["out"]), time.perf_counter() - start,
                                   dataset=str(kw["dataset"])))  # fmt: skip
        return
    console.print(f"wrote {path} (from {kw['dataset']}: {where['scheduler']}, "
                  f"{where['workers']} worker(s))")  # fmt: skip


def export_other(**kw: Any) -> None:
    """``export parquet`` (from the store) or an export from ``--dataset``."""
    if kw["kind"].value == "parquet":
        if kw.get("dataset") is not None:
            fail(RheumetricsError("export parquet writes the store as a dataset; --dataset "
                                  "is for tidy, fhir and deid"))  # fmt: skip
        _export_parquet(**kw)
    else:
        _export_dataset(**kw)


def export_store(call: Callable[[], None], extra: dict[str, Any], kw: dict[str, Any]) -> None:
    """The store's own exports, with an elapsed-time bar and, with ``--json``, a summary."""
    import time

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    start = time.perf_counter()
    kind = getattr(kw["kind"], "value", kw["kind"])
    columns = (SpinnerColumn(), TextColumn(f"export {kind}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        bar.add_task("export", total=None)
        call()
    if extra.get("as_json"):
        print_json(_export_summary(kind, Path(kw["out"]), time.perf_counter() - start))
