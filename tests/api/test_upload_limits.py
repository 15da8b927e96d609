"""Uploads within bounds (issue 12): a dataset upload is answered within MATCHER_UPLOAD_SECONDS (503 in the error
format past it, and the reading stops), problems stop at 1,000 plus a count, ids over 200 characters are a 422 on
every backend, and files over the upload limits (rows, workbook size, JSON rows) are refused saying which."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

import matcher.api.limits as upload
import matcher.io.teachers as teachers
from matcher.api import create_app
from matcher.api.settings import Settings
from matcher.errors import MAX_PROBLEMS, DeadlineError
from matcher.io.limits import check_time
from matcher.rubric import load_rubric

from .conftest import SAMPLES, Api, add_keys

TEAM = load_rubric("team")


@pytest.fixture(scope="module")
def timed(make_database: Any) -> Iterator[Api]:
    """The app with a 1 s upload deadline and the default 64 MB body limit (SQLite)."""
    db = make_database("sqlite")
    keys = add_keys(db)
    with TestClient(create_app(Settings(database_url=db.url, solve_workers=1, upload_seconds=1))) as client:
        yield Api(client, db, keys)


def _count(api: Api) -> int:
    return len(api.client.get("/v1/datasets", headers=api.headers("state")).json()["datasets"])


def _assert_too_slow(r: Any) -> None:
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["error"] == "unavailable" and body["problems"] == []
    assert "1 s" in body["message"] and "MATCHER_UPLOAD_SECONDS" in body["message"]
    assert "nothing was stored" in body["message"]


def test_an_upload_past_its_deadline_is_503_and_the_reading_stops(timed: Api,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    stopped = threading.Event()
    looks = []

    def endless(_f: Any) -> Any:  # a reader step that would run forever, looking at the clock as readers do
        try:
            while True:
                looks.append(time.monotonic())
                check_time()
                time.sleep(0.01)
        except DeadlineError:
            stopped.set()
            raise

    monkeypatch.setattr(teachers, "_roster_rows", endless)
    before = _count(timed)
    r = timed.upload(SAMPLES / "teachers.csv")
    _assert_too_slow(r)
    assert stopped.wait(2), "the reading went on after the answer"
    n = len(looks)
    time.sleep(0.3)
    assert len(looks) == n  # nothing is looking at the clock any more: the work stopped
    assert _count(timed) == before


def test_a_step_that_never_looks_at_the_clock_still_gets_an_answer_and_stores_nothing(
        timed: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    original = teachers._roster_rows
    done = threading.Event()

    def slow(f: Any) -> Any:
        time.sleep(1 + upload.DEADLINE_GRACE_SECONDS + 3)  # one long step in C, say
        done.set()
        return original(f)

    monkeypatch.setattr(teachers, "_roster_rows", slow)
    before = _count(timed)
    r = timed.upload(SAMPLES / "teachers.csv")
    assert not done.is_set()  # the answer did not wait for the step
    _assert_too_slow(r)
    assert done.wait(10)
    time.sleep(0.5)  # the reader's next look at the clock stops it; its table is never stored
    assert _count(timed) == before


def test_json_rows_over_their_limit_are_413(timed: Api) -> None:
    row = {"teacher_id": "T1", "school_id": "S1", "subject": "math", "grades": "5", "years_experience": 3,
           "notes": "x" * (upload.MAX_JSON_ROWS_BYTES + 10)}
    r = timed.client.post("/v1/datasets", content=json.dumps({"rows": [row]}),
                          headers={**timed.headers("state"), "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    assert "JSON rows" in r.json()["message"] and "8 MB" in r.json()["message"]


def test_the_problems_of_an_upload_stop_at_1000_with_a_count(api: Api, tmp_path: Path) -> None:
    rows = [",".join(["teacher_id", "school_id", "subject", "grades", "years_experience", *TEAM.indicators])]
    rows += [f"T{i},S1,math,grade{i},-{i}," + ",".join(f"x{i}" for _ in TEAM.indicators) for i in range(300)]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = api.upload(path)
    assert r.status_code == 422
    problems = r.json()["problems"]
    found = 101 * (len(TEAM.indicators) + 2)
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1]["message"].startswith(f"... and {found - MAX_PROBLEMS:,} more problems not listed")


def test_ids_over_200_characters_are_422_on_every_backend(api: Api, tmp_path: Path) -> None:
    df = pd.read_csv(SAMPLES / "teachers.csv", dtype=str, keep_default_na=False)
    df.loc[2, "school_id"] = "S" * 100_000
    path = tmp_path / "long.csv"
    df.to_csv(path, index=False)
    before = len(api.client.get("/v1/datasets", headers=api.headers("state")).json()["datasets"])
    r = api.upload(path)
    assert r.status_code == 422
    p = next(p for p in r.json()["problems"] if p["column"] == "school_id")
    assert (p["file"], p["row"]) == ("long.csv", 4) and "longer than 200 characters" in p["message"]
    assert len(p["value"]) < 60 and "100,000 chars" in p["value"] and len(r.text) < 20_000
    schools = pd.read_csv(SAMPLES / "schools.csv", dtype=str, keep_default_na=False)
    schools.loc[1, "school_id"] = "S" * 100_000
    spath = tmp_path / "schools.csv"
    schools.to_csv(spath, index=False)
    with (SAMPLES / "teachers.csv").open("rb") as t, spath.open("rb") as s:
        r = api.client.post("/v1/datasets", files={"file": ("teachers.csv", t), "schools": ("schools.csv", s)},
                            headers=api.headers("state"))
    assert r.status_code == 422
    (p,) = r.json()["problems"]
    assert (p["file"], p["row"], p["column"]) == ("schools.csv", 3, "school_id") and "100,000 chars" in p["value"]
    assert len(api.client.get("/v1/datasets", headers=api.headers("state")).json()["datasets"]) == before


def test_a_schools_part_of_20000_columns_is_refused_naming_the_limit(api: Api, tmp_path: Path) -> None:
    lines = (SAMPLES / "schools.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "wide.csv"
    path.write_text(lines[0] + "," + ",".join(f"x{i}" for i in range(20_000)) + "\n" + lines[1] + "\n")
    with (SAMPLES / "teachers.csv").open("rb") as t, path.open("rb") as s:
        r = api.client.post("/v1/datasets", files={"file": ("teachers.csv", t), "schools": ("wide.csv", s)},
                            headers=api.headers("state"))
    assert r.status_code == 422
    (p,) = r.json()["problems"]
    assert p["file"] == "wide.csv" and "columns" in p["message"] and "at most 2,000" in p["message"]


def test_uploads_are_read_under_the_upload_limits(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upload, "UPLOAD_MAX_ROWS", 100)
    r = api.upload(SAMPLES / "teachers.csv")
    assert r.status_code == 422
    (p,) = r.json()["problems"]
    assert "more than 100 data rows" in p["message"] and "split it" in p["message"]
    monkeypatch.setattr(upload, "UPLOAD_MAX_SHEET_CELLS", 1_000)
    r = api.upload(SAMPLES / "observations.xlsx")
    assert r.status_code == 422
    (p,) = r.json()["problems"]
    assert "at most 1,000 cells" in p["message"] and "upload the sheet as CSV UTF-8" in p["message"]
    monkeypatch.undo()
    assert api.upload(SAMPLES / "observations.xlsx").status_code == 201
