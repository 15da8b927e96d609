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
