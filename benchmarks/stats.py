"""rheumetrics.stats next to SciPy (and pingouin, when installed) on the same data.

Run: .venv/bin/python benchmarks/stats.py [--sizes 10000,100000,1000000] [--repeats 3]

For each test and each size (total values), the tools run interleaved (ours, SciPy, pingouin,
ours, ...) so that machine load hits them alike. The table prints the median time of each, our
time as a ratio to SciPy's (to scikit-learn's for the ROC AUC, shown in the SciPy columns) and
to pingouin's, and the peak memory traced during one call (``tracemalloc``, which sees NumPy's
buffers). At the end come the growth exponents of time and memory over the sizes
(1 = linear; n log n shows as a little above 1). Target: every test within 2x of SciPy
at 10^6 values, memory linear in n. A second section times the resampling and enumeration
methods; a third times Fisher's exact test on r x c tables next to R's ``fisher.test``
(run as a subprocess, timed inside R, when ``Rscript`` is installed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from rheumetrics.stats import (
    delong_test,
    fisher_exact,
    hodges_lehmann,
    mann_whitney,
    median_test,
    meta_analysis,
    pearson,
    roc_auc,
    spearman,
    wilcoxon_signed_rank,
)
from sweep import exponent, load

try:  # optional peers, not dependencies of rheumetrics
    import pingouin
except ImportError:  # pragma: no cover - depends on the environment
    pingouin = None
try:
    from sklearn.metrics import roc_auc_score
except ImportError:  # pragma: no cover - depends on the environment
    roc_auc_score = None

Runner = Callable[[], Any]

#: Largest n at which pingouin's O(n^2)-memory rank tests are run.
PINGOUIN_QUADRATIC_MAX = 20_000


def _cases(n: int, rng: np.random.Generator) -> dict[str, dict[str, Runner | None]]:
    """Each test at ``n`` total values: our call, SciPy's and pingouin's (None if none)."""
    half = n // 2
    x, y = rng.normal(size=half), rng.normal(0.05, size=half)
    u, v = rng.normal(size=n), rng.normal(size=n)
    v = 0.1 * u + v
    labels = (v > 0).astype(int)
    pg = pingouin
    # pingouin's mwu and wilcoxon form every pairwise difference (common-language effect size):
    # O(n^2) memory, so they run only at the smallest size here
    pg_quadratic = pg if n <= PINGOUIN_QUADRATIC_MAX else None
    return {
        "Mann-Whitney U": {
            "rheumetrics": lambda: mann_whitney(x, y),
            "scipy": lambda: stats.mannwhitneyu(x, y),
            "pingouin": (lambda: pg_quadratic.mwu(x, y)) if pg_quadratic else None,
        },
        "Mood median test": {
            "rheumetrics": lambda: median_test(x, y),
            "scipy": lambda: stats.median_test(x, y, correction=False),
            "pingouin": None,
        },
        "Wilcoxon signed-rank (paired)": {
            "rheumetrics": lambda: wilcoxon_signed_rank(x, y),
            "scipy": lambda: stats.wilcoxon(x, y),
            "pingouin": (lambda: pg_quadratic.wilcoxon(x, y)) if pg_quadratic else None,
        },
        "Spearman correlation": {
            "rheumetrics": lambda: spearman(u, v),
            "scipy": lambda: stats.spearmanr(u, v),
            "pingouin": (lambda: pg.corr(u, v, method="spearman")) if pg else None,
        },
        "Pearson correlation": {
            "rheumetrics": lambda: pearson(u, v),
            "scipy": lambda: stats.pearsonr(u, v),
            "pingouin": (lambda: pg.corr(u, v)) if pg else None,
        },
        "ROC AUC (scikit-learn as peer)": {
            "rheumetrics": lambda: roc_auc(labels, u),
            "scipy": (lambda: roc_auc_score(labels, u)) if roc_auc_score else None,
            "pingouin": None,
        },
        "Hodges-Lehmann shift + 95% CI": {
            "rheumetrics": lambda: hodges_lehmann(x, y),
            "scipy": None,
            "pingouin": None,
        },
    }


def _timed(func: Runner) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _peak(func: Runner) -> float:
    tracemalloc.start()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def compare(sizes: list[int], repeats: int) -> None:
    """Print the side-by-side table and growth exponents."""
    rng = np.random.default_rng(2024)
    results: dict[tuple[str, str, int], tuple[float, float]] = {}
    tools = ("rheumetrics", "scipy", "pingouin")
    for n in sizes:
        for test, runners in _cases(n, rng).items():
            times: dict[str, list[float]] = {t: [] for t in tools}
            for _ in range(repeats):
                for tool in tools:  # interleaved
                    run = runners[tool]
                    if run is not None:
                        times[tool].append(_timed(run))
            for tool in tools:
                run = runners[tool]
                if run is not None:
                    results[(test, tool, n)] = (statistics.median(times[tool]), _peak(run))
    tests = list(_cases(10, rng))
    print(
        f"{'test':<31} {'n':>9} {'ours s':>8} {'SciPy s':>8} {'ratio':>6} "
        f"{'pingouin s':>10} {'ratio':>6} {'ours MB':>8} {'SciPy MB':>8}"
    )
    for test in tests:
        for n in sizes:
            ours = results[(test, "rheumetrics", n)]
            sp = results.get((test, "scipy", n))
            pg = results.get((test, "pingouin", n))
            print(
                f"{test:<31} {n:>9,} {ours[0]:>8.3f} "
                + (f"{sp[0]:>8.3f} {ours[0] / sp[0]:>6.2f} " if sp else f"{'-':>8} {'-':>6} ")
                + (f"{pg[0]:>10.3f} {ours[0] / pg[0]:>6.2f} " if pg else f"{'-':>10} {'-':>6} ")
                + f"{ours[1]:>8.1f} "
                + (f"{sp[1]:>8.1f}" if sp else f"{'-':>8}")
            )
    print(f"\nGrowth exponents over n = {', '.join(f'{n:,}' for n in sizes)} (least squares on "
          "log-log; 1 = linear, fixed costs pull it below 1 at small n):")  # fmt: skip
    for test in tests:
        ours = [results[(test, "rheumetrics", n)] for n in sizes]
        line = (
            f"  {test:<31} time {exponent(sizes, [r[0] for r in ours]):5.2f}  "
            f"memory {exponent(sizes, [r[1] for r in ours]):5.2f}"
        )
        if (test, "scipy", sizes[0]) in results:
            sp = [results[(test, "scipy", n)][0] for n in sizes]
            line += f"   (SciPy: time {exponent(sizes, sp):5.2f})"
        print(line)


def resampling() -> None:
    """Timings of the resampling and enumeration methods (no peer at these sizes)."""
    rng = np.random.default_rng(2024)
    x = rng.normal(size=80)
    y = 0.36 * x + rng.normal(size=80)
    n_roc = 10_000
    truth = rng.integers(0, 2, n_roc)
    score1 = truth + rng.normal(size=n_roc)
    score2 = truth + rng.normal(scale=1.5, size=n_roc)
    yi, vi = rng.normal(size=200), rng.uniform(0.01, 0.5, size=200)
    corn = [[83, 91, 94, 89, 89, 96, 91, 92, 90], [91, 90, 81, 83, 84, 83, 88, 91, 89, 84],
            [101, 100, 91, 93, 96, 95, 94], [78, 82, 81, 77, 79, 81, 80, 81]]  # fmt: skip
    cases: dict[str, Runner] = {
        "Spearman permutation p, n = 80, 100,000 permutations": lambda: spearman(
            x, y, method="permutation", n_permutations=100_000, rng=1
        ),
        "Spearman exact p, n = 9 (all 362,880 pairings)": lambda: spearman(x[:9], y[:9]),
        "Spearman BCa bootstrap CI, n = 80, 10,000 resamples": lambda: spearman(
            x, y, ci="bootstrap", n_bootstrap=10_000, rng=1
        ),
        "Exact 4-sample median test (corn, network algorithm)": lambda: median_test(
            *corn, variant="exact"
        ),
        f"DeLong paired AUC test, n = {n_roc:,}": lambda: delong_test(truth, score1, score2),
        "REML + Knapp-Hartung meta-analysis, k = 200": lambda: meta_analysis(
            yi, vi, knapp_hartung=True
        ),
    }
    width = max(map(len, cases))
    for label, func in cases.items():
        print(f"{label:<{width}}  {min(_timed(func) for _ in range(3)):8.3f} s")


#: r x c tables checked against R (the review's 4 x 5 table first, then random tables)
FISHER_TABLES = Path(__file__).parent.parent / "tests" / "stats" / "data" / "r_reference.json"

_R_FISHER = """
tables <- jsonlite::fromJSON(commandArgs(TRUE)[1], simplifyVector = FALSE)
as_m <- function(t) do.call(rbind, lapply(t, unlist))
one <- as_m(tables[[1]])
first <- min(sapply(1:3, function(i) system.time(fisher.test(one, workspace = 2e8))[["elapsed"]]))
rest <- system.time(for (t in tables) fisher.test(as_m(t), workspace = 2e8))[["elapsed"]]
cat(first, rest, "\\n")
"""


def fisher_rxc() -> None:
    """Exact Fisher test on the review's 4 x 5 table (n = 126) and on the random r x c set."""
    tables = [case["table"] for case in json.loads(FISHER_TABLES.read_text())["fisher_rxc_large"]]
    ours_first = min(_timed(lambda: fisher_exact(tables[0])) for _ in range(3))
    ours_all = _timed(lambda: [fisher_exact(t) for t in tables])
    r_times: list[float] | None = None
    if shutil.which("Rscript"):
        out = subprocess.run(
            ["Rscript", "-e", _R_FISHER, json.dumps(tables)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r_times = [float(v) for v in out.split()]
    labels = ["4 x 5 table, n = 126 (best of 3)", f"all {len(tables)} r x c tables of the R set"]
    print(f"{'Fisher exact r x c':<40} {'ours s':>8} {'R s':>8} {'ratio':>6}")
    for i, (label, ours) in enumerate(zip(labels, [ours_first, ours_all], strict=True)):
        peer = f"{r_times[i]:>8.3f} {ours / r_times[i]:>6.2f}" if r_times else f"{'-':>8} {'-':>6}"
        print(f"{label:<40} {ours:>8.3f} {peer}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(load())
    print(f"pingouin: {'version ' + pingouin.__version__ if pingouin else 'not installed'}\n")
    compare(sizes, args.repeats)
    print()
    resampling()
    print()
    fisher_rxc()


if __name__ == "__main__":
    main()
