"""Upgrading a store created by an older rheumetrics keeps every stored value."""

from __future__ import annotations

import datetime as dt

from alembic import command
from sqlalchemy import text

from rheumetrics.store import load_imaging_reads
from rheumetrics.store.database import (
    alembic_config,
    current_revision,
    head_revision,
    init_db,
    make_engine,
)

OLD_READ = """INSERT INTO imaging_read (patient_id, time_point, image_date, side, modality,
    scoring_system, scoring_version, reader, reading_session, reading_design, site, feature, grade,
    not_assessable) VALUES (1, 'BL', '2020-01-02', 'R', 'MRI', 'ramris', '2002', 'R1', '2',
    'paired_blinded_order', 'WRIST_RADIOULNAR', 'synovitis', 2, FALSE)"""


def test_a_store_with_the_old_imaging_columns_upgrades_without_loss(db_url: str) -> None:
    engine = make_engine(db_url)
    command.upgrade(alembic_config(engine), "0003")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO patient (id, patient_key) VALUES (1, 'P1')"))
        conn.execute(text(OLD_READ))
        conn.execute(
            text(
                "INSERT INTO import_run (id, source, source_sha256, mapping_sha256, mode, "
                "package_version, started_at, finished_at, summary) VALUES (1, 'reads.csv', 'a', "
                "'b', 'quarantine', '0.1.0', :t, :t, '{}')"
            ),
            {"t": now},
        )
        conn.execute(
            text(
                "INSERT INTO quarantine (import_run_id, source_sha256, row, field, value, rule) "
                "VALUES (1, 'a', '7', 'grade', '9', 'off the scale'), "
                "(1, 'a', '(header)', 'site', NULL, 'missing column')"
            )
        )
    assert current_revision(engine) == "0003"

    assert init_db(engine) == head_revision()

    reads = load_imaging_reads(engine)
    assert reads[["patient_id", "timepoint", "system", "version", "reader", "session", "design",
                  "site", "feature"]].iloc[0].tolist() == [
        "P1", "BL", "ramris", "2002", "R1", "2", "paired_blinded_order", "WRIST_RADIOULNAR",
        "synovitis"]  # fmt: skip
    assert reads["grade"].tolist() == [2.0]
    assert reads["image_date"].iloc[0] == dt.datetime(2020, 1, 2)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT row, line, field, value FROM quarantine ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [("7", 7, "grade", "9"), ("(header)", None, "site", None)]
    engine.dispose()


def test_downgrade_restores_the_old_columns(db_url: str) -> None:
    engine = make_engine(db_url)
    init_db(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO patient (id, patient_key) VALUES (1, 'P1')"))
    command.downgrade(alembic_config(engine), "0003")
    with engine.begin() as conn:
        conn.execute(text(OLD_READ))
        got = conn.execute(text("SELECT time_point, scoring_system FROM imaging_read")).all()
    assert [tuple(r) for r in got] == [("BL", "ramris")]
    engine.dispose()
