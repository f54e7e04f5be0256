"""The report prints the scoring conventions of the measures a study's outcomes are scored with,
chosen through each measure's declarations (``Measure.conventions``, ``Measure.cutoffs``), never
by the conventions' names."""

from __future__ import annotations

import dataclasses

from rheumetrics.measures import MEASURES, Conventions
from rheumetrics.study.definitions import ImagingSpec, Outcome
from rheumetrics.study.model import Study, load_study
from rheumetrics.study.report import _used_conventions, outcome_measure

ALWAYS = {"rounding", "rheumetrics_version"}


def _clinical(column: str) -> Outcome:
    return Outcome(column, column, 2, ("V1", "V2"), column=column)


MRI_EROSION = Outcome("erosion", "MRI erosion", 1, ("V1", "V2"),
                      imaging=ImagingSpec("ramris", "erosion", "wrist", "2002"))  # fmt: skip


def _study(*outcomes: Outcome) -> Study:
    return dataclasses.replace(load_study("nz_mri"), outcomes=outcomes)


def _used(*columns: str, conventions: Conventions | None = None) -> dict[str, object]:
    recorded = (conventions or Conventions()).as_dict()
    return _used_conventions(_study(*map(_clinical, columns), MRI_EROSION), recorded)


def test_das28_crp_study_lists_the_crp_cutoffs_not_the_esr_ones() -> None:
    chosen = Conventions(
        das28_crp_cutoffs="das28crp_fleischmann", das28_esr_cutoffs="das28_acr2012"
    )
    used = _used("das28_crp", "tjc28", conventions=chosen)
    assert used["das28_crp_cutoffs"] == "das28crp_fleischmann"
    assert "das28_esr_cutoffs" not in used
    # the 4-variable DAS28 takes gh_mm: which VAS fed it is recorded; nothing of other measures
    assert set(used) == {"das28_crp_cutoffs", "das28_global_item"} | ALWAYS
    # and the converse: a DAS28-ESR study lists the ESR cut-offs, not the CRP ones
    used = _used("das28_esr", conventions=chosen)
    assert used["das28_esr_cutoffs"] == "das28_acr2012" and "das28_crp_cutoffs" not in used


def test_three_variable_das28_has_no_global_item() -> None:
    assert set(_used("das28_crp_3v")) == {"das28_crp_cutoffs"} | ALWAYS


def test_each_measure_brings_its_formula_conventions_and_cutoffs() -> None:
    used = _used("asdas_crp", "haq_di", "das")
    expected = {
        "asdas_coefficients", "asdas_crp_floor_mg_l", "asdas_cutoffs",  # ASDAS-CRP
        "haq_min_categories", "haq_method", "haq_bathtub_seat_is_hygiene_aid",  # HAQ-DI
        "das_coefficients", "das_cutoffs", "das28_global_item",  # original DAS (4 variables)
    }  # fmt: skip
    assert set(used) == expected | ALWAYS
    # in the order the conventions are recorded
    assert list(used) == [k for k in Conventions().as_dict() if k in used]


def test_values_as_recorded_and_imaging_bring_no_scoring_convention() -> None:
    # a score taken as reported, items and an imaging total: only rounding and the version
    assert set(_used("das28_reported", "tjc28", "sjc28")) == ALWAYS
    assert _used_conventions(_study(MRI_EROSION), {}) == {}


def test_outcome_measure_is_the_measure_named_by_the_column() -> None:
    assert outcome_measure(_clinical("cdai")) is MEASURES["cdai"]
    assert (
        outcome_measure(Outcome("crp", "DAS28", 2, ("V1",), column="das28_crp"))
        is (MEASURES["das28_crp"])
    )
    for column in ("das28_reported", "das28_crp_reported", "tjc28", "esr_mm_h"):
        assert outcome_measure(_clinical(column)) is None
    assert outcome_measure(MRI_EROSION) is None
