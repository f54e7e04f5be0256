"""Benchmark: HAQ-DI, RAPID3 and the RA response criteria on N synthetic rows, validation included.

At three sizes (a quarter, a half and all of ``--rows``), prints CPU time and rows per second for
each function called once on whole arrays, the speed-up over calling it row by row with scalars
(as a calculator is used), and the growth exponent of time.
Run: ``python benchmarks/questionnaires_response.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core

import numpy as np

from rheumetrics.measures.haq import HAQ_HELP, HAQ_ITEMS, haq_di
from rheumetrics.measures.rapid3 import MDHAQ_FN_ITEMS, rapid3
from rheumetrics.measures.response import acr_response, cdai_mcid, eular_response, sdai_response
from sweep import best_of, load, print_growth, three_sizes, timed


def inputs(n: int, seed: int = 1) -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    items = {c: rng.integers(0, 4, n).astype(float) for cols in HAQ_ITEMS.values() for c in cols}
    helps = {c: rng.integers(0, 2, n).astype(float) for c in HAQ_HELP.values()}
    mdhaq = {c: rng.integers(0, 4, n).astype(float) for c in MDHAQ_FN_ITEMS}
    half = {k: rng.integers(0, 21, n) / 2 for k in ("pain", "ptga")}

    def visit() -> dict[str, np.ndarray]:
        return {
            "tjc68": rng.integers(0, 69, n).astype(float),
            "sjc66": rng.integers(0, 67, n).astype(float),
            "pain": rng.integers(0, 101, n) / 10,
            "ptga": rng.integers(0, 101, n) / 10,
            "phga": rng.integers(0, 101, n) / 10,
            "haq_di": rng.integers(0, 25, n) / 8,
            "crp_mg_l": rng.integers(0, 1000, n) / 10,
        }

    return {
        "haq": items | helps,
        "rapid3": mdhaq | half,
        "das28": {"b": rng.integers(0, 1000, n) / 100, "f": rng.integers(0, 1000, n) / 100},
        "cdai": {"b": rng.integers(0, 760, n) / 10, "f": rng.integers(0, 760, n) / 10},
        "base": visit(),
        "follow": visit(),
    }


def cases(
    d: dict[str, dict[str, np.ndarray]],
) -> dict[str, Callable[[dict[str, dict[str, np.ndarray]]], object]]:
    """Each function called once on whole arrays (the same calls, row by row, are the peer)."""
    return {
        "haq_di": lambda d: haq_di(**d["haq"]),
        "rapid3": lambda d: rapid3(**d["rapid3"]),
        "eular_response": lambda d: eular_response(d["das28"]["b"], d["das28"]["f"]),
        "acr_response (ACR20)": lambda d: acr_response(d["base"], d["follow"], 20),
        "sdai_response": lambda d: sdai_response(d["cdai"]["b"], d["cdai"]["f"]),
        "cdai_mcid": lambda d: cdai_mcid(d["cdai"]["b"], d["cdai"]["f"]),
    }


def row(d: dict[str, dict[str, np.ndarray]], i: int) -> dict[str, dict[str, np.ndarray]]:
    """Row ``i`` of every input as scalars."""
    return {name: {c: v[i] for c, v in group.items()} for name, group in d.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="top size")
    parser.add_argument("--scalar-rows", type=int, default=2_000)
    args = parser.parse_args()
    sizes, k = three_sizes(args.rows), args.scalar_rows
    calls = cases(inputs(1))
    scalar = inputs(k)
    per_row = {
        name: timed(lambda call=call: [call(row(scalar, i)) for i in range(k)]).cpu / k
        for name, call in calls.items()
    }
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    print(f"{load()}; CPU seconds; peer: the same function called row by row with scalars "
          f"({k:,} rows)")  # fmt: skip
    print(f"{'function':<22}{'rows':>11}{'CPU s':>9}{'rows/s':>14}{'scalar rows/s':>15}"
          f"{'speed-up':>10}")  # fmt: skip
    for n in sizes:
        d = inputs(n)
        for name, call in calls.items():
            t = best_of(functools.partial(call, d), 3).cpu
            cpu[name].append(t)
            print(f"{name:<22}{n:>11,}{t:>9.3f}{n / t:>14,.0f}{1 / per_row[name]:>15,.0f}"
                  f"{per_row[name] * n / t:>9,.0f}x")  # fmt: skip
    print_growth(sizes, cpu, "CPU time")


if __name__ == "__main__":
    main()
