"""Synthetic cohort for the prediction example study ``il6_prediction`` (a single-arm cohort with
a baseline biomarker predicting one-year erosion progression).

The design follows the IL-6 study of newly diagnosed, untreated RA (Rheumatology (Oxford)
2017;56(7):1089-1094): 88 patients, contrast MRI of the dominant hand (RAMRIS erosion and
synovitis, wrist and MCP) and hand radiographs (Sharp/van der Heijde erosion) at baseline and one
year, plasma IL-6 at baseline; progression is a change in erosion score > 0.5, repair < -0.5.
Every patient and value here is INVENTED (ids SYN-IL6-NN); no published figure is targeted.
Run ``.venv/bin/python examples/prediction_example.py`` to rewrite the files in
``src/rheumetrics/studies/il6_prediction/`` (byte-identical for the seed).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from synthetic_cohorts import _site_rows

SEED = 2017
N = 88


def cohort(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Patients (IL-6, serology), visits (DAS28-CRP inputs) and per-site imaging reads."""
    rng = np.random.default_rng(seed)
    ids = [f"SYN-IL6-{i + 1:02d}" for i in range(N)]
    il6 = np.round(np.exp(rng.normal(2.0, 0.9, N)), 1)  # pg/mL
    sero = rng.uniform(size=N) < 0.7
    start = dt.date(2012, 1, 1)
    base = pd.to_datetime([start + dt.timedelta(days=int(x)) for x in rng.integers(0, 900, N)])
    patients = pd.DataFrame({"patient_id": ids, "sex": np.where(rng.uniform(size=N) < 0.75, "female", "male"),
                             "age_years": np.clip(np.round(rng.normal(55, 13, N)), 20, 85).astype(int),
                             "il6_pg_ml": il6, "seropositive": np.where(sero, "yes", "no")})  # fmt: skip
    act = rng.normal(0, 1, N) + 0.4 * np.log(il6)
    rows = []
    for _week, dates, fall in (
        (0, base, 0.0),
        (52, base + pd.to_timedelta(rng.integers(350, 380, N), unit="D"), 1.0),
    ):
        rows.append(pd.DataFrame({
            "patient_id": ids, "visit_date": dates,
            "tjc28": np.clip(np.round(np.exp(2.0 + 0.4 * act - fall * 0.9 + rng.normal(0, 0.3, N))), 0, 28).astype(int),
            "sjc28": np.clip(np.round(np.exp(1.4 + 0.4 * act - fall * 1.0 + rng.normal(0, 0.4, N))), 0, 28).astype(int),
            "crp_mg_l": np.round(np.exp(2.0 + 0.5 * act - fall + rng.normal(0, 0.6, N)).clip(0.3, 150), 1),
            "gh_mm": np.round(np.clip(60 + 12 * act - 25 * fall + rng.normal(0, 12, N), 0, 100)),
        }))  # fmt: skip
    visits = pd.concat(rows, ignore_index=True).sort_values(
        ["patient_id", "visit_date"], ignore_index=True
    )
    # erosion progression more likely with high IL-6 and seropositivity; some repair with low IL-6
    risk = -1.2 + 0.9 * (np.log(il6) - 2.0) + 0.6 * sero + rng.normal(0, 0.8, N)
    ero0 = np.clip(np.round(np.exp(1.3 + 0.3 * act + rng.normal(0, 0.7, N))), 0, 60)
    step = np.where(
        risk > 0, rng.integers(1, 4, N), np.where(risk < -1.6, -rng.integers(1, 3, N), 0)
    )
    ero1 = np.clip(ero0 + step, 0, 60)
    syn0 = np.clip(np.round(np.exp(1.2 + 0.4 * act + rng.normal(0, 0.5, N))), 0, 21)
    syn1 = np.clip(np.round(syn0 * rng.uniform(0.4, 1.1, N)), 0, 21)
    xr0 = np.clip(np.round(np.exp(1.0 + rng.normal(0, 0.8, N))), 0, 80)
    xr1 = xr0 + np.where(risk > 0.6, rng.integers(1, 3, N), np.where(risk < -2.0, -1, 0)).clip(-xr0)
    reads = []
    for tp, dates, ero, syn, xr in (
        ("BL", base, ero0, syn0, xr0),
        ("Y1", visits.loc[visits.index % 2 == 1, "visit_date"].to_numpy(), ero1, syn1, xr1),
    ):
        scan = pd.DataFrame({"patient_id": ids, "timepoint": tp, "image_date": pd.to_datetime(dates),
                             "side": "R", "modality": "MRI", "reader": "R1", "session": "1",
                             "design": "paired_known_order"})  # fmt: skip
        wrist_share = rng.uniform(0.5, 0.8, N)
        for feature, total, caps in (("erosion", ero, (150, 80)), ("synovitis", syn, (9, 12))):
            wrist = np.minimum(np.round(total * wrist_share), caps[0])
            for region, part in (("wrist", wrist), ("mcp", total - wrist)):
                reads.append(
                    _site_rows(
                        rng, scan.assign(total=part), "total", "ramris", "2002", feature, region
                    )
                )
        xray = scan.assign(modality="XR", reader="R2", design="unpaired", total=xr)
        reads.append(
            _site_rows(rng, xray, "total", "svdh", "standard", "erosion", "hand", ("L", "R"))
        )
    imaging = pd.concat(reads, ignore_index=True)
    imaging["grade"] = imaging["grade"].astype(int)
    imaging["image_date"] = imaging["image_date"].dt.date
    imaging = imaging.rename(columns={"scoring_system": "system", "scoring_version": "version"})
    imaging = imaging[["patient_id", "timepoint", "image_date", "side", "modality", "system", "version",
                       "reader", "session", "design", "site", "feature", "grade"]]  # fmt: skip
    return {"patients": patients, "visits": visits, "imaging": imaging}


if __name__ == "__main__":
    folder = Path(__file__).parents[1] / "src" / "rheumetrics" / "studies" / "il6_prediction"
    folder.mkdir(exist_ok=True)
    for name, frame in cohort().items():
        frame.to_csv(
            folder / f"{name}.csv", index=False, lineterminator="\n", date_format="%Y-%m-%d"
        )
    print(folder)
