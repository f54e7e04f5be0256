"""Cohort-store benchmark: synthetic registry visits with 68/66 per-joint findings, labs and PROs.

Generates a Parquet registry dump (default 1,000,000 visits of 60,000 patients; issue 4 and
ecosystem.md §6 registry sizes), then imports it end to end into an empty store: read, validate,
store (one transaction) and score. Prints the time of each step, the store rate in visits/s and
the peak resident memory.

    .venv/bin/python benchmarks/store.py                    # SQLite file in a temp folder
    .venv/bin/python benchmarks/store.py --visits 100000    # smaller
    .venv/bin/python benchmarks/store.py --db postgresql+psycopg://...   # an EMPTY database/schema
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rheumetrics.joints import joint_set
from rheumetrics.store import import_file, init_db, make_engine

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


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--visits", type=int, default=1_000_000)
    ap.add_argument("--patients", type=int, default=None, help="default: visits / 16")
    ap.add_argument(
        "--db", default=None, help="database URL of an EMPTY store (default: temp SQLite file)"
    )
    args = ap.parse_args()
    n_patients = args.patients or max(1, args.visits // 16)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        df = synthetic(args.visits, n_patients)
        src = Path(tmp) / "registry.parquet"
        df.to_parquet(src, index=False)
        del df
        mapping = Path(tmp) / "registry.toml"
        mapping.write_text(MAPPING)
        t_gen = time.perf_counter() - t0
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        engine = make_engine(url)
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
        peak_gb = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        )  # ru_maxrss is KiB on Linux
        n = result.visits_added
        print(
            f"database              {engine.dialect.name} ({'temp file' if args.db is None else 'given URL'})"
        )
        print(
            f"visits / patients     {n:,} / {result.patients_added:,} (68 tender + 66 swollen findings each)"
        )
        print(f"generate input        {t_gen:8.1f} s  (not part of the import)")
        print(f"read + validate       {checked - t1:8.1f} s")
        print(
            f"store (transaction)   {scored - checked:8.1f} s  = {n / (scored - checked):,.0f} visits/s"
        )
        print(
            f"score + commit        {t_end - scored:8.1f} s  ({result.visits_scored:,} visits scored)"
        )
        print(f"end to end            {t_end - t1:8.1f} s  = {n / (t_end - t1):,.0f} visits/s")
        print(f"peak memory (RSS)     {peak_gb:8.2f} GB")
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
