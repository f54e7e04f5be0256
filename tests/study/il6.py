"""The head of a study file on the bundled synthetic IL-6 cohort (read through ``package:``
paths), for tests that run analyses on it: visits W0 and W52, DAS28-CRP and imaging outcomes,
baseline characteristics."""

from __future__ import annotations

#: Imaging outcomes by id: label and scoring system.
IMAGING = {
    "mri_erosion": ("MRI erosion", 'system = "ramris", version = "2002", feature = "erosion"'),
    "mri_synovitis": (
        "MRI synovitis",
        'system = "ramris", version = "2002", feature = "synovitis"',
    ),
    "xray_erosion": ("X-ray erosion", 'system = "svdh", feature = "erosion"'),
}
SUBSET = {"mri_erosion": "all", "mri_synovitis": "all", "xray_erosion": "hands"}
#: Baseline characteristics by id: label and type.
VARIABLES = {"il6_pg_ml": ("IL-6 (pg/mL)", "numeric"), "sex": ("Sex", "categorical")}


def il6_study(
    title: str,
    *,
    imaging: str = "package:studies/il6_prediction/imaging.csv",
    outcomes: tuple[str, ...] = ("mri_erosion", "xray_erosion"),
    variables: tuple[str, ...] = ("il6_pg_ml",),
) -> str:
    """The study file up to its analyses, with the imaging reads of ``imaging``."""
    lines = [
        "[study]",
        f'title = "{title}"',
        "[cohort]",
        'visits = "package:studies/il6_prediction/visits.csv"',
        'patients = "package:studies/il6_prediction/patients.csv"',
        f'imaging = "{imaging}"',
        "[[visits]]",
        'id = "W0"',
        "days = [-14, 14]",
        "[[visits]]",
        'id = "W52"',
        "days = [330, 400]",
        "target = 365",
        "[[outcomes]]",
        'id = "das28_crp"',
    ]
    for name in outcomes:
        label, system = IMAGING[name]
        lines += ["[[outcomes]]", f'id = "{name}"', f'label = "{label}"',
                  f'imaging = {{ {system}, subset = "{SUBSET[name]}" }}']  # fmt: skip
    listed = ", ".join(
        f'{{ id = "{v}", label = "{VARIABLES[v][0]}", type = "{VARIABLES[v][1]}" }}'
        for v in variables
    )
    return "\n".join(["", *lines, "[characteristics]", f"variables = [{listed}]", ""])
