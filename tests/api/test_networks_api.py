"""School networks over HTTP: the CLI's networks, stored as revisions; re-forming one network keeps the others;
an outdated revision gets 409; only state keys change them (who reads what: test_network_access.py); every school
named beside its id, also in revisions stored before names were."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sqlalchemy import update

from matcher.cli import main as cli
from matcher.store.db import open_engine
from matcher.store.tables import network_revisions

from .conftest import SAMPLES, Api

with (SAMPLES / "schools.csv").open(newline="", encoding="utf-8") as _fh:
    NAMES = {r["school_id"]: r["name"] for r in csv.DictReader(_fh)}


def _create(api: Api, policy: dict[str, Any] | None = None, who: str = "state", path: Path = SAMPLES / "schools.csv"):
    with path.open("rb") as fh:
        return api.client.post("/v1/networks", files={"file": (path.name, fh, "text/csv")},
                               data={"policy": json.dumps(policy or {})}, headers=api.headers(who))


def test_networks_match_the_cli(api: Api, tmp_path: Path) -> None:
    r = _create(api, {"shape": "triad"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["revision"] == body["latest_revision"] == 0 and body["summary"]["optimal"] is True
    assert cli(["networks", str(SAMPLES / "schools.csv"), "--out", str(tmp_path / "n")]) == 0
    with (tmp_path / "n" / "networks.csv").open() as fh:
        cli_rows = {(r["network_id"], r["school_id"], r["school_name"], r["role"], r["explanation"])
                    for r in csv.DictReader(fh)}
    api_rows = {(n["network_id"], s["school_id"], s["school_name"], s["role"], s["explanation"])
                for n in body["networks"] for s in n["schools"]}
    assert api_rows == cli_rows
    _assert_named(body)
    assert body["summary"]["objective"] == json.loads((tmp_path / "n" / "summary.json").read_text())["objective"]
    assert set(body["left_out"]) | {s for n in body["networks"] for s in [n["leader"], *n["members"]]} == \
        {f"S{i:04d}" for i in range(1, 15)}


def _assert_named(body: dict[str, Any]) -> None:
    """Every school of the answer carries the schools file's name: in its network, as a leader, and in the map of
    every school (those left out included)."""
    for n in body["networks"]:
        assert n["leader_name"] == NAMES[n["leader"]]
        assert {s["school_id"]: s["school_name"] for s in n["schools"]} == {
            s: NAMES[s] for s in [n["leader"], *n["members"]]}
    assert body["school_names"] == NAMES


def test_rematch_one_network_keeps_the_others(api: Api) -> None:
    body = _create(api, {"shape": "pair"}).json()
    target = body["networks"][0]
    others = {n["network_id"]: n for n in body["networks"][1:]}
    r = api.client.post(f"/v1/networks/{body['id']}/rematch", headers=api.headers("state"),
                        json={"revision": 0, "network_id": target["network_id"], "remove": [target["members"][0]],
                              "note": "closing"})
    assert r.status_code == 201, r.text
    after = r.json()
    assert after["revision"] == 1
    now = {n["network_id"]: n for n in after["networks"]}
    for nid, n in others.items():
        assert now[nid]["leader"] == n["leader"] and now[nid]["members"] == n["members"]
    assert target["members"][0] in after["left_out"]
    assert "left the network" in after["left_out"][target["members"][0]]
    _assert_named(after)  # the re-formed network and the school that left keep their names
    re_formed = [n for n in after["networks"] if n["network_id"] not in others]
    assert all(f"{NAMES[n['leader']]} ({n['leader']})" in s["explanation"] for n in re_formed for s in n["schools"]
               if s["role"] == "partner")
    placed = [s for n in after["networks"] for s in [n["leader"], *n["members"]]]
    assert len(placed) == len(set(placed))
    stale = api.client.post(f"/v1/networks/{body['id']}/rematch", headers=api.headers("state"),
                            json={"revision": 0, "network_id": target["network_id"]})
    assert stale.status_code == 409 and stale.json()["revision"] == 1
    first = api.client.get(f"/v1/networks/{body['id']}", params={"revision": 0}, headers=api.headers("state"))
    assert first.json()["networks"] == body["networks"]  # revision 0 unchanged
    bad = api.client.post(f"/v1/networks/{body['id']}/rematch", headers=api.headers("state"),
                          json={"revision": 1, "network_id": "N999", "remove": ["NOPE"]})
    assert bad.status_code == 422
    assert {p["column"] for p in bad.json()["problems"]} == {"network_id", "remove"}


def test_bad_files_policies_and_roles(api: Api, tmp_path: Path) -> None:
    path = tmp_path / "schools.csv"
    path.write_text("school_id,name,district_id,level,grade_min,grade_max,latitude,longitude,role,strengths,needs\n"
                    "A,a,D1,elementary,K,5,36.1,-86.1,host,,rigorous_instruction\n")
    r = _create(api, path=path)
    assert r.status_code == 422
    assert r.json()["problems"][0] | {} == {"file": "schools.csv", "row": 2, "column": "strengths", "value": "",
                                           "message": r.json()["problems"][0]["message"]}
    r = _create(api, {"min_partners": 5, "max_partners": 2})
    assert r.status_code == 422 and r.json()["problems"][0]["column"] == "min_partners"
    with (SAMPLES / "schools.csv").open("rb") as fh:
        r = api.client.post("/v1/networks", files={"file": ("s.csv", fh)}, data={"policy": "{nope"},
                            headers=api.headers("state"))
    assert r.status_code == 422 and r.json()["problems"][0]["column"] == "policy"
    for who in ("principal", "researcher"):
        assert _create(api, who=who).status_code == 403
    made = _create(api).json()
    # Reading is scoped, not refused (tests/api/test_network_access.py): a principal key reads what holds its school.
    assert api.client.get(f"/v1/networks/{made['id']}", headers=api.headers("researcher")).status_code == 403
    mine = api.client.get(f"/v1/networks/{made['id']}", headers=api.headers("principal"))
    assert mine.status_code == 200 and set(mine.json()["school_names"]) >= {"S0001"}
    assert api.client.get(f"/v1/networks/{made['id']}").status_code == 401
    assert api.client.get("/v1/networks/nope", headers=api.headers("state")).status_code == 404


def test_a_revision_stored_without_names_is_still_served(api: Api) -> None:
    """Revisions stored before names were kept (no school_name, no leader_name) answer 200 with the names from
    the run's schools file, and can be re-matched."""
    body = _create(api, {"shape": "pair"}).json()
    old = [{k: v for k, v in n.items() if k != "leader_name"}
           | {"schools": [{k: v for k, v in s.items() if k != "school_name"} for s in n["schools"]]}
           for n in body["networks"]]
    engine = open_engine(api.db.url)
    try:
        with engine.begin() as conn:
            conn.execute(update(network_revisions).where(network_revisions.c.run_id == body["id"])
                         .values(networks=old))
    finally:
        engine.dispose()
    r = api.client.get(f"/v1/networks/{body['id']}", headers=api.headers("state"))
    assert r.status_code == 200, r.text
    _assert_named(r.json())
    assert [s["explanation"] for n in r.json()["networks"] for s in n["schools"]] == [
        s["explanation"] for n in body["networks"] for s in n["schools"]]
    again = api.client.post(f"/v1/networks/{body['id']}/rematch", headers=api.headers("state"),
                            json={"revision": 0, "network_id": body["networks"][0]["network_id"]})
    assert again.status_code == 201, again.text
    _assert_named(again.json())
