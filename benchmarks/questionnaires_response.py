"""Benchmark: HAQ-DI, RAPID3 and the RA response criteria on N synthetic rows, validation included.

Prints rows per second for each function called once on whole arrays, and the speed-up over
calling it row by row with scalars. Run: ``python benchmarks/questionnaires_response.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core

import numpy as np

from rheumetrics.measures.haq import HAQ_HELP, HAQ_ITEMS, haq_di
from rheumetrics.measures.rapid3 import MDHAQ_FN_ITEMS, rapid3
from rheumetrics.measures.response import acr_response, cdai_mcid, eular_response, sdai_response


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


def rate(call: Callable[[], object], rows: int) -> float:
    start = time.perf_counter()
    call()
    return rows / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--scalar-rows", type=int, default=2_000)
    args = parser.parse_args()
    n, k = args.rows, args.scalar_rows
    d = inputs(n)
    s = {name: {c: v[:k] for c, v in group.items()} for name, group in d.items()}

    cases: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "haq_di": (
            lambda: haq_di(**d["haq"]),
            lambda: [haq_di(**{c: v[i] for c, v in s["haq"].items()}) for i in range(k)],
        ),
        "rapid3": (
            lambda: rapid3(**d["rapid3"]),
            lambda: [rapid3(**{c: v[i] for c, v in s["rapid3"].items()}) for i in range(k)],
        ),
        "eular_response": (
            lambda: eular_response(d["das28"]["b"], d["das28"]["f"]),
            lambda: [eular_response(s["das28"]["b"][i], s["das28"]["f"][i]) for i in range(k)],
        ),
        "acr_response (ACR20)": (
            lambda: acr_response(d["base"], d["follow"], 20),
            lambda: [
                acr_response(
                    {c: v[i] for c, v in s["base"].items()},
                    {c: v[i] for c, v in s["follow"].items()},
                    20,
                )
                for i in range(k)
            ],
        ),
        "sdai_response": (
            lambda: sdai_response(d["cdai"]["b"], d["cdai"]["f"]),
            lambda: [sdai_response(s["cdai"]["b"][i], s["cdai"]["f"][i]) for i in range(k)],
        ),
        "cdai_mcid": (
            lambda: cdai_mcid(d["cdai"]["b"], d["cdai"]["f"]),
            lambda: [cdai_mcid(s["cdai"]["b"][i], s["cdai"]["f"][i]) for i in range(k)],
        ),
    }
    print(f"{n:,} rows vectorised; {k:,} rows one at a time with scalars")
    print(f"{'function':<22}{'rows/s':>14}{'scalar rows/s':>16}{'speed-up':>10}")
    for name, (vectorised, scalar) in cases.items():
        fast, slow = rate(vectorised, n), rate(scalar, k)
        print(f"{name:<22}{fast:>14,.0f}{slow:>16,.0f}{fast / slow:>9,.0f}x")


if __name__ == "__main__":
    main()
