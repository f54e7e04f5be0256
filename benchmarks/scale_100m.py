"""Benchmark: 100 million visits generated, scored and validated out of core on this machine.

1. Generates the registry bucket by bucket on the workers of a local two-worker Dask cluster
   (``scale_registry``: never more than one bucket per worker in memory), after checking that the
   disk holds it (the bytes per visit of the first buckets, extrapolated, against ``df``).
2. Scores and validates with :func:`rheumetrics.scale.scores.score_file` (DAS28-ESR and -CRP,
   SDAI, CDAI, Boolean remission 2022; lenient: an invalid or incomplete visit gets NA and a
   reason), writing the score, category and reason columns to Parquet, one file per bucket, at
   three sizes (a quarter, a half and all of the buckets: ``sweep.three_sizes``). At each size
   the same files are scored on one worker and on two, interleaved block by block (1 then 2,
   then 2 then 1, ...) so both see the same machine load; the 1-to-2-worker speed-up is the
   ratio of their wall times.
3. Prints the growth exponents (``sweep.print_growth``) of wall time, CPU time and peak memory
   over the three sizes, for one and for two workers.
4. Computes the exact DAS28-ESR median and quartiles over all the scores
   (:func:`rheumetrics.scale.score_summary`).
5. Scores the first ``--in-memory-visits`` visits in one process with ``score_frame`` after
   reading them into pandas (the in-memory path), for the throughput ratio.

Peak memory of all processes is checked against ``--memory-budget`` (4 GB: the issue's bound);
each worker is limited to ``--memory-limit``. With ``--deadline HH:MM`` (UTC) the sweep stops
before the next block after that time and prints what it measured, labelled partial. The dataset
and the scored files are deleted at the end (``--keep`` keeps them).

Full run (about 2.2 GB of Parquet per 100 M visits plus the scores; under ``nice -n 10``, alone
on the machine)::

    nice -n 10 .venv/bin/python benchmarks/scale_100m.py --visits 100000000 --buckets 512 \\
        --dir /work/scale-bench/100m

Quick run::

    .venv/bin/python benchmarks/scale_100m.py --visits 1000000 --buckets 16 --in-memory-visits 250000
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
from dask.utils import parse_bytes
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
from sweep import print_growth, three_sizes

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
    """Wait for the generation futures, printing progress; cancel the rest at the deadline."""
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


class Cost:
    """Wall and CPU seconds, visits, and peak memory (largest worker, all processes) of a size."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0
        self.rows = 0
        self.peak_worker = self.peak_total = 0

    def add(self, mon: Monitor, rows: int) -> None:
        self.wall += mon.wall
        self.cpu += mon.cpu_total
        self.rows += rows
        self.peak_worker = max(self.peak_worker, *mon.peak.values())
        self.peak_total = max(self.peak_total, mon.peak_total)


def score_block(client, files, out, first, workers, pids) -> tuple[Monitor, int]:  # type: ignore[no-untyped-def]
    """Score ``files`` on ``workers`` (addresses) only; the scores go to ``out/part-<k>``."""
    with Monitor(pids) as mon:
        futures = [client.submit(score_bucket, p, out / f"part-{first + k:05d}.parquet",
                                 workers=workers, allow_other_workers=False, pure=False)
                   for k, p in enumerate(files)]  # fmt: skip
        rows = sum(client.gather(futures))
    return mon, rows


def sweep(client, files, out, pids, blocks, stop_at) -> tuple[list[dict[int, Cost]], bool]:  # type: ignore[no-untyped-def]
    """One and two workers over a quarter, a half and all of ``files``, interleaved by block."""
    addresses = sorted(client.scheduler_info()["workers"])
    on = {1: addresses[:1], 2: addresses[:2]}
    results: list[dict[int, Cost]] = []
    for size in three_sizes(len(files)):
        cost = {1: Cost(), 2: Cost()}
        chosen = files[:size]
        step = max(1, -(-len(chosen) // blocks))
        for b, first in enumerate(range(0, len(chosen), step)):
            if stop_at is not None and time.perf_counter() > stop_at:
                print(f"PARTIAL (deadline): stopped before block {b + 1} of the {size}-file size",
                      flush=True)  # fmt: skip
                return results, False
            block = chosen[first : first + step]
            for n in (1, 2) if b % 2 == 0 else (2, 1):
                mon, rows = score_block(client, block, out, first, on[n], pids)
                cost[n].add(mon, rows)
        one, two = cost[1], cost[2]
        print(f"scored {two.rows:,} visits ({size} files): 1 worker {one.rows / one.wall:,.0f} "
              f"visits/s (wall {one.wall:,.1f} s, CPU {one.cpu:,.1f} s), 2 workers "
              f"{two.rows / two.wall:,.0f} visits/s (wall {two.wall:,.1f} s, CPU {two.cpu:,.1f} s); "
              f"1-to-2-worker speed-up {one.wall / two.wall:.2f}x; peak per worker "
              f"{two.peak_worker / 2**30:.2f} GB, all processes {two.peak_total / 2**30:.2f} GB; "
              f"{load_average()}", flush=True)  # fmt: skip
        results.append(cost)
    return results, True


def growth(results: list[dict[int, Cost]], budget: float) -> None:
    """Growth exponents over the sizes, and the memory check against ``budget`` bytes."""
    sizes = [r[2].rows for r in results]
    for what, get in (("wall time", lambda c: c.wall), ("CPU time", lambda c: c.cpu),
                      ("peak memory per worker", lambda c: c.peak_worker),
                      ("peak memory of all processes", lambda c: c.peak_total)):  # fmt: skip
        print_growth(sizes, {f"{n} worker{'s' if n > 1 else ''}": [get(r[n]) for r in results]
                             for n in (1, 2)}, what)  # fmt: skip
    peak = max(max(r[1].peak_total, r[2].peak_total) for r in results)
    verdict = "under" if peak < budget else "OVER"
    print(f"peak memory of all processes {peak / 2**30:.2f} GB: {verdict} the "
          f"{budget / 2**30:.1f} GB budget", flush=True)  # fmt: skip


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
    parser.add_argument("--memory-limit", default="1.5GB", help="per worker")
    parser.add_argument("--memory-budget", default="4GiB", help="all processes together")
    parser.add_argument("--blocks", type=int, default=4,
                        help="blocks per size, alternating 1 and 2 workers")  # fmt: skip
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
        with execution(0, scheduler="local", workers=2,
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
                _, rows, _, generated = _run(client, futures, "generate",
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
            results, finished = sweep(client, ds.files("visits"), out, pids, args.blocks, stop_at)
            if len(results) > 1:
                growth(results, parse_bytes(args.memory_budget))
            if finished:
                scored_gb = sum(p.stat().st_size for p in out.glob("*.parquet")) / 2**30
                t0 = time.perf_counter()
                summary = score_summary(dd.read_parquet(out, columns=["das28_esr"]),
                                        ["das28_esr"]).iloc[0]  # fmt: skip
                print(f"exact DAS28-ESR summary over {int(summary['n']):,} visits in "
                      f"{time.perf_counter() - t0:,.1f} s: median {summary['median']:.4f}, "
                      f"IQR {summary['q1']:.4f}-{summary['q3']:.4f}, mean {summary['mean']:.4f}; "
                      f"scores {scored_gb:,.2f} GB", flush=True)  # fmt: skip
        if (
            finished
            and args.in_memory_visits
            and (stop_at is None or time.perf_counter() < stop_at)
        ):
            top = results[-1][2]
            mem, m = in_memory(root, args.in_memory_visits)
            print(f"in memory (one process), {m:,} visits: {m / mem.wall:,.0f} visits/s; "
                  f"{mem.report()}; out of core (2 workers) / in memory throughput "
                  f"{(top.rows / top.wall) / (m / mem.wall):.2f}; {load_average()}", flush=True)  # fmt: skip
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
            if args.dir is None:
                shutil.rmtree(base, ignore_errors=True)
        print(f"end {dt.datetime.now(dt.UTC):%H:%M:%S} UTC: {load_average()}", flush=True)


if __name__ == "__main__":
    main()
