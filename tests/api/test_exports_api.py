"""Real exports over HTTP: an Excel workbook or an observation-level CSV with labelled headers uploads like the CLI
reads it (columns, sheet and strict as form fields), problems name the uploaded file and sheet, and a run on it
pairs exactly what `matcher pair` pairs."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl

from matcher.cli import main

from .conftest import SAMPLES, Api

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(api: Api, path: Path, name: str | None = None, media: str = XLSX, **form: str):  # type: ignore[no-untyped-def]
    with path.open("rb") as fh:
        return api.client.post("/v1/datasets", files={"file": (name or path.name, fh, media)}, data=form,
                               headers=api.headers("state"))


def test_observation_workbook_uploads_with_names(api: Api) -> None:
    r = upload(api, SAMPLES / "observations.xlsx")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["n_teachers"] == 419 and body["n_schools"] == 14
    assert {s["school_id"]: s["school_name"] for s in body["schools"]}["S0001"] == "Lincoln Bend Elementary School"
    assert any("observations.xlsx, sheet 'Observations': the header is on row 3" in w for w in body["warnings"])
    assert not any("/tmp" in w or "matcher-upload" in w for w in body["warnings"])  # the caller's names only


def test_a_run_on_an_uploaded_export_pairs_like_the_cli(api: Api, tmp_path: Path) -> None:
    r = upload(api, SAMPLES / "observations.csv", media="text/csv")
    assert r.status_code == 201, r.text
    for policy in ({}, {"aggregate": "median"}):
        run = api.run(r.json()["id"], policy)
        assert run["status"] == "succeeded", run
        assert run["summary"]["policy"]["aggregate"] == policy.get("aggregate", "mean")
        got = api.client.get(f"/v1/pairings/{run['id']}/pairs.csv", headers=api.headers("state")).content
        out = tmp_path / f"cli-{policy.get('aggregate', 'mean')}"
        flags = ["--aggregate", policy["aggregate"]] if policy else []
        assert main(["pair", str(SAMPLES / "observations.csv"), "--out", str(out), *flags]) == 0
        assert got == (out / "pairs.csv").read_bytes()


def test_reading_options_as_form_fields(api: Api, tmp_path: Path) -> None:
    lines = (SAMPLES / "teachers.csv").read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("teacher_id", "Staff Code", 1)
    path = tmp_path / "renamed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = upload(api, path, media="text/csv")
    assert r.status_code == 422
    assert any(p["column"] == "teacher_id" and "missing required column" in p["message"]
               for p in r.json()["problems"])
    r = upload(api, path, media="text/csv", columns=json.dumps({"Staff Code": "teacher_id"}), strict="true")
    assert r.status_code == 201, r.text
    assert r.json()["n_teachers"] == 419
    r = upload(api, path, media="text/csv", columns="{not json")
    assert r.status_code == 422 and r.json()["problems"][0]["column"] == "columns"
    r = upload(api, path, media="text/csv", columns=json.dumps({"Staff Code": "nothing_known"}))
    assert r.status_code == 422
    assert r.json()["problems"][0]["file"] == "columns" and r.json()["problems"][0]["value"] == "nothing_known"


def test_workbook_problems_name_the_uploaded_file_and_sheet(api: Api, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(SAMPLES / "observations.xlsx")
    ws = book["Observations"]
    ws.cell(row=7, column=16).value = "high"  # a score that is not a number
    path = tmp_path / "upload.xlsx"
    book.save(path)
    r = upload(api, path, name="district export.xlsx")
    assert r.status_code == 422
    p = r.json()["problems"][0]
    assert p["file"] == "district export.xlsx, sheet 'Observations'" and (p["row"], p["value"]) == (7, "high")
    r = upload(api, path, name="district export.xlsx", sheet="Nope")
    assert r.status_code == 422 and "'Observations'" in r.json()["problems"][0]["message"]
    r = upload(api, SAMPLES / "teachers.csv", media="text/csv", sheet="Observations")
    assert r.status_code == 422 and "Excel" in r.json()["problems"][0]["message"]


def test_long_file_with_repeats_beside_a_roster(api: Api, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("Teacher ID,School ID,Teacher Name,Subject,Grades,Years Experience\n"
                      "007,0042,Ana Ruiz,math,5,4\n008,0042,Ben Cole,math,5,9\n", encoding="utf-8")
    scores = tmp_path / "scores.csv"
    scores.write_text("Teacher ID,Indicator,Score\n007,Questioning,2\n007,questioning,3\n008,Questioning,5\n"
                      "008,Thinking,1\n007,Thinking,4\n", encoding="utf-8")
    with scores.open("rb") as s, roster.open("rb") as r:
        resp = api.client.post("/v1/datasets", files={"file": ("scores.csv", s, "text/csv"),
                                                      "roster": ("roster.csv", r, "text/csv")},
                               headers=api.headers("state"))
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["n_teachers"] == 2 and body["schools"][0]["school_id"] == "0042"
    run = api.run(body["id"])
    assert run["status"] == "succeeded", run
    view = api.client.get(f"/v1/pairings/{run['id']}/schools/0042", headers=api.headers("state")).json()
    ana = next(t for t in view["teachers"] if t["teacher_id"] == "007")
    assert ana["teacher_name"] == "Ana Ruiz"
    assert (ana["scores"]["questioning"], ana["observations"]["questioning"]) == (2.5, 2)
    assert [(p["teacher_a_name"], p["teacher_b_name"]) for p in view["pairs"]] == [("Ana Ruiz", "Ben Cole")]


def test_rows_of_a_teacher_that_disagree_are_a_422_naming_both(api: Api, tmp_path: Path) -> None:
    text = (SAMPLES / "observations.csv").read_text(encoding="utf-8").splitlines()
    cells = text[2].split(",")  # T000001's second observation, on line 3
    assert cells[3] == "T000001"
    cells[1] = "S0002"
    text[2] = ",".join(cells)
    path = tmp_path / "moved.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    r = upload(api, path, media="text/csv")
    assert r.status_code == 422
    p = next(p for p in r.json()["problems"] if p["column"] == "School ID")
    assert (p["file"], p["row"], p["value"]) == ("moved.csv", 3, "S0002") and "row 2" in p["message"]
