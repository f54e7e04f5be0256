"""Synthetic study-level table for the meta-analysis-only example study ``axspa_mri_meta``.

The design follows the systematic review of MRI change on TNF inhibitors in axial
spondyloarthritis (Clin Exp Rheumatol 2021;39(2):242-252, PMID 33506749): controlled studies
reporting the change in an MRI inflammation score (ASspiMRI-a, SPARCC spine, SPARCC SIJ, Berlin)
from baseline to follow-up in a TNF-inhibitor and a control arm, pooled by scoring system and
follow-up. Every study and number here is INVENTED (studies are named "Synthetic study NN"); no
published figure is targeted. Run ``.venv/bin/python examples/meta_example.py`` to rewrite
``src/rheumetrics/studies/axspa_mri_meta_synthetic.csv`` (byte-identical for the seed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 2021
#: (scoring system, follow-up, number of studies, true mean difference TNFi - control, score SD)
DESIGN = (
    ("ASspiMRI-a", "12 weeks", 4, -2.0, 5.0),
    ("ASspiMRI-a", "2 years", 3, -1.0, 5.5),
    ("SPARCC spine", "12 weeks", 4, -4.0, 9.0),
    ("SPARCC SIJ", "12 weeks", 3, -5.0, 7.0),
    ("Berlin", "12 weeks", 2, -1.5, 3.0),
)


def study_table(seed: int = SEED) -> pd.DataFrame:
    """One row per synthetic study: arm sizes, mean change and SD in each arm."""
    rng = np.random.default_rng(seed)
    rows = []
    k = 0
    for scoring, followup, n_studies, md, sd in DESIGN:
        for _ in range(n_studies):
            k += 1
            n_t, n_c = (int(x) for x in rng.integers(20, 120, size=2))
            true = md + rng.normal(0, abs(md) * 0.4)  # between-study heterogeneity
            mean_c = rng.normal(-0.5, 0.5)
            rows.append({
                "study": f"Synthetic study {k:02d}", "scoring": scoring, "followup": followup,
                "subgroup": f"{scoring}, {followup}",
                "n_t": n_t, "mean_t": round(mean_c + true + rng.normal(0, sd / np.sqrt(n_t)), 2),
                "sd_t": round(sd * rng.uniform(0.8, 1.2), 2),
                "n_c": n_c, "mean_c": round(mean_c + rng.normal(0, sd / np.sqrt(n_c)), 2),
                "sd_c": round(sd * rng.uniform(0.8, 1.2), 2),
            })  # fmt: skip
    return pd.DataFrame(rows)


if __name__ == "__main__":
    out = (
        Path(__file__).parents[1]
        / "src"
        / "rheumetrics"
        / "studies"
        / "axspa_mri_meta_synthetic.csv"
    )
    study_table().to_csv(out, index=False, lineterminator="\n")
    print(out)
