"""Initial schema of the cohort store.

Also seeds ``exam_joint`` with the frozen bit order of the joint masks (right then left side;
the joint catalogue, rheumetrics/catalogues/joints.csv). These 68 rows are a storage format and must never change.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SIDE = (
    "TMJ", "SC", "AC", "SHOULDER", "ELBOW", "WRIST", "MCP1", "MCP2", "MCP3", "MCP4", "MCP5",
    "PIP1", "PIP2", "PIP3", "PIP4", "PIP5", "DIP2", "DIP3", "DIP4", "DIP5", "HIP", "KNEE",
    "ANKLE", "TARSUS", "MTP1", "MTP2", "MTP3", "MTP4", "MTP5",
    "TOE_PIP1", "TOE_PIP2", "TOE_PIP3", "TOE_PIP4", "TOE_PIP5",
)  # fmt: skip
_JOINT_BIT_ORDER = [f"{side}_{joint}" for side in "RL" for joint in _SIDE]


def upgrade() -> None:
    op.create_table(
        "exam_joint",
        sa.Column("bit", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("joint_id", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("bit"),
        sa.UniqueConstraint("joint_id"),
    )
    op.create_table(
        "import_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("mapping_sha256", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("package_version", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_key", sa.String(length=64), nullable=False),
        sa.Column("diagnosis", sa.String(length=16), nullable=True),
        sa.Column("diagnosis_snomed", sa.String(length=20), nullable=True),
        sa.Column("sex", sa.String(length=8), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("rf", sa.Boolean(), nullable=True),
        sa.Column("acpa", sa.Boolean(), nullable=True),
        sa.Column("hla_b27", sa.Boolean(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("patient_key"),
    )
    op.create_table(
        "score_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_version", sa.String(length=32), nullable=False),
        sa.Column("conventions_key", sa.String(length=64), nullable=False),
        sa.Column("conventions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("package_version", "conventions_key", name="uq_score_run"),
    )
    op.create_table(
        "imaging_read",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("time_point", sa.String(length=32), nullable=False),
        sa.Column("image_date", sa.Date(), nullable=True),
        sa.Column("side", sa.String(length=1), nullable=False),
        sa.Column("modality", sa.String(length=16), nullable=False),
        sa.Column("scoring_system", sa.String(length=32), nullable=False),
        sa.Column("scoring_version", sa.String(length=32), nullable=False),
        sa.Column("reader", sa.String(length=32), nullable=False),
        sa.Column("reading_session", sa.String(length=32), nullable=False),
        sa.Column("reading_design", sa.String(length=32), nullable=False),
        sa.Column("site", sa.String(length=48), nullable=False),
        sa.Column("feature", sa.String(length=32), nullable=False),
        sa.Column("grade", sa.Float(), nullable=True),
        sa.Column("not_assessable", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "patient_id",
            "time_point",
            "side",
            "modality",
            "scoring_system",
            "scoring_version",
            "reader",
            "reading_session",
            "site",
            "feature",
            name="uq_imaging_read",
        ),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_run_id", sa.Integer(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("row", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["import_run_id"], ["import_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_sha256", "row", "field", "rule", name="uq_quarantine"),
    )
    op.create_table(
        "therapy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("drug", sa.String(length=64), nullable=False),
        sa.Column("drug_class", sa.String(length=16), nullable=False),
        sa.Column("dose", sa.Float(), nullable=True),
        sa.Column("dose_unit", sa.String(length=16), nullable=True),
        sa.Column("route", sa.String(length=16), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("stop_date", sa.Date(), nullable=True),
        sa.Column("stop_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "patient_id", "drug", "start_date", name="uq_therapy_patient_drug_start"
        ),
    )
    op.create_table(
        "visit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("patient_id", "visit_date", name="uq_visit_patient_date"),
    )
    op.create_table(
        "clinical",
        sa.Column("visit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tjc28", sa.Integer(), nullable=True),
        sa.Column("sjc28", sa.Integer(), nullable=True),
        sa.Column("tjc68", sa.Integer(), nullable=True),
        sa.Column("sjc66", sa.Integer(), nullable=True),
        sa.Column("sjc44", sa.Integer(), nullable=True),
        sa.Column("rai", sa.Integer(), nullable=True),
        sa.Column("phga", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("visit_id"),
    )
    op.create_table(
        "joint_exam",
        sa.Column("visit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tender", sa.LargeBinary(length=9), nullable=False),
        sa.Column("tender_assessed", sa.LargeBinary(length=9), nullable=False),
        sa.Column("swollen", sa.LargeBinary(length=9), nullable=False),
        sa.Column("swollen_assessed", sa.LargeBinary(length=9), nullable=False),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("visit_id"),
    )
    op.create_table(
        "lab",
        sa.Column("visit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("esr_mm_h", sa.Float(), nullable=True),
        sa.Column("esr_mm_h_source_unit", sa.String(length=16), nullable=True),
        sa.Column("crp_mg_l", sa.Float(), nullable=True),
        sa.Column("crp_mg_l_source_unit", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("visit_id"),
    )
    op.create_table(
        "pro",
        sa.Column("visit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("gh_mm", sa.Float(), nullable=True),
        sa.Column("ptga", sa.Float(), nullable=True),
        sa.Column("pain", sa.Float(), nullable=True),
        sa.Column("haq_di", sa.Float(), nullable=True),
        sa.Column("haq_dressing", sa.Integer(), nullable=True),
        sa.Column("haq_arising", sa.Integer(), nullable=True),
        sa.Column("haq_eating", sa.Integer(), nullable=True),
        sa.Column("haq_walking", sa.Integer(), nullable=True),
        sa.Column("haq_hygiene", sa.Integer(), nullable=True),
        sa.Column("haq_reach", sa.Integer(), nullable=True),
        sa.Column("haq_grip", sa.Integer(), nullable=True),
        sa.Column("haq_activities", sa.Integer(), nullable=True),
        sa.Column("haq_aid_dressing", sa.Integer(), nullable=True),
        sa.Column("haq_aid_arising", sa.Integer(), nullable=True),
        sa.Column("haq_aid_eating", sa.Integer(), nullable=True),
        sa.Column("haq_aid_walking", sa.Integer(), nullable=True),
        sa.Column("haq_aid_hygiene", sa.Integer(), nullable=True),
        sa.Column("haq_aid_reach", sa.Integer(), nullable=True),
        sa.Column("haq_aid_grip", sa.Integer(), nullable=True),
        sa.Column("haq_aid_activities", sa.Integer(), nullable=True),
        sa.Column("basdai_q1", sa.Float(), nullable=True),
        sa.Column("basdai_q2", sa.Float(), nullable=True),
        sa.Column("basdai_q3", sa.Float(), nullable=True),
        sa.Column("basdai_q4", sa.Float(), nullable=True),
        sa.Column("basdai_q5", sa.Float(), nullable=True),
        sa.Column("basdai_q6", sa.Float(), nullable=True),
        sa.Column("basfi_q1", sa.Float(), nullable=True),
        sa.Column("basfi_q2", sa.Float(), nullable=True),
        sa.Column("basfi_q3", sa.Float(), nullable=True),
        sa.Column("basfi_q4", sa.Float(), nullable=True),
        sa.Column("basfi_q5", sa.Float(), nullable=True),
        sa.Column("basfi_q6", sa.Float(), nullable=True),
        sa.Column("basfi_q7", sa.Float(), nullable=True),
        sa.Column("basfi_q8", sa.Float(), nullable=True),
        sa.Column("basfi_q9", sa.Float(), nullable=True),
        sa.Column("basfi_q10", sa.Float(), nullable=True),
        sa.Column("radai", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("visit_id"),
    )
    op.create_table(
        "reported",
        sa.Column("visit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("das28_reported", sa.Float(), nullable=True),
        sa.Column("das28_esr_reported", sa.Float(), nullable=True),
        sa.Column("das28_crp_reported", sa.Float(), nullable=True),
        sa.Column("cdai_reported", sa.Float(), nullable=True),
        sa.Column("sdai_reported", sa.Float(), nullable=True),
        sa.Column("basdai_reported", sa.Float(), nullable=True),
        sa.Column("asdas_crp_reported", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("visit_id"),
    )
    op.create_table(
        "visit_score",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("das28_esr", sa.Float(), nullable=True),
        sa.Column("das28_esr_category", sa.String(length=16), nullable=True),
        sa.Column("das28_crp", sa.Float(), nullable=True),
        sa.Column("das28_crp_category", sa.String(length=16), nullable=True),
        sa.Column("das28_esr_3v", sa.Float(), nullable=True),
        sa.Column("das28_esr_3v_category", sa.String(length=16), nullable=True),
        sa.Column("das28_crp_3v", sa.Float(), nullable=True),
        sa.Column("das28_crp_3v_category", sa.String(length=16), nullable=True),
        sa.Column("sdai", sa.Float(), nullable=True),
        sa.Column("sdai_category", sa.String(length=16), nullable=True),
        sa.Column("cdai", sa.Float(), nullable=True),
        sa.Column("cdai_category", sa.String(length=16), nullable=True),
        sa.Column("haq_di", sa.Float(), nullable=True),
        sa.Column("haq_di_category", sa.String(length=16), nullable=True),
        sa.Column("rapid3", sa.Float(), nullable=True),
        sa.Column("rapid3_category", sa.String(length=16), nullable=True),
        sa.Column("asdas_crp", sa.Float(), nullable=True),
        sa.Column("asdas_crp_category", sa.String(length=16), nullable=True),
        sa.Column("asdas_esr", sa.Float(), nullable=True),
        sa.Column("asdas_esr_category", sa.String(length=16), nullable=True),
        sa.Column("basdai", sa.Float(), nullable=True),
        sa.Column("basdai_category", sa.String(length=16), nullable=True),
        sa.Column("basfi", sa.Float(), nullable=True),
        sa.Column("basfi_category", sa.String(length=16), nullable=True),
        sa.Column("dapsa", sa.Float(), nullable=True),
        sa.Column("dapsa_category", sa.String(length=16), nullable=True),
        sa.Column("cdapsa", sa.Float(), nullable=True),
        sa.Column("cdapsa_category", sa.String(length=16), nullable=True),
        sa.Column("boolean_remission_2011", sa.Boolean(), nullable=True),
        sa.Column("boolean_remission_2022", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["score_run.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "visit_id"),
    )
    exam_joint = sa.table(
        "exam_joint", sa.column("bit", sa.Integer), sa.column("joint_id", sa.String)
    )
    op.bulk_insert(exam_joint, [{"bit": i, "joint_id": j} for i, j in enumerate(_JOINT_BIT_ORDER)])


def downgrade() -> None:
    op.drop_table("visit_score")
    op.drop_table("reported")
    op.drop_table("pro")
    op.drop_table("lab")
    op.drop_table("joint_exam")
    op.drop_table("clinical")
    op.drop_table("visit")
    op.drop_table("therapy")
    op.drop_table("quarantine")
    op.drop_table("imaging_read")
    op.drop_table("score_run")
    op.drop_table("patient")
    op.drop_table("import_run")
    op.drop_table("exam_joint")
