"""Datasets over HTTP: stored with the same validation and messages as the CLI; bad input is a 422 naming file,
row, column and value, too large a body a 413, and nothing is stored on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.errors import InputError
from matcher.io.teachers import read_teachers
from matcher.rubric import bundled

from .conftest import SAMPLES, Api


def _count(api: Api) -> int:
    return len(api.client.get("/v1/datasets", headers=api.headers("state")).json()["datasets"])


def test_upload_csv_reports_counts(api: Api) -> None:
    r = api.upload(SAMPLES / "teachers.csv")
    assert r.status_code == 201, r.text
    body = r.json()
    table = read_teachers(SAMPLES / "teachers.csv", bundled("team"))
    assert body["n_teachers"] == len(table) == sum(s["n_teachers"] for s in body["schools"])
    assert body["n_schools"] == len(set(table.school_id.tolist())) == len(body["schools"])
    assert body["kind"] == "upload" and body["rubric"] == "team" and body["name"] == "teachers.csv"
    again = api.client.get(f"/v1/datasets/{body['id']}", headers=api.headers("state")).json()
    assert again == body


def test_bad_csv_gets_the_cli_problems(api: Api, tmp_path: Path) -> None:
    lines = (SAMPLES / "teachers.csv").read_text().splitlines()
    cells = lines[3].split(",")
    cells[7] = "seven"  # a score that is not a number
    lines[3] = ",".join(cells)
    cells = lines[5].split(",")
    cells[4] = "-2"  # negative experience
    lines[5] = ",".join(cells)
    bad = tmp_path / "mine.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as cli:
        read_teachers(bad, bundled("team"))
    expected = [{**p.__dict__, "file": "mine.csv"} for p in cli.value.problems]
    before = _count(api)
    r = api.upload(bad)
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid_input"
    assert body["problems"] == expected
    assert {(p["row"], p["column"], p["value"]) for p in body["problems"]} >= {(4, lines[0].split(",")[7], "seven")}
    assert _count(api) == before  # nothing stored


def test_json_rows_and_their_problems(api: Api) -> None:
    rows = [{"teacher_id": "A1", "school_id": "X1", "subject": "math", "grades": "6-8", "years_experience": 4,
             "scores": {"questioning": 2, "thinking": 5}},
            {"teacher_id": "A2", "school_id": "X1", "subject": "math", "grades": "7", "years_experience": 12,
             "questioning": 5, "thinking": 1.5}]
    r = api.client.post("/v1/datasets", json={"rows": rows, "name": "two"}, headers=api.headers("state"))
    assert r.status_code == 201, r.text
    assert (r.json()["n_teachers"], r.json()["n_schools"], r.json()["name"]) == (2, 1, "two")
    bad = [dict(rows[0]), {**rows[1], "grades": "13-2"}, {**rows[1], "teacher_id": "A3", "thinking": 9}]
    r = api.client.post("/v1/datasets", json={"rows": bad}, headers=api.headers("state"))
    assert r.status_code == 422
    found = {(p["file"], p["row"], p["column"]) for p in r.json()["problems"]}
    assert ("rows", 1, "grades") in found and ("rows", 2, "thinking") in found
    assert all(p["row"] in (1, 2) for p in r.json()["problems"] if p["row"] is not None)


@pytest.mark.parametrize("payload", [
    {"rows": []}, {"rows": "nope"}, {"rows": [{}], "rubric": "rubric-of-my-own"}, {"rows": [{"a": 1}], "x": 1},
])
def test_bad_json_payloads_name_the_field(api: Api, payload: dict) -> None:
    r = api.client.post("/v1/datasets", json=payload, headers=api.headers("state"))
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert problems and all(p["file"] in ("body", "rows") for p in problems)
    assert all(p["message"] for p in problems)


def test_not_json_and_not_a_file(api: Api) -> None:
    h = api.headers("state")
    assert api.client.post("/v1/datasets", content=b"{", headers={**h, "content-type": "application/json"}
                           ).status_code == 422
    r = api.client.post("/v1/datasets", content=b"id,x\n", headers={**h, "content-type": "text/csv"})
    assert r.status_code == 422 and r.json()["problems"][0]["column"] == "content-type"
    r = api.client.post("/v1/datasets", data={"rubric": "team"}, files={"other": ("a", b"b")}, headers=h)
    assert r.status_code == 422 and r.json()["problems"][0]["column"] == "file"


def test_too_large_is_413_with_or_without_a_length(api: Api) -> None:
    before = _count(api)
    big = b"teacher_id,school_id\n" + b"x" * (3 * 1024 * 1024)
    r = api.client.post("/v1/datasets", files={"file": ("big.csv", big, "text/csv")}, headers=api.headers("state"))
    assert r.status_code == 413 and r.json()["error"] == "too_large"

    def chunks():  # no Content-Length: the limit is counted while reading
        for _ in range(40):
            yield b"{" + b" " * (100 * 1024)

    r = api.client.post("/v1/datasets", content=chunks(),
                        headers={**api.headers("state"), "content-type": "application/json"})
    assert r.status_code == 413
    assert _count(api) == before


def test_synthetic_dataset_is_seeded(api: Api) -> None:
    body = {"schools": 3, "mean_size": 12, "seed": 5}
    a = api.client.post("/v1/datasets/synthetic", json=body, headers=api.headers("researcher"))
    b = api.client.post("/v1/datasets/synthetic", json=body, headers=api.headers("state"))
    assert a.status_code == b.status_code == 201
    assert a.json()["kind"] == "synthetic" and a.json()["synthetic"]["seed"] == 5
    assert a.json()["schools"] == b.json()["schools"] and a.json()["id"] != b.json()["id"]
    r = api.client.post("/v1/datasets/synthetic", json={"schools": 0}, headers=api.headers("state"))
    assert r.status_code == 422 and r.json()["problems"][0]["column"] == "schools"


def test_unknown_dataset_is_404(api: Api) -> None:
    r = api.client.get("/v1/datasets/nope", headers=api.headers("state"))
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert json.loads(r.text)["message"] == "no dataset 'nope'"
