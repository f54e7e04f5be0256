"""A visit's scores are computed before its write transaction and used only when the items the
form does not write (table "reported") are still those they were computed with."""

from __future__ import annotations

import numpy as np
from sqlalchemy import insert, select

from rheumetrics.app import records
from rheumetrics.app.context import writing
from rheumetrics.app.forms import parse_visit
from rheumetrics.store.models import ITEM_TABLE_OBJECTS, VISIT, VISIT_SCORE

from .conftest import new_patient, visit_form

TENDER = ("R_WRIST", "L_MCP2", "L_PIP3", "R_PIP2")
SWOLLEN = ("R_WRIST", "R_KNEE", "L_MCP3")


def das28(engine, visit_id: int) -> float:
    with engine.connect() as conn:
        return float(
            conn.execute(
                select(VISIT_SCORE.c.das28_esr).where(VISIT_SCORE.c.visit_id == visit_id)
            ).scalar_one()
        )


def test_precomputed_scores_equal_scoring_in_the_transaction(app, signed_in):
    engine = app.state.ctx.engine
    new_patient(signed_in("clinician"))
    v = parse_visit(visit_form("2024-01-10", TENDER, SWOLLEN, esr_mm_h="30", gh_mm="50"))
    scored = records.score_visit(v)
    assert scored is not None
    with writing(engine) as conn:
        vid = records.save_visit(conn, "clinician", "P-001", v, scored=scored)
    with_scored = das28(engine, vid)
    v2 = parse_visit(visit_form("2024-02-10", TENDER, SWOLLEN, esr_mm_h="30", gh_mm="50"))
    with writing(engine) as conn:
        vid2 = records.save_visit(conn, "clinician", "P-001", v2)  # scored inside
    assert with_scored == das28(engine, vid2)
    # 0.56*sqrt(4) + 0.28*sqrt(3) + 0.70*ln(30) + 0.014*50 (Prevoo et al. 1995)
    expected = 0.56 * 2 + 0.28 * np.sqrt(3) + 0.70 * np.log(30) + 0.014 * 50
    assert abs(with_scored - expected) < 1e-9


def test_scores_computed_with_other_kept_items_are_not_used(app, signed_in):
    engine = app.state.ctx.engine
    new_patient(signed_in("clinician"))
    v = parse_visit(visit_form("2024-01-10", TENDER, SWOLLEN, esr_mm_h="30", gh_mm="50"))
    with writing(engine) as conn:
        vid = records.save_visit(conn, "clinician", "P-001", v)
    with engine.begin() as conn:  # an imported item appears after the form was scored
        conn.execute(
            insert(ITEM_TABLE_OBJECTS["reported"]).values(visit_id=vid, das28_reported=3.1)
        )
    edit = parse_visit(visit_form("2024-01-10", TENDER, (), esr_mm_h="12", gh_mm="20"))
    stale = records.score_visit(edit, {})
    assert stale is not None
    wrong = records.ScoredVisit({}, stale.scores.assign(das28_esr=99.0))
    with writing(engine) as conn:
        records.save_visit(conn, "clinician", "P-001", edit, vid, 1, wrong)
    with engine.connect() as conn:
        assert conn.execute(select(VISIT.c.id)).scalars().all() == [vid]
    expected = 0.56 * 2 + 0.70 * np.log(12) + 0.014 * 20
    assert abs(das28(engine, vid) - expected) < 1e-9
