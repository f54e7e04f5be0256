"""Benchmark: validate and aggregate site-level imaging reads, next to DuckDB (and polars).

Data: P patients x 2 time points x 2 readers x 53 RAMRIS 2002 sites (23 bones x osteitis and erosion
+ 7 synovitis regions) of one hand; 50,000 patients give 10.6 million site reads. Every tool starts
from the same pandas frame (categorical keys, float grades) and returns a pandas frame, doing the
same work:

- checks: every key present; (system, version, feature, site) in the site catalogue; side fits the
  site (L/R, or blank/M for a midline site); grade present, within the site's scale and on its step;
  no site scored twice in one read (patient, time point, system, version, reader, side, feature,
  site);
- aggregation: per read, feature and named subset (all, wrist, mcp) the score, the maximum over the
  sites scored and the counts of scored and not-assessable sites; then the derived totals of
  ``totals.toml`` (total RAMRIS, weighted inflammation) for reads with every component.

Runs are interleaved (tool order alternates between repeats), each in a fresh forked process that
reports its wall time and its peak resident memory above the input; the best of the repeats is
printed with the ratio to DuckDB, at three sizes, and the growth exponent of time and memory
(slope of log cost on log size). DuckDB uses all cores (``threads`` is printed), rheumetrics and
polars' results as noted. The machine is shared: figures move with its load.

    .venv/bin/python benchmarks/imaging.py [--patients 50000] [--repeat 2] [--stages]

``--stages`` also times rheumetrics' per-reader change scores and status/change ICC at the top size.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import time
from collections.abc import Callable
from itertools import pairwise
from typing import NamedTuple

import numpy as np
import pandas as pd

from rheumetrics.imaging import catalogue, change_scores, score_reads, sites, validate_reads
from rheumetrics.stats.agreement import icc
from sweep import exponent

try:
    import polars as pl
except ImportError:  # polars is optional (dev extra)
    pl = None
import duckdb


def synthetic_reads(n_patients: int, seed: int = 1) -> pd.DataFrame:
    """Categorical-coded RAMRIS 2002 reads of one hand, every site graded on its scale.

    Rows come grouped by read with sites in catalogue order, as exports write them.
    """
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


def reference_tables() -> dict[str, pd.DataFrame]:
    """Site catalogue, subset membership and derived-total components as plain tables."""
    cat = catalogue._sites()[
        ["system", "version", "feature", "site", "side", "region", "scale_min", "scale_max",
         "scale_step"]
    ].rename(columns={"side": "cat_side"})  # fmt: skip
    subsets = pd.DataFrame(
        [
            (system, name, region)
            for system, spec in catalogue.systems().items()
            for name, regions in spec.subsets.items()
            for region in regions
        ],
        columns=["system", "subset", "region"],
    )
    comps = pd.DataFrame(
        [
            (t.id, t.system, t.feature, c.system, c.feature, float(c.weight), len(t.components))
            for t in catalogue.totals().values()
            for c in t.components
        ],
        columns=["total", "out_system", "out_feature", "system", "feature", "weight", "n_comp"],
    )
    return {"cat": cat, "subsets": subsets, "comps": comps}


# --- rheumetrics -------------------------------------------------------------------------------


def run_rheumetrics(reads: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> int:
    return len(score_reads(validate_reads(reads)))


# --- DuckDB ------------------------------------------------------------------------------------

_DUCK_CHECKS = """
SELECT count(*) FROM j WHERE
  patient_id IS NULL OR timepoint IS NULL OR system IS NULL OR version IS NULL OR reader IS NULL
  OR feature IS NULL OR site IS NULL OR region IS NULL
  OR (cat_side = 'M' AND side IS NOT NULL AND side <> 'M')
  OR (cat_side <> 'M' AND (side IS NULL OR side NOT IN ('L', 'R')))
  OR grade IS NULL OR grade < scale_min OR grade > scale_max
  OR round((grade - scale_min) / scale_step, 10) <> round((grade - scale_min) / scale_step)
"""
_DUCK_REPEATED_SITES = """
SELECT count(*) FROM (
  SELECT 1 FROM j GROUP BY patient_id, timepoint, system, version, reader, side, feature, site
  HAVING count(*) > 1)
"""
_DUCK_FEATURES = """
CREATE TEMP TABLE feat AS
SELECT patient_id, timepoint, system, version, reader, feature, subset,
       sum(grade) AS score, sum(scale_max) FILTER (WHERE grade IS NOT NULL) AS max_possible,
       count(grade) AS n_sites_scored, count(*) - count(grade) AS n_not_assessable
FROM j JOIN subsets USING (system, region)
GROUP BY ALL
"""
_DUCK_RESULT = """
SELECT patient_id, timepoint, system, version, reader, feature, subset, score, max_possible,
       n_sites_scored, n_not_assessable FROM feat
UNION ALL
SELECT patient_id, timepoint, any_value(out_system), any_value(version), reader,
       any_value(out_feature), subset, sum(score * weight), sum(max_possible * weight),
       sum(n_sites_scored), sum(n_not_assessable)
FROM feat JOIN comps USING (system, feature)
GROUP BY patient_id, timepoint, reader, subset, total
HAVING count(*) = any_value(n_comp)
"""


def run_duckdb(reads: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> int:
    con = duckdb.connect()
    for name, frame in tables.items():
        con.register(name, frame)
    con.register("reads", reads)
    con.execute(
        "CREATE TEMP TABLE j AS SELECT r.*, c.cat_side, c.region, c.scale_min, c.scale_max, "
        "c.scale_step FROM reads r LEFT JOIN cat c USING (system, version, feature, site)"
    )
    problems = (
        con.execute(_DUCK_CHECKS).fetchone()[0] + con.execute(_DUCK_REPEATED_SITES).fetchone()[0]
    )
    if problems:
        raise RuntimeError(f"DuckDB found {problems} problems in valid data")
    con.execute(_DUCK_FEATURES)
    out = con.execute(_DUCK_RESULT).df()
    con.close()
    return len(out)


# --- polars ------------------------------------------------------------------------------------


def run_polars(reads: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> int:
    assert pl is not None
    r = pl.from_pandas(reads).with_columns(pl.col(pl.Categorical).cast(pl.String))
    cat = pl.from_pandas(tables["cat"])
    subsets = pl.from_pandas(tables["subsets"])
    comps = pl.from_pandas(tables["comps"])
    j = r.join(cat, on=["system", "version", "feature", "site"], how="left")
    step = (pl.col("grade") - pl.col("scale_min")) / pl.col("scale_step")
    required = ("patient_id", "timepoint", "system", "version", "reader", "feature", "site")
    bad = (
        pl.any_horizontal([pl.col(c).is_null() for c in (*required, "region", "grade")])
        | ((pl.col("cat_side") == "M") & pl.col("side").is_not_null() & (pl.col("side") != "M"))
        | ((pl.col("cat_side") != "M") & ~pl.col("side").is_in(["L", "R"]).fill_null(False))
        | (pl.col("grade") < pl.col("scale_min"))
        | (pl.col("grade") > pl.col("scale_max"))
        | (step.round(10) != step.round(0))
    )
    keys = ["patient_id", "timepoint", "system", "version", "reader", "side", "feature", "site"]
    n_bad = j.select(bad.sum()).item()
    n_dup = j.group_by(keys).len().filter(pl.col("len") > 1).height
    if n_bad or n_dup:
        raise RuntimeError("polars found problems in valid data")
    read = ["patient_id", "timepoint", "system", "version", "reader"]
    feat = (
        j.join(subsets, on=["system", "region"])
        .group_by([*read, "feature", "subset"])
        .agg(
            score=pl.col("grade").sum(),
            max_possible=pl.col("scale_max").filter(pl.col("grade").is_not_null()).sum(),
            n_sites_scored=pl.col("grade").count(),
            n_not_assessable=pl.col("grade").null_count(),
        )
    )
    derived = (
        feat.join(comps, on=["system", "feature"])
        .group_by(["patient_id", "timepoint", "reader", "subset", "total"])
        .agg(
            system=pl.col("out_system").first(),
            version=pl.col("version").first(),
            feature=pl.col("out_feature").first(),
            score=(pl.col("score") * pl.col("weight")).sum(),
            max_possible=(pl.col("max_possible") * pl.col("weight")).sum(),
            n_sites_scored=pl.col("n_sites_scored").sum(),
            n_not_assessable=pl.col("n_not_assessable").sum(),
            n=pl.len(),
            n_comp=pl.col("n_comp").first(),
        )
        .filter(pl.col("n") == pl.col("n_comp"))
        .select(feat.columns)
    )
    out = pl.concat(
        [feat, derived.with_columns(pl.col(c).cast(feat.schema[c]) for c in feat.columns)]
    )
    return len(out.to_pandas())


# --- harness -----------------------------------------------------------------------------------


def _rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(fn: Callable[..., int], reads: pd.DataFrame, tables: dict, conn) -> None:  # type: ignore[type-arg]
    start_rss = _rss_kb()
    t0, c0 = time.perf_counter(), _cpu()
    rows = fn(reads, tables)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    conn.send((wall, cpu, max(peak - start_rss, 0) / 1024, rows))
    conn.close()


def measure(fn: Callable[..., int], reads: pd.DataFrame, tables: dict) -> Run:  # type: ignore[type-arg]
    """Wall and CPU time, peak extra resident memory (MB) and output rows of one forked run."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, reads, tables, child))
    proc.start()
    result = Run(*parent.recv())
    proc.join()
    return result


class Run(NamedTuple):
    wall: float
    cpu: float
    mb: float
    rows: int


def stages(reads: pd.DataFrame) -> None:
    marks: list[tuple[str, float]] = [("start", time.perf_counter())]
    valid = validate_reads(reads)
    marks.append(("validate", time.perf_counter()))
    scores = score_reads(valid)
    marks.append(("totals, subsets, derived totals", time.perf_counter()))
    changes = change_scores(scores[scores["subset"] == "all"], "baseline", "week52")
    marks.append(("per-reader change", time.perf_counter()))
    for feature in ("synovitis", "osteitis", "erosion"):
        status = scores[(scores["subset"] == "all") & (scores["feature"] == feature)]
        icc(status, ["patient_id", "timepoint"], "reader", "score")
        icc(changes[changes["feature"] == feature], "patient_id", "reader", "change")
    marks.append(("ICC status + change, 3 features", time.perf_counter()))
    for (_, t0), (name, t1) in pairwise(marks):
        print(f"  {name:<34s} {t1 - t0:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=50_000, help="top size (x 212 site reads)")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved runs per tool and size")
    parser.add_argument("--polars-up-to", type=int, default=6_000_000,
                        help="skip polars above this many reads (it needs ~0.7 kB per read)")  # fmt: skip
    parser.add_argument("--stages", action="store_true", help="rheumetrics stage times at the top")
    args = parser.parse_args()

    tools: dict[str, Callable[..., int]] = {"rheumetrics": run_rheumetrics, "duckdb": run_duckdb}
    if pl is not None:
        tools["polars"] = run_polars
    tables = reference_tables()
    threads = duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0]
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; DuckDB "
          f"{duckdb.__version__} ({threads} threads)"
          + (f", polars {pl.__version__}" if pl is not None else ", polars not installed")
          + "; rheumetrics runs on one core")  # fmt: skip
    sizes = [args.patients // 4, args.patients // 2, args.patients]
    best: dict[str, dict[int, Run]] = {t: {} for t in tools}
    n_rows: list[int] = []
    for patients in sizes:
        reads = synthetic_reads(patients)
        n_rows.append(len(reads))
        order = [t for t in tools if t != "polars" or len(reads) <= args.polars_up_to]
        for rep in range(args.repeat):
            for name in order if rep % 2 == 0 else order[::-1]:
                run = measure(tools[name], reads, tables)
                old = best[name].get(patients)
                best[name][patients] = (
                    run
                    if old is None
                    else Run(
                        min(old.wall, run.wall),
                        min(old.cpu, run.cpu),
                        min(old.mb, run.mb),
                        run.rows,
                    )
                )
        line = ", ".join(f"{t} {best[t][patients].wall:.2f} s wall {best[t][patients].cpu:.2f} s "
                         f"CPU {best[t][patients].mb:,.0f} MB" for t in order)  # fmt: skip
        print(f"{len(reads):>12,} site reads: {line}")
        if args.stages and patients == sizes[-1]:
            stages(reads)
        del reads

    for metric in ("wall", "cpu"):
        print(f"\n{metric} time, best of {args.repeat} (ratio to DuckDB; < 1 is faster)")
        print(f"{'site reads':>12s}" + "".join(f" {t:>12s}" for t in tools)
              + "".join(f" {t + '/duckdb':>19s}" for t in tools if t != "duckdb"))  # fmt: skip
        for patients, n in zip(sizes, n_rows, strict=True):
            ref = getattr(best["duckdb"][patients], metric)
            cells = [getattr(best[t][patients], metric) if patients in best[t] else None
                     for t in tools]  # fmt: skip
            line = f"{n:>12,}" + "".join(f" {c:12.2f}" if c is not None else f" {'-':>12s}"
                                         for c in cells)  # fmt: skip
            line += "".join(f" {c / ref:18.2f}x" if c is not None else f" {'-':>19s}"
                            for t, c in zip(tools, cells, strict=True) if t != "duckdb")  # fmt: skip
            print(line)
    print()
    for t in tools:
        done = [p for p in sizes if p in best[t]]
        if len(done) < 2:
            continue
        ns = [n for p, n in zip(sizes, n_rows, strict=True) if p in best[t]]
        print(f"growth exponent {t:<12s} wall {exponent(ns, [best[t][p].wall for p in done]):5.2f}, "
              f"CPU {exponent(ns, [best[t][p].cpu for p in done]):5.2f}, "
              f"memory {exponent(ns, [best[t][p].mb for p in done]):5.2f}; peak "
              f"{best[t][done[-1]].mb:,.0f} MB above the input at {ns[-1]:,} reads; "
              f"{best[t][done[-1]].rows:,} output rows")  # fmt: skip
    top = best["rheumetrics"][sizes[-1]]
    print(
        f"rheumetrics at {n_rows[-1]:,} reads: {top.wall:.2f} s wall, {top.cpu:.2f} s CPU "
        "(target: under 10 s on one core, within 1.5x of DuckDB)"
    )


if __name__ == "__main__":
    main()
