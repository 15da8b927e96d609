"""School names: the name the teacher file gave each school of a dataset (NULL for datasets stored before, or
when no name was given).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dataset_schools", sa.Column("name", sa.String(300)))


def downgrade() -> None:
    # Batch mode: SQLite rebuilds the table where it cannot drop a column in place.
    with op.batch_alter_table("dataset_schools") as batch:
        batch.drop_column("name")
