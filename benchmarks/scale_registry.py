"""A synthetic registry written bucket by bucket: never more than one bucket in memory.

Run as a benchmark (``python benchmarks/scale_registry.py [--patients N]``), it writes the
registry at three sizes (a quarter, a half and all of ``--patients``, one bucket per
``--patients-per-bucket``) in one process, interleaved with the same rows written as one bucket
(one file per table, the whole registry in memory at once, as a plain pandas/pyarrow script
would), each in a forked process of its own, and prints wall and CPU time, peak resident memory
above the start, the ratios bucketed / one file, and the growth exponents of time and memory.

Used by ``benchmarks/scale_t2t.py`` and ``benchmarks/scale_100m.py``. Patients ``P000000000`` to
``P{n-1}`` get 10 visits each, three months apart, with ESR, CRP, patient and evaluator globals
and per-joint findings as packed 68-joint bitmasks, and one methotrexate course. The bucket of
every patient is :func:`rheumetrics.scale.bucket_of` of the key, as in an export, computed once
in chunks of one million keys; then each bucket is generated from its own random stream
(``SeedSequence([seed, bucket])``) and written as one file per table, so buckets can be generated
in parallel on the workers of a cluster and the dataset is the same whichever runs them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from rheumetrics.scale import bucket_of
from rheumetrics.scale.dataset import arrow_schema, write_arrow
from rheumetrics.scale.jointmasks import mask_array
from rheumetrics.store import jointbits

VISITS_PER_PATIENT = 10


def patient_keys(first: int, stop: int) -> np.ndarray:
    """Keys ``P000000000``... of patients ``first..stop-1`` (fixed-width Unicode, no objects)."""
    return np.char.add("P", np.char.zfill(np.arange(first, stop).astype(str), 9))


def bucket_patients(n_patients: int, buckets: int, chunk: int = 1_000_000) -> list[np.ndarray]:
    """Patient numbers of each bucket (``int32``), hashing the keys a chunk at a time."""
    of = np.empty(n_patients, dtype=np.int32)
    for first in range(0, n_patients, chunk):
        stop = min(first + chunk, n_patients)
        of[first:stop] = bucket_of(patient_keys(first, stop), buckets)
    order = np.argsort(of, kind="stable").astype(np.int32)
    bounds = np.searchsorted(of[order], np.arange(buckets + 1))
    return [order[bounds[b] : bounds[b + 1]] for b in range(buckets)]


def _schemas() -> tuple[pa.Schema, pa.Schema]:
    visits = pd.DataFrame(
        {
            "visit_id": pd.Series(dtype="int64"),
            "patient_id": pd.Series(dtype=str),
            "visit_date": pd.Series(dtype="datetime64[s]"),
            **{
                c: pd.Series(dtype=float) for c in ("esr_mm_h", "crp_mg_l", "gh_mm", "ptga", "phga")
            },
            **{m: pd.Series(dtype=object) for m in jointbits.MASKS},
        }
    )
    therapies = pd.DataFrame(
        {
            "patient_id": pd.Series(dtype=str),
            "drug": pd.Series(dtype=str),
            "drug_class": pd.Series(dtype=str),
            "start_date": pd.Series(dtype="datetime64[ns]"),
            "stop_date": pd.Series(dtype="datetime64[ns]"),
        }
    )
    return arrow_schema(visits), arrow_schema(therapies)


def start(root: Path, buckets: int) -> None:
    """Record the visits and therapies tables in the manifest (before the buckets are written)."""
    visits, therapies = _schemas()
    write_arrow(root, "visits", visits.empty_table(), buckets=buckets)
    write_arrow(root, "therapies", therapies.empty_table(), buckets=buckets)


def write_bucket(root: Path, bucket: int, patients: np.ndarray, seed: int = 11) -> int:
    """Generate and write bucket ``bucket`` (its patients' visits and therapies); returns visits."""
    if not len(patients):
        return 0
    rng = np.random.default_rng(np.random.SeedSequence([seed, bucket]))
    patients = np.sort(patients).astype(np.int64)
    n = len(patients) * VISITS_PER_PATIENT
    keys = np.char.add("P", np.char.zfill(patients.astype(str), 9))
    visit = np.tile(np.arange(VISITS_PER_PATIENT), len(patients))
    days = visit * 91 + rng.integers(0, 14, n)
    columns = {
        "visit_id": pa.array(
            np.repeat(patients, VISITS_PER_PATIENT) * VISITS_PER_PATIENT + visit + 1
        ),
        "patient_id": pa.array(np.repeat(keys, VISITS_PER_PATIENT)),
        "visit_date": pa.array(np.datetime64("2015-01-01", "s") + days.astype("timedelta64[D]")),
        "esr_mm_h": pa.array(rng.integers(2, 100, n).astype(float)),
        "crp_mg_l": pa.array(np.round(rng.gamma(1.2, 10.0, n), 1)),
        "gh_mm": pa.array(rng.integers(0, 101, n).astype(float)),
        "ptga": pa.array(rng.integers(0, 21, n) / 2.0),
        "phga": pa.array(rng.integers(0, 21, n) / 2.0),
    }
    activity = rng.random(n, dtype=np.float32)[:, None]
    # one visit in 10,000 misses a joint assessment: its counts (and scores) are NA with a reason
    assessed = np.ones((n, jointbits.N_JOINTS), dtype=bool)
    assessed[rng.random(n) < 1e-4, rng.integers(0, jointbits.N_JOINTS)] = False
    for state, rate in (("tender", 0.25), ("swollen", 0.15)):
        flags = rng.random((n, jointbits.N_JOINTS), dtype=np.float32) < rate * 2 * activity
        columns[state] = mask_array(flags & assessed)
        columns[f"{state}_assessed"] = mask_array(assessed)
    visits_schema, therapies_schema = _schemas()
    folder = f"bucket={bucket:04d}"
    (root / "visits" / folder).mkdir(parents=True, exist_ok=True)
    _write(pa.Table.from_pydict(columns).cast(visits_schema), root / "visits" / folder)
    therapies = pa.table(
        {
            "patient_id": pa.array(keys),
            "drug": pa.array(np.full(len(keys), "methotrexate")),
            "drug_class": pa.array(np.full(len(keys), "csDMARD")),
            "start_date": pa.array(np.full(len(keys), np.datetime64("2014-10-01", "ns"))),
            "stop_date": pa.nulls(len(keys), pa.timestamp("ns")),
        }
    ).cast(therapies_schema)
    (root / "therapies" / folder).mkdir(parents=True, exist_ok=True)
    _write(therapies, root / "therapies" / folder)
    return n


def _write(table: pa.Table, folder: Path) -> None:
    """Write ``folder/part-0.parquet`` whole or not at all (a cancelled run leaves no torn file)."""
    tmp = folder / "part-0.parquet.tmp"
    pq.write_table(table, tmp, row_group_size=256_000, compression="zstd")
    os.replace(tmp, folder / "part-0.parquet")


class Monitor:
    """Peak resident memory and CPU time of given processes (the workers) and of the whole tree.

    Samples every ``every`` seconds in a thread; CPU is user + system time between enter and exit,
    summed over this process, its children and the watched processes.
    """

    def __init__(self, pids: dict[str, int], every: float = 0.1) -> None:
        self.pids = pids
        self.every = every
        self.peak = dict.fromkeys(pids, 0)
        self.peak_total = 0
        self.cpu: dict[str, float] = {}
        self.cpu_total = 0.0
        self.wall = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> dict[int, psutil.Process]:
        me = psutil.Process()
        procs = {p.pid: p for p in [me, *me.children(recursive=True)]}
        for pid in self.pids.values():
            with contextlib.suppress(psutil.Error):
                procs.setdefault(pid, psutil.Process(pid))
        return procs

    def _cpu(self) -> dict[int, float]:
        out = {}
        for pid, proc in self._tree().items():
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                out[pid] = t.user + t.system
        return out

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for pid, proc in self._tree().items():
                with contextlib.suppress(psutil.Error):
                    rss = proc.memory_info().rss
                    total += rss
                    for name, wpid in self.pids.items():
                        if wpid == pid:
                            self.peak[name] = max(self.peak[name], rss)
            self.peak_total = max(self.peak_total, total)
            time.sleep(self.every)

    def __enter__(self) -> Monitor:
        self._cpu0 = self._cpu()
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._t0
        self._stop.set()
        self._thread.join()
        cpu1 = self._cpu()
        spent = {pid: t - self._cpu0.get(pid, 0.0) for pid, t in cpu1.items()}
        self.cpu_total = sum(spent.values())
        self.cpu = {name: spent.get(pid, 0.0) for name, pid in self.pids.items()}

    def report(self) -> str:
        workers = ", ".join(
            f"worker {k + 1}: peak {self.peak[name] / 2**20:,.0f} MB, CPU {self.cpu[name]:,.1f} s"
            for k, name in enumerate(sorted(self.pids))
        )
        return (
            f"wall {self.wall:,.1f} s, CPU (all processes) {self.cpu_total:,.1f} s; "
            + (f"{workers}; " if workers else "")
            + f"peak memory of all processes {self.peak_total / 2**20:,.0f} MB"
        )


def load_average() -> str:
    one, five, fifteen = psutil.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {psutil.cpu_count()} cores"


def write_registry(root: Path, patients: int, buckets: int) -> int:
    """Write the whole registry in this process, one bucket after another; returns visits."""
    start(root, buckets)
    parts = bucket_patients(patients, buckets)
    return sum(write_bucket(root, b, parts[b]) for b in range(buckets))


def main() -> None:
    from sweep import forked, print_growth, three_sizes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000, help="top size")
    parser.add_argument("--patients-per-bucket", type=int, default=5_000)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="rheumetrics-registry-"))
    sizes = three_sizes(args.patients)
    cpu: dict[str, list[float]] = {"bucketed": [], "one file": []}
    memory: dict[str, list[float]] = {"bucketed": [], "one file": []}
    print(f"start: {load_average()}")
    try:
        write_registry(base / "warm-up", 100, 1)
        for i, patients in enumerate(sizes):
            buckets = max(1, -(-patients // args.patients_per_bucket))
            ways = {"bucketed": buckets, "one file": 1}
            runs = {}
            for way in list(ways) if i % 2 == 0 else list(ways)[::-1]:
                root = base / f"{way}-{patients}"
                runs[way] = forked(
                    lambda root=root, k=ways[way], n=patients: write_registry(root, n, k)
                )
                shutil.rmtree(root, ignore_errors=True)
            (b, bmem, n), (o, omem, n1) = runs["bucketed"], runs["one file"]
            assert n == n1 == patients * VISITS_PER_PATIENT
            for way, (t, mem, _) in runs.items():
                cpu[way].append(t.cpu)
                memory[way].append(mem)
            print(f"{n:>11,} visits: {buckets} buckets {b.wall:,.1f} s wall, {b.cpu:,.1f} s CPU, "
                  f"{bmem / 2**20:,.0f} MB; one file {o.wall:,.1f} s wall, {o.cpu:,.1f} s CPU, "
                  f"{omem / 2**20:,.0f} MB; ratio bucketed / one file: CPU {b.cpu / o.cpu:.2f}, "
                  f"memory {bmem / max(omem, 1):.2f}; {load_average()}")  # fmt: skip
        visits = [p * VISITS_PER_PATIENT for p in sizes]
        print_growth(visits, cpu, "CPU time")
        print_growth(visits, memory, "peak memory (resident, above the start)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
