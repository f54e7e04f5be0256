"""Benchmark: score synthetic visits with the full RA panel, validation included.

Panel: DAS28-ESR, DAS28-CRP, SDAI, CDAI with their categories, and Boolean remission 2022. At
three sizes (a quarter, a half and all of ``--visits``), interleaved, prints the wall and CPU
time of ``score_frame`` with the compiled loop (``rheumetrics.measures.compiled``, needs Numba:
``pip install 'rheumetrics[compiled]'``; loaded before the timed runs, so these calls use it by
default) and of its NumPy path (``compiled=False``), on complete visits and on visits with gaps
as registries hold them (one laboratory value per visit, 1 % of patient globals missing;
lenient), beside the same panel computed

- as plain pandas column expressions (``pd.cut`` categories, no validation);
- as polars expressions, when polars is installed;
- as naive NumPy on float arrays (``searchsorted`` categories, no validation);
- at the memory roofline: reading the 7 input columns once and writing the outputs once (4 float64
  scores, 4 int8 category codes, 2 boolean arrays) as fast as ``np.copyto`` moves bytes on this
  machine, timed among the tools, the target being at most 3 x its time;
- and, not peers, two floors:

  - a fresh-output pass: the same reads and writes into newly allocated arrays with no
    arithmetic, which also pays for the pages the operating system (and, on a virtual machine,
    the host) must provide and zero for new outputs; what that costs varies with how recently
    the process's memory was returned and reused, so it is printed as measured;
  - a fused NumPy pass: the panel with the fewest NumPy passes we know (each score written in
    place into its output row, one comparison per cut-off, no validation, no missing values),
    what any NumPy implementation of the panel costs at least,

each as the ratio score_frame CPU / tool CPU and against the roofline; the peak memory traced
while scoring against the input and against input + output; the speed-up over scoring row by
row with the scalar functions, as peer calculators are used; the growth exponents of time and
memory; and what loading the compiled loop costs a new process (with Numba's machine code
cached, and the first time on a machine), with the table size from which it pays.

Run: ``python benchmarks/scoring.py [--visits N]`` (README figure: the default 10 million).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core

import numpy as np
import pandas as pd

from rheumetrics.measures import boolean_remission, cdai, das28_crp, das28_esr, sdai
from rheumetrics.measures.panel import score_frame
from sweep import Timing, load, print_growth, three_sizes, timed

PANEL = ["das28_esr", "das28_crp", "sdai", "cdai", "boolean_remission_2022"]


def synthetic(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "tjc28": rng.integers(0, 29, n).astype(float),
            "sjc28": rng.integers(0, 29, n).astype(float),
            "esr_mm_h": rng.integers(1, 120, n).astype(float),
            "crp_mg_l": np.round(rng.gamma(1.2, 12.0, n), 1),
            "gh_mm": rng.integers(0, 101, n).astype(float),
            "ptga": rng.integers(0, 21, n) / 2.0,
            "phga": rng.integers(0, 21, n) / 2.0,
        }
    )


def row_at_a_time(df: pd.DataFrame) -> None:
    for r in df.itertuples(index=False):
        for fn, args in (
            (das28_esr, (r.tjc28, r.sjc28, r.esr_mm_h, r.gh_mm)),
            (das28_crp, (r.tjc28, r.sjc28, r.crp_mg_l, r.gh_mm)),
            (sdai, (r.tjc28, r.sjc28, r.ptga, r.phga, r.crp_mg_l)),
            (cdai, (r.tjc28, r.sjc28, r.ptga, r.phga)),
        ):
            fn.category(fn(*args))
        boolean_remission(r.tjc28, r.sjc28, r.ptga, r.crp_mg_l, version="2022")


#: DAS28 EULAR / SDAI / CDAI (Aletaha 2005) cut-offs, as bin edges for the peers' categories.
CUTS = {
    "das28_esr": [2.6, 3.2, 5.1],
    "das28_crp": [2.6, 3.2, 5.1],
    "sdai": [3.3, 11.0, 26.0],
    "cdai": [2.8, 10.0, 22.0],
}
LABELS = ["remission", "low", "moderate", "high"]
#: Bytes per visit a single pass must move: 7 float64 inputs read; 4 float64 scores, 4 int8
#: category codes and the Boolean result (value + missing mask) written.
BYTES_PER_VISIT = 7 * 8 + 4 * 8 + 4 * 1 + 2 * 1


def pandas_expressions(df: pd.DataFrame) -> pd.DataFrame:
    joints = 0.56 * np.sqrt(df["tjc28"]) + 0.28 * np.sqrt(df["sjc28"])
    out = pd.DataFrame(
        {
            "das28_esr": joints + 0.70 * np.log(df["esr_mm_h"]) + 0.014 * df["gh_mm"],
            "das28_crp": joints + 0.36 * np.log1p(df["crp_mg_l"]) + 0.014 * df["gh_mm"] + 0.96,
            "sdai": df["tjc28"] + df["sjc28"] + df["ptga"] + df["phga"] + df["crp_mg_l"] / 10,
            "cdai": df["tjc28"] + df["sjc28"] + df["ptga"] + df["phga"],
        }
    )
    for name, edges in CUTS.items():
        out[f"{name}_category"] = pd.cut(out[name], [-np.inf, *edges, np.inf], labels=LABELS)
    out["boolean_remission_2022"] = (
        (df["tjc28"] <= 1) & (df["sjc28"] <= 1) & (df["ptga"] <= 2) & (df["crp_mg_l"] <= 10)
    )
    return out


def numpy_naive(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    t, s, e, c, g, pt, ph = (cols[k] for k in ("tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "gh_mm",
                                                 "ptga", "phga"))  # fmt: skip
    joints = 0.56 * np.sqrt(t) + 0.28 * np.sqrt(s)
    out = {
        "das28_esr": joints + 0.70 * np.log(e) + 0.014 * g,
        "das28_crp": joints + 0.36 * np.log1p(c) + 0.014 * g + 0.96,
        "sdai": t + s + pt + ph + c / 10,
        "cdai": t + s + pt + ph,
    }
    for name, edges in CUTS.items():
        out[f"{name}_category"] = np.searchsorted(edges, out[name]).astype(np.int8)
    out["boolean_remission_2022"] = (t <= 1) & (s <= 1) & (pt <= 2) & (c <= 10)
    return out


def _bands(expr: object, edges: list[float]) -> object:
    """Right-closed bands ``(a, b]`` as ``pd.cut`` makes them (``cut`` before polars 2.1)."""
    if hasattr(expr, "bin_intervals"):
        return expr.bin_intervals(edges, labels=LABELS, right_closed=True)
    return expr.cut(edges, labels=LABELS)  # type: ignore[attr-defined]


def polars_expressions(df: object) -> object:
    import polars as pl

    joints = 0.56 * pl.col("tjc28").sqrt() + 0.28 * pl.col("sjc28").sqrt()
    scores = {
        "das28_esr": joints + 0.70 * pl.col("esr_mm_h").log() + 0.014 * pl.col("gh_mm"),
        "das28_crp": joints + 0.36 * pl.col("crp_mg_l").log1p() + 0.014 * pl.col("gh_mm") + 0.96,
        "sdai": pl.sum_horizontal("tjc28", "sjc28", "ptga", "phga") + pl.col("crp_mg_l") / 10,
        "cdai": pl.sum_horizontal("tjc28", "sjc28", "ptga", "phga"),
    }
    exprs = [e.alias(n) for n, e in scores.items()]
    exprs += [_bands(e, CUTS[n]).alias(f"{n}_category") for n, e in scores.items()]
    exprs.append(
        ((pl.col("tjc28") <= 1) & (pl.col("sjc28") <= 1) & (pl.col("ptga") <= 2)
         & (pl.col("crp_mg_l") <= 10)).alias("boolean_remission_2022")
    )  # fmt: skip
    return df.select(exprs)  # type: ignore[attr-defined]


def fresh_output_pass(cols: dict[str, np.ndarray], chunk: int = 65_536) -> None:
    """Not a peer: what writing new output arrays costs here. Allocates the outputs (4 float64,
    4 int8, 2 boolean per visit), reads the 7 inputs once and writes every output once (copies
    and single comparisons, no arithmetic), in chunks. Beyond the roofline's copy it pays for
    fresh zeroed pages for the new arrays."""
    inputs = list(cols.values())
    n = len(inputs[0])
    floats = [np.empty(n) for _ in range(4)]
    small = [np.empty(n, dtype=bool) for _ in range(6)]  # int8 codes and flags: one byte each
    for start in range(0, n, chunk):
        part = slice(start, min(start + chunk, n))
        for x, out in zip(inputs, floats, strict=False):
            np.copyto(out[part], x[part])
        for x, out in zip(inputs[1:], small, strict=False):
            np.greater(x[part], 1.0, out=out[part])  # inputs 2-7


def fused_numpy_pass(cols: dict[str, np.ndarray], chunk: int = 65_536) -> np.ndarray:
    """Not a peer: the panel in the fewest NumPy passes, each result written once in place into
    new output arrays (4 float64 scores, 4 int8 codes, the flag), chunk by chunk, without the
    validation, missing-value handling and snapping of the cut-offs that score_frame adds."""
    t, s, e, c, g, pt, ph = (cols[k] for k in ("tjc28", "sjc28", "esr_mm_h", "crp_mg_l", "gh_mm",
                                                 "ptga", "phga"))  # fmt: skip
    n = len(t)
    scores, codes = np.empty((4, n)), np.empty((4, n), dtype=np.int8)
    flag = np.empty(n, dtype=bool)
    joints, glob, hit = np.empty(chunk), np.empty(chunk), np.empty(chunk, dtype=bool)
    for start in range(0, n, chunk):
        part = slice(start, min(start + chunk, n))
        m = part.stop - start
        j, gt, h = joints[:m], glob[:m], hit[:m]
        np.sqrt(t[part], out=j)
        j *= 0.56
        j += 0.28 * np.sqrt(s[part])
        np.multiply(g[part], 0.014, out=gt)
        esr, crp, sdai_, cdai_ = scores[:, part]
        np.log(e[part], out=esr)
        esr *= 0.70
        esr += j
        esr += gt
        np.log1p(c[part], out=crp)
        crp *= 0.36
        crp += j
        crp += gt
        crp += 0.96
        np.add(t[part], s[part], out=cdai_)
        cdai_ += pt[part]
        cdai_ += ph[part]
        np.divide(c[part], 10, out=sdai_)
        sdai_ += cdai_
        for score, code, edges in zip(scores[:, part], codes[:, part], CUTS.values(), strict=True):
            np.greater(score, edges[0], out=code.view(bool))
            for edge in edges[1:]:
                code += np.greater(score, edge, out=h).view(np.int8)
        f = flag[part]
        np.less_equal(t[part], 1, out=f)
        f &= np.less_equal(s[part], 1, out=h)
        f &= np.less_equal(pt[part], 2, out=h)
        f &= np.less_equal(c[part], 10, out=h)
    return scores


def roofline_copy(n: int) -> Callable[[], None]:
    """The roofline of ``n`` visits as a timed run: ``np.copyto`` moving their bytes once (a copy
    of ``BYTES_PER_VISIT / 2`` bytes per visit reads and writes them) between arrays beyond the
    caches whose pages are already in use, interleaved with the tools so it meets the same
    machine (the bandwidth of this virtual machine varies by a third over minutes)."""
    src = np.ones(n * BYTES_PER_VISIT // 16)
    dst = np.zeros_like(src)
    return lambda: np.copyto(dst, src)


def peak_memory(df: pd.DataFrame) -> float:
    """Peak bytes allocated while scoring ``df`` (traced; tracing slows allocation, so apart)."""
    tracemalloc.start()
    score_frame(df, measures=PANEL)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return float(peak)


def interleaved(df: pd.DataFrame, tools: list[str], repeat: int) -> dict[str, Timing]:
    """Best wall and CPU time of each tool on ``df``, runs interleaved in alternating order."""
    cols = {c: df[c].to_numpy() for c in df.columns}
    gaps = with_missing_values(df)
    runs = {
        "score_frame": lambda: score_frame(df, measures=PANEL),
        "NumPy path": lambda: score_frame(df, measures=PANEL, compiled=False),
        "score_frame, gaps": lambda: score_frame(gaps, measures=PANEL, lenient=True),
        "NumPy path, gaps": lambda: score_frame(gaps, measures=PANEL, lenient=True, compiled=False),
        "pandas expressions": lambda: pandas_expressions(df),
        "naive NumPy": lambda: numpy_naive(cols),
        "fresh-output pass": lambda: fresh_output_pass(cols),
        "fused NumPy pass": lambda: fused_numpy_pass(cols),
        "memory roofline": roofline_copy(len(df)),
    }
    if "polars expressions" in tools:
        import polars as pl

        frame = pl.from_pandas(df)
        runs["polars expressions"] = lambda: polars_expressions(frame)
    best: dict[str, Timing] = {}
    for rep in range(repeat):
        for name in tools if rep % 2 == 0 else tools[::-1]:
            t = timed(runs[name])
            old = best.get(name, t)
            best[name] = Timing(min(old.wall, t.wall), min(old.cpu, t.cpu))
    return best


def with_missing_values(df: pd.DataFrame, seed: int = 2) -> pd.DataFrame:
    """``df`` as registries hold it: one laboratory value per visit (ESR or CRP, the other
    missing) and 1 % of patient globals missing; scored in lenient mode."""
    rng = np.random.default_rng(seed)
    esr = rng.random(len(df)) < 0.5
    return df.assign(
        esr_mm_h=df["esr_mm_h"].where(esr),
        crp_mg_l=df["crp_mg_l"].where(~esr),
        ptga=df["ptga"].mask(rng.random(len(df)) < 0.01),
    )


#: A new process scoring 1,000 visits with the compiled loop, then with the NumPy path.
FIRST_CALL = """
import sys, time
sys.path.insert(0, {here!r})
from scoring import PANEL, synthetic
from rheumetrics.measures.panel import score_frame
df = synthetic(1000)
score_frame(df, measures=PANEL, compiled=False)
t = time.perf_counter(); score_frame(df, measures=PANEL, compiled=True)
first = time.perf_counter() - t
t = time.perf_counter(); score_frame(df, measures=PANEL, compiled=False)
print(first - (time.perf_counter() - t))
"""


def load_cost(cache: str) -> float:
    """Seconds a new process spends loading the compiled loop (beyond scoring 1,000 visits),
    with the kernel cache directory ``cache``."""
    env = dict(os.environ) | {"RHEUMETRICS_CACHE_DIR": cache}
    code = FIRST_CALL.format(here=os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)  # fmt: skip
    return float(run.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visits", type=int, default=10_000_000, help="top size")
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is shown")
    args = parser.parse_args()

    print(f"{load()}; panel {', '.join(PANEL)} (+ categories; score_frame validates, the peers "
          "do not)")  # fmt: skip
    check = synthetic(100_000)
    expected, ours = pandas_expressions(check), score_frame(check, measures=PANEL)
    fused = dict(zip(CUTS, fused_numpy_pass({c: check[c].to_numpy() for c in check}), strict=True))
    for name in CUTS:
        np.testing.assert_allclose(expected[name].to_numpy(), ours[name].to_numpy(), rtol=1e-12)
        np.testing.assert_array_equal(fused[name], ours[name].to_numpy())
    for frame in (check, with_missing_values(check)):
        pd.testing.assert_frame_equal(
            score_frame(frame, measures=PANEL, lenient=True, compiled=True),
            score_frame(frame, measures=PANEL, lenient=True, compiled=False),
            check_exact=True,
        )  # the compiled loop gives the NumPy path's bits (and is loaded before the timed runs)

    sizes = three_sizes(args.visits)
    tools = ["score_frame", "NumPy path", "score_frame, gaps", "NumPy path, gaps",
             "pandas expressions", "naive NumPy", "polars expressions", "fresh-output pass",
             "fused NumPy pass", "memory roofline"]  # fmt: skip
    if importlib.util.find_spec("polars") is None:
        tools.remove("polars expressions")
        print("polars not installed (pip install polars to compare)")
    cpu: dict[str, list[float]] = {t: [] for t in tools}
    memory: list[float] = []
    header = f"{'visits':>11} {'tool':<20} {'wall s':>8} {'CPU s':>8} {'visits/s (CPU)':>15} {'ratio':>7}"
    print(f"\n{header}  (ratio: score_frame CPU / the tool's CPU; < 1 is faster)")
    for n in sizes:
        df = synthetic(n)
        best = interleaved(df, tools, args.repeat)
        roofline = best["memory roofline"].cpu
        ours = best["score_frame"].cpu
        for name in tools:
            cpu[name].append(best[name].cpu)
            t = best[name]
            note = f"  (= {t.cpu / roofline:.2f} x the roofline)"
            if name == "memory roofline":
                note = (f"  ({BYTES_PER_VISIT} bytes/visit at {n * BYTES_PER_VISIT / t.cpu / 1e9:.1f}"
                        " GB/s; target: score_frame <= 3)")  # fmt: skip
            print(f"{n:>11,} {name:<20} {t.wall:8.3f} {t.cpu:8.3f} {n / t.cpu:15,.0f} "
                  f"{ours / t.cpu:7.2f}{note}")  # fmt: skip
        input_bytes = float(df.memory_usage(deep=True).sum())
        memory.append(peak_memory(df))
        output_bytes = n * (BYTES_PER_VISIT - 7 * 8)
        print(f"{'':>11} peak traced memory while scoring {memory[-1] / 2**20:,.0f} MiB = "
              f"{memory[-1] / input_bytes:.2f} x the input, "
              f"{memory[-1] / (input_bytes + output_bytes):.2f} x input + output")  # fmt: skip
        del df

    sample = synthetic(args.baseline_rows)
    per_row = timed(lambda: row_at_a_time(sample)).cpu / len(sample)
    top = cpu["score_frame"][-1] / sizes[-1]
    print(f"\nrow-at-a-time scalar calls: {1 / per_row:,.0f} visits/s CPU; score_frame is "
          f"{per_row / top:,.0f} x faster at {sizes[-1]:,} visits")  # fmt: skip
    print_growth(sizes, cpu, "CPU time")
    print_growth(sizes, {"score_frame": memory}, "peak memory")
    with tempfile.TemporaryDirectory() as cache:
        first, later = load_cost(cache), load_cost(cache)
    saved = (cpu["NumPy path"][-1] - cpu["score_frame"][-1]) / sizes[-1]
    print(f"\nloading the compiled loop in a new process: {later:.2f} s wall ({first:.2f} s the "
          f"first time on a machine, compiling the panel); it saves {saved * 1e9:.1f} ms per "
          f"million rows once loaded, so loading pays from {later / saved / 1e6:.0f} million "
          f"rows in a new process ({first / saved / 1e6:.0f} million the first time)")  # fmt: skip


if __name__ == "__main__":
    main()
