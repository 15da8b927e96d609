"""Everyone in a school network sees it, and nothing more, over HTTP on SQLite and PostgreSQL: a principal key
reads the networks holding one of its schools (every partner named) and the reason its own left-out school was left
out; a facilitator key the networks assigned to it; the JSON, networks.csv and pages alike never name a school of
another network. Facilitators are assigned by the state office into a new revision (409 when outdated, 422 on a
bad file) and assigned again when a network is re-formed. Hostile ids are 404, never a server error."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from typing import Any

import pytest
from sqlalchemy import text, update

from matcher.store.db import open_engine, upgrade
from matcher.store.keys import caller_for, create_key, hash_key, list_keys, revoke_key
from matcher.store.tables import network_runs

from .conftest import BACKENDS, SAMPLES, Api

with (SAMPLES / "schools.csv").open(newline="", encoding="utf-8") as _fh:
    SCHOOLS = {r["school_id"]: r for r in csv.DictReader(_fh)}
NAMES = {s: r["name"] for s, r in SCHOOLS.items()}
POLICY = {"shape": "triad", "avoid": [["S0011", "S0013"]]}


def _create(api: Api, policy: dict[str, Any] | None = None) -> dict[str, Any]:
    with (SAMPLES / "schools.csv").open("rb") as fh:
        r = api.client.post("/v1/networks", files={"file": ("schools.csv", fh, "text/csv")},
                            data={"policy": json.dumps(policy or {"shape": "triad"})}, headers=api.headers("state"))
    assert r.status_code == 201, r.text
    return r.json()


def _key(api: Api, role: str, schools: tuple[str, ...] = (), facilitators: tuple[str, ...] = ()) -> dict[str, str]:
    engine = open_engine(api.db.url)
    try:
        key = create_key(engine, role, list(schools), label=f"{role} test", facilitators=list(facilitators))
    finally:
        engine.dispose()
    return {"Authorization": f"Bearer {key}"}


def _facilitators_csv(body: dict[str, Any], caseload: int | str = 2, rows: int = 2) -> str:
    """F1 at the first network's host, F2 at the last one's (names beside), each with the given caseload."""
    hosts = [body["networks"][0]["leader"], body["networks"][-1]["leader"]]
    lines = ["facilitator_id,name,latitude,longitude,caseload"]
    for k in range(rows):
        s = SCHOOLS[hosts[k % 2]]
        lines.append(f"F{k + 1},Facilitator {k + 1},{s['latitude']},{s['longitude']},{caseload}")
    return "\n".join(lines) + "\n"


def _assign(api: Api, run: str, revision: Any, content: str, **form: Any) -> Any:
    data = {"revision": str(revision), **{k: str(v) for k, v in form.items()}}
    return api.client.post(f"/v1/networks/{run}/facilitators", headers=api.headers("state"), data=data,
                           files={"file": ("facilitators.csv", content.encode(), "text/csv")})


def _get(api: Api, path: str, headers: dict[str, str], **params: Any) -> Any:
    return api.client.get(path, headers=headers, params=params)


def _names_nothing_of(text_: str, schools: set[str]) -> None:
    """No id or name of the given schools anywhere in the text."""
    for s in schools:
        assert not re.search(rf"\b{re.escape(s)}\b", text_), s
        assert NAMES[s] not in text_, NAMES[s]


def _members(n: dict[str, Any]) -> set[str]:
    return {n["leader"], *n["members"]}


@pytest.fixture(scope="module")
def base(api: Api) -> dict[str, Any]:
    """A triad run (with an avoid pair in its policy), read-only for the tests."""
    return _create(api, POLICY)


def test_a_host_and_a_partner_see_their_network_with_every_partner_named(api: Api, base: dict[str, Any]) -> None:
    run = base["id"]
    for net in base["networks"]:
        for school in (net["leader"], net["members"][-1]):
            h = _key(api, "principal", (school,))
            mine = _members(net)
            others = set(SCHOOLS) - mine
            r = _get(api, f"/v1/networks/{run}", h)
            assert r.status_code == 200, r.text
            body = r.json()
            assert [n["network_id"] for n in body["networks"]] == [net["network_id"]]
            assert body["networks"][0] == net  # every school, name, role and reason, as the state office sees it
            assert body["left_out"] == {} and body["school_names"] == {s: NAMES[s] for s in mine}
            assert body["facilitators"] is None
            assert body["summary"]["n_networks"] == base["summary"]["n_networks"]  # aggregates stay
            _names_nothing_of(r.text, others)
            assert body["policy"]["avoid"] == [] and body["summary"]["policy"]["avoid"] == []
            page_csv = _get(api, f"/v1/networks/{run}/networks.csv", h)
            assert page_csv.status_code == 200 and page_csv.headers["content-type"].startswith("text/csv")
            assert page_csv.headers["content-disposition"].startswith("attachment;")
            rows = list(csv.DictReader(io.StringIO(page_csv.text)))
            assert {row["school_id"] for row in rows} == mine and {row["network_id"] for row in rows} == {
                net["network_id"]}
            _names_nothing_of(page_csv.text, others)
            page = _get(api, f"/v1/networks/{run}/pages/{net['network_id']}.html", h)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert all(NAMES[s] in page.text for s in mine)
            _names_nothing_of(page.text, others)
            for other in base["networks"]:
                if other["network_id"] != net["network_id"]:
                    assert _get(api, f"/v1/networks/{run}/pages/{other['network_id']}.html", h).status_code == 404
            z = zipfile.ZipFile(io.BytesIO(_get(api, f"/v1/networks/{run}/pages.zip", h).content))
            assert sorted(z.namelist()) == sorted([f"networks/{net['network_id']}.html", "networks/index.html"])
            for name in z.namelist():
                _names_nothing_of(z.read(name).decode(), others)
            schools = _get(api, f"/v1/networks/{run}/schools", h).json()["schools"]
            assert {s["school_id"] for s in schools} == mine
            listed = _get(api, "/v1/networks", h).json()["network_runs"]
            assert run in {x["id"] for x in listed}
            _names_nothing_of(json.dumps(listed), others)
            break  # the host and one partner of the first network only: enough, and quick


def test_a_left_out_school_sees_only_its_own_reason(api: Api, base: dict[str, Any]) -> None:
    run = base["id"]
    left = sorted(base["left_out"])
    assert left, "the sample leaves a school out"
    school = left[0]
    h = _key(api, "principal", (school,))
    r = _get(api, f"/v1/networks/{run}", h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["networks"] == [] and body["left_out"] == {school: base["left_out"][school]}
    assert body["school_names"] == {school: NAMES[school]}
    _names_nothing_of(r.text, set(SCHOOLS) - {school})
    policy = body["policy"]
    assert policy["avoid"] == [] and policy["stay"] == []  # S0011-S0013: S0013 is not its school
    assert [s["school_id"] for s in _get(api, f"/v1/networks/{run}/schools", h).json()["schools"]] == [school]
    csv_text = _get(api, f"/v1/networks/{run}/networks.csv", h).text
    assert csv_text.splitlines() == ["network_id,school_id,school_name,role,pod,focus_area,explanation"]
    assert _get(api, f"/v1/networks/{run}/pages/{base['networks'][0]['network_id']}.html", h).status_code == 404
    z = zipfile.ZipFile(io.BytesIO(_get(api, f"/v1/networks/{run}/pages.zip", h).content))
    assert z.namelist() == ["networks/index.html"]


def test_a_school_in_no_run_sees_nothing(api: Api, base: dict[str, Any]) -> None:
    h = _key(api, "principal", ("S9999",))
    assert _get(api, "/v1/networks", h).json() == {"network_runs": []}
    for path in ("", "/schools", "/networks.csv", "/pages.zip", "/pages/N001.html"):
        r = _get(api, f"/v1/networks/{base['id']}{path}", h)
        assert r.status_code == 404, (path, r.text)
        assert "S9999" not in r.text
    assert _get(api, f"/v1/networks/{base['id']}", h, revision=0).status_code == 404


def test_researchers_and_revoked_keys_are_refused(api: Api, base: dict[str, Any]) -> None:
    run = base["id"]
    for path in ("/v1/networks", f"/v1/networks/{run}", f"/v1/networks/{run}/schools",
                 f"/v1/networks/{run}/networks.csv", f"/v1/networks/{run}/pages.zip",
                 f"/v1/networks/{run}/pages/N001.html"):
        assert _get(api, path, api.headers("researcher")).status_code == 403, path
    engine = open_engine(api.db.url)
    try:
        key = create_key(engine, "principal", [base["networks"][0]["leader"]], label="to revoke")
        h = {"Authorization": f"Bearer {key}"}
        assert _get(api, f"/v1/networks/{run}", h).status_code == 200
        assert revoke_key(engine, key.split("_")[1])
    finally:
        engine.dispose()
    for path in ("/v1/networks", f"/v1/networks/{run}", f"/v1/networks/{run}/networks.csv"):
        assert _get(api, path, h).status_code == 401
    # Creating, re-forming and assigning stay with state keys.
    for who in (_key(api, "principal", (base["networks"][0]["leader"],)), api.headers("researcher"),
                _key(api, "facilitator", facilitators=("F1",))):
        r = api.client.post(f"/v1/networks/{run}/rematch", headers=who,
                            json={"revision": 0, "network_id": base["networks"][0]["network_id"]})
        assert r.status_code == 403
        r = api.client.post(f"/v1/networks/{run}/facilitators", headers=who, data={"revision": "0"},
                            files={"file": ("f.csv", b"facilitator_id,latitude,longitude\nF1,35,-89\n")})
        assert r.status_code == 403
        with (SAMPLES / "schools.csv").open("rb") as fh:
            r = api.client.post("/v1/networks", files={"file": ("schools.csv", fh, "text/csv")}, headers=who)
        assert r.status_code == 403


def test_facilitators_assigned_into_a_new_revision_and_seen_by_their_facilitator(api: Api) -> None:
    body = _create(api)
    run, n = body["id"], len(body["networks"])
    f1 = _key(api, "facilitator", facilitators=("F1",))
    me = _get(api, "/v1/me", f1).json()
    assert me["role"] == "facilitator" and me["facilitators"] == ["F1"] and me["schools"] == []
    assert _get(api, f"/v1/networks/{run}", f1).status_code == 404  # nothing assigned yet
    assert run not in {x["id"] for x in _get(api, "/v1/networks", f1).json()["network_runs"]}
    # A facilitator key sees no pairing data.
    assert _get(api, "/v1/datasets", f1).json()["datasets"] == []
    assert _get(api, "/v1/pairings", f1).json()["pairings"] == []

    content = _facilitators_csv(body, caseload=(n + 1) // 2)
    stale = _assign(api, run, 1, content)
    assert stale.status_code == 409 and stale.json()["revision"] == 0
    bad = _assign(api, run, 0, "facilitator_id,latitude,longitude\nF1,35.2,-89.5\nF2,north,-89.4\n")
    assert bad.status_code == 422
    assert {k: bad.json()["problems"][0][k] for k in ("file", "row", "column", "value")} == {
        "file": "facilitators.csv", "row": 3, "column": "latitude", "value": "north"}
    few = _assign(api, run, 0, "facilitator_id,latitude,longitude,caseload\nF1,35.2,-89.5,1\n")
    assert few.status_code == 422 and few.json()["error"] == "infeasible"
    assert f"{n} networks" in few.json()["message"]
    for form in ({"caseload": "0"}, {"caseload": "x"}, {"caseload": "1001"}):
        assert _assign(api, run, 0, content, **form).status_code == 422
    for revision in ("-1", "1.0", "x"):
        bad = _assign(api, run, revision, content)
        assert bad.status_code == 422 and bad.json()["problems"][0]["column"] == "revision"
    assert _assign(api, "00000000-0000-0000-0000-000000000000", 0, content).status_code == 404
    assert api.client.post(f"/v1/networks/{run}/facilitators", headers=api.headers("state"),
                           files={"file": ("f.csv", content.encode())}).status_code == 422  # no revision

    r = _assign(api, run, 0, content)
    assert r.status_code == 201, r.text
    after = r.json()
    assert after["revision"] == after["latest_revision"] == 1
    assert after["networks"] == body["networks"] and after["left_out"] == body["left_out"]
    facs = after["facilitators"]
    assert sorted(a["network_id"] for a in facs) == sorted(x["network_id"] for x in body["networks"])
    assert {a["facilitator_id"] for a in facs} <= {"F1", "F2"}
    assert all(a["facilitator_name"] == f"Facilitator {a['facilitator_id'][1:]}" for a in facs)
    assert after["summary"]["facilitator_km_total"] == round(sum(a["km_to_host"] for a in facs), 3)
    first = _get(api, f"/v1/networks/{run}", api.headers("state"), revision=0).json()
    assert first["facilitators"] is None and first["networks"] == body["networks"]  # history kept

    mine = {a["network_id"] for a in facs if a["facilitator_id"] == "F1"}
    assert mine
    seen = _get(api, f"/v1/networks/{run}", f1)
    assert seen.status_code == 200, seen.text
    view = seen.json()
    assert {x["network_id"] for x in view["networks"]} == mine and view["left_out"] == {}
    assert {a["network_id"] for a in view["facilitators"]} == mine
    visible = {s for x in view["networks"] for s in _members(x)}
    assert set(view["school_names"]) == visible
    _names_nothing_of(seen.text, set(SCHOOLS) - visible)
    assert _get(api, f"/v1/networks/{run}", f1, revision=0).json()["networks"] == []  # before the assignment
    rows = list(csv.DictReader(io.StringIO(_get(api, f"/v1/networks/{run}/networks.csv", f1).text)))
    assert {row["network_id"] for row in rows} == mine
    for nid in mine:
        page = _get(api, f"/v1/networks/{run}/pages/{nid}.html", f1)
        assert page.status_code == 200 and "Facilitator 1 (F1)" in page.text
        _names_nothing_of(page.text, set(SCHOOLS) - visible)
    for x in body["networks"]:
        if x["network_id"] not in mine:
            assert _get(api, f"/v1/networks/{run}/pages/{x['network_id']}.html", f1).status_code == 404
    z = zipfile.ZipFile(io.BytesIO(_get(api, f"/v1/networks/{run}/pages.zip", f1).content))
    assert sorted(z.namelist()) == sorted([*(f"networks/{nid}.html" for nid in mine), "networks/index.html"])
    _names_nothing_of(" ".join(z.read(name).decode() for name in z.namelist()), set(SCHOOLS) - visible)
    assert {s["school_id"] for s in _get(api, f"/v1/networks/{run}/schools", f1).json()["schools"]} == visible
    assert run in {x["id"] for x in _get(api, "/v1/networks", f1).json()["network_runs"]}
    nobody = _key(api, "facilitator", facilitators=("F9",))
    assert _get(api, f"/v1/networks/{run}", nobody).status_code == 404
    # A principal of a school in the network sees the facilitator of its network only.
    school = next(iter(mine))
    host = next(x["leader"] for x in body["networks"] if x["network_id"] == school)
    principal = _get(api, f"/v1/networks/{run}", _key(api, "principal", (host,))).json()
    assert [a["network_id"] for a in principal["facilitators"]] == [school]
    # The whole state view: every network's page and the index with each facilitator.
    z = zipfile.ZipFile(io.BytesIO(_get(api, f"/v1/networks/{run}/pages.zip", api.headers("state")).content))
    assert len(z.namelist()) == n + 1 and "Facilitator 2 (F2)" in z.read("networks/index.html").decode()


def test_a_re_form_assigns_facilitators_again_from_the_same_file(api: Api) -> None:
    body = _create(api)
    run = body["id"]
    r = _assign(api, run, 0, _facilitators_csv(body, caseload="1000"))  # as many networks as there are
    assert r.status_code == 201, r.text
    target = body["networks"][0]
    again = api.client.post(f"/v1/networks/{run}/rematch", headers=api.headers("state"),
                            json={"revision": 1, "network_id": target["network_id"],
                                  "remove": [target["members"][0]]})
    assert again.status_code == 201, again.text
    after = again.json()
    assert after["revision"] == 2
    assert sorted(a["network_id"] for a in after["facilitators"]) == sorted(n["network_id"] for n in after["networks"])
    assert target["members"][0] in after["left_out"]
    assert after["summary"]["facilitator_km_total"] == round(sum(a["km_to_host"] for a in after["facilitators"]), 3)
    # A stored file that cannot carry the re-formed networks: nothing saved, 422 naming the way out.
    short = "facilitator_id,latitude,longitude,caseload\n" f"F1,35.2,-89.5,{len(after['networks']) - 1}\n"
    engine = open_engine(api.db.url)
    try:
        with engine.begin() as conn:
            conn.execute(update(network_runs).where(network_runs.c.id == run).values(facilitators_csv=short))
    finally:
        engine.dispose()
    refused = api.client.post(f"/v1/networks/{run}/rematch", headers=api.headers("state"),
                              json={"revision": 2, "network_id": after["networks"][0]["network_id"]})
    assert refused.status_code == 422 and refused.json()["error"] == "infeasible", refused.text
    assert f"/v1/networks/{run}/facilitators" in refused.json()["message"]
    assert api.client.get(f"/v1/networks/{run}", headers=api.headers("state")).json()["latest_revision"] == 2


def test_networks_csv_neutralises_formula_cells(api: Api, tmp_path: Any) -> None:
    path = tmp_path / "schools.csv"
    path.write_text((SAMPLES / "schools.csv").read_text().replace("Madison Ridge Elementary School",
                                                                  "=HYPERLINK(1) School"))
    with path.open("rb") as fh:
        made = api.client.post("/v1/networks", files={"file": ("schools.csv", fh, "text/csv")},
                               headers=api.headers("state")).json()
    net = next(n for n in made["networks"] if "S0003" in _members(n))
    assert next(s["school_name"] for s in net["schools"] if s["school_id"] == "S0003") == "=HYPERLINK(1) School"
    got = _get(api, f"/v1/networks/{made['id']}/networks.csv", _key(api, "principal", ("S0003",)))
    rows = list(csv.reader(io.StringIO(got.text)))
    assert ["'=HYPERLINK(1) School"] == [r[2] for r in rows if r[1] == "S0003"]
    assert {r[0] for r in rows[1:]} == {net["network_id"]}


HOSTILE = ["..", "../x", "a/b", "a%2Fb", "..%2F..%2Fetc%2Fpasswd", '"', "'", "%22x%22", "N001%00", "%2e%2e", "x y",
           "N001/..", "<script>"]


def test_hostile_run_and_network_ids_are_404(api: Api, base: dict[str, Any]) -> None:
    h = api.headers("state")
    run = base["id"]
    for bad in HOSTILE:
        for path in (f"/v1/networks/{bad}", f"/v1/networks/{bad}/schools", f"/v1/networks/{bad}/networks.csv",
                     f"/v1/networks/{bad}/pages.zip", f"/v1/networks/{bad}/pages/N001.html",
                     f"/v1/networks/{run}/pages/{bad}.html", f"/v1/networks/{run}/pages/{bad}"):
            r = api.client.get(path, headers=h)
            assert r.status_code < 500, (path, r.status_code, r.text)
            if r.url.path.count("/") == path.count("/"):  # the client resolved no "..": the path as sent
                assert r.status_code == 404, (path, r.status_code, r.text)
    assert api.client.get(f"/v1/networks/{run}/pages/index.html", headers=h).status_code == 404
    assert api.client.get(f"/v1/networks/{run}/pages/N001.html", headers=h, params={"revision": 99}).status_code == 404


@pytest.mark.parametrize("backend", BACKENDS)
def test_keys_made_before_facilitators_keep_working(make_database: Any, backend: str) -> None:
    """A database at the previous head (0005) with a key and a network run in it upgrades; the key still works,
    names no facilitator, and the run has no assignment."""
    engine = open_engine(make_database(backend).url)
    try:
        upgrade(engine, "0005")
        key = "mk_0123456789ab_" + "k" * 43
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO api_keys (id, key_hash, role, schools, label, created_at) "
                              "VALUES (:id, :h, 'principal', :schools, 'old key', CURRENT_TIMESTAMP)"),
                         {"id": "0123456789ab", "h": hash_key(key), "schools": json.dumps(["S0001"])})
            conn.execute(text("INSERT INTO network_runs (id, name, policy, schools_csv, created_at, created_by) "
                              "VALUES ('00000000-0000-0000-0000-000000000001', 'old', '{}', 'school_id\n', "
                              "CURRENT_TIMESTAMP, '0123456789ab')"))
        upgrade(engine)
        caller = caller_for(engine, key)
        assert caller is not None and caller.role == "principal" and caller.schools == frozenset({"S0001"})
        assert caller.facilitators == frozenset()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT facilitators_csv FROM network_runs")).scalar() is None
        assert [k["facilitators"] for k in list_keys(engine)] == [[]]
        made = create_key(engine, "facilitator", facilitators=["F1", "F1", "F2"])
        c = caller_for(engine, made)
        assert c is not None and c.role == "facilitator" and c.facilitators == frozenset({"F1", "F2"})
        assert not c.sees_school("S0001")
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT key_hash, facilitators FROM api_keys WHERE role = 'facilitator'")).one()
        assert stored.key_hash == hash_key(made) and made.split("_", 2)[2] not in repr(tuple(stored))
    finally:
        engine.dispose()


def test_facilitator_keys_are_checked_when_made(make_database: Any) -> None:
    from matcher.errors import InputError

    engine = open_engine(make_database("sqlite").url)
    try:
        upgrade(engine)
        for role, schools, facs, column in (("facilitator", [], [], "facilitator"),
                                            ("facilitator", ["S1"], ["F1"], "school"),
                                            ("principal", ["S1"], ["F1"], "facilitator"),
                                            ("facilitator", [], [" "], "facilitator")):
            with pytest.raises(InputError) as exc:
                create_key(engine, role, schools, facilitators=facs)
            assert column in {p.column for p in exc.value.problems}
    finally:
        engine.dispose()


def test_keys_cli_makes_a_facilitator_key(make_database: Any) -> None:
    import subprocess
    import sys

    db = make_database("sqlite")
    run = [sys.executable, "-m", "matcher.cli", "keys"]
    made = subprocess.run([*run, "create", "--role", "facilitator", "--facilitator", "F01", "--facilitator", "F02",
                           "--label", "Ana Ruiz", "--database-url", db.url], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(r"mk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n", made.stdout)
    listed = subprocess.run([*run, "list", "--database-url", db.url], capture_output=True, text=True)
    assert "facilitator\tF01;F02\tactive\tAna Ruiz" in listed.stdout
    bad = subprocess.run([*run, "create", "--role", "facilitator", "--database-url", db.url], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and bad.stdout == "" and "--facilitator" in bad.stderr
