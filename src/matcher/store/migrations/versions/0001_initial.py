"""Initial schema: API keys, datasets, pairing runs, school revisions, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("schools", sa.JSON, nullable=False),
        sa.Column("label", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("rubric", sa.String(50), nullable=False),
        sa.Column("n_teachers", sa.Integer, nullable=False),
        sa.Column("n_schools", sa.Integer, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("synthetic", sa.JSON),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(16), sa.ForeignKey("api_keys.id"), nullable=False),
    )
    op.create_table(
        "dataset_schools",
        sa.Column("dataset_id", sa.String(36), sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("school_id", sa.String(200), primary_key=True),
        sa.Column("n_teachers", sa.Integer, nullable=False),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("roster", sa.JSON, nullable=False),
    )
    op.create_table(
        "pairing_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("dataset_id", sa.String(36), sa.ForeignKey("datasets.id"), nullable=False),
        sa.Column("previous_id", sa.String(36), sa.ForeignKey("pairing_runs.id")),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("policy", sa.JSON, nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON),
        sa.Column("error", sa.JSON),
        sa.Column("runner", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(16), sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_pairing_runs_dataset", "pairing_runs", ["dataset_id"])
    op.create_table(
        "run_files",
        sa.Column("run_id", sa.String(36), sa.ForeignKey("pairing_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "school_revisions",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(200), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(16), sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("request", sa.JSON),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("n_pairs", sa.Integer, nullable=False),
        sa.Column("n_unmatched", sa.Integer, nullable=False),
        sa.Column("pairs", sa.JSON, nullable=False),
        sa.Column("unmatched", sa.JSON, nullable=False),
        sa.Column("diff", sa.JSON),
        sa.Column("roster", sa.JSON),
        sa.ForeignKeyConstraint(["run_id"], ["pairing_runs.id"], ondelete="CASCADE"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_log_target", "audit_log", ["target"])


def downgrade() -> None:
    for name in ("audit_log", "school_revisions", "run_files", "pairing_runs", "dataset_schools", "datasets",
                 "api_keys"):
        op.drop_table(name)
