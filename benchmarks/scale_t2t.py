"""Benchmark: treat-to-target decisions for a registry on a local Dask cluster (the dataset path).

Generates a synthetic registry bucket by bucket on the cluster's workers (``scale_registry``:
10 visits per patient, methotrexate started before the first visit), then runs
:func:`rheumetrics.scale.t2t_summary.run_decisions` as ``rheumetrics t2t DATASET`` does: each
bucket's decision log is written to Parquet and reduced to the exact cohort summary. Prints wall
time, CPU time of all processes, peak memory and CPU per worker, and the load average before and
after (the machine is shared: compare figures measured in one run).

Full run (10 M visits, 1 M patients; run it under ``nice -n 10``)::

    nice -n 10 .venv/bin/python benchmarks/scale_t2t.py --patients 1000000 --buckets 64

Quick run::

    .venv/bin/python benchmarks/scale_t2t.py --patients 5000 --buckets 4
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--buckets", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--strategy", default="eular2022_ra")
    parser.add_argument("--memory-limit", default="4GB", help="per worker")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: temp)")
    args = parser.parse_args()

    base = args.dir or Path(tempfile.mkdtemp(prefix="rheumetrics-t2t-"))
    root, out = base / "registry", base / "decisions"
    print(f"start: {load_average()}")
    try:
        with execution(0, scheduler="local", workers=args.workers,
                       memory_limit=args.memory_limit):  # fmt: skip
            client = get_client()
            pids = client.run(os.getpid)
            t0 = time.perf_counter()
            buckets = bucket_patients(args.patients, args.buckets)
            start(root, args.buckets)
            futures = client.map(write_bucket, [root] * args.buckets, range(args.buckets),
                                 buckets, pure=False)  # fmt: skip
            n = sum(client.gather(futures))
            ds = open_dataset(root)
            size = sum(p.stat().st_size for p in ds.files("visits")) / 2**20
            print(f"generated {n:,} visits of {args.patients:,} patients in {args.buckets} "
                  f"buckets ({size:,.0f} MB Parquet) in {time.perf_counter() - t0:,.1f} s; "
                  f"{load_average()}")  # fmt: skip
            with Monitor(pids) as mon:
                summary, _ = run_decisions(ds, args.strategy, out=out)
            visits = int(summary.set_index("metric").loc["visits", "n"])
            assert visits == args.patients * VISITS_PER_PATIENT
            print(f"t2t decisions ({args.strategy}), {args.workers} workers: {visits:,} visits, "
                  f"{visits / mon.wall:,.0f} visits/s; {mon.report()}")  # fmt: skip
            print(f"end: {load_average()}")
            print(summary.drop(columns="description").to_string(index=False))
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
