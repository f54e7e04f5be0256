"""Cohort-store benchmark: import a synthetic registry, then read it back next to the peers.

For each size (default 250,000, 500,000 and 1,000,000 visits of visits/16 patients, with 68/66
per-joint findings, labs and PROs) the script generates a Parquet registry dump, imports it end
to end into an empty SQLite store (read, validate, store in one transaction, score) and then
reads the visits back three ways, interleaved, three times each (median):

- ``rheumetrics``: :func:`rheumetrics.store.load_visits` (visit frame with stored scores, typed
  columns, joint counts from the per-joint findings, categories as ordered Categoricals);
- ``pandas.read_sql``: the same join (visit, patient key, every item table, joint masks, the
  score run's scores) as one SQL statement on a ``sqlite3`` connection;
- ``DuckDB``: the same join on the same rows copied into a DuckDB database (copy not timed).

Prints each time, the ratios to rheumetrics and, over the three sizes, the growth exponent b of
time ~ n^b (least squares on log-log). Timings on a shared machine vary; ratios from one
interleaved run are what to compare.

    .venv/bin/python benchmarks/store.py                          # 250k, 500k, 1M visits
    .venv/bin/python benchmarks/store.py --sizes 20000 40000 80000   # quick
    .venv/bin/python benchmarks/store.py --visits 1000000 [--db URL]  # import stages only
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from rheumetrics.joints import joint_set
from rheumetrics.store import import_file, init_db, load_visits, make_engine
from rheumetrics.store.items import ITEM_TABLES, table_items
from rheumetrics.store.jointbits import MASKS
from rheumetrics.store.models import VISIT_SCORE
from sweep import load, print_growth

MAPPING = """
[source]
format = "parquet"

[patient]
id = "patient"
diagnosis = { value = "ra" }
sex = "sex"
birth_year = "birth_year"

[visit]
date = "date"

[values]
esr_mm_h = "esr"
crp_mg_l = { column = "crp", unit = "mg/L" }
gh_mm = "gh"
ptga = "ptga"
phga = "phga"
pain = "pain"
haq_di = "haq_di"

[joints]
tender = { pattern = "t_{joint}" }
swollen = { pattern = "s_{joint}" }
"""


def synthetic(n_visits: int, n_patients: int, seed: int = 20240601) -> pd.DataFrame:
    """Plausible random visits: ~15 % of joints tender, ~8 % swollen, hips never assessed for swelling."""
    rng = np.random.default_rng(seed)
    patient = np.sort(rng.integers(0, n_patients, n_visits))
    first_visit = np.searchsorted(patient, patient, side="left")
    order = np.arange(n_visits) - first_visit  # visit number within patient
    start = pd.Timestamp("2005-01-01") + pd.to_timedelta(
        rng.integers(0, 3650, n_patients), unit="D"
    )
    date = start.to_numpy()[patient] + (order * 91).astype("timedelta64[D]")
    cols: dict[str, object] = {
        "patient": np.char.add("P", patient.astype(str)),
        "sex": np.where(rng.random(n_patients) < 0.7, "female", "male")[patient],
        "birth_year": rng.integers(1930, 2000, n_patients)[patient],
        "date": pd.to_datetime(date).astype("datetime64[ms]"),
        "esr": rng.integers(2, 80, n_visits).astype(float),
        "crp": np.round(rng.gamma(1.5, 6.0, n_visits), 1),
        "gh": rng.integers(0, 101, n_visits).astype(float),
        "ptga": np.round(rng.random(n_visits) * 10, 1),
        "phga": np.round(rng.random(n_visits) * 10, 1),
        "pain": np.round(rng.random(n_visits) * 10, 1),
        "haq_di": rng.integers(0, 25, n_visits) * 0.125,
    }
    swollen66 = set(joint_set("swollen66"))
    for j in joint_set("tender68"):
        cols[f"t_{j}"] = (rng.random(n_visits) < 0.15).astype(np.int8)
        if j in swollen66:
            cols[f"s_{j}"] = (rng.random(n_visits) < 0.08).astype(np.int8)
    return pd.DataFrame(cols)


def same_join(run: int) -> str:
    """The visit join the store reads, as plain SQL: every item, mask and score column."""
    cols = ["v.id AS visit_id", "p.patient_key AS patient_id", "v.visit_date", "v.kind", "v.label"]
    joins = ["visit v JOIN patient p ON p.id = v.patient_id"]
    for table in ITEM_TABLES:
        cols += [f"{table}.{c}" for c in table_items(table)]
        joins.append(f"LEFT JOIN {table} ON {table}.visit_id = v.id")
    cols += [f"j.{m}" for m in MASKS]
    joins.append("LEFT JOIN joint_exam j ON j.visit_id = v.id")
    scores = [c.name for c in VISIT_SCORE.c if c.name not in ("run_id", "visit_id")]
    cols += [f"s.{c} AS score_{c}" for c in scores]
    joins.append(f"LEFT JOIN visit_score s ON s.visit_id = v.id AND s.run_id = {run}")
    return f"SELECT {', '.join(cols)} FROM {' '.join(joins)}"


def to_duckdb(sqlite_path: Path, duck_path: Path) -> None:
    """Copy every table the join reads into a DuckDB database (through pandas; not timed)."""
    import duckdb

    tables = ["patient", "visit", *ITEM_TABLES, "joint_exam", "visit_score"]
    with sqlite3.connect(sqlite_path) as src, duckdb.connect(str(duck_path)) as dst:
        for table in tables:
            frame = pd.read_sql(f"SELECT * FROM {table}", src)
            if table == "visit":
                frame["visit_date"] = pd.to_datetime(frame["visit_date"]).dt.date
            dst.register("frame", frame)
            dst.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
            dst.unregister("frame")


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def one_size(n: int, tmp: Path, repeats: int) -> dict[str, float]:
    import duckdb

    folder = tmp / f"n{n}"
    folder.mkdir()
    src = folder / "registry.parquet"
    synthetic(n, max(1, n // 16)).to_parquet(src, index=False)
    (folder / "registry.toml").write_text(MAPPING)
    db = folder / "store.sqlite"
    engine = make_engine(f"sqlite:///{db}")
    init_db(engine)
    t0 = time.perf_counter()
    result = import_file(engine, src, folder / "registry.toml")
    t_import = time.perf_counter() - t0
    frame = load_visits(engine)
    run = int(frame.attrs["score_run"])
    sql = same_join(run)
    to_duckdb(db, folder / "store.duckdb")
    lite = sqlite3.connect(db)
    duck = duckdb.connect(str(folder / "store.duckdb"), read_only=True)
    runs: dict[str, list[float]] = {"rheumetrics": [], "pandas.read_sql": [], "DuckDB": []}
    for _ in range(repeats):  # interleaved
        runs["rheumetrics"].append(timed(lambda: load_visits(engine)))
        runs["pandas.read_sql"].append(timed(lambda: pd.read_sql(sql, lite)))
        runs["DuckDB"].append(timed(lambda: duck.execute(sql).df()))
    lite.close()
    duck.close()
    engine.dispose()
    out = {k: statistics.median(v) for k, v in runs.items()}
    out["import"] = t_import
    out["visits"] = result.visits_added
    return out


def import_report(visits: int, patients: int | None, db: str | None) -> None:
    """The import of one registry dump, stage by stage (``--visits N``, ``--db URL``)."""
    n_patients = patients or max(1, visits // 16)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        src = Path(tmp) / "registry.parquet"
        synthetic(visits, n_patients).to_parquet(src, index=False)
        mapping = Path(tmp) / "registry.toml"
        mapping.write_text(MAPPING)
        t_gen = time.perf_counter() - t0
        engine = make_engine(db or f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        init_db(engine)
        marks: dict[str, float] = {}

        def progress(stage: str, done: int, total: int) -> None:
            marks.setdefault(f"{stage} start", time.perf_counter())
            if done >= total:
                marks[f"{stage} end"] = time.perf_counter()

        t1 = time.perf_counter()
        result = import_file(engine, src, mapping, progress=progress)
        t_end = time.perf_counter()
        checked = marks["read and check end"]
        scored = marks.get("score start", t_end)
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux
        n = result.visits_added
        where = "temp file" if db is None else "given URL"
        print(f"database              {engine.dialect.name} ({where})")
        print(f"visits / patients     {n:,} / {result.patients_added:,} (68 + 66 findings each)")
        print(f"generate input        {t_gen:8.1f} s  (not part of the import)")
        print(f"read + validate       {checked - t1:8.1f} s")
        print(
            f"store (transaction)   {scored - checked:8.1f} s  = {n / (scored - checked):,.0f} visits/s"
        )
        print(f"score + commit        {t_end - scored:8.1f} s  ({result.visits_scored:,} scored)")
        print(f"end to end            {t_end - t1:8.1f} s  = {n / (t_end - t1):,.0f} visits/s")
        print(f"peak memory (RSS)     {peak_gb:8.2f} GB")
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs=3, default=[250_000, 500_000, 1_000_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--visits", type=int, default=None, help="import stages of one dump only")
    ap.add_argument("--patients", type=int, default=None, help="with --visits; default visits/16")
    ap.add_argument("--db", default=None, help="with --visits: URL of an EMPTY store")
    args = ap.parse_args()
    if args.visits is not None:
        import_report(args.visits, args.patients, args.db)
        return
    results = []
    print(load())
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            res = one_size(n, Path(tmp), args.repeats)
            results.append(res)
            print(
                f"{n:>10,} visits  import {res['import']:7.1f} s  read back: rheumetrics "
                f"{res['rheumetrics']:6.2f} s | pandas.read_sql {res['pandas.read_sql']:6.2f} s "
                f"({res['pandas.read_sql'] / res['rheumetrics']:4.2f}x ours) | DuckDB "
                f"{res['DuckDB']:6.2f} s ({res['DuckDB'] / res['rheumetrics']:4.2f}x ours)",
                flush=True,
            )
    names = ("rheumetrics", "pandas.read_sql", "DuckDB", "import")
    print_growth(args.sizes, {name: [r[name] for r in results] for name in names}, "wall time")


if __name__ == "__main__":
    main()
