"""Principals' re-matches over HTTP: the library's answer, saved as the next revision with a reason per change;
an outdated revision gets 409; history and audit record every request."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from matcher.io.teachers import read_teachers
from matcher.pairing.rematch import rematch
from matcher.policy import Policy
from matcher.rubric import bundled

from .conftest import SAMPLES, Api

SCHOOL = "S0003"


@pytest.fixture()
def fresh(api: Api) -> dict[str, Any]:
    """A run of the sample of its own, so each test re-matches from revision 0."""
    ds = api.upload(SAMPLES / "teachers.csv")
    run = api.run(ds.json()["id"])
    assert run["status"] == "succeeded"
    return run


def _school(api: Api, run: dict[str, Any], school: str = SCHOOL, who: str = "state", **q: Any) -> dict[str, Any]:
    r = api.client.get(f"/v1/pairings/{run['id']}/schools/{school}", params=q, headers=api.headers(who))
    assert r.status_code == 200, r.text
    return r.json()


def _rematch(api: Api, run: dict[str, Any], body: dict[str, Any], school: str = SCHOOL, who: str = "principal2"):
    return api.client.post(f"/v1/pairings/{run['id']}/schools/{school}/rematch", json=body, headers=api.headers(who))


def _pairs(view: dict[str, Any]) -> set[frozenset[str]]:
    return {frozenset((p["teacher_a"], p["teacher_b"])) for p in view["pairs"]}


@pytest.mark.parametrize("stability", ["keep_untouched", "balanced", "full"])
def test_refusing_a_pair_gives_the_library_answer(api: Api, fresh: dict[str, Any], stability: str) -> None:
    before = _school(api, fresh)
    a, b = before["pairs"][0]["teacher_a"], before["pairs"][0]["teacher_b"]
    r = _rematch(api, fresh, {"revision": 0, "forbid": [[a, b]], "stability": stability})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["revision"] == 1
    table = read_teachers(SAMPLES / "teachers.csv", bundled("team"))
    current = [(p["teacher_a"], p["teacher_b"]) for p in before["pairs"]]
    lib = rematch(table, Policy(), SCHOOL, current, forbid=[(a, b)], stability=stability)
    assert {frozenset((p["teacher_a"], p["teacher_b"])) for p in out["pairs"]} == \
        {frozenset((p.teacher_a, p.teacher_b)) for p in lib.result.pairs}
    assert out["value"] == pytest.approx(sum(p.value for p in lib.result.pairs))
    assert frozenset((a, b)) not in {frozenset((p["teacher_a"], p["teacher_b"])) for p in out["pairs"]}
    broken = {frozenset((d["teacher_a"], d["teacher_b"])): d["reason"] for d in out["diff"]["broken"]}
    assert broken[frozenset((a, b))] == "refused by the principal"
    assert all(reason for reason in broken.values())
    assert all(n["reason"] for n in out["diff"]["new"])
    kept = {frozenset(k) for k in out["diff"]["kept"]}
    assert kept | set(broken) == _pairs(before)
    if stability == "keep_untouched":
        assert set(broken) == {frozenset((a, b))}  # nothing else moves
    after = _school(api, fresh)
    assert (after["revision"], after["latest_revision"]) == (1, 1)
    assert _pairs(after) == {frozenset((p["teacher_a"], p["teacher_b"])) for p in out["pairs"]}
    assert after["diff"] == out["diff"]
    assert _pairs(_school(api, fresh, revision=0)) == _pairs(before)  # the run's answer is immutable


def test_balanced_keeps_what_it_can_and_full_is_optimal(api: Api, fresh: dict[str, Any]) -> None:
    before = _school(api, fresh)
    a, b = before["pairs"][0]["teacher_a"], before["pairs"][0]["teacher_b"]
    values = {}
    for i, stability in enumerate(("keep_untouched", "balanced", "full")):
        r = _rematch(api, fresh, {"revision": i, "forbid": [[a, b]], "stability": stability})
        assert r.status_code == 201, r.text
        values[stability] = r.json()["value"]
    # Each is optimal for what it must keep, so loosening never loses value.
    assert values["keep_untouched"] <= values["balanced"] == values["full"]


def test_remove_and_add_teachers_change_the_roster(api: Api, fresh: dict[str, Any]) -> None:
    before = _school(api, fresh)
    leaver = before["pairs"][0]["teacher_a"]
    partner = before["pairs"][0]["teacher_b"]
    newcomer = {"teacher_id": "NEW1", "subject": "math", "grades": "7", "years_experience": 2,
                "scores": {ind: 2 for ind in bundled("team").indicators[:10]}}
    r = _rematch(api, fresh, {"revision": 0, "remove": [leaver], "add": [newcomer], "stability": "keep_untouched"})
    assert r.status_code == 201, r.text
    out = r.json()
    broken = {frozenset((d["teacher_a"], d["teacher_b"])): d["reason"] for d in out["diff"]["broken"]}
    assert broken == {frozenset((leaver, partner)): f"{leaver} left the school"}
    after = _school(api, fresh)
    ids = {t["teacher_id"] for t in after["teachers"]}
    assert leaver not in ids and "NEW1" in ids
    assert leaver not in {x for p in after["pairs"] for x in (p["teacher_a"], p["teacher_b"])}
    # The next re-match starts from the changed roster.
    r = _rematch(api, fresh, {"revision": 1, "stability": "full"})
    assert r.status_code == 201
    assert leaver not in {x for p in r.json()["pairs"] for x in (p["teacher_a"], p["teacher_b"])}
    assert "NEW1" in {t["teacher_id"] for t in _school(api, fresh)["teachers"]}
    assert leaver in {t["teacher_id"] for t in _school(api, fresh, revision=0)["teachers"]}


def _helps(x: dict[str, Any], y: dict[str, Any]) -> bool:
    return any(sx is not None and sy is not None and sx >= 4 and sy < 3
               for sx, sy in zip(x["scores"].values(), y["scores"].values(), strict=True))


def test_keep_forces_a_pair_and_an_impossible_one_says_why(api: Api, fresh: dict[str, Any]) -> None:
    before = _school(api, fresh)
    teachers = [t for t in before["teachers"] if not t["opt_out"]]
    a, b = next((x["teacher_id"], y["teacher_id"]) for x in teachers for y in teachers
                if x["teacher_id"] < y["teacher_id"] and _helps(x, y)
                and frozenset((x["teacher_id"], y["teacher_id"])) not in _pairs(before))
    c, d = next((x["teacher_id"], y["teacher_id"]) for x in teachers for y in teachers
                if x["teacher_id"] < y["teacher_id"] and not _helps(x, y) and not _helps(y, x))
    r = _rematch(api, fresh, {"revision": 0, "keep": [[c, d]]})
    assert r.status_code == 422 and r.json()["error"] == "infeasible"
    assert c in r.json()["message"] and d in r.json()["message"]
    r = _rematch(api, fresh, {"revision": 0, "keep": [[a, b]]})
    assert r.status_code == 201, r.text
    assert frozenset((a, b)) in {frozenset((p["teacher_a"], p["teacher_b"])) for p in r.json()["pairs"]}


def test_bad_requests_are_422_and_store_nothing(api: Api, fresh: dict[str, Any]) -> None:
    before = _school(api, fresh)
    cases = [({"revision": 0, "forbid": [["T000001", "NOBODY"]]}, "forbid"),
             ({"revision": 0, "remove": ["NOBODY"]}, "remove"),
             ({"revision": 0, "forbid": [["X"]]}, "forbid"),
             ({"revision": 0, "stability": "some"}, "stability"),
             ({"revision": -1}, "revision"),
             ({"forbid": []}, "revision"),
             ({"revision": 0, "add": [{"teacher_id": "N", "subject": "x", "grades": "Z9", "years_experience": 1}]},
              "grades"),
             ({"revision": 0, "add": [{"teacher_id": before["teachers"][0]["teacher_id"], "subject": "x",
                                       "grades": "3", "years_experience": 1}]}, "teacher_id"),
             ({"revision": 0, "colour": "blue"}, "colour")]
    for body, column in cases:
        r = _rematch(api, fresh, body)
        assert r.status_code == 422, (body, r.text)
        assert any(column in (p["column"] or "") for p in r.json()["problems"]), (body, r.json())
    assert _school(api, fresh)["latest_revision"] == 0


def test_outdated_revision_is_409_with_the_current_one(api: Api, fresh: dict[str, Any]) -> None:
    before = _school(api, fresh)
    a, b = before["pairs"][0]["teacher_a"], before["pairs"][0]["teacher_b"]
    assert _rematch(api, fresh, {"revision": 0, "forbid": [[a, b]]}).status_code == 201
    r = _rematch(api, fresh, {"revision": 0, "remove": [a]})
    assert r.status_code == 409
    assert r.json()["revision"] == 1 and r.json()["error"] == "conflict"
    assert _rematch(api, fresh, {"revision": 5}).status_code == 409
    assert _school(api, fresh)["latest_revision"] == 1


def test_history_and_audit_record_every_request(api: Api, fresh: dict[str, Any]) -> None:
    before = _school(api, fresh)
    a, b = before["pairs"][0]["teacher_a"], before["pairs"][0]["teacher_b"]
    assert _rematch(api, fresh, {"revision": 0, "forbid": [[a, b]], "note": "they co-teach already"}).status_code == 201
    assert _rematch(api, fresh, {"revision": 0, "remove": [a]}).status_code == 409
    assert _rematch(api, fresh, {"revision": 1, "stability": "full"}, who="state").status_code == 201
    hist = api.client.get(f"/v1/pairings/{fresh['id']}/schools/{SCHOOL}/revisions", headers=api.headers("state"))
    revs = hist.json()["revisions"]
    assert [r["revision"] for r in revs] == [0, 1, 2]
    principal_id = api.keys["principal2"].split("_")[1]
    state_id = api.keys["state"].split("_")[1]
    assert [r["created_by"] for r in revs] == [state_id, principal_id, state_id]
    assert revs[1]["request"]["note"] == "they co-teach already" and revs[1]["request"]["forbid"] == [[a, b]]
    assert revs[0]["request"] is None and revs[0]["diff"] is None
    assert revs[0]["created_at"] <= revs[1]["created_at"] <= revs[2]["created_at"]
    log = api.client.get("/v1/audit", params={"target": f"pairing/{fresh['id']}/school/{SCHOOL}"},
                         headers=api.headers("state")).json()["entries"]
    assert [(e["status"], e["key_id"]) for e in reversed(log)] == [(201, principal_id), (409, principal_id),
                                                                   (201, state_id)]
    assert log[1]["detail"]["request"]["remove"] == [a]


def test_export_is_immutable_unless_current_is_asked(api: Api, fresh: dict[str, Any]) -> None:
    h = api.headers("state")
    original = api.client.get(f"/v1/pairings/{fresh['id']}/pairs.csv", headers=h).content
    before = _school(api, fresh)
    a, b = before["pairs"][0]["teacher_a"], before["pairs"][0]["teacher_b"]
    assert _rematch(api, fresh, {"revision": 0, "forbid": [[a, b]]}).status_code == 201
    assert api.client.get(f"/v1/pairings/{fresh['id']}/pairs.csv", headers=h).content == original
    now = api.client.get(f"/v1/pairings/{fresh['id']}/pairs.csv", params={"current": "true"}, headers=h).text
    rows = [line.split(",")[:3] for line in now.splitlines()[1:]]
    assert [SCHOOL, *sorted((a, b))] not in [r[:1] + sorted(r[1:3]) for r in rows]
    assert len(rows) == len(original.decode().splitlines()) - 1 - 1 + sum(
        1 for _ in _school(api, fresh)["diff"]["new"])


def test_cross_school_pairs_are_held(api: Api) -> None:
    with (SAMPLES / "teachers.csv").open("rb") as t, (SAMPLES / "schools.csv").open("rb") as s:
        ds = api.client.post("/v1/datasets", files={"file": ("teachers.csv", t), "schools": ("schools.csv", s)},
                             headers=api.headers("state")).json()
    run = api.run(ds["id"], {"cross_school_fallback": True})
    rows = api.client.get(f"/v1/pairings/{run['id']}/schools", headers=api.headers("state")).json()["schools"]
    for row in rows:
        view = _school(api, run, row["school_id"])
        cross = [p for p in view["pairs"] if p["school_b"] and p["school_b"] != p["school_id"]]
        if not cross:
            continue
        p = cross[0]
        r = _rematch(api, run, {"revision": 0, "forbid": [[p["teacher_a"], p["teacher_b"]]]}, row["school_id"],
                     who="state")
        assert r.status_code == 422 and "across schools" in r.json()["problems"][0]["message"]
        r = _rematch(api, run, {"revision": 0, "stability": "full"}, row["school_id"], who="state")
        assert r.status_code == 201
        assert frozenset((p["teacher_a"], p["teacher_b"])) in {frozenset((q["teacher_a"], q["teacher_b"]))
                                                               for q in r.json()["pairs"]}
        ids = [x for q in r.json()["pairs"] for x in (q["teacher_a"], q["teacher_b"])]
        assert len(ids) == len(set(ids))  # no teacher twice
        return
    raise AssertionError("the sample with the fallback made no cross-school pair")


def test_rematch_of_an_unchanged_school_changes_nothing(api: Api, fresh: dict[str, Any]) -> None:
    before = _school(api, fresh)
    r = _rematch(api, fresh, {"revision": 0})
    assert r.status_code == 201
    assert r.json()["diff"]["broken"] == [] and r.json()["diff"]["new"] == []
    assert _pairs(r.json()) == _pairs(before)
    assert np.isclose(r.json()["value"], before["value"])
