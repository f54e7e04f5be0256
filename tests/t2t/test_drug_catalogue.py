"""The drug catalogue against its published sources: WHO ATC/DDD Index 2023 codes and the label
(EMA SmPC section 4.2) maximum doses."""

from __future__ import annotations

import pytest

from rheumetrics.schema.drugs import catalogue, drug

# WHO Collaborating Centre for Drug Statistics Methodology, ATC/DDD Index 2023,
# https://atcddd.fhi.no/atc_ddd_index/
ATC_2023 = {
    "methotrexate": "L04AX03",
    "sulfasalazine": "A07EC01",
    "hydroxychloroquine": "P01BA02",
    "leflunomide": "L04AA13",
    "ciclosporin": "L04AD01",
    "adalimumab": "L04AB04",
    "etanercept": "L04AB01",
    "infliximab": "L04AB02",
    "certolizumab_pegol": "L04AB05",
    "golimumab": "L04AB06",
    "tocilizumab": "L04AC07",
    "sarilumab": "L04AC14",
    "abatacept": "L04AA24",
    "rituximab": "L01FA01",
    "secukinumab": "L04AC10",
    "ixekizumab": "L04AC13",
    "ustekinumab": "L04AC05",
    "guselkumab": "L04AC16",
    "tofacitinib": "L04AA29",
    "baricitinib": "L04AA37",
    "upadacitinib": "L04AA44",
    "filgotinib": "L04AA45",
    "prednisolone": "H02AB06",
    "prednisone": "H02AB07",
    "methylprednisolone": "H02AB04",
    "triamcinolone": "H02AB08",
    "naproxen": "M01AE02",
    "ibuprofen": "M01AE01",
    "diclofenac": "M01AB05",
    "indometacin": "M01AB01",
    "celecoxib": "M01AH01",
    "etoricoxib": "M01AH05",
    "meloxicam": "M01AC06",
    "paracetamol": "N02BE01",
    "folic_acid": "B03BB01",
}


def test_every_drug_has_its_who_atc_2023_code_and_sources():
    drugs = catalogue().drugs
    assert set(drugs) == set(ATC_2023)
    for name, d in drugs.items():
        assert d.atc == ATC_2023[name], name
        assert f"https://atcddd.fhi.no/atc_ddd_index/?code={d.atc}" in d.sources[0], name
        assert len(d.sources) >= 2 and "4.2" in d.sources[1], name


@pytest.mark.parametrize(
    ("name", "route", "label_max", "source"),
    [
        # Enbrel SmPC 4.2: plaque psoriasis 50 mg twice weekly (100 mg/week) for up to 12 weeks
        ("etanercept", "sc", 100, "enbrel"),
        # Tremfya SmPC 4.2: ulcerative colitis maintenance 200 mg every 4 weeks (400 mg/8 weeks);
        # psoriatic arthritis at most 100 mg every 4 weeks
        ("guselkumab", "sc", 400, "tremfya"),
        # Cosentyx SmPC 4.2: hidradenitis suppurativa maintenance 300 mg every 2 weeks (600 mg/4 weeks)
        ("secukinumab", "sc", 600, "cosentyx"),
        # Remsima SmPC 4.2: subcutaneous 120 mg every 2 weeks, a fixed dose for all indications
        ("infliximab", "sc", 120, "remsima"),
        # Xeljanz SmPC 4.2: ulcerative colitis induction 10 mg twice daily (20 mg/day)
        ("tofacitinib", "oral", 20, "xeljanz"),
        # Rinvoq SmPC 4.2: ulcerative colitis and Crohn's disease induction 45 mg once daily
        ("upadacitinib", "oral", 45, "rinvoq"),
        # Humira SmPC 4.2: monotherapy up to 80 mg every other week
        ("adalimumab", "sc", 80, "humira"),
        # Plaquenil SmPC 4.2: at most 400 mg/day
        ("hydroxychloroquine", "oral", 400, "Plaquenil"),
        # Arava SmPC 4.2: maintenance at most 20 mg/day
        ("leflunomide", "oral", 20, "arava"),
    ],
)
def test_label_maximum_is_the_smpc_maximum(name, route, label_max, source):
    d = drug(name)
    assert d.dosing_for(route).label_max == label_max
    assert source in d.sources[1]
