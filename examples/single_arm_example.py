"""Synthetic cohort for the single-arm longitudinal example study ``single_arm_mri``.

The design follows the MRI study of anakinra added to methotrexate (seed of the shared notes:
17 patients with active RA, contrast MRI of the wrist and MCP joints at weeks 0, 12 and 36,
radiographs at weeks 0 and 36, within-patient changes, SRM per interval, baseline MRI predicting
radiographic progression). Every patient and value here is INVENTED (ids SYN-SA-NN); no
published figure is targeted. Run ``.venv/bin/python examples/single_arm_example.py`` to rewrite
``src/rheumetrics/studies/single_arm_mri/`` (byte-identical for the seed).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from synthetic_cohorts import _site_rows

SEED = 2003
N = 17
WEEKS = (0, 12, 36)


def cohort(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Patients, visits (DAS28-CRP inputs) at weeks 0/12/36 and per-site imaging reads."""
    rng = np.random.default_rng(seed)
    ids = [f"SYN-SA-{i + 1:02d}" for i in range(N)]
    start = dt.date(2003, 1, 1)
    base = pd.to_datetime([start + dt.timedelta(days=int(x)) for x in rng.integers(0, 400, N)])
    patients = pd.DataFrame({"patient_id": ids, "sex": np.where(rng.uniform(size=N) < 0.75, "female", "male"),
                             "age_years": np.clip(np.round(rng.normal(55, 11, N)), 30, 75).astype(int),
                             "disease_duration_years": np.clip(np.round(np.exp(rng.normal(2.4, 0.7, N))), 2, 37).astype(int)})  # fmt: skip
    act = rng.normal(0, 1, N)
    visit_rows, reads = [], []
    syn = np.clip(np.round(np.exp(2.3 + 0.3 * act + rng.normal(0, 0.3, N))), 0, 21)
    ero = np.clip(np.round(np.exp(2.0 + rng.normal(0, 0.6, N))), 0, 80)
    xr = np.clip(np.round(np.exp(2.5 + rng.normal(0, 0.8, N))), 0, 150)
    prone = (
        0.4 * (syn - syn.mean()) / syn.std()
        + 0.4 * (ero - ero.mean()) / ero.std()
        + rng.normal(0, 0.7, N)
    )
    for k, week in enumerate(WEEKS):
        dates = base + pd.to_timedelta(week * 7 + (rng.integers(-3, 4, N) if week else 0), unit="D")
        fall = 0.4 * k
        visit_rows.append(pd.DataFrame({
            "patient_id": ids, "visit_date": dates,
            "tjc28": np.clip(np.round(np.exp(2.3 + 0.3 * act - fall + rng.normal(0, 0.3, N))), 0, 28).astype(int),
            "sjc28": np.clip(np.round(np.exp(2.0 + 0.3 * act - fall + rng.normal(0, 0.3, N))), 0, 28).astype(int),
            "crp_mg_l": np.round(np.exp(2.6 + 0.4 * act - fall + rng.normal(0, 0.5, N)).clip(0.3, 150), 1),
            "gh_mm": np.round(np.clip(65 + 10 * act - 12 * k + rng.normal(0, 10, N), 0, 100)),
        }))  # fmt: skip
        if k:  # synovitis roughly unchanged; erosion progresses in those prone to it
            syn = np.clip(syn + rng.integers(-2, 3, N), 0, 21)
            ero = ero + np.where(prone > 0.1, rng.integers(1, 3, N), 0)
        scan = pd.DataFrame({"patient_id": ids, "timepoint": f"W{week}", "image_date": dates.date,
                             "side": "L", "modality": "MRI", "reader": "R1", "session": "1",
                             "design": "paired_known_order"})  # fmt: skip
        share = rng.uniform(0.5, 0.7, N)
        for feature, total, cap in (("erosion", ero, 150), ("synovitis", syn, 9)):
            wrist = np.minimum(np.round(total * share), cap)
            for region, part in (("wrist", wrist), ("mcp", total - wrist)):
                reads.append(
                    _site_rows(
                        rng, scan.assign(total=part), "total", "ramris", "2002", feature, region
                    )
                )
        if week in (0, 36):
            if week:
                xr = xr + np.where(prone > 0.0, rng.integers(1, 4, N), 0)
            xray = scan.assign(modality="XR", reader="R2", design="unpaired", total=xr)
            reads.append(
                _site_rows(rng, xray, "total", "svdh", "standard", "erosion", "hand", ("L", "R"))
            )
    visits = pd.concat(visit_rows, ignore_index=True).sort_values(
        ["patient_id", "visit_date"], ignore_index=True
    )
    imaging = pd.concat(reads, ignore_index=True)
    imaging["grade"] = imaging["grade"].astype(int)
    imaging = imaging.rename(columns={"scoring_system": "system", "scoring_version": "version"})
    imaging = imaging[["patient_id", "timepoint", "image_date", "side", "modality", "system", "version",
                       "reader", "session", "design", "site", "feature", "grade"]]  # fmt: skip
    return {"patients": patients, "visits": visits, "imaging": imaging}


if __name__ == "__main__":
    folder = Path(__file__).parents[1] / "src" / "rheumetrics" / "studies" / "single_arm_mri"
    folder.mkdir(exist_ok=True)
    for name, frame in cohort().items():
        frame.to_csv(
            folder / f"{name}.csv", index=False, lineterminator="\n", date_format="%Y-%m-%d"
        )
    print(folder)
