"""Open a database by URL: SQLite in WAL mode (the default) or PostgreSQL, and bring its schema up to date."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text

DEFAULT_URL = "sqlite:///./matcher.db"
MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(url: str | None = None) -> str:
    """The URL to use: the one given, else MATCHER_DATABASE_URL, else ./matcher.db."""
    url = url or os.environ.get("MATCHER_DATABASE_URL") or DEFAULT_URL
    # A plain postgresql:// URL means psycopg 3, the driver this project installs.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def open_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    if url.startswith("sqlite"):
        # Pools as large as the server's request thread pool (40), so no request waits on a connection.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=10,
                               max_overflow=30)

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = conn.cursor()
            # busy_timeout: writers queue instead of failing at once. WAL: readers never block the writer.
            cur.execute("PRAGMA busy_timeout=30000")
            _wal(cur)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30)


def _wal(cur: sqlite3.Cursor, wait: float = 30.0) -> None:
    """Switch the database to WAL (a setting stored in the file, so only a new database changes). SQLite answers
    "database is locked" at once, without its busy handler, when several connections switch a new database
    together (found: six processes migrating one new file, one failed), so this retries for up to `wait` s."""
    deadline = time.monotonic() + wait
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


# The PostgreSQL advisory lock key that migrations hold ("matcher" in ASCII); advisory locks are per database.
MIGRATION_LOCK = 0x6D617463686572


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations up to `revision` (idempotent), under a database-wide lock: any number of
    processes may call this at once, on a new database too; one migrates, the others wait and find nothing to do.

    PostgreSQL: a transaction-level advisory lock, taken before Alembic reads the schema's revision and released
    by the commit that records the new one. SQLite: BEGIN IMMEDIATE, the database's write lock, held as long."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        elif engine.dialect.name == "sqlite":
            # The sqlite3 module begins a transaction only before a data change (DDL would run outside one); this
            # begins it now, taking the write lock (others wait up to busy_timeout), and its commit ends it.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head
