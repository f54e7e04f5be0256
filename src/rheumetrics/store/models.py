"""SQLAlchemy 2 models of the cohort store.

Layout (one row per ...):

- ``patient``: pseudonymous patient (natural key ``patient_key``), diagnosis with SNOMED CT code,
  sex, birth year, serology.
- ``visit``: patient visit (natural key ``patient_id, visit_date``).
- ``joint_exam``: per-joint findings of a visit as four packed 68-bit masks (see
  :mod:`rheumetrics.store.jointbits`); ``exam_joint`` holds the frozen bit order.
- ``clinical``, ``lab``, ``pro``, ``reported``: per-visit values, one column per item of
  ``items.csv`` (canonical units; ``lab`` also keeps the unit each value arrived in).
- ``therapy``: drug courses (natural key ``patient_id, drug, start_date``).
- ``imaging_read``: one reader's grade of one feature at one site.
- ``score_run`` + ``visit_score``: derived scores with the conventions and package version
  that produced them.
- ``import_run`` + ``quarantine``: import audit trail and rows kept aside with their reasons.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from rheumetrics.schema.vocab import (
    DIAGNOSES,
    DRUG_CLASSES,
    READING_DESIGNS,
    ROUTES,
    SEXES,
    SIDES,
    VISIT_KINDS,
)
from rheumetrics.store.items import ITEM_TABLES, items, table_items

__all__ = [
    "DIAGNOSES",
    "DRUG_CLASSES",
    "READING_DESIGNS",
    "ROUTES",
    "SEXES",
    "SIDES",
    "VISIT_KINDS",
]

#: Score columns of ``visit_score``, each with a ``_category``: a storage format frozen by
#: migration 0001. Which measures are stored is declared on the measures themselves
#: (``Measure.store``); a stored measure without a column here is kept in ``visit_score_value``.
SCORE_NAMES = (
    "das28_esr",
    "das28_crp",
    "das28_esr_3v",
    "das28_crp_3v",
    "sdai",
    "cdai",
    "haq_di",
    "rapid3",
    "asdas_crp",
    "asdas_esr",
    "basdai",
    "basfi",
    "dapsa",
    "cdapsa",
)
BOOLEAN_SCORES = ("boolean_remission_2011", "boolean_remission_2022")


class Base(DeclarativeBase):
    """Declarative base; its metadata is what the migrations create."""


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_key: Mapped[str] = mapped_column(String(64), unique=True)
    diagnosis: Mapped[str | None] = mapped_column(String(16))
    diagnosis_snomed: Mapped[str | None] = mapped_column(String(20))
    sex: Mapped[str | None] = mapped_column(String(8))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    rf: Mapped[bool | None] = mapped_column(Boolean)
    acpa: Mapped[bool | None] = mapped_column(Boolean)
    hla_b27: Mapped[bool | None] = mapped_column(Boolean)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Visit(Base):
    __tablename__ = "visit"
    __table_args__ = (UniqueConstraint("patient_id", "visit_date", name="uq_visit_patient_date"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    visit_date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(64))


class ExamJoint(Base):
    """Frozen bit order of the joint masks (seeded by the first migration)."""

    __tablename__ = "exam_joint"

    bit: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    joint_id: Mapped[str] = mapped_column(String(16), unique=True)


class JointExam(Base):
    __tablename__ = "joint_exam"

    visit_id: Mapped[int] = mapped_column(
        ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True
    )
    tender: Mapped[bytes] = mapped_column(LargeBinary(9))
    tender_assessed: Mapped[bytes] = mapped_column(LargeBinary(9))
    swollen: Mapped[bytes] = mapped_column(LargeBinary(9))
    swollen_assessed: Mapped[bytes] = mapped_column(LargeBinary(9))


def _item_table(name: str) -> Table:
    cols: list[Column[Any]] = [
        Column("visit_id", ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True)
    ]
    for item in table_items(name):
        cols.append(Column(item, Integer if items()[item].integer else Float, nullable=True))
        if name == "lab":
            cols.append(Column(f"{item}_source_unit", String(16), nullable=True))
    return Table(name, Base.metadata, *cols)


#: Per-visit item tables, built from ``items.csv`` (the migrations list the same columns).
ITEM_TABLE_OBJECTS: dict[str, Table] = {name: _item_table(name) for name in ITEM_TABLES}


class Therapy(Base):
    __tablename__ = "therapy"
    __table_args__ = (
        UniqueConstraint("patient_id", "drug", "start_date", name="uq_therapy_patient_drug_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    drug: Mapped[str] = mapped_column(String(64))
    drug_class: Mapped[str] = mapped_column(String(16))
    dose: Mapped[float | None] = mapped_column(Float)
    dose_unit: Mapped[str | None] = mapped_column(String(16))
    route: Mapped[str | None] = mapped_column(String(16))
    start_date: Mapped[dt.date] = mapped_column(Date)
    stop_date: Mapped[dt.date | None] = mapped_column(Date)
    stop_reason: Mapped[str | None] = mapped_column(String(32))


class ImagingRead(Base):
    """One reader's grade of one feature at one site."""

    __tablename__ = "imaging_read"
    __table_args__ = (
        UniqueConstraint(
            "patient_id",
            "timepoint",
            "side",
            "modality",
            "system",
            "version",
            "reader",
            "session",
            "site",
            "feature",
            name="uq_imaging_read",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    timepoint: Mapped[str] = mapped_column(String(32))
    image_date: Mapped[dt.date | None] = mapped_column(Date)
    side: Mapped[str] = mapped_column(String(1))
    modality: Mapped[str] = mapped_column(String(16))
    system: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(32))
    reader: Mapped[str] = mapped_column(String(32))
    session: Mapped[str] = mapped_column(String(32))
    design: Mapped[str] = mapped_column(String(32))
    site: Mapped[str] = mapped_column(String(48))
    feature: Mapped[str] = mapped_column(String(32))
    grade: Mapped[float | None] = mapped_column(Float)
    not_assessable: Mapped[bool] = mapped_column(Boolean)


class ScoreRun(Base):
    """One set of scoring conventions with the package version that applied them."""

    __tablename__ = "score_run"
    __table_args__ = (UniqueConstraint("package_version", "conventions_key", name="uq_score_run"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_version: Mapped[str] = mapped_column(String(32))
    conventions_key: Mapped[str] = mapped_column(String(64))  # sha256 of canonical JSON
    conventions: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


def _score_table() -> Table:
    cols: list[Column[Any]] = [
        Column("run_id", ForeignKey("score_run.id", ondelete="CASCADE"), primary_key=True),
        Column("visit_id", ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True),
    ]
    for name in SCORE_NAMES:
        cols += [Column(name, Float), Column(f"{name}_category", String(16))]
    cols += [Column(name, Boolean) for name in BOOLEAN_SCORES]
    return Table("visit_score", Base.metadata, *cols)


VISIT_SCORE = _score_table()


class VisitScoreValue(Base):
    """A stored measure's value for one visit and score run, for measures without a column of
    ``visit_score`` (adding a stored measure needs no migration)."""

    __tablename__ = "visit_score_value"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("score_run.id", ondelete="CASCADE"), primary_key=True
    )
    visit_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("visit.id", ondelete="CASCADE"),
        primary_key=True,
    )
    measure: Mapped[str] = mapped_column(String(48), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    category: Mapped[str | None] = mapped_column(String(32))


class ImportRun(Base):
    __tablename__ = "import_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    mapping_sha256: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))
    package_version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class Quarantine(Base):
    """A source row kept aside by a quarantine-mode import, with the rule it broke."""

    __tablename__ = "quarantine"
    __table_args__ = (
        UniqueConstraint("source_sha256", "row", "field", "rule", name="uq_quarantine"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_run_id: Mapped[int] = mapped_column(ForeignKey("import_run.id", ondelete="CASCADE"))
    source_sha256: Mapped[str] = mapped_column(String(64))
    row: Mapped[str] = mapped_column(String(32))
    line: Mapped[int | None] = mapped_column(Integer)  # 1-based source line
    record_key: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # natural key of the row
    field: Mapped[str] = mapped_column(String(128))
    value: Mapped[str | None] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def _t(name: str) -> Table:
    return Base.metadata.tables[name]


PATIENT, VISIT, JOINT_EXAM, THERAPY = _t("patient"), _t("visit"), _t("joint_exam"), _t("therapy")
IMAGING_READ, SCORE_RUN, IMPORT_RUN, QUARANTINE = (
    _t("imaging_read"),
    _t("score_run"),
    _t("import_run"),
    _t("quarantine"),
)
SCORE_VALUE = _t("visit_score_value")
