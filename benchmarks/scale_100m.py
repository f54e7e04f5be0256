"""Benchmark: 100 million visits generated, scored and validated out of core on this machine.

1. Generates the registry bucket by bucket on the workers of a local Dask cluster
   (``scale_registry``: never more than one bucket per worker in memory), after checking that the
   disk holds it (the bytes per visit of the first buckets, extrapolated, against ``df``).
2. Scores and validates every bucket with :func:`rheumetrics.scale.scores.score_file` (DAS28-ESR
   and -CRP, SDAI, CDAI, Boolean remission 2022; lenient: an invalid or incomplete visit gets NA
   and a reason), writing the score, category and reason columns to Parquet, one file per bucket.
3. Computes the exact DAS28-ESR median and quartiles over the scored files
   (:func:`rheumetrics.scale.score_summary`).
4. Scores the first ``--in-memory-visits`` visits in one process with ``score_frame`` after
   reading them into pandas (the in-memory path), for the throughput ratio.

Prints throughput, wall and CPU time, peak memory per worker and of all processes, and the load
average. With ``--deadline HH:MM`` (UTC) the scoring stops at that time and prints the measured
partial throughput and, labelled as such, the extrapolated time for the whole registry. The
dataset and the scored files are deleted at the end (``--keep`` keeps them).

Full run (about 3 GB of Parquet per 100 M visits plus the scores; under ``nice -n 10``)::

    nice -n 10 .venv/bin/python benchmarks/scale_100m.py --visits 100000000 --buckets 512 \\
        --dir /work/scale-bench/100m --deadline 06:50

Quick run::

    .venv/bin/python benchmarks/scale_100m.py --visits 200000 --buckets 8 --in-memory-visits 50000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import tempfile
import time
from pathlib import Path

import dask.dataframe as dd
import pandas as pd
import pyarrow.parquet as pq
from distributed import as_completed, get_client

from rheumetrics.measures import DEFAULT, score_frame
from rheumetrics.scale import execution, open_dataset, score_summary
from rheumetrics.scale.jointmasks import to_frame_with_counts
from rheumetrics.scale.scores import score_file
from scale_registry import (
    VISITS_PER_PATIENT,
    Monitor,
    bucket_patients,
    load_average,
    start,
    write_bucket,
)

MEASURES = ("das28_esr", "das28_crp", "sdai", "cdai", "boolean_remission_2022")


def score_bucket(path: Path, out: Path) -> int:
    """Score one visits file and write its score, category and reason columns."""
    scored = score_file(path, DEFAULT, MEASURES, True)
    keep = ["visit_id", *[c for c in scored.columns if c.startswith(MEASURES)]]
    scored[keep].to_parquet(out, index=False, compression="zstd")
    return len(scored)


def _deadline(text: str | None) -> float | None:
    if not text:
        return None
    now = dt.datetime.now(dt.UTC)
    hour, minute = (int(x) for x in text.split(":"))
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return time.perf_counter() + (at - now).total_seconds()


def _run(client, futures, label, stop_at) -> tuple[int, int, float, bool]:  # type: ignore[no-untyped-def]
    """Wait for futures, printing progress; cancel the rest at the deadline."""
    t0, done, rows, last = time.perf_counter(), 0, 0, time.perf_counter()
    finished = True
    pending = as_completed(futures, with_results=False)
    for future in pending:
        rows += future.result()
        done += 1
        now = time.perf_counter()
        if now - last > 60 or done == len(futures):
            print(f"  {label}: {done}/{len(futures)} buckets, {rows:,} visits, "
                  f"{rows / (now - t0):,.0f} visits/s, {load_average()}", flush=True)  # fmt: skip
            last = now
        if stop_at is not None and now > stop_at and done < len(futures):
            client.cancel(futures)
            while any(client.processing().values()):  # tasks already running finish their file
                time.sleep(0.5)
            finished = False
            break
    return done, rows, time.perf_counter() - t0, finished


def in_memory(root: Path, n_visits: int) -> tuple[Monitor, int]:
    files = open_dataset(root).files("visits")
    with Monitor({}) as mon:
        parts, total = [], 0
        for path in files:
            if total >= n_visits:
                break
            parts.append(to_frame_with_counts(pq.read_table(path)))
            total += len(parts[-1])
        visits = pd.concat(parts, ignore_index=True)
        score_frame(visits, measures=list(MEASURES), lenient=True)
    return mon, len(visits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000_000)
    parser.add_argument("--buckets", type=int, default=512)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="3GB", help="per worker")
    parser.add_argument("--in-memory-visits", type=int, default=10_000_000)
    parser.add_argument("--deadline", default=None, help="UTC HH:MM to stop scoring at")
    parser.add_argument(
        "--generate-deadline", default=None, help="UTC HH:MM to stop generating and start scoring"
    )
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the dataset and scores")
    args = parser.parse_args()

    stop_at = _deadline(args.deadline)
    base = args.dir or Path(tempfile.mkdtemp(prefix="rheumetrics-100m-"))
    root, out = base / "registry", base / "scored"
    n_patients = args.visits // VISITS_PER_PATIENT
    print(f"start {dt.datetime.now(dt.UTC):%H:%M:%S} UTC: {load_average()}; "
          f"free disk {shutil.disk_usage(base.parent if not base.exists() else base).free / 2**30:,.1f} GB",
          flush=True)  # fmt: skip
    try:
        with execution(0, scheduler="local", workers=args.workers,
                       memory_limit=args.memory_limit):  # fmt: skip
            client = get_client()
            pids = client.run(os.getpid)
            t0 = time.perf_counter()
            buckets = bucket_patients(n_patients, args.buckets)
            print(f"bucketed {n_patients:,} patients in {time.perf_counter() - t0:,.1f} s",
                  flush=True)  # fmt: skip
            start(root, args.buckets)
            # the first buckets alone, to check the disk before writing the rest
            first = min(4, args.buckets)
            n = sum(write_bucket(root, b, buckets[b]) for b in range(first))
            per_visit = sum(p.stat().st_size for p in root.rglob("*.parquet")) / max(n, 1)
            need = per_visit * args.visits * 2.5  # the dataset, then the scores (measured below)
            free = shutil.disk_usage(root).free
            print(f"{per_visit:.1f} bytes per visit: the dataset needs about "
                  f"{per_visit * args.visits / 2**30:,.1f} GB, with the scores about "
                  f"{need / 2**30:,.1f} GB; {free / 2**30:,.1f} GB free", flush=True)  # fmt: skip
            if need > free - 5 * 2**30:
                raise SystemExit("not enough disk space for this run")
            with Monitor(pids) as gen:
                futures = client.map(write_bucket, [root] * (args.buckets - first),
                                     range(first, args.buckets), buckets[first:], pure=False)  # fmt: skip
                done, rows, _, generated = _run(client, futures, "generate",
                                                _deadline(args.generate_deadline) or stop_at)  # fmt: skip
            del buckets
            ds = open_dataset(root)
            n = ds.n_rows("visits")
            size = sum(p.stat().st_size for p in ds.files("visits")) / 2**30
            print(f"generated {n:,} visits ({size:,.2f} GB Parquet, {len(ds.files('visits'))} "
                  f"files): {gen.report()}; {load_average()}", flush=True)  # fmt: skip
            if not generated:
                rate = rows / gen.wall
                print(f"PARTIAL generation (deadline): {n:,} of {args.visits:,} visits written; "
                      f"EXTRAPOLATED, not measured: all {args.visits:,} at {rate:,.0f} visits/s "
                      f"would take {args.visits / rate / 60:,.1f} min; scoring the {n:,} written",
                      flush=True)  # fmt: skip

            out.mkdir(parents=True, exist_ok=True)
            files = ds.files("visits")
            with Monitor(pids) as mon:
                futures = [client.submit(score_bucket, p, out / f"part-{k:05d}.parquet",
                                         pure=False) for k, p in enumerate(files)]  # fmt: skip
                done, rows, wall, finished = _run(client, futures, "score", stop_at)
            if finished:
                print(f"scored and validated {rows:,} visits (all generated) out of core, {args.workers} workers: "
                      f"{rows / mon.wall:,.0f} visits/s; {mon.report()}; {load_average()}",
                      flush=True)  # fmt: skip
                scored_gb = sum(p.stat().st_size for p in out.glob("*.parquet")) / 2**30
                t0 = time.perf_counter()
                summary = score_summary(dd.read_parquet(out, columns=["das28_esr"]),
                                        ["das28_esr"]).iloc[0]  # fmt: skip
                print(f"exact DAS28-ESR summary over {int(summary['n']):,} visits in "
                      f"{time.perf_counter() - t0:,.1f} s: median {summary['median']:.4f}, "
                      f"IQR {summary['q1']:.4f}-{summary['q3']:.4f}, mean {summary['mean']:.4f}; "
                      f"scores {scored_gb:,.2f} GB", flush=True)  # fmt: skip
            else:
                rate = rows / wall
                print(f"PARTIAL (deadline {args.deadline} UTC): scored {rows:,} of {n:,} visits "
                      f"({done} of {len(files)} buckets) in {wall:,.1f} s = {rate:,.0f} visits/s "
                      f"measured; {mon.report()}; {load_average()}", flush=True)  # fmt: skip
                print(f"EXTRAPOLATED, not measured: {n:,} visits at {rate:,.0f} visits/s would "
                      f"take {n / rate:,.0f} s ({n / rate / 60:,.1f} min) of scoring", flush=True)  # fmt: skip
        if (
            finished
            and args.in_memory_visits
            and (stop_at is None or time.perf_counter() < stop_at)
        ):
            mem, m = in_memory(root, args.in_memory_visits)
            print(f"in memory (one process), {m:,} visits: {m / mem.wall:,.0f} visits/s; "
                  f"{mem.report()}; out of core / in memory throughput "
                  f"{(rows / mon.wall) / (m / mem.wall):.2f}; {load_average()}", flush=True)  # fmt: skip
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
            if args.dir is None:
                shutil.rmtree(base, ignore_errors=True)
        print(f"end {dt.datetime.now(dt.UTC):%H:%M:%S} UTC: {load_average()}", flush=True)


if __name__ == "__main__":
    main()
