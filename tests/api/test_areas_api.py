"""Policy areas over the API: designated areas travel from JSON rows and uploaded files through the stored rosters to
the run, which gives the library's answer; a dataset without the columns fails its designated run with a clear
problem."""

from __future__ import annotations

from typing import Any

from matcher.pairing.engine import pair_teachers
from matcher.policy import Policy
from matcher.rubric import bundled
from matcher.service.datasets import read_rows

from .conftest import SAMPLES, Api

ROWS = [{"teacher_id": t, "school_id": "S0001", "subject": "math", "grades": "5", "years_experience": y,
         "scores": {"questioning": q, "thinking": th, "academic_feedback": fb},
         "reinforcement_areas": ra, "refinement_areas": fa}
        for t, y, q, th, fb, ra, fa in (
            ("A1", 4, 2, 4, None, ["Thinking"], ["Questioning"]),
            ("A2", 12, 4.5, 2, 3, "questioning; Academic Feedback", "thinking"),
            ("A3", 20, 3, 3, 2, [], ["academic_feedback"]),
            ("A4", 7, 3, 3, None, ["Academic Feedback"], None))]


def _pairs(run: dict[str, Any], api: Api) -> set[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    body = api.client.get(f"/v1/pairings/{run['id']}/schools/S0001", headers=api.headers("state")).json()
    return {(p["teacher_a"], p["teacher_b"], tuple(p["a_helps_b"]), tuple(p["b_helps_a"])) for p in body["pairs"]}


def test_designated_areas_from_json_rows(api: Api) -> None:
    r = api.client.post("/v1/datasets", json={"rows": ROWS, "name": "areas"}, headers=api.headers("state"))
    assert r.status_code == 201, r.text
    run = api.run(r.json()["id"], {"areas": "designated"})
    assert run["status"] == "succeeded", run
    expected = pair_teachers(read_rows(ROWS, bundled("team")), Policy(areas="designated"))
    assert _pairs(run, api) == {(p.teacher_a, p.teacher_b, p.a_helps_b, p.b_helps_a) for p in expected.pairs}
    assert run["summary"]["total_value"] == expected.summary["total_value"] > 0
    # A1 and A2 support each other (thinking 4 vs 2, questioning 4.5 vs 2); A4 supports A3 in academic feedback
    # on the designation alone (A4 has no score there).
    assert ("A1", "A2", ("thinking",), ("questioning",)) in _pairs(run, api)
    assert ("A3", "A4", (), ("academic_feedback",)) in _pairs(run, api)


def test_designated_run_on_a_dataset_without_the_columns_fails_clearly(api: Api) -> None:
    ds = api.upload(SAMPLES / "teachers.csv")
    assert ds.status_code == 201, ds.text
    run = api.run(ds.json()["id"], {"areas": "designated"})
    assert run["status"] == "failed" and run["error"]["type"] == "input"
    (problem,) = run["error"]["problems"]
    assert "reinforcement_areas" in problem["message"] and "neither" in problem["message"]
    relative = api.run(ds.json()["id"], {"areas": "relative", "areas_per_teacher": 2, "min_gap": 1.5})
    assert relative["status"] == "succeeded", relative
    assert relative["summary"]["policy"]["areas"] == "relative"


def test_the_school_view_lists_each_teachers_areas_under_the_runs_policy(api: Api) -> None:
    r = api.client.post("/v1/datasets", json={"rows": ROWS, "name": "areas"}, headers=api.headers("state"))
    ds = r.json()["id"]
    for policy, rule in (({"areas": "designated"}, "named after their observations"),
                         ({"areas": "relative", "areas_per_teacher": 1}, "their 1 lowest-scored indicators"),
                         ({}, "a refinement area is a score below 3")):
        run = api.run(ds, policy)
        body = api.client.get(f"/v1/pairings/{run['id']}/schools/S0001", headers=api.headers("state")).json()
        assert rule in body["areas_rule"]
        areas = {t["teacher_id"]: (t["refinement_areas"], t["reinforcement_areas"]) for t in body["teachers"]}
        if policy.get("areas") == "designated":
            assert areas["A1"] == (["questioning"], ["thinking"])
            assert areas["A2"] == (["thinking"], ["questioning", "academic_feedback"])
        elif policy:  # relative, k = 1: A2 scored questioning 4.5, thinking 2, academic feedback 3
            assert areas["A2"] == (["thinking"], ["questioning"])
        else:  # thresholds: below 3 and 4 or above
            assert areas["A2"] == (["thinking"], ["questioning"])
            assert areas["A3"] == (["academic_feedback"], [])
