"""The OpenAPI schema, fuzzed with schemathesis on each backend: every operation, called with generated requests
(valid and invalid ones) and with explicit ones on real ids, never answers 5xx, and always answers a documented
status code, with a documented content type and a body matching the documented response schema.

The schema is loaded when the module is collected, from the app itself (making the app opens no database); the
requests go in process (ASGI) to the module's app, whose lifespan schemathesis starts. Real ids exist only once that
app has data, after collection, when schemathesis has already built its tests and explicit examples; so requests
name them by tokens, replaced just before each call. (`schemathesis.pytest.from_fixture`, which would avoid that,
does not run under pytest 9: it reads `Function._nodeid`.)"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from matcher.api import create_app
from matcher.api.settings import Settings

from .conftest import BACKENDS, SAMPLES, add_keys

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 30  # per operation and backend

# Tokens for real ids (letters and underscores: URL quoting of generated path parameters leaves them alone).
DATASET, PAIRING, SCHOOL = "REAL_dataset", "REAL_pairing", "REAL_school"
TINY_DATASET, TINY_RUN = "REAL_tiny_dataset", "REAL_tiny_run"
NETWORKS, NETWORK = "REAL_networks", "REAL_network"  # a network run, and its first network's id
ROLLOUT, ROLLOUT_FILE = "REAL_rollout", "REAL_file_name"
PAIR = "REAL_pair"  # a pair's handout key in PAIRING's SCHOOL
PATH_TOKENS = {"dataset_id": DATASET, "pairing_id": PAIRING, "school_id": SCHOOL, "network_run_id": NETWORKS,
               "network_id": NETWORK, "rollout_id": ROLLOUT, "file_name": ROLLOUT_FILE, "pair": PAIR}
# A rollout small enough to finish in a moment, with every output file (a power curve too).
TINY_ROLLOUT = {"population": {"synthetic": {"schools": 4, "mean_size": 8, "seed": 1}},
                "simulation": {"replications": 4}, "power_curve": {"values": [0.0, 0.2], "replications": 2}}
NUL = "a\x00b"  # valid in JSON and in a query string; PostgreSQL text cannot hold it
NOT_UTF8 = b'{"note": "caf\xe9"}'  # Latin-1, sent raw as an application/json body

schema = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite://")).openapi())
schema.config.phases.update(phases=["examples", "fuzzing"])


def _is(context: Any, method: str, path: str) -> bool:
    return (context.operation.method.upper(), context.operation.path) == (method, path)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> st.SearchStrategy:
    """Each path parameter: a real id (an answer with a body to check) or as generated (mostly a 404)."""
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries({
        name: st.sampled_from([PATH_TOKENS[name], value]) if name in PATH_TOKENS else st.just(value)
        for name, value in path_parameters.items()})


@schema.hook
def flatmap_body(context: Any, body: Any) -> st.SearchStrategy:
    """A new run: on the small district (then the policy is what is tested), or on a generated dataset id. A new
    rollout: with a population that is refused (then the other sections are what is tested), or as generated."""
    if _is(context, "POST", "/v1/rollouts") and isinstance(body, dict):
        # A population refused with everything else still checked: each generated body would otherwise queue a
        # job (the explicit examples start real ones).
        return st.sampled_from([{**body, "population": {"synthetic": {"schools": 1}}}, body])
    if not _is(context, "POST", "/v1/pairings") or not isinstance(body, dict):
        return st.just(body)
    return st.sampled_from([{**body, "dataset_id": TINY_DATASET}, body])


@schema.hook
def map_body(context: Any, body: Any) -> Any:
    """A synthetic district of at most 8 schools of 40 teachers: the schema allows 5000 schools of 1000, which takes
    minutes and gigabytes to make in the request (values out of range are sent as they are)."""
    if not _is(context, "POST", "/v1/datasets/synthetic") or not isinstance(body, dict):
        return body
    schools, size = body.get("schools"), body.get("mean_size")
    if type(schools) in (int, float) and 1 <= schools <= 5000 and float(schools).is_integer():  # 3828.0 is valid
        body = {**body, "schools": min(schools, 8)}
    if type(size) in (int, float) and 1 <= size <= 1000:
        body = {**body, "mean_size": min(size, 40)}
    return body


@schema.hook
def before_add_examples(context: Any, examples: list[Any]) -> None:
    """Explicit requests, next to the generated ones: on the real ids, with a NUL character, not in UTF-8."""
    op = context.operation
    path = {name: token for name, token in PATH_TOKENS.items() if f"{{{name}}}" in op.path}
    if path and op.method.upper() == "GET":
        examples.append(op.Case(path_parameters=path))
    if _is(context, "GET", "/v1/pairings/{pairing_id}/schools/{school_id}"):
        # 2**31 and 2**63: past what a PostgreSQL INTEGER and an SQLite INTEGER hold.
        examples += [op.Case(path_parameters=path, query={"revision": r}) for r in (0, 1, 99, 2**31, 2**63)]
    if _is(context, "GET", "/v1/pairings/{pairing_id}/pairs.csv"):
        examples += [op.Case(path_parameters=path, query={"current": c}) for c in (True, False)]
    if _is(context, "GET", "/v1/rollouts/{rollout_id}/files/{file_name}"):
        examples += [op.Case(path_parameters={"rollout_id": ROLLOUT, "file_name": n}) for n in (
            "assignment.csv", "balance.csv", "replications.csv", "summary.json", "power_curve.csv",
            "power_curve.png", "nope.csv", NUL)]
    if _is(context, "POST", "/v1/networks/{network_run_id}/facilitators"):
        fac = b"facilitator_id,name,latitude,longitude\nF1,Ana,35.2,-89.5\nF2,=cmd,35.3,-89.4\n"
        examples += [op.Case(path_parameters=path, body={"file": fac, "revision": r}, media_type="multipart/form-data")
                     for r in (0, 5)]
    if _is(context, "GET", "/v1/audit"):
        examples += [op.Case(query={"target": f"pairing/{PAIRING}", "limit": 5}), op.Case(query={"target": NUL})]
    json_bodies: list[dict[str, Any] | bytes] = []
    if _is(context, "POST", "/v1/pairings/{pairing_id}/schools/{school_id}/rematch"):
        json_bodies = [{"revision": 1, "forbid": [["x", "y"]], "note": "n"}, {"revision": 0}]
    if _is(context, "POST", "/v1/pairings"):
        json_bodies = [{"dataset_id": TINY_DATASET, "policy": {}},
                       {"dataset_id": TINY_DATASET, "policy": {}, "previous_pairing_id": TINY_RUN},
                       {"dataset_id": NUL, "policy": {}}, {"dataset_id": TINY_DATASET, "previous_pairing_id": NUL}]
    if _is(context, "POST", "/v1/rollouts"):
        json_bodies = [TINY_ROLLOUT, {**TINY_ROLLOUT, "population": {"dataset_id": TINY_DATASET}},
                       {**TINY_ROLLOUT, "population": {"dataset_id": NUL}},
                       {**TINY_ROLLOUT, "population": {"teachers": "/etc/passwd"}},
                       {**TINY_ROLLOUT, "assignment": {"blocks": [NUL]}}]
    if _is(context, "POST", "/v1/datasets"):
        rows = [{"teacher_id": f"A{i}", "school_id": "X1", "subject": "math", "grades": "7",
                 "years_experience": i, "scores": {"questioning": 2 + i / 4}} for i in range(4)]
        json_bodies = [{"rows": rows, "name": "four"}]
        examples.append(op.Case(body={"file": (SAMPLES / "teachers.csv").read_bytes(), "rubric": "team"},
                                media_type="multipart/form-data"))
    if op.method.upper() == "POST":  # every POST takes JSON; this body is not UTF-8
        json_bodies.append(NOT_UTF8)
    examples += [op.Case(path_parameters=path, body=b, media_type="application/json") for b in json_bodies]


@dataclass
class Seeded:
    """The module's app (its lifespan not running: schemathesis starts it for its calls), a state key, real ids."""

    app: FastAPI
    key: str
    real: dict[str, str]  # token -> id

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str):
            for token, real in self.real.items():
                value = value.replace(token, real)
            return value
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value


def _succeeded(client: TestClient, headers: dict[str, str], dataset_id: str, timeout: float = 120.0) -> str:
    r = client.post("/v1/pairings", json={"dataset_id": dataset_id, "policy": {}}, headers=headers)
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + timeout
    while True:
        run = client.get(f"/v1/pairings/{r.json()['id']}", headers=headers).json()
        if run["status"] not in ("queued", "running"):
            break
        assert time.monotonic() < deadline, f"run still {run['status']} after {timeout} s"
        time.sleep(0.05)
    assert run["status"] == "succeeded", run
    return run["id"]


def _rollout(client: TestClient, headers: dict[str, str], timeout: float = 120.0) -> str:
    r = client.post("/v1/rollouts", json=TINY_ROLLOUT, headers=headers)
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + timeout
    while (body := client.get(f"/v1/rollouts/{r.json()['id']}", headers=headers).json())["status"] in (
            "queued", "running"):
        assert time.monotonic() < deadline, f"rollout still {body['status']} after {timeout} s"
        time.sleep(0.05)
    assert body["status"] == "succeeded", body
    return body["id"]


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request: pytest.FixtureRequest, make_database: Any) -> Seeded:
    """The sample uploaded and paired, S0001 re-matched once (a revision with a diff); a small synthetic district
    and a run of it; a tiny rollout with every file."""
    db = make_database(request.param)
    key = add_keys(db)["state"]
    headers = {"Authorization": f"Bearer {key}"}
    app = create_app(Settings(database_url=db.url, max_upload_bytes=2 * 1024 * 1024, solve_workers=1))
    with TestClient(app) as client:
        with (SAMPLES / "teachers.csv").open("rb") as fh:
            r = client.post("/v1/datasets", files={"file": ("teachers.csv", fh, "text/csv")}, headers=headers)
        assert r.status_code == 201, r.text
        dataset = r.json()["id"]
        run = _succeeded(client, headers, dataset)
        school = client.get(f"/v1/pairings/{run}/schools/S0001", headers=headers).json()
        r = client.post(f"/v1/pairings/{run}/schools/S0001/rematch", headers=headers,
                        json={"revision": school["revision"], "remove": [school["teachers"][0]["teacher_id"]],
                              "note": "left the school"})
        assert r.status_code == 201, r.text
        pair = client.get(f"/v1/pairings/{run}/schools/S0001", headers=headers).json()["pairs"][0]["handout"]
        r = client.post("/v1/datasets/synthetic", json={"schools": 2, "mean_size": 8, "seed": 3}, headers=headers)
        assert r.status_code == 201, r.text
        tiny = r.json()["id"]
        tiny_run = _succeeded(client, headers, tiny)
        with (SAMPLES / "schools.csv").open("rb") as fh:
            r = client.post("/v1/networks", files={"file": ("schools.csv", fh, "text/csv")}, headers=headers)
        assert r.status_code == 201, r.text
        networks, network = r.json()["id"], r.json()["networks"][0]["network_id"]
        rollout = _rollout(client, headers)
    return Seeded(app, key, {DATASET: dataset, PAIRING: run, SCHOOL: "S0001", TINY_DATASET: tiny,
                             TINY_RUN: tiny_run, NETWORKS: networks, NETWORK: network, ROLLOUT: rollout,
                             ROLLOUT_FILE: "power_curve.png", PAIR: pair})


# About 2 minutes for every route on both backends: past the default suite's 10-minute budget since issue 15's
# routes, so it runs with `make test-all` (-m "slow or not slow"); each route's own tests stay in the default suite.
@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_matches_its_schema(case: schemathesis.Case, seeded: Seeded) -> None:
    # Explicit examples are the same objects on both backends: put their tokens back after the call.
    tokens = case.path_parameters, case.query, case.body
    case.path_parameters, case.query = seeded.resolve(case.path_parameters), seeded.resolve(case.query)
    if isinstance(case.body, dict):
        case.body = seeded.resolve(case.body)
    try:
        # The state key on every call (schemathesis's negative cases still leave it out, for the 401s).
        case.call_and_validate(app=seeded.app, headers={"Authorization": f"Bearer {seeded.key}"}, checks=CHECKS)
    finally:
        case.path_parameters, case.query, case.body = tokens
