"""Keys and roles: no key is 401; a principal sees only its schools (403 elsewhere, and listings never show other
schools); a researcher never sees uploaded teacher scores; keys are stored only as hashes."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import select

from matcher.store.db import open_engine
from matcher.store.keys import create_key, revoke_key
from matcher.store.tables import api_keys

from .conftest import Api


def _routes(api: Api) -> list[tuple[str, str]]:
    """Every /v1 operation the OpenAPI document lists (so a new route is covered without touching this file)."""
    paths = api.client.get("/openapi.json").json()["paths"]
    return [(m.upper(), p) for p, ops in paths.items() if p.startswith("/v1") for m in ops]


def _fill(path: str, run: dict[str, Any], school: str) -> str:
    return (path.replace("{pairing_id}", run["id"]).replace("{dataset_id}", run["dataset_id"])
            .replace("{school_id}", school))


_BODIES = {"rematch": {"revision": 0}, "/v1/pairings": {"dataset_id": "x"}, "synthetic": {"schools": 1}}


def _call(api: Api, method: str, path: str, headers: dict[str, str]) -> Any:
    body = next((b for k, b in _BODIES.items() if path.endswith(k)), None)
    return api.client.request(method, path, json=body, headers=headers)


def test_every_route_needs_a_key(api: Api, sample_run: dict[str, Any]) -> None:
    routes = _routes(api)
    assert len(routes) >= 11
    for method, path in routes:
        url = _fill(path, sample_run, "S0001")
        for headers in ({}, {"Authorization": "Bearer mk_0000_nope"}, {"Authorization": "Basic abc"},
                        {"Authorization": api.headers("state")["Authorization"] + "x"}):
            r = _call(api, method, url, headers)
            assert r.status_code == 401, (method, path, headers, r.text)
            assert r.headers.get("www-authenticate") == "Bearer" and r.json()["error"] == "unauthorized"


def test_a_principal_of_another_school_is_refused_on_every_school_route(api: Api, sample_run: dict[str, Any]) -> None:
    school_routes = [(m, p) for m, p in _routes(api) if "{school_id}" in p]
    assert {p.rsplit("/", 1)[-1] for _, p in school_routes} >= {"{school_id}", "revisions", "rematch"}
    pair = api.client.get(f"/v1/pairings/{sample_run['id']}/schools/S0001",
                          headers=api.headers("principal")).json()["pairs"][0]["handout"]  # a pair's handout key
    for method, path in school_routes:
        for who, school in (("principal", "S0002"), ("principal2", "S0001"), ("principal", "S0099")):
            r = _call(api, method, _fill(path, sample_run, school), api.headers(who))
            assert r.status_code == 403, (who, method, path, r.text)
        own = _fill(path, sample_run, "S0001").replace("{pair}", pair)
        assert _call(api, method, own, api.headers("principal")).status_code in (200, 201)
    view = api.client.get(f"/v1/pairings/{sample_run['id']}/schools/S0001", headers=api.headers("principal"))
    assert view.status_code == 200 and view.json()["teachers"][0]["scores"]


def test_listings_never_show_another_school(api: Api, sample_run: dict[str, Any]) -> None:
    h = api.headers("principal")
    datasets = api.client.get("/v1/datasets", headers=h).json()["datasets"]
    assert datasets and all([s["school_id"] for s in d["schools"]] == ["S0001"] for d in datasets)
    one = api.client.get(f"/v1/datasets/{sample_run['dataset_id']}", headers=h).json()
    assert one["n_schools"] == 1 and one["n_teachers"] == one["schools"][0]["n_teachers"] < 60
    runs = api.client.get("/v1/pairings", headers=h).json()["pairings"]
    assert runs and all(r["summary"] is None for r in runs)
    run = api.client.get(f"/v1/pairings/{sample_run['id']}", headers=h).json()
    assert run["summary"] is None and run["status"] == "succeeded"
    schools = api.client.get(f"/v1/pairings/{sample_run['id']}/schools", headers=h).json()["schools"]
    assert [s["school_id"] for s in schools] == ["S0001"]
    two = api.client.get(f"/v1/pairings/{sample_run['id']}/schools", headers=api.headers("principal2")).json()
    assert [s["school_id"] for s in two["schools"]] == ["S0002", "S0003"]
    text = " ".join(str(x) for x in (datasets, runs, schools))
    assert not re.search(r"S00(0[2-9]|1\d)", text)


def test_a_principal_cannot_upload_run_export_or_read_the_audit(api: Api, sample_run: dict[str, Any]) -> None:
    h = api.headers("principal")
    assert api.client.post("/v1/datasets", json={"rows": [{"a": 1}]}, headers=h).status_code == 403
    assert api.client.post("/v1/datasets/synthetic", json={"schools": 2}, headers=h).status_code == 403
    assert api.start(sample_run["dataset_id"], who="principal").status_code == 403
    assert api.client.get(f"/v1/pairings/{sample_run['id']}/pairs.csv", headers=h).status_code == 403
    assert api.client.get("/v1/audit", headers=h).status_code == 403


def test_a_principal_sees_no_dataset_without_its_schools(api: Api) -> None:
    rows = [{"teacher_id": "Z1", "school_id": "ZZ", "subject": "math", "grades": "3", "years_experience": 1}]
    ds = api.client.post("/v1/datasets", json={"rows": rows}, headers=api.headers("state")).json()
    assert api.client.get(f"/v1/datasets/{ds['id']}", headers=api.headers("principal")).status_code == 403
    listed = api.client.get("/v1/datasets", headers=api.headers("principal")).json()["datasets"]
    assert ds["id"] not in {d["id"] for d in listed}


def test_a_researcher_never_sees_uploaded_scores(api: Api, sample_run: dict[str, Any]) -> None:
    h = api.headers("researcher")
    rid, did = sample_run["id"], sample_run["dataset_id"]
    for path in (f"/v1/datasets/{did}", f"/v1/pairings/{rid}", f"/v1/pairings/{rid}/schools",
                 f"/v1/pairings/{rid}/schools/S0001", f"/v1/pairings/{rid}/schools/S0001/revisions",
                 f"/v1/pairings/{rid}/pairs.csv"):
        assert api.client.get(path, headers=h).status_code == 403, path
    assert api.start(did, who="researcher").status_code == 403
    assert api.client.post(f"/v1/pairings/{rid}/schools/S0001/rematch", json={"revision": 0},
                           headers=h).status_code == 403
    assert api.client.post("/v1/datasets", json={"rows": [{"a": 1}]}, headers=h).status_code == 403
    assert did not in {d["id"] for d in api.client.get("/v1/datasets", headers=h).json()["datasets"]}
    assert rid not in {r["id"] for r in api.client.get("/v1/pairings", headers=h).json()["pairings"]}
    syn = api.client.post("/v1/datasets/synthetic", json={"schools": 2, "mean_size": 10, "seed": 1}, headers=h)
    r = api.start(syn.json()["id"], who="researcher")
    assert r.status_code == 202
    run = api.wait(r.json()["id"], who="researcher")
    assert run["status"] == "succeeded" and run["summary"]["n_teachers"] == syn.json()["n_teachers"]
    school = syn.json()["schools"][0]["school_id"]
    assert api.client.get(f"/v1/pairings/{run['id']}/schools/{school}", headers=h).status_code == 200
    assert api.client.get(f"/v1/pairings/{run['id']}/pairs.csv", headers=h).status_code == 200


def test_keys_are_stored_hashed_and_revocable(api: Api, sample_run: dict[str, Any]) -> None:
    engine = open_engine(api.db.url)
    key = create_key(engine, "principal", ["S0001"], label="revoke me")
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(api_keys))]
    dumped = repr(rows)
    for k in (*api.keys.values(), key):
        secret = k.split("_", 2)[2]
        assert secret not in dumped
        assert hashlib.sha256(k.encode()).hexdigest() in dumped
    url = f"/v1/pairings/{sample_run['id']}/schools/S0001"
    assert api.client.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert revoke_key(engine, key.split("_")[1])
    assert api.client.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 401
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_keys_cli_prints_the_key_alone(make_database: Any, backend: str) -> None:
    db = make_database(backend)
    run = [sys.executable, "-m", "matcher.cli", "keys"]
    made = subprocess.run([*run, "create", "--role", "principal", "--school", "S0001", "--school", "S0002",
                           "--label", "Ms. Rivera", "--database-url", db.url], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    key = made.stdout
    assert re.fullmatch(r"mk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n", key)
    listed = subprocess.run([*run, "list", "--database-url", db.url], capture_output=True, text=True)
    assert listed.returncode == 0 and key.strip() not in listed.stdout
    assert "principal\tS0001;S0002\tactive\tMs. Rivera" in listed.stdout
    bad = subprocess.run([*run, "create", "--role", "principal", "--database-url", db.url], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and bad.stdout == "" and "--school" in bad.stderr
    revoked = subprocess.run([*run, "revoke", key.split("_")[1], "--database-url", db.url], capture_output=True,
                             text=True)
    assert revoked.returncode == 0
    again = subprocess.run([*run, "revoke", key.split("_")[1], "--database-url", db.url], capture_output=True,
                           text=True)
    assert again.returncode == 1
