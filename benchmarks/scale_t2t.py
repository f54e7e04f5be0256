"""Benchmark: treat-to-target decisions for a registry on a local Dask cluster (the dataset path),
beside the same decisions and summary computed in memory, at three sizes.

At each size (a quarter, a half and all of ``--patients``; one bucket per
``--patients-per-bucket`` patients, so a bucket keeps its size), generates a synthetic registry
bucket by bucket on the cluster's workers (``scale_registry``: 10 visits per patient,
methotrexate started before the first visit), then runs, interleaved:

- the dataset path, :func:`rheumetrics.scale.t2t_summary.run_decisions` as
  ``rheumetrics t2t DATASET`` does it: each bucket's decision log written to Parquet and reduced
  to the exact cohort summary, on fresh workers;
- the in-memory path a user with enough memory would take: every file read into one frame,
  :func:`rheumetrics.t2t.decide` and :func:`rheumetrics.t2t.cohort.summarise`, in a forked
  process of its own;

checks that both give the same summary, and prints wall time, CPU time of all processes, peak
memory above the start (of the largest worker, resp. of the process) and the ratios dataset /
in-memory, with the load average; then the growth exponents of time and memory over the sizes.

The in-memory path is left out above ``--in-memory-max-visits`` (it holds the whole registry).

Quick run (the default, 10,000 to 40,000 patients)::

    .venv/bin/python benchmarks/scale_t2t.py

Full run (10 M visits, 1 M patients in 64 buckets, the top size only; under ``nice -n 10``)::

    nice -n 10 .venv/bin/python benchmarks/scale_t2t.py --patients 1000000 --buckets 64 --top-only
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from distributed import get_client

from rheumetrics.scale import execution, open_dataset
from rheumetrics.scale.t2t_summary import run_decisions
from scale_registry import (
    VISITS_PER_PATIENT,
    Monitor,
    bucket_patients,
    load_average,
    start,
    write_bucket,
)
from sweep import Timing, forked, print_growth, three_sizes


def generate(client: object, root: Path, patients: int, buckets: int) -> int:
    """Write the synthetic registry on the cluster's workers; returns the number of visits."""
    start(root, buckets)
    futures = client.map(write_bucket, [root] * buckets, range(buckets),  # type: ignore[attr-defined]
                         bucket_patients(patients, buckets), pure=False)  # fmt: skip
    return int(sum(client.gather(futures)))  # type: ignore[attr-defined]


def in_memory(root: Path, strategy: str) -> pd.DataFrame:
    """The whole registry read into one frame, decided and summarised in this process."""
    from rheumetrics.scale.t2t_decisions import _bucket_log
    from rheumetrics.t2t.cohort import summarise

    ds = open_dataset(root)
    log = _bucket_log(ds.files("visits"), ds.files("therapies"), strategy, None)
    return summarise(log)


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def dataset_path(
    client: object, root: Path, out: Path, strategy: str
) -> tuple[Timing, float, pd.DataFrame]:
    """``run_decisions`` on the cluster: wall, CPU of all processes, the largest worker's peak
    resident memory above its start, and the summary."""
    pids = client.run(os.getpid)  # type: ignore[attr-defined]
    before = client.run(_rss)  # type: ignore[attr-defined]
    shutil.rmtree(out, ignore_errors=True)
    with Monitor(pids) as mon:
        summary, _ = run_decisions(open_dataset(root), strategy, out=out)
    extra = max(mon.peak[w] - before[w] for w in pids)
    return Timing(mon.wall, mon.cpu_total), float(max(extra, 0)), summary


def same_summary(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a, b = a.set_index("metric"), b.set_index("metric")
    assert list(a.index) == list(b.index), "the two paths report different metrics"
    assert (a["n"].to_numpy() == b["n"].to_numpy()).all(), "denominators differ"
    np.testing.assert_allclose(a["value"].to_numpy(float), b["value"].to_numpy(float), rtol=1e-12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=40_000, help="top size")
    parser.add_argument("--patients-per-bucket", type=int, default=2_500)
    parser.add_argument(
        "--buckets",
        type=int,
        default=None,
        help="buckets at the top size (instead of --patients-per-bucket)",
    )
    parser.add_argument("--top-only", action="store_true", help="only the top size")
    parser.add_argument("--in-memory-max-visits", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--strategy", default="eular2022_ra")
    parser.add_argument("--memory-limit", default="4GB", help="per worker")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: temp)")
    args = parser.parse_args()

    base = args.dir or Path(tempfile.mkdtemp(prefix="rheumetrics-t2t-"))
    sizes = [args.patients] if args.top_only else three_sizes(args.patients)
    per_bucket = args.patients_per_bucket
    if args.buckets:
        per_bucket = -(-args.patients // args.buckets)
    time_: dict[str, list[float]] = {"dataset wall": [], "dataset CPU": [], "in-memory CPU": []}
    memory: dict[str, list[float]] = {"dataset (largest worker)": [], "in-memory": []}
    print(f"start: {load_average()}; strategy {args.strategy}, {args.workers} workers")
    try:
        with execution(0, scheduler="local", workers=args.workers,
                       memory_limit=args.memory_limit):  # fmt: skip
            client = get_client()
            for i, patients in enumerate(sizes):
                buckets = max(1, -(-patients // per_bucket))
                root, out = base / f"registry-{patients}", base / f"decisions-{patients}"
                n = generate(client, root, patients, buckets)
                with_peer = n <= args.in_memory_max_visits
                if i == 0 and with_peer:  # warm up: imports and the strategy, before the forks
                    in_memory(root, args.strategy)
                runs: dict[str, tuple[Timing, float, pd.DataFrame]] = {}
                order = ["dataset", "in-memory"] if i % 2 == 0 else ["in-memory", "dataset"]
                if not with_peer:
                    order = ["dataset"]
                for path in order:
                    if path == "dataset":
                        runs[path] = dataset_path(client, root, out, args.strategy)
                    else:
                        runs[path] = forked(lambda root=root: in_memory(root, args.strategy))
                visits = int(runs["dataset"][2].set_index("metric").loc["visits", "n"])
                assert visits == n == patients * VISITS_PER_PATIENT
                d, dmem, _ = runs["dataset"]
                time_["dataset wall"].append(d.wall)
                time_["dataset CPU"].append(d.cpu)
                memory["dataset (largest worker)"].append(dmem)
                line = (f"{n:>11,} visits, {buckets} buckets: dataset {d.wall:,.1f} s wall, "
                        f"{d.cpu:,.1f} s CPU (all processes), largest worker "
                        f"{dmem / 2**20:,.0f} MB above start; ")  # fmt: skip
                if with_peer:
                    same_summary(runs["dataset"][2], runs["in-memory"][2])
                    m, mmem, _ = runs["in-memory"]
                    time_["in-memory CPU"].append(m.cpu)
                    memory["in-memory"].append(mmem)
                    line += (f"in memory {m.wall:,.1f} s wall, {m.cpu:,.1f} s CPU, "
                             f"{mmem / 2**20:,.0f} MB above start; ratio dataset / in memory: "
                             f"wall {d.wall / m.wall:.2f}, CPU {d.cpu / m.cpu:.2f}; same summary; ")  # fmt: skip
                else:
                    line += f"in-memory path left out (over {args.in_memory_max_visits:,} visits); "
                print(line + load_average())
                shutil.rmtree(root, ignore_errors=True)
                shutil.rmtree(out, ignore_errors=True)
        visit_sizes = [p * VISITS_PER_PATIENT for p in sizes]
        if len(sizes) > 1:
            complete = {k: v for k, v in time_.items() if len(v) == len(sizes)}
            print_growth(visit_sizes, complete, "time")
            complete = {k: v for k, v in memory.items() if len(v) == len(sizes)}
            print_growth(visit_sizes, complete, "peak memory")
        print(f"end: {load_average()}")
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
