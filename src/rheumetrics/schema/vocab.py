"""Controlled vocabularies shared by every layer (store columns, importers, engine, app forms).

Each vocabulary is declared once here; the store's check constraints, the importer's messages and the
treat-to-target engine's inputs all read these tuples.
"""

from __future__ import annotations

#: Diagnoses, each with its SNOMED CT concept id (SNOMED International, https://browser.ihtsdotools.org).
DIAGNOSES: dict[str, str] = {
    "ra": "69896004",  # rheumatoid arthritis
    "axspa": "723116002",  # axial spondyloarthritis
    "as": "9631008",  # ankylosing spondylitis
    "spa": "784332006",  # spondyloarthritis
    "psa": "156370009",  # psoriatic arthritis
}
SEXES = ("female", "male", "other", "unknown")
VISIT_KINDS = ("baseline", "routine", "follow_up", "unscheduled", "study")
#: Therapy classes. ``other`` holds anything outside the DMARD/glucocorticoid/NSAID classes
#: (e.g. analgesics); the treat-to-target engine ignores it when placing a patient on a ladder.
DRUG_CLASSES = ("csDMARD", "bDMARD", "tsDMARD", "glucocorticoid", "NSAID", "other")
#: Modes of action of the drugs in the catalogue (``schema/drugs.toml``); the switching rules of the
#: treat-to-target engine compare them (e.g. "another TNF inhibitor" or "a different mode of action").
MECHANISMS = (
    "folate_antagonist",
    "aminosalicylate",
    "antimalarial",
    "DHODH",
    "calcineurin",
    "TNF",
    "IL-6R",
    "CTLA4-Ig",
    "CD20",
    "IL-17A",
    "IL-12/23",
    "IL-23",
    "JAK",
    "glucocorticoid",
    "COX",
    "COX-2",
    "other",
)
ROUTES = ("oral", "sc", "iv", "im", "intra-articular", "topical", "other")
#: Why a drug was stopped or its dose reduced (a dose reduction for toxicity is not a taper).
STOP_REASONS = (
    "inefficacy",
    "intolerance",
    "adverse_event",
    "contraindication",
    "patient_preference",
    "taper_in_remission",
    "dose_reduction_toxicity",
    "pregnancy",
    "cost",
    "other",
    "unknown",
)
#: Sides of an imaging site: left, right, midline (spine), both.
SIDES = ("L", "R", "M", "B")
MODALITIES = ("MRI", "XR", "US", "CT")
READING_DESIGNS = ("paired_known_order", "paired_blinded_order", "unpaired", "unspecified")
#: Spellings accepted for yes/no values (case-insensitive); nothing else is read as a boolean.
TRUE_WORDS = ("1", "true", "yes", "y")
FALSE_WORDS = ("0", "false", "no", "n")
