"""School networks: uploaded schools files with their policy, and revisions of the networks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("policy", sa.JSON, nullable=False),
        sa.Column("schools_csv", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(16), sa.ForeignKey("api_keys.id"), nullable=False),
    )
    op.create_table(
        "network_revisions",
        sa.Column("run_id", sa.String(36), sa.ForeignKey("network_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(16), sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("request", sa.JSON),
        sa.Column("networks", sa.JSON, nullable=False),
        sa.Column("left_out", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("network_revisions")
    op.drop_table("network_runs")
