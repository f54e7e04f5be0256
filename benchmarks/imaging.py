"""Benchmark: aggregate site-level imaging reads into totals, change and per-reader ICC.

Default size (issue 3): 50,000 patients x 2 time points x 2 readers x (23 bones x 2 features +
7 synovitis regions) = 10.6 million site reads of RAMRIS 2002. Prints rows per second for each stage
(wall clock and CPU time, which stays fair on a busy machine) and the peak resident memory. Target: the aggregation (validation, totals with subsets and derived
totals, per-reader change, ICC of status and change per feature) under 10 s on one core.

    .venv/bin/python benchmarks/imaging.py [--patients 50000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from itertools import pairwise

import numpy as np
import pandas as pd

from rheumetrics.imaging import change_scores, score_reads, sites, validate_reads
from rheumetrics.stats.agreement import icc


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (Linux reports kB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024**2 if sys.platform == "darwin" else peak / 1024


def synthetic_reads(n_patients: int, seed: int = 1) -> pd.DataFrame:
    """Categorical-coded RAMRIS 2002 reads of one hand, every site graded on its scale."""
    cat = sites("ramris", "2002")
    n_sites = len(cat)
    n_tp, n_readers = 2, 2
    n = n_patients * n_tp * n_readers * n_sites
    rng = np.random.default_rng(seed)
    site_idx = np.tile(np.arange(n_sites), n // n_sites)
    read_idx = np.repeat(np.arange(n // n_sites), n_sites)
    patient = read_idx // (n_tp * n_readers)
    timepoint = (read_idx // n_readers) % n_tp
    reader = read_idx % n_readers
    top = cat["scale_max"].to_numpy()[site_idx]
    grade = np.floor(rng.random(n) * np.minimum(top, 3) + 0.5).astype(float)

    def coded(codes: np.ndarray, labels: list[str]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes.astype(np.int32), categories=labels)

    return pd.DataFrame(
        {
            "patient_id": coded(patient, [f"P{i:06d}" for i in range(n_patients)]),
            "timepoint": coded(timepoint, ["baseline", "week52"]),
            "reader": coded(reader, ["R1", "R2"]),
            "side": coded(np.zeros(n), ["R"]),
            "system": coded(np.zeros(n), ["ramris"]),
            "version": coded(np.zeros(n), ["2002"]),
            "feature": coded(
                pd.factorize(cat["feature"])[0][site_idx], list(dict.fromkeys(cat["feature"]))
            ),
            "site": pd.Categorical(cat["site"].to_numpy()[site_idx]),
            "grade": grade,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=50_000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    reads = synthetic_reads(args.patients)
    n = len(reads)
    print(f"generated {n:,} site reads in {time.perf_counter() - t0:.2f} s "
          f"(peak RSS so far {peak_rss_mb():,.0f} MB)")  # fmt: skip

    stages: list[tuple[str, float, float]] = []

    def mark(name: str) -> None:
        stages.append((name, time.perf_counter(), time.process_time()))

    mark("start")
    valid = validate_reads(reads)
    mark("validate")
    scores = score_reads(valid)
    mark("totals, subsets, derived totals")
    changes = change_scores(scores[scores["subset"] == "all"], "baseline", "week52")
    mark("per-reader change")
    for feature in ("synovitis", "osteitis", "erosion"):
        status = scores[(scores["subset"] == "all") & (scores["feature"] == feature)]
        icc(status, ["patient_id", "timepoint"], "reader", "score")
        change = changes[changes["feature"] == feature]
        icc(change, "patient_id", "reader", "change")
    mark("ICC status + change, 3 features")

    print(f"  {'stage':<34s} {'wall':>7s} {'CPU':>7s}")
    for (_, wall0, cpu0), (name, wall1, cpu1) in pairwise(stages):
        print(f"  {name:<34s} {wall1 - wall0:6.2f}s {cpu1 - cpu0:6.2f}s")
    wall = stages[-1][1] - stages[0][1]
    cpu = stages[-1][2] - stages[0][2]
    print(f"aggregated {n:,} site reads into {len(scores):,} score rows and "
          f"{len(changes):,} change rows in {wall:.2f} s wall ({cpu:.2f} s CPU): "
          f"{n / wall:,.0f} rows/s")  # fmt: skip
    print(f"peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
