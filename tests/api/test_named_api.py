"""Names over the API: a named teacher file gives the CLI's named pairs.csv and reports byte for byte; the school
view, listings, /v1/me, re-match diffs and the revision history carry names; a principal never sees another
school's teacher except a cross-school partner's id, name and shared indicators; rosters and pairs stored before
names existed still load and render."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from html import escape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from matcher.cli import main as cli
from matcher.store.db import open_engine
from matcher.store.tables import dataset_schools, school_revisions

from ..test_named_outputs import write_named_sample
from .conftest import SAMPLES, Api
from .test_handouts_api import as_cli_page

CROSS = {"cross_school_fallback": True}


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], dict[str, str], Path]:
    """(the named sample, teacher_id -> name, school_id -> name, the CLI's output on it with --cross-school)."""
    folder = tmp_path_factory.mktemp("named")
    path = folder / "teachers.csv"
    teachers, schools = write_named_sample(path)
    out = folder / "cli"
    assert cli(["pair", str(path), "--out", str(out), "--cross-school", "--workers", "1"]) == 0
    return path, teachers, schools, out


@pytest.fixture(scope="module")
def named_run(api: Api, named: tuple[Path, dict[str, str], dict[str, str], Path]) -> dict[str, Any]:
    ds = api.upload(named[0])
    assert ds.status_code == 201, ds.text
    run = api.run(ds.json()["id"], CROSS)
    assert run["status"] == "succeeded", run
    return run


def _get(api: Api, path: str, who: str = "state", **params: Any) -> Any:
    r = api.client.get(path, params=params, headers=api.headers(who))
    assert r.status_code == 200, r.text
    return r


def school_of(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {r["teacher_id"]: r["school_id"] for r in csv.DictReader(fh)}


def test_pairs_csv_and_reports_are_the_cli_files(api: Api, named_run: dict[str, Any], named: Any) -> None:
    out = named[3]
    got = _get(api, f"/v1/pairings/{named_run['id']}/pairs.csv").content
    assert got == (out / "pairs.csv").read_bytes()
    assert b"teacher_a_name" in got and b"Lincoln Bend School" in got
    with zipfile.ZipFile(io.BytesIO(_get(api, f"/v1/pairings/{named_run['id']}/reports.zip").content)) as z:
        assert sorted(z.namelist()) == sorted(f"schools/{p.name}" for p in (out / "schools").iterdir())
        for name in z.namelist():
            assert z.read(name).decode() == (out / name).read_text(encoding="utf-8"), name
    assert named_run["summary"]["observations"]["most_observations_per_score"] == 1


def test_listings_and_school_view_carry_names(api: Api, named_run: dict[str, Any], named: Any) -> None:
    path, teachers, schools, _ = named
    ds = _get(api, f"/v1/datasets/{named_run['dataset_id']}").json()
    assert {s["school_id"]: s["school_name"] for s in ds["schools"]} == schools
    rows = _get(api, f"/v1/pairings/{named_run['id']}/schools").json()["schools"]
    assert {r["school_id"]: r["school_name"] for r in rows} == schools
    overview = _get(api, f"/v1/pairings/{named_run['id']}/overview").json()["schools"]
    assert {r["school_id"]: r["school_name"] for r in overview} == schools
    view = _get(api, f"/v1/pairings/{named_run['id']}/schools/S0002").json()
    assert (view["school_name"], view["aggregate"]) == ("02 Lincoln Bend School", "mean")
    for p in view["pairs"]:
        assert (p["teacher_a_name"], p["teacher_b_name"]) == (teachers[p["teacher_a"]], teachers[p["teacher_b"]])
        assert p["school_name"] == schools[p["school_id"]]
    for u in view["unmatched"]:
        assert u["teacher_name"] == teachers[u["teacher_id"]]
    mine = {t for t, s in school_of(path).items() if s == "S0002"}
    assert {t["teacher_id"] for t in view["teachers"]} == mine
    for t in view["teachers"]:
        assert t["teacher_name"] == teachers[t["teacher_id"]]
        # One observation per observed score in a one-row-per-teacher file.
        assert t["observations"] == {k: int(v is not None) for k, v in t["scores"].items()}


def test_a_principal_sees_a_partner_at_another_school_by_name_only(api: Api, named_run: dict[str, Any],
                                                                   named: Any) -> None:
    path, teachers, schools, _ = named
    home = school_of(path)
    assert _get(api, "/v1/me", "principal2").json()["school_names"] == {s: schools[s] for s in ("S0002", "S0003")}
    assert _get(api, "/v1/me", "state").json()["school_names"] == {}
    listed = _get(api, f"/v1/pairings/{named_run['id']}/schools", "principal2").json()["schools"]
    assert {(r["school_id"], r["school_name"]) for r in listed} == {(s, schools[s]) for s in ("S0002", "S0003")}
    crossing = 0
    for school in ("S0002", "S0003"):
        r = _get(api, f"/v1/pairings/{named_run['id']}/schools/{school}", "principal2")
        view = r.json()
        partners = {t for p in view["pairs"] if p["school_b"] for t in (p["teacher_a"], p["teacher_b"])
                    if home[t] != school}
        crossing += len(partners)
        # Every teacher id in the answer is this school's, or a cross-school partner's.
        assert {t for t in re.findall(r"T\d{6}", r.text) if home[t] != school} == partners
        assert not partners & {t["teacher_id"] for t in view["teachers"]}
        for p in view["pairs"]:
            if p["school_b"]:
                assert re.search(r"\d\.\d\d", p["explanation"]) is None, p["explanation"]
                other = p["school_b"] if p["school_id"] == school else p["school_id"]
                assert schools[other] in p["explanation"]
                partner = next(t for t in (p["teacher_a"], p["teacher_b"]) if home[t] != school)
                assert p["teacher_a_name" if partner == p["teacher_a"] else "teacher_b_name"] == teachers[partner]
        page = _get(api, f"/v1/pairings/{named_run['id']}/schools/{school}/report.html", "principal2").text
        for t in partners:  # named on the page, never heading a column of scores
            name = escape(teachers[t] or t)
            assert name in page and not re.search("<th>" + re.escape(name) + r"(?: \(T\d{6}\))? \(", page)
            assert re.search("<th>[^<]+ \\((reinforcement|refinement) area\\)</th>", page)
    assert crossing, "the sample's fallback pairs S0003 with other schools"


def test_rematch_diff_and_history_name_teachers_also_once_removed(api: Api, named: Any) -> None:
    path, teachers, _, _ = named
    ds = api.upload(path).json()
    run = api.run(ds["id"])
    school = "S0003"
    before = _get(api, f"/v1/pairings/{run['id']}/schools/{school}").json()
    pair = next(p for p in before["pairs"] if teachers[p["teacher_a"]] and teachers[p["teacher_b"]])
    leaver, partner = pair["teacher_a"], pair["teacher_b"]
    scores = {k: v for k, v in before["teachers"][0]["scores"].items() if v is not None}
    add = [{"teacher_id": "NEW1", "teacher_name": "Nia Newcomer", "subject": "math", "grades": "3",
            "years_experience": 1, **scores}]
    r = api.client.post(f"/v1/pairings/{run['id']}/schools/{school}/rematch", headers=api.headers("principal2"),
                        json={"revision": 0, "remove": [leaver], "add": add})
    assert r.status_code == 201, r.text
    diff = r.json()["diff"]
    broken = {frozenset((d["teacher_a"], d["teacher_b"])): d for d in diff["broken"]}
    gone = broken[frozenset((leaver, partner))]
    assert gone["reason"] == f"{teachers[leaver]} left the school"
    assert {gone["teacher_a_name"], gone["teacher_b_name"]} == {teachers[leaver], teachers[partner]}
    for d in diff["new"]:
        assert d["teacher_a_name"] == ("Nia Newcomer" if d["teacher_a"] == "NEW1" else teachers[d["teacher_a"]])
    view = _get(api, f"/v1/pairings/{run['id']}/schools/{school}").json()
    assert leaver not in {t["teacher_id"] for t in view["teachers"]}
    assert {"teacher_id": "NEW1", "teacher_name": "Nia Newcomer"}.items() <= next(
        t for t in view["teachers"] if t["teacher_id"] == "NEW1").items()
    history = _get(api, f"/v1/pairings/{run['id']}/schools/{school}/revisions", "principal2").json()
    mine = {t for t, s in school_of(path).items() if s == school}
    assert history["names"] == {**{t: teachers[t] for t in mine if teachers[t]}, "NEW1": "Nia Newcomer"}
    assert history["names"][leaver] == teachers[leaver]
    # pairs.csv as the schools stand now names everyone, the teacher the re-match added too.
    everyone = {**teachers, "NEW1": "Nia Newcomer"}
    now = list(csv.DictReader(io.StringIO(_get(api, f"/v1/pairings/{run['id']}/pairs.csv", current="true").text)))
    assert now and all(row["teacher_a_name"] == everyone[row["teacher_a"]]
                       and row["teacher_b_name"] == everyone[row["teacher_b"]] for row in now)


def test_rosters_and_pairs_stored_before_names_still_serve(api: Api, tmp_path: Path) -> None:
    """A dataset and run stored before names existed: rosters without the new keys, no school names, pairs and
    unmatched teachers without name fields. They load, pair and render, by id."""
    ds = api.upload(SAMPLES / "teachers.csv").json()
    engine = open_engine(api.db.url)
    old_keys = ("row", "teacher_id", "district_id", "subject", "grades", "grades_text", "years", "opt_out", "scores")
    with engine.begin() as conn:
        for sid, roster in conn.execute(select(dataset_schools.c.school_id, dataset_schools.c.roster)
                                        .where(dataset_schools.c.dataset_id == ds["id"])).all():
            conn.execute(update(dataset_schools)
                         .where(dataset_schools.c.dataset_id == ds["id"], dataset_schools.c.school_id == sid)
                         .values(roster={k: roster[k] for k in old_keys}, name=None))
    run = api.run(ds["id"])
    assert run["status"] == "succeeded", run
    with engine.begin() as conn:
        for sid, pairs, unmatched in conn.execute(
                select(school_revisions.c.school_id, school_revisions.c.pairs, school_revisions.c.unmatched)
                .where(school_revisions.c.run_id == run["id"])).all():
            conn.execute(update(school_revisions)
                         .where(school_revisions.c.run_id == run["id"], school_revisions.c.school_id == sid)
                         .values(pairs=[{k: v for k, v in p.items() if not k.endswith("name")} for p in pairs],
                                 unmatched=[{k: v for k, v in u.items() if not k.endswith("name")}
                                            for u in unmatched]))
    engine.dispose()
    out = tmp_path / "cli"
    assert cli(["pair", str(SAMPLES / "teachers.csv"), "--out", str(out), "--workers", "1"]) == 0
    assert _get(api, f"/v1/pairings/{run['id']}/pairs.csv").content == (out / "pairs.csv").read_bytes()
    view = _get(api, f"/v1/pairings/{run['id']}/schools/S0001", "principal").json()
    assert view["school_name"] == "" and all(p["teacher_a_name"] == "" for p in view["pairs"])
    assert all(t["teacher_name"] == "" for t in view["teachers"])
    page = _get(api, f"/v1/pairings/{run['id']}/schools/S0001/report.html", "principal").text
    assert as_cli_page(page) == (out / "schools" / "S0001.html").read_text(encoding="utf-8")
    first = view["pairs"][0]
    assert f"<h2>{first['teacher_a']} &amp; {first['teacher_b']}<span" in page
    history = _get(api, f"/v1/pairings/{run['id']}/schools/S0001/revisions", "principal").json()
    assert history["names"] == {}


def test_an_observation_export_gives_the_cli_files_under_another_aggregate(api: Api, tmp_path: Path) -> None:
    """The bundled observation export (several observations per teacher, names): stored rosters keep the counts
    and the other aggregates, so a run under median gives the CLI's pairs.csv and reports byte for byte, and the
    school view says how many observations each score rests on."""
    out = tmp_path / "cli"
    export = SAMPLES / "observations.csv"
    assert cli(["pair", str(export), "--out", str(out), "--cross-school", "--aggregate", "median",
                "--workers", "1"]) == 0
    ds = api.upload(export)
    assert ds.status_code == 201, ds.text
    run = api.run(ds.json()["id"], {**CROSS, "aggregate": "median"})
    assert run["status"] == "succeeded", run
    assert run["summary"]["observations"]["aggregate"] == "median"
    assert run["summary"]["observations"]["most_observations_per_score"] > 1
    assert _get(api, f"/v1/pairings/{run['id']}/pairs.csv").content == (out / "pairs.csv").read_bytes()
    with zipfile.ZipFile(io.BytesIO(_get(api, f"/v1/pairings/{run['id']}/reports.zip").content)) as z:
        for name in z.namelist():
            assert z.read(name).decode() == (out / name).read_text(encoding="utf-8"), name
    page = (out / "schools" / "S0001.html").read_text(encoding="utf-8")
    assert re.search(r"\d\.\d\d \(median of [2-9] observations\)", page)
    view = _get(api, f"/v1/pairings/{run['id']}/schools/S0001").json()
    assert view["aggregate"] == "median" and view["school_name"] == "Lincoln Bend Elementary School"
    assert max(n for t in view["teachers"] for n in t["observations"].values()) > 1
    assert all(t["teacher_name"] for t in view["teachers"])
