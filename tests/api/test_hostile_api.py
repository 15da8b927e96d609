"""A hostile but fair user of the API, on both backends: school ids that used to collide or be unreachable,
formula cells in the exported CSV, a principal probing other schools through a run's pair lists and re-match
`add`, and oversized re-match requests."""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from matcher.io.file_keys import file_key
from matcher.store.db import open_engine
from matcher.store.keys import create_key

from .conftest import SAMPLES, Api

HOSTILE = ["A B", "A/B", "A_B", "..", "a/b", ".", "../x", "CON", "=cmd|' /C calc'!A0", "<i>S</i>", "S0011",
           "S0012", "S0013", "S0014"]


@pytest.fixture(scope="module")
def hostile_run(api: Api, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    df = pd.read_csv(SAMPLES / "teachers.csv", dtype=str, keep_default_na=False)
    df["school_id"] = df.school_id.map(dict(zip(sorted(df.school_id.unique()), HOSTILE, strict=True)))
    df.loc[df.index[df.school_id == "A B"][0], "teacher_id"] = '=HYPERLINK("http://x","y")'
    path = tmp_path_factory.mktemp("hostile") / "hostile.csv"
    df.to_csv(path, index=False)
    ds = api.upload(path)
    assert ds.status_code == 201, ds.text
    run = api.run(ds.json()["id"])
    assert run["status"] == "succeeded", run
    return run


def test_every_school_has_its_own_report_file_and_address(api: Api, hostile_run: dict[str, Any]) -> None:
    base = f"/v1/pairings/{hostile_run['id']}"
    r = api.client.get(f"{base}/reports.zip", headers=api.headers("state"))
    assert r.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert sorted(names) == sorted(f"schools/{file_key(s)}.html" for s in HOSTILE)
    assert len(set(names)) == len(HOSTILE)
    overview = api.client.get(f"{base}/overview", headers=api.headers("state")).json()["schools"]
    assert {row["school_id"]: row["key"] for row in overview} == {s: file_key(s) for s in HOSTILE}
    for s in HOSTILE:
        key = file_key(s)
        page = api.client.get(f"{base}/schools/{key}/report.html", headers=api.headers("state"))
        assert page.status_code == 200, (s, page.text)
        heading = re.search(r"<h1>Suggested teacher pairs for (.*?)</h1>", page.text)
        assert heading and html.unescape(heading.group(1)) == s
        assert page.headers["content-disposition"] == f'attachment; filename="{key}.html"'
        view = api.client.get(f"{base}/schools/{key}", headers=api.headers("state")).json()
        assert (view["school_id"], view["key"]) == (s, key)
        history = api.client.get(f"{base}/schools/{key}/revisions", headers=api.headers("state"))
        assert history.status_code == 200 and history.json()["school_id"] == s


def test_a_principal_of_an_odd_id_reaches_only_its_own_school(api: Api, hostile_run: dict[str, Any]) -> None:
    engine = open_engine(api.db.url)
    key = create_key(engine, "principal", ["A/B"])
    engine.dispose()
    who = {"Authorization": f"Bearer {key}"}
    me = api.client.get("/v1/me", headers=who).json()
    assert me["school_keys"] == {"A/B": file_key("A/B")}
    base = f"/v1/pairings/{hostile_run['id']}"
    own = api.client.get(f"{base}/schools/{file_key('A/B')}", headers=who)
    assert own.status_code == 200 and own.json()["school_id"] == "A/B"
    assert api.client.get(f"{base}/schools/{file_key('A/B')}/report.html", headers=who).status_code == 200
    for other in ("A B", "a/b", ".."):
        r = api.client.get(f"{base}/schools/{file_key(other)}", headers=who)
        assert r.status_code == 403
        assert other not in r.json()["message"].replace("A/B", "")  # the key as sent, never the id behind it
    listed = api.client.get(f"{base}/schools", headers=who).json()["schools"]
    assert [(x["school_id"], x["key"]) for x in listed] == [("A/B", file_key("A/B"))]


def test_exported_csv_has_no_live_formulas(api: Api, hostile_run: dict[str, Any]) -> None:
    for current in ("false", "true"):
        r = api.client.get(f"/v1/pairings/{hostile_run['id']}/pairs.csv", params={"current": current},
                           headers=api.headers("state"))
        assert r.status_code == 200
        cells = [c for row in csv.reader(io.StringIO(r.text)) for c in row]
        assert "'=HYPERLINK(\"http://x\",\"y\")" in cells and "'=cmd|' /C calc'!A0" in cells
        assert not [c for c in cells if c[:1] in ("=", "+", "@")]
    # The JSON stays exact.
    view = api.client.get(f"/v1/pairings/{hostile_run['id']}/schools/{file_key('A B')}",
                          headers=api.headers("state")).json()
    ids = {t["teacher_id"] for t in view["teachers"]}
    assert '=HYPERLINK("http://x","y")' in ids


@pytest.fixture()
def listed_run(api: Api) -> tuple[dict[str, Any], list[str]]:
    """The sample, paired with do-not-pair and must-pair entries on S0001's teachers only."""
    ds = api.upload(SAMPLES / "teachers.csv")
    first = api.run(ds.json()["id"])
    s1 = api.client.get(f"/v1/pairings/{first['id']}/schools/S0001", headers=api.headers("state")).json()
    (a, b), (c, d) = [(p["teacher_a"], p["teacher_b"]) for p in s1["pairs"][:2]]
    run = api.run(ds.json()["id"], {"do_not_pair": [[a, b]], "must_pair": [[c, d]]})
    assert run["status"] == "succeeded", run
    return run, [a, b, c, d]


def test_a_runs_pair_lists_neither_block_nor_leak_into_other_schools(
        api: Api, listed_run: tuple[dict[str, Any], list[str]]) -> None:
    run, named = listed_run
    base = f"/v1/pairings/{run['id']}/schools/S0003"
    view = api.client.get(base, headers=api.headers("principal2")).json()
    p = view["pairs"][0]
    r = api.client.post(f"{base}/rematch", json={"revision": 0, "forbid": [[p["teacher_a"], p["teacher_b"]]]},
                        headers=api.headers("principal2"))
    assert r.status_code == 201, r.text
    for t in named:
        assert t not in r.text
    # S0001 itself still honours them.
    s1 = api.client.post(f"/v1/pairings/{run['id']}/schools/S0001/rematch",
                         json={"revision": 0, "stability": "full"}, headers=api.headers("principal"))
    assert s1.status_code == 201, s1.text
    pairs = {frozenset((q["teacher_a"], q["teacher_b"])) for q in s1.json()["pairs"]}
    assert frozenset(named[:2]) not in pairs and frozenset(named[2:]) in pairs


def test_a_principal_cannot_add_another_schools_teacher(api: Api,
                                                       listed_run: tuple[dict[str, Any], list[str]]) -> None:
    run, named = listed_run
    base = f"/v1/pairings/{run['id']}/schools"
    other = named[0]  # a teacher of S0001
    row = {"teacher_id": other, "subject": "math", "grades": "7", "years_experience": "3", "questioning": "2"}
    r = api.client.post(f"{base}/S0003/rematch", json={"revision": 0, "add": [row]},
                        headers=api.headers("principal2"))
    assert r.status_code == 422, r.text
    assert [p["column"] for p in r.json()["problems"]] == ["teacher_id"]
    assert "S0001" not in r.text and "another school" in r.text
    # Once S0001 lets the teacher go, S0003 may take them.
    gone = api.client.post(f"{base}/S0001/rematch", json={"revision": 0, "remove": [other]},
                           headers=api.headers("principal"))
    assert gone.status_code == 201, gone.text
    r = api.client.post(f"{base}/S0003/rematch", json={"revision": 0, "add": [row]},
                        headers=api.headers("principal2"))
    assert r.status_code == 201, r.text


def test_oversized_rematch_requests_are_refused_briefly(api: Api, sample_run: dict[str, Any]) -> None:
    base = f"/v1/pairings/{sample_run['id']}/schools/S0003/rematch"
    huge = "T" * 100_000
    r = api.client.post(base, json={"revision": 0, "remove": [huge]}, headers=api.headers("principal2"))
    assert r.status_code == 422 and len(r.content) < 2000
    r = api.client.post(base, json={"revision": 0, "remove": [f"T{i}" for i in range(6000)]},
                        headers=api.headers("principal2"))
    assert r.status_code == 422 and len(r.content) < 10_000


def test_a_100k_character_school_id_is_an_input_problem(api: Api, tmp_path: Path) -> None:
    df = pd.read_csv(SAMPLES / "teachers.csv", dtype=str, keep_default_na=False).head(30)
    df.loc[0, "school_id"] = "S" * 100_000
    path = tmp_path / "long.csv"
    df.to_csv(path, index=False)
    r = api.upload(path)
    assert r.status_code == 422, r.text[:500]
    assert [(p["row"], p["column"]) for p in r.json()["problems"]] == [(2, "school_id")]
    assert len(r.content) < 5000


def test_a_network_upload_of_too_many_schools_is_refused(api: Api, tmp_path: Path) -> None:
    from matcher.networks.model import MAX_SCHOOLS

    df = pd.read_csv(SAMPLES / "schools.csv", dtype=str, keep_default_na=False)
    copies = MAX_SCHOOLS // len(df) + 1
    path = tmp_path / "many.csv"
    pd.concat([df.assign(school_id=df.school_id + f"-{k}") for k in range(copies)]).to_csv(path, index=False)
    with path.open("rb") as fh:
        r = api.client.post("/v1/networks", files={"file": (path.name, fh, "text/csv")},
                            headers=api.headers("state"))
    assert r.status_code == 422, r.text[:300]
    assert f"at most {MAX_SCHOOLS:,}" in r.json()["problems"][0]["message"]
