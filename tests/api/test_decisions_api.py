"""Principals' decisions that last, over HTTP on SQLite and PostgreSQL: a run started from an earlier one
(previous_pairing_id) carries the principals' refused pairs, kept pairs and removed teachers, lists each in its
summary with the date and the key's label, and shows each principal their own school's decisions only."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from matcher.rubric import bundled
from matcher.store.db import open_engine
from matcher.store.keys import create_key

from .conftest import Api

LINCOLN, HOLSTON = "Principal, Lincoln Elementary", "Principal, Holston Station"
FIRST = ["Ana", "Ben", "Cara", "Dev", "Eli", "Fay", "Gil", "Hana", "Ivo", "Jun", "Kim", "Lea", "Max", "Nia"]
LAST = ["Diaz", "Ng", "Okafor", "Patel", "Quinn", "Rossi", "Sato", "Tran", "Udall", "Vega", "Wu", "Xu", "Yates"]


@pytest.fixture(scope="module")
def who(api: Api) -> Api:
    """The module's api with two labelled principal keys: lincoln (S0001) and holston (S0002)."""
    if "lincoln" not in api.keys:
        engine = open_engine(api.db.url)
        api.keys["lincoln"] = create_key(engine, "principal", ["S0001"], label=LINCOLN)
        api.keys["holston"] = create_key(engine, "principal", ["S0002"], label=HOLSTON)
        engine.dispose()
    return api


def school_rows(seed: int, school: str, n: int, start: int) -> list[dict[str, Any]]:
    """n named teachers of one school with random TEAM scores (many refinement and reinforcement areas)."""
    rng = np.random.default_rng(seed)
    inds = bundled("team").indicators
    rows = []
    for i in range(n):
        k = start + i
        scores = {ind: float(rng.choice([1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5])) for ind in inds if rng.random() < 0.6}
        rows.append({"teacher_id": f"T{k:04d}", "school_id": school, "teacher_name": f"{FIRST[k % 14]} {LAST[k % 13]}",
                     "subject": str(rng.choice(["math", "english"])), "grades": str(rng.integers(1, 6)),
                     "years_experience": int(rng.integers(0, 30)), "scores": scores})
    return rows


def district(seed: int) -> list[dict[str, Any]]:
    return school_rows(seed, "S0001", 8, 0) + school_rows(seed + 100, "S0002", 6, 20)


def upload(api: Api, rows: list[dict[str, Any]]) -> str:
    r = api.client.post("/v1/datasets", json={"rows": rows, "name": "decisions"}, headers=api.headers("state"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def run(api: Api, dataset: str, policy: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    out = api.run(dataset, policy or {}, **extra)
    assert out["status"] == "succeeded", out
    return out


def view(api: Api, run_id: str, school: str, who: str = "state", **q: Any) -> dict[str, Any]:
    r = api.client.get(f"/v1/pairings/{run_id}/schools/{school}", params=q, headers=api.headers(who))
    assert r.status_code == 200, r.text
    return r.json()


def rematch(api: Api, run_id: str, school: str, body: dict[str, Any], who: str) -> dict[str, Any]:
    r = api.client.post(f"/v1/pairings/{run_id}/schools/{school}/rematch", json=body, headers=api.headers(who))
    assert r.status_code == 201, r.text
    return r.json()


def pairs(v: dict[str, Any]) -> set[frozenset[str]]:
    return {frozenset((p["teacher_a"], p["teacher_b"])) for p in v["pairs"]}


def history(api: Api, run_id: str, school: str, who: str = "state") -> list[dict[str, Any]]:
    r = api.client.get(f"/v1/pairings/{run_id}/schools/{school}/revisions", headers=api.headers(who))
    assert r.status_code == 200, r.text
    return r.json()["revisions"]


def helps(rows: list[dict[str, Any]], a: str, b: str) -> bool:
    by = {r["teacher_id"]: r["scores"] for r in rows}
    return any(by[a].get(i, 0) >= 4 and 0 < by[b].get(i, 9) < 3 or by[b].get(i, 0) >= 4 and 0 < by[a].get(i, 9) < 3
               for i in set(by[a]) & set(by[b]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_refused_pair_never_comes_back(who: Api, seed: int) -> None:
    rows = district(seed)
    run1 = run(who, upload(who, rows))
    best = max(view(who, run1["id"], "S0001", "lincoln")["pairs"], key=lambda p: (p["value"], p["teacher_a"]))
    refused = [best["teacher_a"], best["teacher_b"]]
    rematch(who, run1["id"], "S0001", {"revision": 0, "forbid": [refused]}, "lincoln")
    made_at = history(who, run1["id"], "S0001")[1]["created_at"].replace("Z", "+00:00")
    # The September data: the same teachers and scores, so the refused pair is in the optimum again.
    ds2 = upload(who, rows)
    assert frozenset(refused) in pairs(view(who, run(who, ds2)["id"], "S0001"))
    for stability in ("keep_untouched", "balanced", "full"):
        run2 = run(who, ds2, {"previous_stability": stability}, previous_pairing_id=run1["id"])
        assert frozenset(refused) not in pairs(view(who, run2["id"], "S0001")), stability
        assert run2["summary"]["carried"] == [{
            "school_id": "S0001", "kind": "refused", "teacher_ids": refused,
            "teacher_names": [best["teacher_a_name"], best["teacher_b_name"]], "made_at": made_at,
            "made_by": LINCOLN, "pairing_id": run1["id"], "revision": 1, "held": True, "reason": ""}]
    # Nor in a re-match of the new run that suggests the whole school again, nor in the run after that.
    out = rematch(who, run2["id"], "S0001", {"revision": 0, "stability": "full"}, "lincoln")
    assert frozenset(refused) not in {frozenset((p["teacher_a"], p["teacher_b"])) for p in out["pairs"]}
    run3 = run(who, ds2, {"previous_stability": "full"}, previous_pairing_id=run2["id"])
    assert frozenset(refused) not in pairs(view(who, run3["id"], "S0001"))
    assert [(d["kind"], d["pairing_id"], d["made_at"]) for d in run3["summary"]["carried"]] == \
        [("refused", run1["id"], made_at)]
    # Not carried when asked not to: the fresh optimum has it again.
    run4 = run(who, ds2, {"previous_stability": "full"}, previous_pairing_id=run1["id"], carry_decisions=False)
    assert frozenset(refused) in pairs(view(who, run4["id"], "S0001"))
    assert "carried" not in run4["summary"] and view(who, run4["id"], "S0001", "lincoln")["carried"] == []


def test_a_refusal_stays_within_later_rematches_of_the_same_run(who: Api) -> None:
    run1 = run(who, upload(who, district(7)))
    best = max(view(who, run1["id"], "S0001")["pairs"], key=lambda p: (p["value"], p["teacher_a"]))
    refused = frozenset((best["teacher_a"], best["teacher_b"]))
    rematch(who, run1["id"], "S0001", {"revision": 0, "forbid": [sorted(refused)]}, "lincoln")
    out = rematch(who, run1["id"], "S0001", {"revision": 1, "stability": "full"}, "lincoln")
    assert refused not in {frozenset((p["teacher_a"], p["teacher_b"])) for p in out["pairs"]}
    # Keeping it lifts the refusal.
    out = rematch(who, run1["id"], "S0001", {"revision": 2, "keep": [sorted(refused)]}, "lincoln")
    assert refused in {frozenset((p["teacher_a"], p["teacher_b"])) for p in out["pairs"]}


def test_a_kept_pair_stays_while_allowed(who: Api) -> None:
    rows = district(11)
    run1 = run(who, upload(who, rows))
    v = view(who, run1["id"], "S0001")
    ids = [t["teacher_id"] for t in v["teachers"]]
    # A pair the optimum does not make: the principal keeps it anyway.
    a, b = next((x, y) for x in ids for y in ids if x < y and helps(rows, x, y)
                and frozenset((x, y)) not in pairs(v))
    rematch(who, run1["id"], "S0001", {"revision": 0, "keep": [[a, b]]}, "lincoln")
    ds2 = upload(who, rows)
    run2 = run(who, ds2, {"previous_stability": "full"}, previous_pairing_id=run1["id"])
    assert frozenset((a, b)) in pairs(view(who, run2["id"], "S0001"))
    assert [(d["kind"], d["teacher_ids"], d["held"]) for d in run2["summary"]["carried"]] == [("kept", [a, b], True)]
    off = run(who, ds2, {"previous_stability": "full"}, previous_pairing_id=run1["id"], carry_decisions=False)
    assert frozenset((a, b)) not in pairs(view(who, off["id"], "S0001"))
    # b moves to S0002: the pair cannot stay, and the summary says why.
    moved = [{**r, "school_id": "S0002"} if r["teacher_id"] == b else r for r in rows]
    run3 = run(who, upload(who, moved), previous_pairing_id=run1["id"])
    name = next(r["teacher_name"] for r in rows if r["teacher_id"] == b)
    assert [(d["kind"], d["held"], d["reason"]) for d in run3["summary"]["carried"]] == \
        [("kept", False, f"{name} is no longer in this school")]


def test_a_removed_teacher_stays_out_while_listed_in_the_same_school(who: Api) -> None:
    rows = district(5)
    run1 = run(who, upload(who, rows))
    gone = view(who, run1["id"], "S0001")["pairs"][0]["teacher_a"]
    rematch(who, run1["id"], "S0001", {"revision": 0, "remove": [gone], "note": "left in June"}, "lincoln")
    run2 = run(who, upload(who, rows), previous_pairing_id=run1["id"])
    v = view(who, run2["id"], "S0001", "lincoln")
    assert gone not in {t["teacher_id"] for t in v["teachers"]}
    assert gone not in {x for p in v["pairs"] for x in (p["teacher_a"], p["teacher_b"])}
    assert gone not in {u["teacher_id"] for u in v["unmatched"]}
    assert [(d["kind"], d["teacher_ids"], d["held"]) for d in v["carried"]] == [("removed", [gone], True)]
    # The school's re-matches start from that roster too.
    out = rematch(who, run2["id"], "S0001", {"revision": 0, "stability": "full"}, "lincoln")
    assert gone not in {x for p in out["pairs"] for x in (p["teacher_a"], p["teacher_b"])}
    # Listed at another school in the next data: back in the pairing there, and S0001's principal is told.
    moved = [{**r, "school_id": "S0002"} if r["teacher_id"] == gone else r for r in rows]
    run3 = run(who, upload(who, moved), previous_pairing_id=run1["id"])
    assert gone in {t["teacher_id"] for t in view(who, run3["id"], "S0002")["teachers"]}
    assert [(d["held"], d["reason"]) for d in view(who, run3["id"], "S0001", "lincoln")["carried"]] == \
        [(False, "the new teacher data lists this teacher at another school")]
    assert view(who, run3["id"], "S0002", "holston")["carried"] == []


def test_an_undone_decision_is_not_carried(who: Api) -> None:
    rows = district(9)
    run1 = run(who, upload(who, rows))
    v = view(who, run1["id"], "S0001")
    p, q = v["pairs"][0], v["pairs"][1]
    a, b = p["teacher_a"], p["teacher_b"]
    rematch(who, run1["id"], "S0001", {"revision": 0, "forbid": [[a, b]], "remove": [q["teacher_a"]]}, "lincoln")
    back = next(r for r in rows if r["teacher_id"] == q["teacher_a"])
    rematch(who, run1["id"], "S0001", {"revision": 1, "keep": [[a, b]], "add": [{k: v for k, v in back.items()
                                                                              if k != "school_id"}]}, "lincoln")
    run2 = run(who, upload(who, rows), previous_pairing_id=run1["id"])
    assert [(d["kind"], d["teacher_ids"], d["revision"]) for d in run2["summary"]["carried"]] == \
        [("kept", [a, b], 2)]
    assert q["teacher_a"] in {t["teacher_id"] for t in view(who, run2["id"], "S0001")["teachers"]}


def test_each_principal_sees_only_their_own_schools_decisions(who: Api) -> None:
    rows = district(13)
    run1 = run(who, upload(who, rows))
    mine = view(who, run1["id"], "S0001", "lincoln")["pairs"][0]
    theirs = view(who, run1["id"], "S0002", "holston")["pairs"][0]
    rematch(who, run1["id"], "S0001", {"revision": 0, "forbid": [[mine["teacher_a"], mine["teacher_b"]]]}, "lincoln")
    rematch(who, run1["id"], "S0002", {"revision": 0, "forbid": [[theirs["teacher_a"], theirs["teacher_b"]]]},
            "holston")
    run2 = run(who, upload(who, rows), previous_pairing_id=run1["id"])
    assert {(d["school_id"], d["made_by"]) for d in run2["summary"]["carried"]} == {("S0001", LINCOLN),
                                                                                    ("S0002", HOLSTON)}
    for key, school, other in (("lincoln", "S0001", theirs), ("holston", "S0002", mine)):
        r = who.client.get(f"/v1/pairings/{run2['id']}/schools/{school}", headers=who.headers(key))
        assert [d["school_id"] for d in r.json()["carried"]] == [school]
        # Nothing of the other school's decision, not even a name.
        assert other["teacher_a_name"] not in r.text and other["teacher_b_name"] not in r.text
        assert other["teacher_a"] not in r.text and other["teacher_b"] not in r.text
        run_as_principal = who.client.get(f"/v1/pairings/{run2['id']}", headers=who.headers(key)).json()
        assert run_as_principal["summary"] is None and "do_not_pair" not in run_as_principal["policy"]
    assert who.client.get(f"/v1/pairings/{run2['id']}/schools/S0002", headers=who.headers("lincoln")).status_code \
        == 403


def test_principals_open_earlier_runs_and_revisions_and_read_who_asked_by_label(who: Api) -> None:
    rows = district(17)
    run1 = run(who, upload(who, rows))
    first = view(who, run1["id"], "S0001", "lincoln")
    rematch(who, run1["id"], "S0001", {"revision": 0, "forbid": [[first["pairs"][0]["teacher_a"],
                                                                  first["pairs"][0]["teacher_b"]]]}, "lincoln")
    run2 = run(who, upload(who, rows), previous_pairing_id=run1["id"])
    listed = who.client.get("/v1/pairings", headers=who.headers("lincoln")).json()["pairings"]
    assert {run1["id"], run2["id"]} <= {r["id"] for r in listed}
    assert {r["created_by"] for r in listed} == {None}  # a principal never sees a key's id
    assert pairs(view(who, run1["id"], "S0001", "lincoln", revision=0)) == pairs(first)
    assert view(who, run1["id"], "S0001", "lincoln")["revision"] == 1
    revs = history(who, run1["id"], "S0001", "lincoln")
    assert [(r["created_by"], r["created_by_label"]) for r in revs] == [(None, "state office"), (None, LINCOLN)]
    key_id = who.keys["lincoln"].split("_")[1]
    assert key_id not in str(revs)
    state = history(who, run1["id"], "S0001")
    assert [r["created_by"] for r in state][1] == key_id and state[1]["created_by_label"] == LINCOLN


def test_carrying_needs_a_previous_run(who: Api) -> None:
    ds = upload(who, district(3))
    r = who.start(ds, {}, carry_decisions=True)
    assert r.status_code == 422 and r.json()["problems"][0]["column"] == "carry_decisions"
    r = who.start(ds, {}, carry_decisions=False)
    assert r.status_code == 202
    assert who.wait(r.json()["id"])["status"] == "succeeded"


def test_refusing_a_pair_and_removing_one_of_its_teachers_at_once(who: Api) -> None:
    rows = district(19)
    run1 = run(who, upload(who, rows))
    p = view(who, run1["id"], "S0001")["pairs"][0]
    a, b = p["teacher_a"], p["teacher_b"]
    out = rematch(who, run1["id"], "S0001", {"revision": 0, "forbid": [[a, b]], "remove": [a]}, "lincoln")
    assert [(d["teacher_a"], d["teacher_b"], d["reason"]) for d in out["diff"]["broken"]] == \
        [(a, b, f"{p['teacher_a_name']} left the school")]
    # Both carry: a stays out while listed here, and should a come back, the pair stays refused.
    ds = upload(who, rows)
    run2 = run(who, ds, previous_pairing_id=run1["id"])
    assert [(d["kind"], d["held"]) for d in run2["summary"]["carried"]] == [("refused", True), ("removed", True)]
    back = next({k: v for k, v in r.items() if k != "school_id"} for r in rows if r["teacher_id"] == a)
    out = rematch(who, run2["id"], "S0001", {"revision": 0, "add": [back], "stability": "full"}, "lincoln")
    assert frozenset((a, b)) not in {frozenset((q["teacher_a"], q["teacher_b"])) for q in out["pairs"]}
    run3 = run(who, ds, {"previous_stability": "full"}, previous_pairing_id=run2["id"])
    assert [(d["kind"], d["teacher_ids"], d["held"]) for d in run3["summary"]["carried"]] == [("refused", [a, b], True)]
    assert frozenset((a, b)) not in pairs(view(who, run3["id"], "S0001"))


def test_the_rematch_default_keeps_every_pair_the_request_leaves_alone(who: Api) -> None:
    run1 = run(who, upload(who, district(23)))
    before = view(who, run1["id"], "S0001")
    p = max(before["pairs"], key=lambda q: (q["value"], q["teacher_a"]))
    out = rematch(who, run1["id"], "S0001", {"revision": 0, "forbid": [[p["teacher_a"], p["teacher_b"]]]}, "lincoln")
    assert [(d["teacher_a"], d["teacher_b"]) for d in out["diff"]["broken"]] == [(p["teacher_a"], p["teacher_b"])]
    assert {frozenset(k) for k in out["diff"]["kept"]} == pairs(before) - {frozenset((p["teacher_a"], p["teacher_b"]))}
    assert history(who, run1["id"], "S0001")[1]["request"]["stability"] == "keep_untouched"
