"""Benchmark: treat-to-target decisions, end to end, side by side with a pandas groupby baseline.

Synthetic cohorts (10 visits per patient, 3 months apart): RA patients on one of a dozen regimens
(methotrexate at 15/20/25 mg/week, combinations, triple therapy, adalimumab + methotrexate,
leflunomide after methotrexate inefficacy, prednisolone bridges, doses reduced for toxicity) and
axial SpA patients on NSAIDs and TNF inhibitors. For each strategy the figure is the whole cohort
path: validation, decisions with proposed regimens and reasons, and the summary.

The peer is what a user would otherwise write: a pandas groupby implementation of the core rule
(target status, months since the last therapy change with ``merge_asof``, improvement since the
change, escalate or continue) and the same per-patient summary. It knows no ladder, doses or
history, so the ratio is an upper bound on our overhead for all that. Each strategy runs at three
sizes (10,000, 100,000 and 1,000,000 visits by default) with the growth exponents of time and
memory; also printed: a warm single-visit decision (the app's call) and the load average.

    nice -n 10 .venv/bin/python benchmarks/t2t.py [--patients 100000] [--strategy all|ID] [--sizes 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from rheumetrics.t2t import (
    Strategy,
    decide,
    decide_visit,
    load_strategy,
    shipped_strategies,
    summarise,
)

RA_REGIMENS = [
    [("methotrexate", 15.0)],
    [("methotrexate", 20.0)],
    [("methotrexate", 25.0)],
    [("methotrexate", 25.0), ("sulfasalazine", 2000.0)],
    [("methotrexate", 25.0), ("sulfasalazine", 2000.0), ("hydroxychloroquine", 200.0)],
    [("methotrexate", 25.0), ("sulfasalazine", 3000.0), ("hydroxychloroquine", 400.0)],
    [("methotrexate", 25.0), ("adalimumab", 40.0)],
    [("methotrexate", 20.0), ("etanercept", 50.0)],
    [("leflunomide", 20.0)],
    [("hydroxychloroquine", 200.0)],
    [("methotrexate", 15.0), ("prednisolone", 7.5)],
]
AX_REGIMENS = [
    [("naproxen", 1000.0)],
    [("naproxen", 500.0)],
    [("ibuprofen", 2400.0)],
    [("adalimumab", 40.0)],
    [("etanercept", 50.0), ("naproxen", 1000.0)],
    [("secukinumab", 150.0)],
]


def cohort(patients: int, disease: str, visits: int = 10, seed: int = 1):
    """Visits and therapies of a synthetic cohort (RA or axSpA)."""
    rng = np.random.default_rng(seed)
    n = patients * visits
    pid = np.repeat(np.arange(patients), visits)
    start = np.datetime64("2015-01-01") + rng.integers(0, 1500, patients).astype("timedelta64[D]")
    k = np.tile(np.arange(visits), patients)
    dates = np.repeat(start, visits) + (k * 91 + 30).astype("timedelta64[D]")
    v = pd.DataFrame({"patient_id": pid, "visit_date": dates})
    if disease == "RA":
        sdai = np.round(rng.gamma(2.0, 5.0, n), 1)
        v["sdai"] = sdai
        v["cdai"] = np.round(np.maximum(sdai - 1.0, 0), 1)
        v["das28_crp"] = np.round(1.5 + sdai / 10, 2)
        v["das28_esr"] = np.round(1.7 + sdai / 10, 2)
        v["sjc28"] = rng.integers(0, 6, n)
        v["mri_bme_total"] = np.where(rng.random(n) < 0.5, rng.integers(0, 4, n), np.nan)
        v["us_pd_joint_count"] = rng.integers(0, 4, n)
        v["rf_positive"] = np.repeat(rng.random(patients) < 0.5, visits)
        v["acpa_positive"] = np.repeat(rng.random(patients) < 0.6, visits)
        v["erosive"] = np.repeat(rng.random(patients) < 0.3, visits)
        regimens = RA_REGIMENS
    else:
        v["asdas_crp"] = np.round(rng.gamma(4.0, 0.6, n), 2)
        v["crp_mg_l"] = np.round(rng.gamma(1.5, 5.0, n), 1)
        regimens = AX_REGIMENS
    v["intolerance"] = rng.random(n) < 0.01
    which = rng.integers(0, len(regimens), patients)
    rows = []
    for r, regimen in enumerate(regimens):
        p = np.flatnonzero(which == r)
        for drug, dose in regimen:
            rows.append(
                pd.DataFrame({"patient_id": p, "drug": drug, "dose": dose, "start_date": start[p]})
            )
    if disease == "RA":  # methotrexate failed before leflunomide; a dose reduced for toxicity
        p = np.flatnonzero(which == 8)
        rows.append(
            pd.DataFrame(
                {
                    "patient_id": p,
                    "drug": "methotrexate",
                    "dose": 25.0,
                    "start_date": start[p] - np.timedelta64(365, "D"),
                    "stop_date": start[p] - np.timedelta64(1, "D"),
                    "stop_reason": "inefficacy",
                }
            )
        )
    t = pd.concat(rows, ignore_index=True)
    return v, t


def pandas_baseline(v: pd.DataFrame, t: pd.DataFrame, index: str, threshold: float) -> pd.DataFrame:
    """The core rule with pandas groupby/merge_asof, and the per-patient summary."""
    v = v.sort_values(["visit_date"])
    change = t[["patient_id", "start_date"]].rename(columns={"start_date": "change"})
    change = change.sort_values("change")
    m = pd.merge_asof(v, change, left_on="visit_date", right_on="change", by="patient_id")
    m = m.sort_values(["patient_id", "visit_date"])
    m["months"] = (m["visit_date"] - m["change"]).dt.days / 30.4375
    base = m.groupby(["patient_id", "change"])[index].transform("first")
    m["improved"] = (base - m[index]) / base >= 0.5
    at = m[index] <= threshold
    m["action"] = np.select(
        [at, m["months"] < 3, m["improved"] & (m["months"] < 6)],
        ["continue", "continue", "continue"],
        default="escalate",
    )
    g = m.assign(at=at, esc=m["action"] == "escalate").groupby("patient_id")
    return pd.DataFrame({"reached": g["at"].any(), "escalated": g["esc"].any()}).mean()


def ours_path(v: pd.DataFrame, s: Strategy, t: pd.DataFrame) -> pd.DataFrame:
    """The whole cohort path: validation, decisions with regimens and reasons, the summary."""
    return summarise(decide(v, s, t))


def _rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _cpu() -> tuple[float, float]:
    """User and system CPU seconds of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


class Run(NamedTuple):
    user: float  # user CPU seconds
    cpu: float  # user + system CPU seconds
    mb: float  # peak resident memory above the inputs, MB


def _child(fn: Callable[[], object], conn: Any) -> None:
    start = _rss_kb()
    u0, s0 = _cpu()
    fn()
    u1, s1 = _cpu()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    conn.send(Run(u1 - u0, (u1 - u0) + (s1 - s0), max(peak - start, 0) / 1024))
    conn.close()


def measure(fn: Callable[[], object]) -> Run:
    """CPU time (user, user + system) and peak extra memory of one call, in a forked process so
    that one run's memory cannot flatter or burden the next."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, child))
    proc.start()
    result: Run = parent.recv()
    proc.join()
    return result


def exponent(sizes: list[int], values: list[float]) -> float:
    """Slope of log(value) on log(size): 1 is linear growth."""
    x, y = np.log(sizes), np.log(np.maximum(values, 1e-9))
    return float(np.polyfit(x, y, 1)[0])


def single_visit_ms() -> float:
    """Median CPU milliseconds of a warm single-visit decision (the app's call on every change)."""
    regimen = [{"drug": "methotrexate", "dose": 25, "start_date": "2019-01-01"}]

    def once() -> None:
        decide_visit("eular2022_ra", {"sdai": 20.0}, regimen=regimen, visit_date="2020-01-01")

    once()
    laps = []
    for _ in range(30):
        t0 = time.process_time()
        once()
        laps.append(time.process_time() - t0)
    return statistics.median(laps) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=100_000, help="largest size (10 visits each)")
    ap.add_argument("--strategy", default="all", help="a shipped strategy id, or all")
    ap.add_argument("--sizes", type=int, default=3, help="sizes, each 10x the previous")
    args = ap.parse_args()
    ids = shipped_strategies() if args.strategy == "all" else [args.strategy]
    sizes = [max(args.patients // 10 ** (args.sizes - 1 - i), 10) for i in range(args.sizes)]
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; one core per run; ")
    print("  CPU = user + system seconds of a forked process; peak = resident MB above the inputs")
    print(
        f"{'strategy':24} {'visits':>10} {'user s':>7} {'CPU s':>7} {'pandas s':>9} "
        f"{'ratio':>6} {'peak MB':>8} {'visits/s':>10}"
    )
    for sid in ids:
        s = load_strategy(sid)
        ours: list[Run] = []
        for p in sizes:
            v, t = cohort(p, s.disease)
            run = measure(partial(ours_path, v, s, t))
            peer = measure(partial(pandas_baseline, v, t, s.index_name, s.target.index_threshold))
            ours.append(run)
            n = len(v)
            print(
                f"{sid:24} {n:>10,} {run.user:>7.2f} {run.cpu:>7.2f} {peer.cpu:>9.2f} "
                f"{run.cpu / peer.cpu:>6.1f} {run.mb:>8.0f} {n / run.cpu:>10,.0f}"
            )
        if len(sizes) > 1:
            visits = [p * 10 for p in sizes]
            print(
                f"{'':24} growth exponent: time {exponent(visits, [r.cpu for r in ours]):.2f}, "
                f"memory {exponent(visits, [max(r.mb, 1.0) for r in ours]):.2f}"
            )
    print(
        f"single-visit decision (warm, CPU, median of 30): {single_visit_ms():.1f} ms (target < 50 ms)"
    )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
