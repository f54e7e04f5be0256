"""The twelve clinically wrong decisions reported against the earlier engine, each as a test.

Expected decisions follow the published protocols: IMAGINE-RA (Møller-Bisgaard et al. Trials
2015;16:178, Figure 3; JAMA 2019;321:461-472), EULAR 2022 (Smolen et al. Ann Rheum Dis
2023;82:3-18), ASAS-EULAR 2022 (Ramiro et al. Ann Rheum Dis 2023;82:19-34), DREAM (Vermeer et al.
Arthritis Rheum 2011;63:2865-2872).
"""

from __future__ import annotations

import pandas as pd

from rheumetrics.t2t import decide, decide_visit, load_strategy

MTX25 = {"drug": "methotrexate", "dose": 25, "start_date": "2019-01-01"}
TRIPLE = [
    MTX25,
    {"drug": "sulfasalazine", "dose": 3000, "start_date": "2019-01-01"},
    {"drug": "hydroxychloroquine", "dose": 400, "start_date": "2019-01-01"},
]
DAY = "2020-01-01"


def test_1_imagine_mtx_at_maximum_goes_to_2a():
    d = decide_visit(
        "imagine_ra_conventional", {"das28_crp": 3.9, "sjc28": 2}, regimen=[MTX25], visit_date=DAY
    )
    assert (d.action, d.step, d.to_step) == ("escalate", "2", "2a")
    assert (
        d.to_regimen
        == "methotrexate 25 mg/week + sulfasalazine 2000 mg/day + hydroxychloroquine 200 mg/day"
    )


def test_2_imagine_triple_at_maximum_with_oedema_goes_to_adalimumab():
    d = decide_visit(
        "imagine_ra_mri",
        {"das28_crp": 2.0, "sjc28": 0, "mri_bme_total": 3},
        regimen=TRIPLE,
        visit_date=DAY,
    )
    assert (d.step, d.to_step) == ("3", "4")
    assert d.to_regimen == "adalimumab 40 mg/2 weeks sc + methotrexate 25 mg/week"


def test_3_imagine_leflunomide_10_is_raised_to_20():
    lef = {"drug": "leflunomide", "dose": 10, "start_date": "2019-01-01"}
    d = decide_visit(
        "imagine_ra_conventional", {"das28_crp": 3.9, "sjc28": 2}, regimen=[lef], visit_date=DAY
    )
    assert (d.step, d.to_step, d.to_regimen) == ("1", "2", "leflunomide 20 mg/day")


def test_4_imagine_one_intolerance_in_combination_is_not_3a():
    visit = {"das28_crp": 2.0, "sjc28": 0, "intolerance": True, "intolerant_drug": "sulfasalazine"}
    d = decide_visit("imagine_ra_conventional", visit, regimen=TRIPLE, visit_date=DAY)
    assert d.action == "switch" and d.to_step == "3"
    assert "leflunomide" not in d.to_regimen and "sulfasalazine" not in d.to_regimen.split("(")[0]


def test_4b_imagine_second_intolerance_allows_3a():
    visit = {"das28_crp": 2.0, "sjc28": 0, "intolerance": True, "intolerant_drug": "sulfasalazine"}
    history = [
        {
            "drug": "hydroxychloroquine",
            "dose": 400,
            "start_date": "2018-01-01",
            "stop_date": "2019-01-01",
            "stop_reason": "intolerance",
        }
    ]
    regimen = [MTX25, {"drug": "sulfasalazine", "dose": 3000, "start_date": "2019-01-01"}]
    d = decide_visit(
        "imagine_ra_conventional", visit, regimen=regimen, history=history, visit_date=DAY
    )
    assert d.to_step == "3a" and d.to_regimen.startswith("leflunomide 20 mg/day")


def test_5_imagine_adalimumab_intolerance_goes_to_step_5():
    ada = {"drug": "adalimumab", "dose": 40, "start_date": "2019-06-01"}
    visit = {"das28_crp": 2.0, "sjc28": 0, "intolerance": True, "intolerant_drug": "adalimumab"}
    d = decide_visit("imagine_ra_conventional", visit, regimen=[MTX25, ada], visit_date=DAY)
    assert (d.action, d.step, d.to_step) == ("switch", "4", "5")
    assert d.to_regimen.startswith("etanercept 50 mg/week sc + methotrexate 25 mg/week")


def test_6_imagine_minimum_time_on_a_step():
    regimen = [MTX25, {"drug": "sulfasalazine", "dose": 2000, "start_date": "2019-12-01"}]
    d = decide_visit(
        "imagine_ra_mri",
        {"das28_crp": 2.0, "sjc28": 0, "mri_bme_total": 3},
        regimen=regimen,
        visit_date=DAY,
    )
    assert (d.action, d.rule_ids) == ("continue", "I7")


def test_7_eular_at_target_on_prednisolone_tapers_it():
    regimen = [MTX25, {"drug": "prednisolone", "dose": 7.5, "start_date": "2019-08-01"}]
    d = decide_visit("eular2022_ra", {"sdai": 2.0}, regimen=regimen, visit_date=DAY)
    assert (d.action, d.rule_ids) == ("taper", "A3")
    assert d.to_regimen.startswith("methotrexate 25 mg/week + prednisolone 2.5 mg/day")


def test_8_eular_prednisolone_alone_starts_methotrexate_and_tapers():
    pred = {"drug": "prednisolone", "dose": 7.5, "start_date": "2019-08-01"}
    d = decide_visit("eular2022_ra", {"sdai": 3.0}, regimen=[pred], visit_date=DAY)
    assert (d.action, d.to_step) == ("escalate", "I.1")
    assert d.to_regimen.startswith("methotrexate 15 mg/week")
    assert "prednisolone" in d.co_actions


def test_9_eular_second_csdmard_failing_goes_to_biologic():
    lef = {"drug": "leflunomide", "dose": 20, "start_date": "2019-07-01"}
    history = [{**MTX25, "stop_date": "2019-07-01", "stop_reason": "inefficacy"}]
    visit = {"sdai": 20.0, "rf_positive": False, "acpa_positive": False, "erosive": False}
    d = decide_visit("eular2022_ra", visit, regimen=[lef], history=history, visit_date=DAY)
    assert (d.step, d.to_step) == ("II-a", "II-b")


def test_10_eular_persistent_moderate_activity_is_a_poor_prognostic_factor():
    d = decide_visit("eular2022_ra", {"sdai": 20.0}, regimen=[MTX25], visit_date=DAY)
    assert d.to_step == "II-b"


def test_10b_missing_prognostic_factors_are_named():
    s = load_strategy("eular2022_ra", {"index": "sdai"})
    d = decide_visit(s, {"sdai": 9.0}, regimen=[MTX25], visit_date=DAY)
    assert d.action == "escalate"
    assert "acpa_positive" in (d.missing or "") and d.provisional


def test_11_axspa_loss_of_response_is_judged_against_the_best_response():
    s = load_strategy("asas_eular2022_axspa")
    v = pd.DataFrame(
        {
            "patient_id": "p",
            "visit_date": pd.to_datetime(["2019-12-20", "2020-04-01", "2021-01-01", "2023-01-01"]),
            "asdas_crp": [3.8, 1.6, 1.2, 2.6],
        }
    )
    t = pd.DataFrame(
        {
            "patient_id": ["p", "p"],
            "drug": ["naproxen", "adalimumab"],
            "dose": [1000, 40],
            "start_date": pd.to_datetime(["2019-01-01", "2020-01-01"]),
            "stop_date": pd.to_datetime(["2020-01-01", None]),
            "stop_reason": ["inefficacy", None],
        }
    )
    log = decide(v, s, t)
    assert (log.loc[3, "action"], log.loc[3, "rule_ids"], log.loc[3, "to_step"]) == (
        "escalate",
        "X5b",
        "3",
    )
    assert "adalimumab" not in log.loc[3, "to_regimen"]


def test_12_dream_raises_methotrexate_before_sulfasalazine():
    mtx15 = {"drug": "methotrexate", "dose": 15, "start_date": "2019-09-01"}
    d = decide_visit("dream_ra", {"das28_crp": 3.5}, regimen=[mtx15], visit_date=DAY)
    assert (d.action, d.to_regimen.split(" (")[0]) == ("optimise", "methotrexate 25 mg/week")


def test_12b_dream_tnf_inhibitor_needs_das28_3_2():
    regimen = [MTX25, {"drug": "sulfasalazine", "dose": 3000, "start_date": "2019-06-01"}]
    d = decide_visit("dream_ra", {"das28_crp": 2.9}, regimen=regimen, visit_date=DAY)
    assert d.action == "continue" and "needs DAS28-CRP >= 3.2" in d.missing
    d = decide_visit("dream_ra", {"das28_crp": 3.6}, regimen=regimen, visit_date=DAY)
    assert (d.action, d.to_regimen) == (
        "escalate",
        "adalimumab 40 mg/2 weeks sc + methotrexate 25 mg/week",
    )


def test_12c_dream_tapers_after_six_months_of_remission():
    s = load_strategy("dream_ra")
    v = pd.DataFrame(
        {
            "patient_id": "p",
            "visit_date": pd.to_datetime(["2020-01-01", "2020-04-01", "2020-07-01"]),
            "das28_crp": [2.0, 2.1, 2.2],
        }
    )
    t = pd.DataFrame(
        {
            "patient_id": ["p"],
            "drug": ["methotrexate"],
            "dose": [25],
            "start_date": pd.to_datetime(["2019-01-01"]),
        }
    )
    assert list(decide(v, s, t)["action"]) == ["continue", "continue", "taper"]


def test_therapy_of_class_other_is_accepted_and_ignored():
    v = pd.DataFrame(
        {"patient_id": ["p"], "visit_date": pd.to_datetime(["2020-01-01"]), "sdai": [20.0]}
    )
    t = pd.DataFrame(
        {
            "patient_id": ["p", "p"],
            "drug": ["methotrexate", "glucosamine"],
            "drug_class": ["csDMARD", "other"],
            "dose": [25, None],
            "start_date": pd.to_datetime(["2019-01-01", "2019-01-01"]),
        }
    )
    log = decide(v, load_strategy("eular2022_ra"), t)
    assert log.loc[0, "step"] == "I.1"
