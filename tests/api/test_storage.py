"""The schema comes from migrations, identical on SQLite and PostgreSQL, and matches the tables the code uses."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from matcher.api import create_app
from matcher.api.settings import Settings
from matcher.store.db import current_revision, head_revision, open_engine, upgrade
from matcher.store.tables import metadata

from .conftest import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_build_exactly_the_tables_the_code_uses(make_database: Any, backend: str) -> None:
    engine = open_engine(make_database(backend).url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert set(inspect(engine).get_table_names()) == set(metadata.tables) | {"alembic_version"}
    upgrade(engine)  # idempotent
    engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_go_down_and_up_again(make_database: Any, backend: str) -> None:
    from alembic import command
    from alembic.config import Config

    from matcher.store.db import MIGRATIONS

    engine = open_engine(make_database(backend).url)
    upgrade(engine)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) == set(metadata.tables) | {"alembic_version"}
    engine.dispose()


def test_sqlite_runs_in_wal_mode(make_database: Any) -> None:
    engine = open_engine(make_database("sqlite").url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_postgresql_url_uses_psycopg(make_database: Any) -> None:
    db = make_database("postgresql")
    assert db.url.startswith("postgresql://")
    engine = open_engine(db.url)
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_readyz_refuses_a_database_with_pending_migrations(make_database: Any) -> None:
    db = make_database("sqlite")
    with TestClient(create_app(Settings(database_url=db.url, auto_migrate=False))) as client:
        assert client.get("/healthz").json() == {"status": "ok", "database": None, "schema_revision": None}
        r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["status"] == "migrations pending"
        r = client.get("/v1/datasets", headers={"Authorization": "Bearer mk_x"})
        assert r.status_code == 503 and "matcher db upgrade" in r.json()["message"]
    with TestClient(create_app(Settings(database_url=db.url))) as client:
        r = client.get("/readyz")
        assert r.status_code == 200 and r.json()["schema_revision"] == head_revision()
