"""Timings of the vectorised resampling in rheumetrics.stats (prints its figures).

Run: .venv/bin/python benchmarks/stats.py
Target (issue 6): 100,000 permutations of a Spearman correlation with n = 80 in under 1 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from rheumetrics.stats import delong_test, meta_analysis, pearson, spearman


def best_of(func: Callable[[], object], repeats: int = 3) -> float:
    """Best wall-clock time of ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(2024)
    x = rng.normal(size=80)
    y = 0.36 * x + rng.normal(size=80)
    small_x, small_y = x[:9], y[:9]
    n_roc = 10_000
    truth = rng.integers(0, 2, n_roc)
    score1 = truth + rng.normal(size=n_roc)
    score2 = truth + rng.normal(scale=1.5, size=n_roc)
    yi, vi = rng.normal(size=200), rng.uniform(0.01, 0.5, size=200)

    cases = {
        "Spearman permutation p, n = 80, 100,000 permutations": lambda: spearman(
            x, y, method="permutation", n_permutations=100_000, rng=1
        ),
        "Spearman exact p, n = 9 (all 362,880 pairings)": lambda: spearman(small_x, small_y),
        "Spearman BCa bootstrap CI, n = 80, 10,000 resamples": lambda: spearman(
            x, y, ci="bootstrap", n_bootstrap=10_000, rng=1
        ),
        "Pearson BCa bootstrap CI, n = 80, 10,000 resamples": lambda: pearson(
            x, y, ci="bootstrap", n_bootstrap=10_000, rng=1
        ),
        f"DeLong paired AUC test, n = {n_roc:,}": lambda: delong_test(truth, score1, score2),
        "REML + Knapp-Hartung meta-analysis, k = 200": lambda: meta_analysis(
            yi, vi, knapp_hartung=True
        ),
    }
    width = max(map(len, cases))
    for label, func in cases.items():
        print(f"{label:<{width}}  {best_of(func):8.3f} s")


if __name__ == "__main__":
    main()
