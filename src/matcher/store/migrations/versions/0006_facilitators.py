"""Facilitators: a facilitator key names its facilitator ids (NULL on keys made before: they name none); a network
run keeps the facilitators file the state office assigned from (with its default caseload), so a re-formed revision
is assigned again from the same file; each revision keeps its assignment (NULL when none was made).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("facilitators", sa.JSON))
    op.add_column("network_runs", sa.Column("facilitators_csv", sa.Text))
    op.add_column("network_runs", sa.Column("facilitators_caseload", sa.Integer))
    op.add_column("network_revisions", sa.Column("facilitators", sa.JSON))


def downgrade() -> None:
    # Batch mode: SQLite rebuilds the table where it cannot drop a column in place.
    with op.batch_alter_table("network_revisions") as batch:
        batch.drop_column("facilitators")
    with op.batch_alter_table("network_runs") as batch:
        batch.drop_column("facilitators_caseload")
        batch.drop_column("facilitators_csv")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("facilitators")
