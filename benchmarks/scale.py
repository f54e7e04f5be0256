"""Benchmark: a synthetic registry scored and validated out of core on Dask, next to the in-memory path.

The benchmark writes a registry as a Parquet dataset (patient hash buckets; 10 visits per patient
with ESR, CRP, patient global, patient and evaluator global, and per-joint findings as packed
68-joint bitmasks from which the joint counts are derived), then:

1. scores and validates it out of core (DAS28-ESR/CRP, SDAI, CDAI, Boolean remission 2022, lenient:
   an invalid or incomplete visit gets NA and a reason) on a local cluster of 1 and of 2 worker
   processes, writing the scored dataset and the exact cohort summary (n, quartiles, mean) of
   DAS28-ESR; prints throughput, the 1-to-2-worker speed-up, and the peak resident memory of the
   whole process tree (client, scheduler, workers), sampled every 50 ms;
2. scores the first ``--in-memory-visits`` visits in this process with ``score_frame`` after
   reading them into pandas (the in-memory path) and prints its throughput beside the cluster's;
3. runs treat-to-target decisions (EULAR 2022 RA) for ``--t2t-patients`` patients on the cluster.

Full run (about 25 GB of temporary Parquet for 100 M visits; hours on a 2-core machine)::

    .venv/bin/python benchmarks/scale.py --visits 100000000 --buckets 512 \\
        --in-memory-visits 10000000 --t2t-patients 1000000 --dir /data/registry

Quick run (the figures in docs/scale.md)::

    .venv/bin/python benchmarks/scale.py --visits 4000000 --buckets 32 --in-memory-visits 2000000

The machine is shared: compare the ratios printed in one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import threading
import time
from pathlib import Path

import dask.dataframe as dd
import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from rheumetrics.measures import score_frame
from rheumetrics.scale import (
    decision_summary,
    decisions_frame,
    execution,
    open_dataset,
    score_summary,
    scores_frame,
    write_frame,
)
from rheumetrics.scale.dataset import arrow_schema, write_arrow, write_table
from rheumetrics.scale.jointmasks import mask_array, to_frame_with_counts
from rheumetrics.store import jointbits

MEASURES = ["das28_esr", "das28_crp", "sdai", "cdai", "boolean_remission_2022"]
VISITS_PER_PATIENT = 10


def generate(root: Path, n_visits: int, buckets: int, chunk: int, seed: int = 11) -> None:
    """Write the synthetic registry in patient-complete chunks (file ``part-i`` of each bucket)."""
    rng = np.random.default_rng(seed)
    n_patients = n_visits // VISITS_PER_PATIENT
    per_chunk = max(1, chunk // VISITS_PER_PATIENT)
    schema = None
    for part, first in enumerate(range(0, n_patients, per_chunk)):
        patients = np.arange(first, min(first + per_chunk, n_patients))
        n = len(patients) * VISITS_PER_PATIENT
        patient = np.repeat(patients, VISITS_PER_PATIENT)
        visit = np.tile(np.arange(VISITS_PER_PATIENT), len(patients))
        start, days = np.datetime64("2015-01-01", "s"), visit * 91 + rng.integers(0, 14, n)
        columns = {
            "visit_id": pa.array(patient.astype(np.int64) * VISITS_PER_PATIENT + visit + 1),
            "patient_id": pa.array(np.char.add("P", np.char.zfill(patient.astype(str), 9))),
            "visit_date": pa.array(start + days.astype("timedelta64[D]")),
            "esr_mm_h": pa.array(rng.integers(2, 100, n).astype(float)),
            "crp_mg_l": pa.array(np.round(rng.gamma(1.2, 10.0, n), 1)),
            "gh_mm": pa.array(rng.integers(0, 101, n).astype(float)),
            "ptga": pa.array(rng.integers(0, 21, n) / 2.0),
            "phga": pa.array(rng.integers(0, 21, n) / 2.0),
        }
        activity = rng.random(n)[:, None]
        # one visit in 10,000 misses a joint assessment: its counts (and scores) are NA with a reason
        assessed = np.ones((n, jointbits.N_JOINTS), dtype=bool)
        assessed[rng.random(n) < 1e-4, rng.integers(0, jointbits.N_JOINTS)] = False
        for state, rate in (("tender", 0.25), ("swollen", 0.15)):
            flags = (rng.random((n, jointbits.N_JOINTS)) < rate * 2 * activity) & assessed
            columns[state] = mask_array(flags)
            columns[f"{state}_assessed"] = mask_array(assessed)
        if schema is None:  # declared fields as float64 with units; masks fixed-size binary
            sample = pd.DataFrame({k: v.to_pandas() for k, v in columns.items()}).head(0)
            schema = arrow_schema(sample)
        table = pa.Table.from_pydict(columns).cast(schema)
        write_arrow(root, "visits", table, buckets=buckets, part=part)
        therapies = pd.DataFrame({"patient_id": columns["patient_id"].to_pandas()[::VISITS_PER_PATIENT]
                                  .reset_index(drop=True), "drug": "methotrexate",
                                  "drug_class": "csDMARD",
                                  "start_date": pd.Timestamp("2014-10-01"), "stop_date": pd.NaT})  # fmt: skip
        write_table(root, "therapies", therapies, buckets=buckets, part=part)


class PeakMemory:
    """Peak summed resident memory of this process and all its children, sampled in a thread."""

    def __init__(self, every: float = 0.05) -> None:
        self.every, self.peak, self._stop = every, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(self.every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def out_of_core(
    root: Path, out: Path, workers: int, memory_limit: str
) -> tuple[float, float, pd.Series]:
    ds = open_dataset(root)
    shutil.rmtree(out, ignore_errors=True)
    with PeakMemory() as mem, execution(ds.n_rows("visits"), scheduler="local", workers=workers,
                                        memory_limit=memory_limit):  # fmt: skip
        t0 = time.perf_counter()
        scored = scores_frame(ds, measures=MEASURES, lenient=True)
        write_frame(scored, out)
        summary = score_summary(dd.read_parquet(out, columns=["das28_esr"]), ["das28_esr"]).iloc[0]
        wall = time.perf_counter() - t0
    return wall, mem.peak / 2**20, summary


def in_memory(root: Path, n_visits: int) -> tuple[float, float, int]:
    files = open_dataset(root).files("visits")
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        parts, total = [], 0
        for path in files:
            if total >= n_visits:
                break
            parts.append(to_frame_with_counts(pq.read_table(path)))
            total += len(parts[-1])
        visits = pd.concat(parts, ignore_index=True)
        score_frame(visits, measures=MEASURES, lenient=True)
        wall = time.perf_counter() - t0
    return wall, mem.peak / 2**20, len(visits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000_000)
    parser.add_argument("--buckets", type=int, default=512)
    parser.add_argument("--chunk", type=int, default=2_000_000, help="visits generated at a time")
    parser.add_argument("--in-memory-visits", type=int, default=10_000_000)
    parser.add_argument("--t2t-patients", type=int, default=5_000)
    parser.add_argument("--memory-limit", default="1.5GB", help="per worker")
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to write (default: a temp dir)"
    )
    args = parser.parse_args()

    base = args.dir or Path(tempfile.mkdtemp(prefix="rheumetrics-scale-"))
    root, out = base / "registry", base / "scored"
    try:
        t0 = time.perf_counter()
        generate(root, args.visits, args.buckets, args.chunk)
        ds = open_dataset(root)
        size = sum(p.stat().st_size for p in ds.files("visits")) / 2**20
        print(f"generated {ds.n_rows('visits'):,} visits in {len(ds.files('visits'))} files "
              f"({size:,.0f} MB Parquet) in {time.perf_counter() - t0:.1f} s; "
              f"load average {psutil.getloadavg()[0]:.1f} on {psutil.cpu_count()} cores")  # fmt: skip

        n = ds.n_rows("visits")
        runs = {}
        for workers in (1, 2):
            wall, peak, summary = out_of_core(root, out, workers, args.memory_limit)
            runs[workers] = wall
            print(f"out of core, {workers} worker(s): {wall:7.1f} s, {n / wall:>12,.0f} visits/s, "
                  f"peak memory (all processes) {peak:,.0f} MB")  # fmt: skip
        print(f"  DAS28-ESR over {int(summary['n']):,} visits: median {summary['median']:.4f} "
              f"(exact), IQR {summary['q1']:.4f}-{summary['q3']:.4f}, mean {summary['mean']:.4f}")  # fmt: skip
        wall, peak, m = in_memory(root, args.in_memory_visits)
        print(f"in memory, {m:,} visits: {wall:7.1f} s, {m / wall:>12,.0f} visits/s, "
              f"peak memory {peak:,.0f} MB")  # fmt: skip
        print(f"1-to-2-worker speed-up {runs[1] / runs[2]:.2f}x; out-of-core (2 workers) / "
              f"in-memory throughput {(n / runs[2]) / (m / wall):.2f}")  # fmt: skip

        if args.t2t_patients:
            sub = base / "t2t"
            generate(
                sub, args.t2t_patients * VISITS_PER_PATIENT, max(4, args.buckets // 8), args.chunk
            )
            sds = open_dataset(sub)
            with execution(0, scheduler="local", workers=2, memory_limit=args.memory_limit):
                t0 = time.perf_counter()
                summary_t2t = decision_summary(decisions_frame(sds, "eular2022_ra"))
                wall = time.perf_counter() - t0
            visits = int(summary_t2t.set_index("metric").loc["visits", "value"])
            print(f"t2t decisions (EULAR 2022 RA), 2 workers: {visits:,} visits in {wall:.1f} s, "
                  f"{visits / wall:,.0f} visits/s")  # fmt: skip
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
