"""Job leases: a running pairing run or rollout holds a lease its job process renews; only an expired lease lets
another server mark it failed. Runs left running by an earlier version have no lease, so count as expired.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("pairing_runs", "rollout_runs")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("lease_expires_at", sa.DateTime(timezone=True)))
        op.add_column(table, sa.Column("lease_holder", sa.String(200)))
        # What the sweepers look for: running runs by lease, queued runs by age.
        op.create_index(f"ix_{table}_status", table, ["status"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_status", table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("lease_holder")
            batch.drop_column("lease_expires_at")
