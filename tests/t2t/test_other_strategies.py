"""ACR 2021, DREAM, TaSER and ASAS-EULAR 2022 axSpA: one scenario per rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from rheumetrics.t2t.strategy_files import load_strategy


def test_acr_lda_target_and_3_month_reevaluation(run, rx):
    # ACR 2021: LDA (CDAI <= 10, Aletaha 2005) minimal initial target; re-evaluate within 3 months [S14]
    mtx = [rx("methotrexate", "csDMARD", "2020-01-01")]
    visits = [
        {"visit_date": "2020-01-01", "cdai": 10.0},
        {"visit_date": "2020-02-01", "cdai": 12.0},
        {"visit_date": "2020-04-01", "cdai": 12.0},
    ]
    log = run("acr2021_ra", visits, mtx)
    # the first visit is before methotrexate starts: DMARD-naive with low activity -> HCQ
    assert list(log["rule_ids"]) == ["C0-low", "C6", "C9"]
    assert (log.loc[2, "to_step"]) == "2"  # add a b/tsDMARD, preferred over triple therapy


def test_acr_continuation_preferred_unless_reduce_option(run, rx):
    ther = [rx("methotrexate", "csDMARD", "2019-01-01"), rx("etanercept", "bDMARD", "2019-01-01")]
    visits = [{"visit_date": f"2020-{m:02d}-01", "cdai": 5.0} for m in (1, 4, 7)]
    assert run("acr2021_ra", visits, ther).loc[2, "rule_ids"] == "C-cont"
    log = run("acr2021_ra", visits, ther, options={"tapering": "reduce"})
    assert (log.loc[2, "rule_ids"], log.loc[2, "taper"]) == ("C-taper-MTX", "csDMARD: methotrexate")


def test_acr_long_term_glucocorticoid_flagged(run, rx):
    # ACR 2021 (strong): no long-term (>= 3 months) glucocorticoid
    ther = [
        rx("methotrexate", "csDMARD", "2020-01-01"),
        rx("prednisone", "glucocorticoid", "2020-01-01", dose=10),
    ]
    log = run(
        "acr2021_ra",
        [{"visit_date": "2020-02-01", "cdai": 12.0}, {"visit_date": "2020-04-15", "cdai": 8.0}],
        ther,
    )
    assert pd_na(log.loc[0, "co_actions"])
    assert log.loc[1, "co_actions"] == "glucocorticoid: prednisone (taper)"


def test_dream_escalates_when_not_in_remission_and_tapers_after_two_visits(run, rx):
    # DREAM: DAS28 < 2.6; escalate at a 3-monthly decision if not in remission; taper after
    # remission for 6 months (DREAM protocol, Vermeer et al. Arthritis Rheum 2011)
    visits = [
        {"visit_date": "2020-01-01", "das28_crp": 2.6},
        {"visit_date": "2020-04-01", "das28_crp": 2.5},
        {"visit_date": "2020-07-01", "das28_crp": 2.4},
        {"visit_date": "2020-10-01", "das28_crp": 2.3},
    ]
    log = run("dream_ra", visits, [rx("methotrexate", "csDMARD", "2019-10-01")])
    # remission sustained 6 months before tapering (DREAM protocol; Vermeer et al. 2011)
    assert list(log["action"]) == ["escalate", "continue", "continue", "taper"]
    assert log.loc[0, "to_step"] == "2"
    assert log.loc[3, "rule_ids"] == "D4"


def test_taser_ladder_and_ultrasound_option(run, rx):
    # TaSER: MTX -> triple -> etanercept + triple; control target DAS28-ESR < 3.2 [S18]
    triple = [
        rx(d, "csDMARD", "2019-10-01")
        for d in ("methotrexate", "sulfasalazine", "hydroxychloroquine")
    ]
    log = run("taser_ra", [{"visit_date": "2020-01-01", "das28_esr": 3.2}], triple)
    assert (log.loc[0, "action"], log.loc[0, "to_step"]) == ("escalate", "3")
    visit = [{"visit_date": "2020-01-01", "das28_esr": 2.0, "us_pd_joint_count": 2}]
    assert run("taser_ra", visit, triple).loc[0, "action"] == "continue"
    assert (
        run("taser_ra", visit, triple, options={"arm": "ultrasound"}).loc[0, "action"] == "escalate"
    )


AX = "asas_eular2022_axspa"


def test_axspa_X2_target_low_activity(run, rx):
    # ASDAS < 2.1 = low activity (Machado 2011 cut-offs, 2018 names)
    log = run(
        AX,
        [{"visit_date": "2020-01-01", "asdas_crp": 2.09}],
        [rx("naproxen", "NSAID", "2019-01-01")],
    )
    assert (log.loc[0, "action"], log.loc[0, "rule_ids"]) == ("continue", "X2")


def test_axspa_X3_X4_nsaid_failure_then_biologic(run, rx):
    one = [rx("naproxen", "NSAID", "2019-12-01")]
    visit = [{"visit_date": "2020-01-01", "asdas_crp": 2.1, "crp_mg_l": 12.0}]
    assert run(AX, visit, one).loc[0, "rule_ids"] == "X3"  # one NSAID: trial not yet adequate
    two = [
        rx("naproxen", "NSAID", "2019-10-01", stop="2019-11-15"),
        rx("diclofenac", "NSAID", "2019-11-15"),
    ]
    log = run(AX, visit, two)
    assert (log.loc[0, "action"], log.loc[0, "to_step"], log.loc[0, "rule_ids"]) == (
        "escalate",
        "2",
        "X4",
    )
    log = run(
        AX,
        [
            {
                "visit_date": "2020-01-01",
                "asdas_crp": 2.5,
                "crp_mg_l": 2.0,
                "mri_sij_inflammation": False,
                "radiographic_sacroiliitis": False,
            }
        ],
        two,
    )
    assert (log.loc[0, "action"], log.loc[0, "rule_ids"]) == ("review", "X4b")


def test_axspa_X5_switch_on_improvement_below_1_1(run, rx):
    # Machado 2011: clinically important improvement = decrease >= 1.1; 3.3 -> 2.2 is exactly 1.1
    ther = [rx("naproxen", "NSAID", "2019-01-01"), rx("adalimumab", "bDMARD", "2020-01-01")]
    base = {"visit_date": "2020-01-01", "asdas_crp": 3.3}
    log = run(AX, [base, {"visit_date": "2020-04-01", "asdas_crp": 2.2}], ther)
    assert (log.loc[1, "action"], log.loc[1, "rule_ids"]) == ("continue", "X6")
    log = run(AX, [base, {"visit_date": "2020-04-01", "asdas_crp": 2.3}], ther)
    assert (log.loc[1, "action"], log.loc[1, "to_step"], log.loc[1, "rule_ids"]) == (
        "escalate",
        "3",
        "X5",
    )
    log = run(AX, [base, {"visit_date": "2020-02-15", "asdas_crp": 3.0}], ther)
    assert log.loc[1, "rule_ids"] == "X6a"  # before 12 weeks


def test_axspa_X1_taper_in_sustained_inactive_disease(run, rx):
    ther = [rx("adalimumab", "bDMARD", "2019-01-01")]
    visits = [{"visit_date": f"2020-{m:02d}-01", "asdas_crp": 1.2} for m in (1, 4, 7)]
    log = run(AX, visits, ther)
    assert list(log["rule_ids"]) == ["X2", "X2", "X1"]


def pd_na(x) -> bool:
    import pandas as pd

    return bool(pd.isna(x))


def test_taser_ultrasound_arm_target_reads_as_the_trial_scanned(tmp_path):
    # Dale et al. Arthritis Care Res 2014;66:19-26: scanned at DAS28 < 3.2, and at 3.2-5.1 with
    # SJC <= 1; power Doppler in >= 2 joints is active disease.
    s = load_strategy("taser_ra", {"arm": "ultrasound"})
    assert s.target.describe("DAS28-ESR") == (
        "(DAS28-ESR < 3.2, or DAS28-ESR < 5.1 with 28-joint swollen count <= 1)"
        " and power-Doppler joint count <= 1"
    )
    doc = Path(__file__).parents[2] / "src/rheumetrics/t2t/strategies/taser_ra.toml"
    one_only = doc.read_text().replace('"target.us_assessed_swollen_max" = 1\n', "")
    path = tmp_path / "taser_one.toml"
    path.write_text(one_only)
    with pytest.raises(ValueError, match="us_assessed_index_below and us_assessed_swollen_max"):
        load_strategy(path, {"arm": "ultrasound"})
