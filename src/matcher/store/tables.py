"""The schema, as SQLAlchemy Core tables. Changes go through a new migration in migrations/versions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

metadata = MetaData()
# Python None stored as SQL NULL (not JSON null), so "IS NULL" finds it.
NULLABLE_JSON = JSON(none_as_null=True)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware in UTC (SQLite keeps no zone; PostgreSQL does)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

api_keys = Table(
    "api_keys", metadata,
    Column("id", String(16), primary_key=True),  # the public part of the key, shown in listings and the audit
    Column("key_hash", String(64), nullable=False, unique=True),  # sha256 of the whole key; the key is not stored
    Column("role", String(16), nullable=False),
    Column("schools", JSON, nullable=False),
    Column("label", String(200), nullable=False, server_default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    # A facilitator key's facilitator ids (migration 0006); NULL for keys made before, which name none.
    Column("facilitators", NULLABLE_JSON),
)

datasets = Table(
    "datasets", metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),  # upload | synthetic
    Column("name", String(300), nullable=False),
    Column("rubric", String(50), nullable=False),
    Column("n_teachers", Integer, nullable=False),
    Column("n_schools", Integer, nullable=False),
    Column("warnings", JSON, nullable=False),
    Column("synthetic", NULLABLE_JSON),  # the generator's arguments, for synthetic datasets
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(16), ForeignKey("api_keys.id"), nullable=False),
)

# One row per school of a dataset: its teachers (roster and scores) as column lists, with their file rows.
dataset_schools = Table(
    "dataset_schools", metadata,
    Column("dataset_id", String(36), ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("school_id", String(200), primary_key=True),
    Column("n_teachers", Integer, nullable=False),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("roster", JSON, nullable=False),
    Column("name", String(300)),  # the school's name from the teacher file (migration 0004); NULL when not given
)

pairing_runs = Table(
    "pairing_runs", metadata,
    Column("id", String(36), primary_key=True),
    Column("dataset_id", String(36), ForeignKey("datasets.id"), nullable=False),
    Column("previous_id", String(36), ForeignKey("pairing_runs.id")),
    Column("status", String(16), nullable=False),  # queued | running | succeeded | failed
    Column("progress", Float, nullable=False, server_default="0"),
    Column("policy", JSON, nullable=False),
    Column("request", JSON, nullable=False),
    Column("summary", NULLABLE_JSON),
    Column("error", NULLABLE_JSON),
    Column("runner", String(64)),  # token of the job attempt that may write the result
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(16), ForeignKey("api_keys.id"), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    # The attempt's lease (migration 0005): its job process renews it while it works; once it has expired, any
    # server may mark the run failed. NULL on a running run: claimed without a lease, so expired.
    Column("lease_expires_at", UTCDateTime()),
    Column("lease_holder", String(200)),  # the job process (matcher.processes.process_identity)
    Index("ix_pairing_runs_dataset", "dataset_id"),
    Index("ix_pairing_runs_status", "status"),  # what the servers' sweepers look for (migration 0005)
)

# The run's files as the CLI writes them (gzip), written once when the run succeeds.
run_files = Table(
    "run_files", metadata,
    Column("run_id", String(36), ForeignKey("pairing_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("content", LargeBinary, nullable=False),
)

# Revision 0 of a school is the run's answer; each accepted re-match adds the next number. The primary key is what
# makes two concurrent re-matches of one revision impossible: the second insert fails and gets a 409.
school_revisions = Table(
    "school_revisions", metadata,
    Column("run_id", String(36), primary_key=True),
    Column("school_id", String(200), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(16), ForeignKey("api_keys.id"), nullable=False),
    Column("request", NULLABLE_JSON),
    Column("value", Float, nullable=False),
    Column("n_pairs", Integer, nullable=False),
    Column("n_unmatched", Integer, nullable=False),
    Column("pairs", JSON, nullable=False),
    Column("unmatched", JSON, nullable=False),
    Column("diff", NULLABLE_JSON),
    Column("roster", NULLABLE_JSON),  # set when a re-match added or removed teachers; else the dataset's roster holds
    ForeignKeyConstraint(["run_id"], ["pairing_runs.id"], ondelete="CASCADE"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(50), nullable=False),
    Column("target", String(300), nullable=False),
    Column("status", Integer, nullable=False),
    Column("detail", Text, nullable=False),  # JSON text: the request and the outcome
    Index("ix_audit_log_target", "target"),
)

# School networks (migration 0002): the uploaded schools file and policy, and numbered revisions of the whole set
# of networks (revision 0 is the solve; a re-match of one network adds the next, keeping the others).
network_runs = Table(
    "network_runs", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("policy", JSON, nullable=False),
    Column("schools_csv", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(16), ForeignKey("api_keys.id"), nullable=False),
    # The facilitators file last assigned from and its default caseload (migration 0006): a re-formed revision is
    # assigned again from it. NULL until facilitators are assigned.
    Column("facilitators_csv", Text),
    Column("facilitators_caseload", Integer),
)

network_revisions = Table(
    "network_revisions", metadata,
    Column("run_id", String(36), ForeignKey("network_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(16), ForeignKey("api_keys.id"), nullable=False),
    Column("request", NULLABLE_JSON),
    Column("networks", JSON, nullable=False),
    Column("left_out", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    # [{facilitator_id, facilitator_name, network_id, km_to_host}] (migration 0006); NULL when none was assigned.
    Column("facilitators", NULLABLE_JSON),
)

# Rollout simulations (migration 0003): the design as checked, then the job's summary, the tables a page draws
# (first draw's balance, power curve) and the output files (gzip, as run_files holds a pairing run's).
rollout_runs = Table(
    "rollout_runs", metadata,
    Column("id", String(36), primary_key=True),
    Column("dataset_id", String(36), ForeignKey("datasets.id")),  # a stored dataset as the population, else NULL
    Column("status", String(16), nullable=False),  # queued | running | succeeded | failed
    Column("progress", Float, nullable=False, server_default="0"),
    Column("design", JSON, nullable=False),  # every setting, defaults filled in
    Column("request", JSON, nullable=False),  # the body as sent
    Column("summary", NULLABLE_JSON),
    Column("tables", NULLABLE_JSON),  # {"balance": rows, "power_curve": rows or null}
    Column("error", NULLABLE_JSON),
    Column("runner", String(64)),  # token of the job attempt that may write the result
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(16), ForeignKey("api_keys.id"), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    # The attempt's lease (migration 0005): its job process renews it while it works; once it has expired, any
    # server may mark the run failed. NULL on a running run: claimed without a lease, so expired.
    Column("lease_expires_at", UTCDateTime()),
    Column("lease_holder", String(200)),  # the job process (matcher.processes.process_identity)
    Index("ix_rollout_runs_created_by", "created_by"),
    Index("ix_rollout_runs_status", "status"),  # migration 0005
)

rollout_files = Table(
    "rollout_files", metadata,
    Column("run_id", String(36), ForeignKey("rollout_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("media_type", String(100), nullable=False),
    Column("content", LargeBinary, nullable=False),
)
