"""IMAGINE-RA arms: rules I1-I7 and the ladder of protocol Figure 3 (Trials 2015;16:178).

Target DAS28-CRP <= 3.2 and no swollen joint (JAMA 2019 [S1]); MRI arm adds no bone marrow oedema.
"""

from __future__ import annotations

import pandas as pd

MTX = ("methotrexate", "csDMARD", "2019-01-01")


def test_remission_with_bme_escalates_under_mri_arm_and_continues_under_conventional(run, rx):
    visit = [{"visit_date": "2020-01-01", "das28_crp": 2.0, "sjc28": 0, "mri_bme_total": 3.0}]
    mri = run("imagine_ra_mri", visit, [rx(*MTX)])
    conv = run("imagine_ra_conventional", visit, [rx(*MTX)])
    # no dose given: methotrexate is taken as at its maximum (step 2), provisionally, naming the dose
    assert (mri.loc[0, "action"], mri.loc[0, "rule_ids"], mri.loc[0, "to_step"]) == (
        "escalate",
        "I3",
        "2a",
    )
    assert (
        bool(mri.loc[0, "provisional"])
        and "dose of methotrexate not given" in mri.loc[0, "missing"]
    )
    assert (conv.loc[0, "action"], conv.loc[0, "rule_ids"]) == ("continue", "I4")
    assert conv.loc[0, "target_met"] and not mri.loc[0, "target_met"]


def test_mri_arm_without_mri_names_it(run, rx):
    log = run(
        "imagine_ra_mri", [{"visit_date": "2020-01-01", "das28_crp": 2.0, "sjc28": 0}], [rx(*MTX)]
    )
    assert (log.loc[0, "action"], bool(log.loc[0, "provisional"])) == ("continue", True)
    assert log.loc[0, "missing"] == "no MRI at this visit: bone marrow oedema unknown"


def test_mri_no_bme_flag_is_read(run, rx):
    log = run(
        "imagine_ra_mri",
        [{"visit_date": "2020-01-01", "das28_crp": 2.0, "sjc28": 0, "mri_no_bme": True}],
        [rx(*MTX)],
    )
    assert (log.loc[0, "action"], log.loc[0, "rule_ids"]) == ("continue", "I4")


def test_I1_and_I2_protocol_reading(run, rx):
    # DAS28-CRP 3.5 > 3.2 with 2 swollen joints: escalate (protocol: both) plus IA glucocorticoid
    log = run(
        "imagine_ra_conventional",
        [{"visit_date": "2020-01-01", "das28_crp": 3.5, "sjc28": 2}],
        [rx(*MTX)],
    )
    assert (log.loc[0, "action"], log.loc[0, "rule_ids"]) == ("escalate", "I2;I1")
    assert (
        log.loc[0, "co_actions"]
        == "intra-articular glucocorticoid into each swollen joint (2 joints)"
    )
    # DAS28-CRP 3.2 exactly is at the index target (<= 3.2); one swollen joint: IA only, no escalation
    log = run(
        "imagine_ra_conventional",
        [{"visit_date": "2020-01-01", "das28_crp": 3.2, "sjc28": 1}],
        [rx(*MTX)],
    )
    assert (log.loc[0, "action"], log.loc[0, "rule_ids"]) == ("continue", "I6;I1")


def test_I2_alt_jama_reading_escalates_on_either(run, rx):
    visit = [{"visit_date": "2020-01-01", "das28_crp": 3.2, "sjc28": 1}]
    log = run(
        "imagine_ra_conventional", visit, [rx(*MTX)], options={"escalation_trigger": "jama_or"}
    )
    assert (log.loc[0, "action"], log.loc[0, "rule_ids"]) == ("escalate", "I2-alt;I1")
    assert log.attrs["conventions"]["options"] == {"escalation_trigger": "jama_or"}


def test_I5_intolerance_moves_sideways(run, rx):
    # triple therapy with intolerance of one drug: not 3a (that needs intolerance of two of
    # MTX/SSZ/HCQ, protocol Figure 3); the drug not tolerated must be named to choose the switch
    ther = [
        rx(*MTX),
        rx("sulfasalazine", "csDMARD", "2019-01-01"),
        rx("hydroxychloroquine", "csDMARD", "2019-01-01"),
    ]
    log = run(
        "imagine_ra_conventional",
        [{"visit_date": "2020-01-01", "das28_crp": 2.0, "sjc28": 0, "intolerance": True}],
        ther,
    )
    # doses not given: the combination is read as step 2a
    assert (log.loc[0, "action"], log.loc[0, "step"]) == ("switch", "2a")
    assert pd.isna(log.loc[0, "to_step"]) and "intolerant_drug" in log.loc[0, "missing"]
    log = run(
        "imagine_ra_conventional",
        [
            {
                "visit_date": "2020-01-01",
                "das28_crp": 2.0,
                "sjc28": 0,
                "intolerance": True,
                "intolerant_drug": "hydroxychloroquine",
            }
        ],
        ther,
    )
    assert (log.loc[0, "to_step"], log.loc[0, "to_regimen"]) == (
        "2a",
        "methotrexate (dose not given) + sulfasalazine (dose not given)"
        " (stop hydroxychloroquine; continue the rest)",
    )
    # on monotherapy the switch is to another csDMARD within the step
    log = run(
        "imagine_ra_conventional",
        [{"visit_date": "2020-01-01", "das28_crp": 2.0, "sjc28": 0, "intolerance": True}],
        [rx(*MTX)],
    )
    assert (log.loc[0, "step"], log.loc[0, "to_step"]) == ("2", "1")
    assert log.loc[0, "to_regimen"] == "sulfasalazine 2000 mg/day (replaces methotrexate)"


def test_ladder_biologic_steps_and_end(run, rx):
    ther = [
        rx(*MTX),
        rx("adalimumab", "bDMARD", "2019-01-01", stop="2019-06-01"),
        rx("etanercept", "bDMARD", "2019-06-01"),
    ]
    log = run(
        "imagine_ra_mri",
        [{"visit_date": "2020-01-01", "das28_crp": 2.0, "sjc28": 0, "mri_bme_total": 1.0}],
        ther,
    )
    assert (log.loc[0, "step"], log.loc[0, "to_step"]) == ("5", "6")
    assert bool(log.loc[0, "to_biologic"])
    names = ["adalimumab", "etanercept", "tocilizumab", "abatacept", "rituximab"]
    ther = [rx(*MTX)] + [
        rx(n, "bDMARD", f"2019-0{i + 1}-01", stop=f"2019-0{i + 2}-01" if i < 4 else None)
        for i, n in enumerate(names)
    ]
    log = run(
        "imagine_ra_mri",
        [{"visit_date": "2020-01-01", "das28_crp": 2.0, "sjc28": 0, "mri_bme_total": 1.0}],
        ther,
    )
    assert (log.loc[0, "step"], log.loc[0, "action"]) == ("8", "review")
    assert pd.isna(log.loc[0, "to_step"])
