"""The routes the web page needs: who a key is (/v1/me), a rubric's scale and indicators, a run's per-school
overview, the CLI's per-school HTML reports (one, or all in a zip), and the list and map data of network runs;
each within the same role and school rules as the rest of the API."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from matcher.cli import main as cli
from matcher.store import repo
from matcher.store.db import open_engine
from matcher.store.keys import Caller

from .conftest import SAMPLES, Api
from .test_handouts_api import as_cli_page


@pytest.fixture(scope="module")
def cli_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`matcher pair` on the sample: the reports the API must reproduce byte for byte."""
    out = tmp_path_factory.mktemp("cli") / "out"
    assert cli(["pair", str(SAMPLES / "teachers.csv"), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def own_run(api: Api) -> dict[str, Any]:
    """A run of the sample of this module's own: the tests below re-match S0003 in it."""
    ds = api.upload(SAMPLES / "teachers.csv")
    run = api.run(ds.json()["id"])
    assert run["status"] == "succeeded"
    return run


def _get(api: Api, path: str, who: str | None = "state", **params: Any) -> Any:
    return api.client.get(path, params=params, headers=api.headers(who) if who else {})


def test_me_says_role_and_schools(api: Api) -> None:
    assert _get(api, "/v1/me", None).status_code == 401
    assert _get(api, "/v1/me", "state").json()["role"] == "state"
    assert _get(api, "/v1/me", "state").json()["schools"] == []
    me = _get(api, "/v1/me", "principal2").json()
    assert me["role"] == "principal" and me["schools"] == ["S0002", "S0003"]
    assert _get(api, "/v1/me", "researcher").json()["role"] == "researcher"
    assert api.client.get("/v1/me", headers={"Authorization": "Bearer mk_nope_nope"}).status_code == 401


@pytest.mark.parametrize(("name", "n", "top"), [("team", 19, 5.0), ("danielson", 22, 4.0)])
def test_rubric_scale_and_indicators(api: Api, name: str, n: int, top: float) -> None:
    r = _get(api, f"/v1/rubrics/{name}", "principal").json()
    assert len(r["indicators"]) == n and r["scale_max"] == top and r["scale_min"] == 1.0
    assert r["weak_below"] < r["strong_at_least"]
    assert {i["domain"] for i in r["indicators"]} and all(" " not in i["name"] for i in r["indicators"])
    assert _get(api, "/v1/rubrics/nope").status_code == 404
    assert _get(api, f"/v1/rubrics/{name}", None).status_code == 401


def test_overview_counts_every_teacher(api: Api, sample_run: dict[str, Any]) -> None:
    body = _get(api, f"/v1/pairings/{sample_run['id']}/overview").json()
    rows = body["schools"]
    assert len(rows) == 14 and [r["school_id"] for r in rows] == sorted(r["school_id"] for r in rows)
    summary = sample_run["summary"]
    assert sum(r["n_teachers"] for r in rows) == summary["n_teachers"]
    assert sum(r["n_paired"] for r in rows) == summary["n_paired_teachers"]
    assert sum(r["n_pairs"] for r in rows) == summary["n_pairs"]
    assert sum(r["value"] for r in rows) == pytest.approx(summary["total_value"])
    for r in rows:
        assert r["coverage"] == pytest.approx(r["n_paired"] / r["n_teachers"], abs=1e-4)
    with (SAMPLES / "teachers.csv").open() as fh:
        sizes: dict[str, int] = {}
        for t in csv.DictReader(fh):
            sizes[t["school_id"]] = sizes.get(t["school_id"], 0) + 1
    assert {r["school_id"]: r["n_teachers"] for r in rows} == sizes


def test_overview_within_scope(api: Api, sample_run: dict[str, Any]) -> None:
    path = f"/v1/pairings/{sample_run['id']}/overview"
    assert [r["school_id"] for r in _get(api, path, "principal").json()["schools"]] == ["S0001"]
    assert [r["school_id"] for r in _get(api, path, "principal2").json()["schools"]] == ["S0002", "S0003"]
    assert _get(api, path, "researcher").status_code == 403  # uploaded scores
    assert _get(api, path, None).status_code == 401
    assert _get(api, "/v1/pairings/00000000-0000-0000-0000-000000000000/overview").status_code == 404


def test_school_report_is_the_cli_page(api: Api, sample_run: dict[str, Any], cli_pages: Path) -> None:
    for school, who in (("S0001", "state"), ("S0001", "principal"), ("S0003", "principal2")):
        r = _get(api, f"/v1/pairings/{sample_run['id']}/schools/{school}/report.html", who)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/html")
        assert f'filename="{school}.html"' in r.headers["content-disposition"]
        assert as_cli_page(r.text) == (cli_pages / "schools" / f"{school}.html").read_text(encoding="utf-8")


def test_school_report_within_scope(api: Api, sample_run: dict[str, Any]) -> None:
    base = f"/v1/pairings/{sample_run['id']}/schools"
    assert _get(api, f"{base}/S0002/report.html", "principal").status_code == 403
    assert _get(api, f"{base}/S0001/report.html", "researcher").status_code == 403
    assert _get(api, f"{base}/S0001/report.html", None).status_code == 401
    assert _get(api, f"{base}/S9999/report.html").status_code == 404
    assert _get(api, f"{base}/S0001/report.html", revision=7).status_code == 404


def test_reports_zip_holds_every_school_in_scope(api: Api, sample_run: dict[str, Any], cli_pages: Path) -> None:
    r = _get(api, f"/v1/pairings/{sample_run['id']}/reports.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = sorted(z.namelist())
        assert names == sorted(f"schools/{p.name}" for p in (cli_pages / "schools").iterdir())
        for name in names:
            assert z.read(name).decode() == (cli_pages / name).read_text(encoding="utf-8")
    r = _get(api, f"/v1/pairings/{sample_run['id']}/reports.zip", "principal2")
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert sorted(z.namelist()) == ["schools/S0002.html", "schools/S0003.html"]
    assert _get(api, f"/v1/pairings/{sample_run['id']}/reports.zip", "researcher").status_code == 403


def test_reports_follow_rematches(api: Api, own_run: dict[str, Any], cli_pages: Path) -> None:
    """After a principal removes a teacher and refuses a pair, the overview and the report show the school as it
    stands now, and ?revision=0 is still the CLI's page."""
    run = own_run["id"]
    view = _get(api, f"/v1/pairings/{run}/schools/S0003", "principal2").json()
    gone = view["pairs"][0]["teacher_a"]
    a, b = view["pairs"][1]["teacher_a"], view["pairs"][1]["teacher_b"]
    r = api.client.post(f"/v1/pairings/{run}/schools/S0003/rematch", headers=api.headers("principal2"),
                        json={"revision": 0, "remove": [gone], "forbid": [[a, b]]})
    assert r.status_code == 201, r.text
    after = r.json()
    row = next(x for x in _get(api, f"/v1/pairings/{run}/overview").json()["schools"] if x["school_id"] == "S0003")
    assert row["revision"] == 1 and row["n_teachers"] == len(view["teachers"]) - 1
    assert row["n_pairs"] == after["n_pairs"] and row["n_unmatched"] == after["n_unmatched"]
    page = _get(api, f"/v1/pairings/{run}/schools/S0003/report.html", "principal2").text
    assert f"{len(view['teachers']) - 1} teachers, {after['n_pairs']} suggested pairs" in page
    assert gone not in page and f"{a} &amp; {b}" not in page
    first = _get(api, f"/v1/pairings/{run}/schools/S0003/report.html", "principal2", revision=0).text
    assert as_cli_page(first) == (cli_pages / "schools" / "S0003.html").read_text(encoding="utf-8")


def test_reports_of_an_unfinished_run_are_not_found(api: Api, sample_run: dict[str, Any]) -> None:
    """A run still queued (stored here without a job) has no result: 404, as for its pairs.csv."""
    engine = open_engine(api.db.url)
    state = Caller(api.keys["state"].split("_")[1], "state", frozenset())
    with engine.begin() as conn:
        queued = repo.insert_run(conn, dataset_id=sample_run["dataset_id"], policy=sample_run["policy"],
                                 request={}, previous_id=None, caller=state)
    engine.dispose()
    for path in ("schools/S0001/report.html", "reports.zip", "pairs.csv"):
        r = _get(api, f"/v1/pairings/{queued}/{path}")
        assert r.status_code == 404 and "queued" in r.json()["message"], r.text
    assert _get(api, f"/v1/pairings/{queued}/overview").json()["schools"] == []


def _networks(api: Api, who: str = "state") -> Any:
    with (SAMPLES / "schools.csv").open("rb") as fh:
        return api.client.post("/v1/networks", files={"file": ("schools.csv", fh, "text/csv")},
                               headers=api.headers(who))


def test_network_runs_listed_with_their_schools(api: Api) -> None:
    made = _networks(api).json()
    listed = _get(api, "/v1/networks").json()["network_runs"]
    row = next(x for x in listed if x["id"] == made["id"])
    assert row["n_networks"] == len(made["networks"]) and row["n_left_out"] == len(made["left_out"])
    assert row["n_placed"] + row["n_left_out"] == 14 and row["latest_revision"] == 0
    assert row["name"] == "schools.csv"
    schools = _get(api, f"/v1/networks/{made['id']}/schools").json()["schools"]
    with (SAMPLES / "schools.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [s["school_id"] for s in schools] == [r["school_id"] for r in rows]
    first = schools[0]
    assert first["name"] == rows[0]["name"] and first["latitude"] == float(rows[0]["latitude"])
    assert first["applied_as"] == rows[0]["role"] and first["needs"] == rows[0]["needs"].split(";")
    assert _get(api, "/v1/networks", "researcher").status_code == 403  # principals: test_network_access.py
    assert _get(api, f"/v1/networks/{made['id']}/schools", "researcher").status_code == 403
    assert _get(api, "/v1/networks/00000000-0000-0000-0000-000000000000/schools").status_code == 404
    assert _get(api, "/v1/networks/nope/schools").status_code == 404


def test_reports_with_pairs_across_schools_are_the_cli_pages(api: Api, tmp_path: Path) -> None:
    """A pair across schools shows the colleague's scores from the other school's roster, as the CLI does."""
    out = tmp_path / "cross"
    assert cli(["pair", str(SAMPLES / "teachers.csv"), "--cross-school", "--out", str(out)]) == 0
    ds = api.upload(SAMPLES / "teachers.csv")
    run = api.run(ds.json()["id"], {"cross_school_fallback": True})
    assert run["summary"]["cross_school_pairs"] > 0
    with zipfile.ZipFile(io.BytesIO(_get(api, f"/v1/pairings/{run['id']}/reports.zip").content)) as z:
        for name in z.namelist():
            assert z.read(name).decode() == (out / name).read_text(encoding="utf-8"), name
    crossing = next(p for p in csv.DictReader(io.StringIO((out / "pairs.csv").read_text())) if p["school_b"])
    one = _get(api, f"/v1/pairings/{run['id']}/schools/{crossing['school_b']}/report.html").text
    assert as_cli_page(one) == (out / "schools" / f"{crossing['school_b']}.html").read_text(encoding="utf-8")
