"""Benchmark: treat-to-target decisions, end to end, side by side with a pandas groupby baseline.

Synthetic cohorts (10 visits per patient, 3 months apart): RA patients on one of a dozen regimens
(methotrexate at 15/20/25 mg/week, combinations, triple therapy, adalimumab + methotrexate,
leflunomide after methotrexate inefficacy, prednisolone bridges, doses reduced for toxicity) and
axial SpA patients on NSAIDs and TNF inhibitors. For each strategy the figure is the whole cohort
path: validation, decisions with proposed regimens and reasons, and the summary.

The peer is what a user would otherwise write: a pandas groupby implementation of the core rule
(target status, months since the last therapy change with ``merge_asof``, improvement since the
change, escalate or continue) and the same per-patient summary. It knows no ladder, doses or
history, so the ratio is an upper bound on our overhead for all that. Also printed: a warm
single-visit decision (the app's call), and the growth exponent of time over three sizes.

    .venv/bin/python benchmarks/t2t.py [--patients 100000] [--strategy all|ID] [--sizes 3]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import pandas as pd

from rheumetrics.t2t import decide, decide_visit, load_strategy, shipped_strategies, summarise

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


def time_once(fn) -> float:
    """Process CPU seconds of one call (wall-clock is inflated on the shared machine)."""
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def run(strategy_id: str, patients: int) -> tuple[float, float, int]:
    s = load_strategy(strategy_id)
    v, t = cohort(patients, s.disease)
    ours = time_once(lambda: summarise(decide(v, s, t)))
    peer = time_once(lambda: pandas_baseline(v, t, s.index_name, s.target.index_threshold))
    return ours, peer, len(v)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--strategy", default="all")
    ap.add_argument("--sizes", type=int, default=3, help="sizes for the growth exponent (1 = skip)")
    args = ap.parse_args()
    ids = shipped_strategies() if args.strategy == "all" else [args.strategy]
    print(
        "machine: shared, contended (about 8 jobs on 2 cores); figures are process CPU seconds, one core"
    )
    print(
        f"{'strategy':26} {'visits':>10} {'rheumetrics s':>14} {'pandas s':>10} {'ratio':>7} {'visits/s':>12}"
    )
    for sid in ids:
        ours, peer, n = run(sid, args.patients)
        print(
            f"{sid:26} {n:>10,} {ours:>14.2f} {peer:>10.2f} {ours / peer:>7.1f} {n / ours:>12,.0f}"
        )
    # growth exponent over sizes patients/100, /10, x1 for the first strategy
    if args.sizes > 1:
        sizes = [max(args.patients // 10 ** (args.sizes - 1 - i), 100) for i in range(args.sizes)]
        times = [run(ids[0], p)[0] for p in sizes]
        slope = (math.log(times[-1]) - math.log(times[0])) / (
            math.log(sizes[-1]) - math.log(sizes[0])
        )
        print(
            f"growth ({ids[0]}): "
            + ", ".join(f"{p * 10:,} visits {x:.2f} s" for p, x in zip(sizes, times, strict=True))
            + f"; time ~ n^{slope:.2f}"
        )
    # single-visit decision, warm (the app's call on every change)
    regimen = [{"drug": "methotrexate", "dose": 25, "start_date": "2019-01-01"}]
    decide_visit("eular2022_ra", {"sdai": 20.0}, regimen=regimen, visit_date="2020-01-01")
    laps = [
        time_once(
            lambda: decide_visit(
                "eular2022_ra", {"sdai": 20.0}, regimen=regimen, visit_date="2020-01-01"
            )
        )
        for _ in range(30)
    ]
    print(
        f"single-visit decision (warm, CPU time, median of 30): {statistics.median(laps) * 1000:.1f} ms (target < 50 ms)"
    )


if __name__ == "__main__":
    main()
