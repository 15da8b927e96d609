"""API fixtures: a fresh database on each backend (an SQLite file, and a new database on the PostgreSQL server at
127.0.0.1:5432), the app in process with its job process, and one key per role."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from matcher.api import create_app
from matcher.api.settings import Settings
from matcher.store.db import open_engine, upgrade
from matcher.store.keys import create_key

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
# The server the project's machines run (and `make test` starts where none answers); trust auth.
POSTGRES = os.environ.get("MATCHER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


@dataclass
class Database:
    backend: str
    url: str


def _pg_admin() -> psycopg.Connection:
    try:
        return psycopg.connect(POSTGRES, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # no skip: the storage tests must run on PostgreSQL
        raise RuntimeError(f"PostgreSQL at {POSTGRES} does not answer ({exc}); `make test` starts one "
                           "(scripts/ensure-postgres.sh), or set MATCHER_TEST_POSTGRES") from exc


@pytest.fixture(scope="session")
def make_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """make_database(backend) -> Database: an empty database, dropped at the end of the session."""
    made: list[str] = []

    def make(backend: str) -> Database:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("sqlite") / "matcher.db"
            return Database(backend, f"sqlite:///{path}")
        name = f"matcher_test_{secrets.token_hex(6)}"
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        base, _, _ = POSTGRES.rpartition("/")
        return Database(backend, f"{base}/{name}")

    yield make
    if made:
        with _pg_admin() as conn:
            for name in made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Api:
    """The app in process on one backend, with a key per role."""

    client: TestClient
    db: Database
    keys: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def upload(self, path: Path, who: str = "state", **form: str) -> Any:
        with path.open("rb") as fh:
            return self.client.post("/v1/datasets", files={"file": (path.name, fh, "text/csv")}, data=form,
                                    headers=self.headers(who))

    def start(self, dataset_id: str, policy: dict[str, Any] | None = None, who: str = "state",
              **extra: Any) -> Any:
        return self.client.post("/v1/pairings", json={"dataset_id": dataset_id, "policy": policy or {}, **extra},
                                headers=self.headers(who))

    def wait(self, run_id: str, who: str = "state", timeout: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            body = self.client.get(f"/v1/pairings/{run_id}", headers=self.headers(who)).json()
            if body["status"] in ("succeeded", "failed"):
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} still {body['status']} after {timeout} s")
            time.sleep(0.05)

    def run(self, dataset_id: str, policy: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        r = self.start(dataset_id, policy, **extra)
        assert r.status_code == 202, r.text
        return self.wait(r.json()["id"])


def add_keys(db: Database) -> dict[str, str]:
    engine = open_engine(db.url)
    upgrade(engine)
    keys = {"state": create_key(engine, "state", label="state office"),
            "researcher": create_key(engine, "researcher"),
            "principal": create_key(engine, "principal", ["S0001"]),
            "principal2": create_key(engine, "principal", ["S0002", "S0003"])}
    engine.dispose()
    return keys


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest, make_database: Any) -> Iterator[Api]:
    db = make_database(request.param)
    keys = add_keys(db)
    app = create_app(Settings(database_url=db.url, max_upload_bytes=2 * 1024 * 1024, solve_workers=1))
    with TestClient(app) as client:
        yield Api(client, db, keys)


@pytest.fixture(scope="module")
def sample_run(api: Api) -> dict[str, Any]:
    """The bundled 14-school sample, uploaded and paired with the default policy (tests must not re-match it:
    they take a run of their own for that)."""
    ds = api.upload(SAMPLES / "teachers.csv")
    assert ds.status_code == 201, ds.text
    run = api.run(ds.json()["id"])
    assert run["status"] == "succeeded", run
    return run
