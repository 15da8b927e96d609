"""Pairing runs over HTTP: the same answer as the CLI, stored and immutable; school views; failures reported."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from matcher.cli import main as cli
from matcher.store import repo
from matcher.store.db import open_engine
from matcher.store.keys import Caller

from .conftest import SAMPLES, Api


def _cli_run(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "cli"
    assert cli(["pair", str(SAMPLES / "teachers.csv"), "--out", str(out), "--workers", "1", *args]) == 0
    return out


def test_run_gives_the_cli_answer_byte_for_byte(api: Api, sample_run: dict[str, Any], tmp_path: Path) -> None:
    out = _cli_run(tmp_path)
    got = api.client.get(f"/v1/pairings/{sample_run['id']}/pairs.csv", headers=api.headers("state"))
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert got.content == (out / "pairs.csv").read_bytes()
    import json
    cli_summary = json.loads((out / "summary.json").read_text())
    assert sample_run["summary"]["total_value"] == cli_summary["total_value"]
    assert sample_run["summary"]["optimal"] is True
    assert sample_run["progress"] == 1.0 and sample_run["error"] is None


def test_policy_and_schools_file_as_the_cli_takes_them(api: Api, tmp_path: Path) -> None:
    policy = tomllib.loads((SAMPLES / "policy.toml").read_text())
    with (SAMPLES / "teachers.csv").open("rb") as t, (SAMPLES / "schools.csv").open("rb") as s:
        ds = api.client.post("/v1/datasets", files={"file": ("teachers.csv", t), "schools": ("schools.csv", s)},
                             headers=api.headers("state"))
    assert ds.status_code == 201, ds.text
    run = api.run(ds.json()["id"], policy)
    assert run["status"] == "succeeded", run
    out = _cli_run(tmp_path, "--policy", str(SAMPLES / "policy.toml"), "--schools", str(SAMPLES / "schools.csv"))
    got = api.client.get(f"/v1/pairings/{run['id']}/pairs.csv", headers=api.headers("state")).content
    assert got == (out / "pairs.csv").read_bytes()
    assert run["summary"]["cross_school_pairs"] > 0  # the fallback ran, with distances from the schools file
    assert run["policy"]["weigh_gap_size"] is True and run["policy"]["indicator_weights"]["questioning"] == 1.5


def test_school_view_has_reasons_and_scores(api: Api, sample_run: dict[str, Any], tmp_path: Path) -> None:
    import csv
    out = _cli_run(tmp_path)
    r = api.client.get(f"/v1/pairings/{sample_run['id']}/schools/S0002", headers=api.headers("state"))
    assert r.status_code == 200
    v = r.json()
    with (out / "pairs.csv").open() as fh:
        cli_pairs = {(p["teacher_a"], p["teacher_b"], p["explanation"]) for p in csv.DictReader(fh)
                     if p["school_id"] == "S0002"}
    with (out / "unmatched.csv").open() as fh:
        cli_unmatched = {(u["teacher_id"], u["reason"]) for u in csv.DictReader(fh) if u["school_id"] == "S0002"}
    assert {(p["teacher_a"], p["teacher_b"], p["explanation"]) for p in v["pairs"]} == cli_pairs
    assert {(u["teacher_id"], u["reason"]) for u in v["unmatched"]} == cli_unmatched
    assert v["revision"] == v["latest_revision"] == 0 and v["diff"] is None
    assert v["value"] == sum(p["value"] for p in v["pairs"])
    ids = {t["teacher_id"] for t in v["teachers"]}
    assert ids >= {x for p in v["pairs"] for x in (p["teacher_a"], p["teacher_b"])}
    assert len(v["teachers"][0]["scores"]) == 19
    listing = api.client.get(f"/v1/pairings/{sample_run['id']}/schools", headers=api.headers("state")).json()
    row = next(s for s in listing["schools"] if s["school_id"] == "S0002")
    assert (row["n_pairs"], row["value"], row["revision"]) == (len(v["pairs"]), v["value"], 0)
    assert len(listing["schools"]) == 14


def test_bad_policy_is_refused_before_any_job(api: Api, sample_run: dict[str, Any]) -> None:
    before = len(api.client.get("/v1/pairings", headers=api.headers("state")).json()["pairings"])
    for policy, column in (({"mode": "sideways"}, "mode"), ({"indicator_weights": {"nope": 2}}, "nope"),
                           ({"weak_below": 9}, "weak_below"), ({"colour": "blue"}, "colour")):
        r = api.start(sample_run["dataset_id"], policy)
        assert r.status_code == 422, (policy, r.text)
        assert any(column in (p["column"] or "") or column in (p["value"] or "") for p in r.json()["problems"]), r.text
    r = api.client.post("/v1/pairings", json={"dataset_id": sample_run["dataset_id"], "policy": []},
                        headers=api.headers("state"))
    assert r.status_code == 422 and r.json()["problems"][0]["column"] == "policy"
    assert api.start("no-such-dataset").status_code == 404
    assert len(api.client.get("/v1/pairings", headers=api.headers("state")).json()["pairings"]) == before


def test_a_run_that_cannot_hold_fails_with_its_reasons(api: Api, sample_run: dict[str, Any]) -> None:
    run = api.run(sample_run["dataset_id"], {"must_pair": [["T000001", "NOBODY"]]})
    assert run["status"] == "failed"
    assert run["error"]["type"] == "input"
    assert any(p["value"] == "NOBODY" for p in run["error"]["problems"])
    r = api.client.get(f"/v1/pairings/{run['id']}/pairs.csv", headers=api.headers("state"))
    assert r.status_code == 404
    seen = api.client.get(f"/v1/pairings/{run['id']}", headers=api.headers("principal")).json()
    assert seen["status"] == "failed" and seen["error"]["problems"] == [] and "T000001" not in str(seen)


def test_previous_run_pairs_are_kept(api: Api, sample_run: dict[str, Any]) -> None:
    again = api.run(sample_run["dataset_id"], previous_pairing_id=sample_run["id"])
    assert again["status"] == "succeeded" and again["previous_pairing_id"] == sample_run["id"]
    prev = again["summary"]["previous"]
    assert prev["kept"] == sample_run["summary"]["n_pairs"] and prev["broken"] == 0 and prev["new"] == 0
    assert again["summary"]["total_value"] == sample_run["summary"]["total_value"]


def test_unknown_ids_are_404(api: Api, sample_run: dict[str, Any]) -> None:
    h = api.headers("state")
    rid = sample_run["id"]
    for path in ("/v1/pairings/nope", "/v1/pairings/nope/schools", f"/v1/pairings/{rid}/schools/NOPE",
                 f"/v1/pairings/{rid}/schools/NOPE/revisions", f"/v1/pairings/{rid}/schools/S0001?revision=99"):
        r = api.client.get(path, headers=h)
        assert r.status_code == 404 and r.json()["error"] == "not_found", path


def test_a_run_not_finished_has_no_school_results(api: Api, sample_run: dict[str, Any]) -> None:
    engine = open_engine(api.db.url)
    with engine.begin() as conn:  # a queued run the job runner never got (as after a crash before submit)
        rid = repo.insert_run(conn, dataset_id=sample_run["dataset_id"], policy=sample_run["policy"], request={},
                              previous_id=None, caller=Caller(sample_run["created_by"], "state", frozenset()))
    engine.dispose()
    h = api.headers("state")
    assert api.client.get(f"/v1/pairings/{rid}", headers=h).json()["status"] == "queued"
    assert api.client.get(f"/v1/pairings/{rid}/schools/S0001", headers=h).status_code == 404
    r = api.client.post(f"/v1/pairings/{rid}/schools/S0001/rematch", json={"revision": 0}, headers=h)
    assert r.status_code == 409 and "queued" in r.json()["message"]


def test_values_the_database_cannot_hold_are_refused_not_500(api: Api, sample_run: dict[str, Any]) -> None:
    """Found by the schema fuzzing: NUL characters (PostgreSQL text refuses them), integers past a database
    INTEGER, bodies that are not UTF-8."""
    h = api.headers("state")
    rid = sample_run["id"]
    for path in ("/v1/datasets/a%00b", "/v1/pairings/%00", f"/v1/pairings/{rid}/schools/S%000",
                 f"/v1/pairings/{rid}/schools/S%000/revisions"):
        assert api.client.get(path, headers=h).status_code == 404, path
    for rev in (2**31, 2**63):
        r = api.client.get(f"/v1/pairings/{rid}/schools/S0001", params={"revision": rev}, headers=h)
        assert r.status_code == 422 and r.json()["problems"][0]["column"] == "revision"
    assert api.client.get("/v1/audit", params={"target": "a\x00b"}, headers=h).status_code == 422
    assert api.start("a\x00b").status_code == 404
    assert api.start(sample_run["dataset_id"], previous_pairing_id="\x00").status_code == 404
    for path in ("/v1/pairings", f"/v1/pairings/{rid}/schools/S0001/rematch", "/v1/datasets/synthetic"):
        r = api.client.post(path, content=b'{"note": "caf\xe9"}', headers={**h, "content-type": "application/json"})
        assert r.status_code == 422 and r.json()["error"] == "invalid_input", (path, r.text)
    r = api.client.post("/v1/datasets/synthetic", json={"schools": 2000, "mean_size": 60}, headers=h)
    assert r.status_code == 422 and "100,000" in r.json()["problems"][0]["message"]
