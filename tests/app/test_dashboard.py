"""The dashboard's figures, read from the stored decisions, equal the engine run over the whole
cohort (one call per strategy, as the dashboard computed them before decisions were stored)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from rheumetrics.app import decision_support as ds
from rheumetrics.app import queries
from rheumetrics.app.demo import build_demo
from rheumetrics.app.stored_decisions import store
from rheumetrics.store.models import PATIENT
from rheumetrics.store.record_frames import load_imaging_reads, load_therapies
from rheumetrics.store.visit_frames import load_visits

TODAY = dt.date(2026, 11, 30)


def engine_figures(conn) -> list[dict]:
    """The figures from the engine run over every patient of each strategy."""
    diag = dict(conn.execute(select(PATIENT.c.patient_key, PATIENT.c.diagnosis)).all())
    chosen = queries.strategies(conn, None)
    visits = load_visits(conn, scores=False)
    therapies = load_therapies(conn)
    groups: dict[str, list[str]] = {}
    for k, d in diag.items():
        groups.setdefault(ds.strategy_for(d, chosen.get(k)).id, []).append(k)
    out = []
    for sid, members in sorted(groups.items()):
        s = ds.strategy(sid)
        v = visits[visits["patient_id"].isin(members)]
        if ds.needs_mri(s):
            v = ds.with_mri_oedema(v, load_imaging_reads(conn, members))
        log = ds.decision_log(v, therapies[therapies["patient_id"].isin(members)], s)
        assert not log.empty
        last = log.groupby("patient_id").tail(1)
        adherent = log["adherent"].astype("boolean").dropna()
        out.append(
            {
                "strategy": s.name,
                "target": s.target_text,
                "patients": len(last),
                "at_target": float(last["target_met"].astype("boolean").fillna(False).mean()),
                "escalations": int((log["action"] == "escalate").sum()),
                "escalated_patients": int(
                    log.loc[log["action"] == "escalate", "patient_id"].nunique()
                ),
                "overdue": int(
                    (pd.to_datetime(last["next_visit_date"]) < pd.Timestamp(TODAY)).sum()
                ),
                "observed_adherence": None if adherent.empty else float(np.mean(adherent)),
            }
        )
    return out


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory):
    engine, _ = build_demo(Path(tmp_path_factory.mktemp("dash")) / "demo.sqlite")
    yield engine
    engine.dispose()


def test_dashboard_from_stored_decisions_equals_the_engine_over_the_cohort(demo_engine):
    with demo_engine.connect() as conn:
        expected = engine_figures(conn)
        first, fresh = queries.dashboard(conn, TODAY)  # decisions missing: the engine runs
    assert first["figures"] == expected
    assert expected[0]["escalations"] > 0 and expected[0]["observed_adherence"] is not None
    with demo_engine.begin() as conn:
        store(conn, fresh)
    with demo_engine.connect() as conn:
        again, computed = queries.dashboard(conn, TODAY)  # every decision read from the store
    assert computed == []
    assert again == first
