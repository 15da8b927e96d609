"""School networks over HTTP: the CLI's networks, stored as revisions; re-forming one network keeps the others;
an outdated revision gets 409; only state keys."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from matcher.cli import main as cli

from .conftest import SAMPLES, Api


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
        cli_rows = {(r["network_id"], r["school_id"], r["role"], r["explanation"]) for r in csv.DictReader(fh)}
    api_rows = {(n["network_id"], s["school_id"], s["role"], s["explanation"]) for n in body["networks"]
                for s in n["schools"]}
    assert api_rows == cli_rows
    assert body["summary"]["objective"] == json.loads((tmp_path / "n" / "summary.json").read_text())["objective"]
    assert set(body["left_out"]) | {s for n in body["networks"] for s in [n["leader"], *n["members"]]} == \
        {f"S{i:04d}" for i in range(1, 15)}


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
    assert api.client.get(f"/v1/networks/{made['id']}", headers=api.headers("principal")).status_code == 403
    assert api.client.get(f"/v1/networks/{made['id']}").status_code == 401
    assert api.client.get("/v1/networks/nope", headers=api.headers("state")).status_code == 404
