"""Every page of the demo cohort renders, and the charts are well-formed SVG."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from starlette.testclient import TestClient

from rheumetrics.app import Settings, create_app
from rheumetrics.app.charts import time_axis, timeline_svg, trend_svg
from rheumetrics.app.demo import build_demo
from rheumetrics.measures import DEFAULT, MEASURES


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    engine, passwords = build_demo(Path(tmp_path_factory.mktemp("demo")) / "demo.sqlite")
    client = TestClient(create_app(engine, Settings(secret="demo-test-" + "k" * 30)))
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    r = client.post(
        "/login",
        data={"username": "admin", "password": passwords["admin"], "csrf_token": token.group(1)},
    )
    assert r.status_code == 200
    yield client
    engine.dispose()


def test_every_demo_patient_page_renders(demo):
    listing = demo.get("/patients?page=1").text + demo.get("/patients?page=2").text
    keys = sorted(set(re.findall(r'href="/patients/(SYN-NZ-\d+)"', listing)))
    assert len(keys) == 80
    for key in keys:
        r = demo.get(f"/patients/{key}")
        assert r.status_code == 200, key
        for svg in re.findall(r"<svg xmlns.*?</svg>", r.text, flags=re.S):
            ET.fromstring(svg)  # well-formed
    assert demo.get("/dashboard").status_code == 200
    assert demo.get("/patients/SYN-NZ-55/visits/new").status_code == 200


def test_charts_are_well_formed_with_edge_cases():
    cs = MEASURES["das28_crp"].cutoff_set(DEFAULT)
    dates = [dt.date(2020, 1, 1), dt.date(2020, 6, 1), dt.date(2021, 1, 1)]
    therapies = pd.DataFrame({
        "drug": ["methotrexate", "adalimumab & <x>"], "drug_class": ["csDMARD", "bDMARD"],
        "dose": [15.0, float("nan")], "dose_unit": ["mg/week", None],
        "start_date": pd.to_datetime(["2019-01-01", "2020-12-20"]),
        "stop_date": pd.to_datetime(["2020-06-01", None]), "stop_reason": ["inefficacy", None],
    })  # fmt: skip
    axis = time_axis(dates, [d.date() for d in therapies["start_date"]])
    trend = trend_svg(dates, [4.1, float("nan"), 2.2], "DAS28-CRP", cs, 3.2, axis)
    root = ET.fromstring(trend)
    assert root.tag.endswith("svg") and "target 3.2" in trend and "not computable" in trend
    timeline = timeline_svg(therapies, axis, dt.date(2021, 2, 1))
    ET.fromstring(timeline)
    assert "adalimumab &amp; &lt;x&gt;" in timeline and "✕ inefficacy" in timeline
    assert 'text-anchor="end"' in timeline  # label of the late bar kept inside the chart


def test_mri_strategy_gets_the_oedema_total_of_the_nearest_mri(demo):
    from rheumetrics.app import queries
    from rheumetrics.app import records as rec
    from rheumetrics.app.context import writing

    engine = demo.app.state.ctx.engine
    with writing(engine) as conn:
        rec.set_strategy(
            conn, "admin", "SYN-NZ-55", "imagine_ra_mri", rec.version(conn, "patient", "SYN-NZ-55")
        )
    with engine.connect() as conn:
        h = queries.patient_history(conn, "SYN-NZ-55")
    assert h is not None and h.strategy.id == "imagine_ra_mri"
    # the same totals summed by the database (imaging table of the page), one reader per MRI
    osteitis = h.imaging[(h.imaging["system"] == "ramris") & (h.imaging["feature"] == "osteitis")]
    expected = dict(zip(osteitis["image_date"].dt.date, osteitis["total"], strict=True))
    for when, value in zip(h.visits["visit_date"].dt.date, h.visits["mri_bme_total"], strict=True):
        near = sorted(
            (abs((d - when).days), t) for d, t in expected.items() if abs((d - when).days) <= 31
        )
        assert (value == pytest.approx(near[0][1])) if near else pd.isna(value), when
    assert h.visits["mri_bme_total"].notna().any()
    page = demo.get("/patients/SYN-NZ-55").text
    assert "IMAGINE-RA" in page and "MRI" in page
