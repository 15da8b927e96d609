"""Rollout simulations: the checked design, status and progress, summary, balance and power-curve rows, files.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollout_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("dataset_id", sa.String(36), sa.ForeignKey("datasets.id")),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("design", sa.JSON, nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON),
        sa.Column("tables", sa.JSON),
        sa.Column("error", sa.JSON),
        sa.Column("runner", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(16), sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_rollout_runs_created_by", "rollout_runs", ["created_by"])
    op.create_table(
        "rollout_files",
        sa.Column("run_id", sa.String(36), sa.ForeignKey("rollout_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rollout_files")
    op.drop_index("ix_rollout_runs_created_by", "rollout_runs")
    op.drop_table("rollout_runs")
