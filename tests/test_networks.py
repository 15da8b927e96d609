"""School networks: the optimum equals an independent brute force on small cases; every network keeps the rules;
bad schools files and impossible policies get clear errors; the CLI writes its three files at once."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.cli import main as cli
from matcher.errors import InfeasibleError, InputError
from matcher.io.schools import SchoolTable, read_schools
from matcher.networks.explain import rows
from matcher.networks.model import haversine_km
from matcher.networks.policy import network_policy_from_dict
from matcher.networks.solve import NetworkResult, form_networks

from .reference_networks import best_networks

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
CODES = ("rigorous_instruction", "supportive_environment", "collaborative_teachers")
HEADER = "school_id,name,district_id,level,grade_min,grade_max,latitude,longitude,role,strengths,needs"


def _table(schools: list[dict[str, Any]]) -> SchoolTable:
    n = len(schools)
    out = SchoolTable(
        school_id=np.array([s["id"] for s in schools], dtype=object), name=np.array(["x"] * n, dtype=object),
        district_id=np.array([s["district"] for s in schools], dtype=object),
        level=np.array(["elementary"] * n, dtype=object), grade_min=np.array([s["gmin"] for s in schools]),
        grade_max=np.array([s["gmax"] for s in schools]), latitude=np.array([s["lat"] for s in schools]),
        longitude=np.array([s["lon"] for s in schools]), role=np.array([s["role"] for s in schools], dtype=object),
        strengths=tuple(tuple(s["strengths"]) for s in schools), needs=tuple(tuple(s["needs"]) for s in schools),
        pct_poverty=np.full(n, np.nan), pct_ell=np.full(n, np.nan), pct_swd=np.full(n, np.nan),
        superintendent=np.array([""] * n, dtype=object), prior_partners=tuple(frozenset() for _ in schools),
        new_principal=np.array([s.get("new_principal", False) for s in schools]),
        accepts_new_principal=np.array([s.get("accepts_new_principal", True) for s in schools]),
        last_network=np.array([s.get("last", "") for s in schools], dtype=object),
        years_in_network=np.array([s.get("years", 0) for s in schools]),
        host_capacity=np.array([s.get("capacity", 0) for s in schools]),
        # a file without the years_hosting column: the cohort rule does not apply
        years_hosting=np.array([s["hosted"] for s in schools]) if all("hosted" in s for s in schools) else None,
        school_type=np.array([s.get("type", "") for s in schools], dtype=object),
        criteria_rank=tuple(tuple(s.get("rank", ())) for s in schools))
    if any(s.get("supt") or s.get("named") or s.get("poverty") is not None for s in schools):
        out = dataclasses.replace(
            out, superintendent=np.array([s.get("supt", "") for s in schools], dtype=object),
            named_schools=tuple(frozenset(s.get("named", ())) for s in schools),
            pct_poverty=np.array([np.nan if s.get("poverty") is None else s["poverty"] for s in schools]))
    return out


@st.composite
def school_sets(draw: Any) -> list[dict[str, Any]]:
    n = draw(st.integers(3, 7))
    out = []
    for i in range(n):
        g0 = draw(st.integers(0, 9))
        out.append({"id": f"S{i}", "role": draw(st.sampled_from(("host", "partner", "either"))),
                    "strengths": draw(st.lists(st.sampled_from(CODES), max_size=2, unique=True)),
                    "needs": draw(st.lists(st.sampled_from(CODES), max_size=2, unique=True)),
                    "lat": 36.0 + draw(st.integers(0, 20)) / 100, "lon": -86.0 + draw(st.integers(0, 20)) / 100,
                    "gmin": g0, "gmax": g0 + draw(st.integers(0, 3)), "district": draw(st.sampled_from("AB")),
                    "new_principal": draw(st.booleans()), "accepts_new_principal": draw(st.booleans()),
                    "last": draw(st.sampled_from(("", "L1", "L2"))), "years": draw(st.integers(0, 3)),
                    "capacity": draw(st.sampled_from((0, 0, 1, 2, 3))), "type": draw(st.sampled_from(("", "d", "c"))),
                    "rank": draw(st.sampled_from(((), (), ("proximity",), ("named", "proximity", "superintendent"),
                                                  ("population", "superintendent", "named", "worked_together",
                                                   "proximity")))),
                    "supt": draw(st.sampled_from(("", "X", "Y"))),
                    "named": draw(st.lists(st.sampled_from([f"S{j}" for j in range(n)]), max_size=2, unique=True)),
                    "poverty": draw(st.sampled_from((None, 0.2, 0.5, 0.55)))})
    if draw(st.booleans()):  # the file has a years_hosting column
        for s in out:
            s["hosted"] = draw(st.integers(0, 2))
    return out


POLICIES: list[dict[str, Any]] = [
    {}, {"shape": "pair"}, {"shape": "quad"}, {"shape": "cohort", "min_partners": 2, "max_partners": 5},
    {"min_partners": 1, "max_partners": 3, "host_capacity": 2}, {"max_km": 12.0}, {"same_district": True},
    {"grade_band": "require_same"}, {"grade_band": "any", "weight_km": 5.0}, {"require_focus_match": False},
    {"max_networks": 1, "min_partners": 1, "max_partners": 4}, {"avoid": [["S0", "S1"], ["S1", "S2"]]},
    {"mode": "peer"}, {"mode": "peer", "peer_min_size": 2, "peer_max_size": 3, "require_focus_match": False},
    {"mode": "peer", "max_km": 15.0, "grade_band": "require_same", "require_focus_match": False},
    {"max_years": 2, "min_partners": 1, "max_partners": 3},
    {"stay": ["S0"], "require_focus_match": False, "min_partners": 1, "max_partners": 4, "grade_band": "any"},
    {"grade_band": "prefer_same"}, {"same_school_type": True, "min_partners": 1, "max_partners": 3},
    {"shape": "cohort", "min_partners": 1, "max_partners": 5}, {"shape": "cohort", "min_partners": 1,
                                                               "max_partners": 5, "cohort_min_years_hosting": 2},
    {"criteria_points": 300.0, "weight_km": 0.5, "weight_superintendent": 40.0, "weight_named": 60.0},
    {"require_focus_match": False, "min_partners": 1, "max_partners": 4},
]


def check(result: NetworkResult) -> float:
    """Every rule holds; returns the objective recomputed from the links."""
    t, p, links = result.schools, result.policy, result.links
    weight = {(int(a), int(b)): int(w) for a, b, w in zip(links.u, links.v, links.weight, strict=True)}
    seen: set[int] = set()
    lo, hi = p.bounds() if p.mode == "host" else (p.peer_min_size - 1, p.peer_max_size - 1)
    hi = min(hi, p.capacity()) if p.mode == "host" else hi
    total = 0.0
    types = t.school_type if t.school_type is not None else np.full(len(t), "", dtype=object)
    for net in result.networks:
        schools = [net.leader, *net.members]
        assert not seen & set(schools)
        seen |= set(schools)
        assert lo <= len(net.members) <= hi
        if p.mode == "host" and t.host_capacity is not None and t.host_capacity[net.leader]:
            assert len(net.members) <= t.host_capacity[net.leader]
        if p.mode == "host" and t.years_hosting is not None and len(net.members) >= 4:
            assert t.years_hosting[net.leader] >= p.cohort_min_years_hosting
        if p.same_school_type:
            assert len({types[s] for s in schools} - {""}) <= 1 if p.mode == "peer" else \
                all(types[m] in ("", types[net.leader]) or not types[net.leader] for m in net.members)
        leader_focus = t.needs[net.leader] if p.mode == "peer" else t.strengths[net.leader]
        assert net.focus in leader_focus
        if p.mode == "host":
            assert t.role[net.leader] in ("host", "either")
        total += round(p.weight_placed)
        for m in net.members:
            assert (m, net.leader) in weight
            total += weight[m, net.leader]
            if p.require_focus_match:
                assert net.focus in t.needs[m]
            elif net.focus in t.needs[m]:
                total += round(p.weight_placed / 2)
            if p.max_km is not None:
                assert haversine_km(t.latitude[m], t.longitude[m], t.latitude[net.leader],
                                    t.longitude[net.leader]) <= p.max_km
    assert p.max_networks is None or len(result.networks) <= p.max_networks
    assert set(result.left_out) == set(range(len(t))) - seen
    assert all(result.left_out.values())
    return total


@pytest.mark.parametrize("which", range(len(POLICIES)))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schools=school_sets())
def test_optimum_equals_brute_force(schools: list[dict[str, Any]], which: int) -> None:
    raw = POLICIES[which]
    policy = network_policy_from_dict(raw).replace(workers=1)
    if raw.get("stay") and not schools[0]["last"]:
        with pytest.raises(InputError):
            form_networks(_table(schools), policy)
        return
    best = best_networks(schools, raw)
    if best is None:  # the stay rule cannot hold: the error says so
        with pytest.raises(InfeasibleError, match="must stay with last year's network"):
            form_networks(_table(schools), policy)
        return
    result = form_networks(_table(schools), policy)
    assert result.summary["optimal"]
    assert check(result) == result.summary["objective"]
    assert answer_key(result) == best


def answer_key(result: NetworkResult) -> tuple[float, ...]:
    """The answer's value as the brute force states it: (placement, aligned partners, the other points) under
    align_first, recomputed from the networks; else the objective."""
    s, p, t = result.summary, result.policy, result.schools
    if p.grade_band != "align_first":
        return (s["objective"],)
    place = {(int(a), int(b)): int(w) for a, b, w in zip(result.links.u, result.links.v, result.links.place,
                                                         strict=True)}
    placement = 0.0
    for net in result.networks:
        placement += round(p.weight_placed) + sum(place[m, net.leader] for m in net.members)
        if not p.require_focus_match:
            placement += sum(round(p.weight_placed / 2) for m in net.members if net.focus in t.needs[m])
    return (placement, s["n_aligned_members"], s["objective"] - placement)


def test_every_policy_on_the_sample_keeps_the_rules() -> None:
    t = read_schools(SAMPLES / "schools.csv")
    for raw in [r for r in POLICIES if "stay" not in r]:
        result = form_networks(t, network_policy_from_dict({k: v for k, v in raw.items() if k != "avoid"}))
        assert result.summary["optimal"]
        assert check(result) == result.summary["objective"]
        for _, school, name, role, _, focus, why in rows(result):
            assert focus.replace("_", " ") in why and (role in ("host", "peer") or school not in why)
            assert name == t.name[list(t.school_id).index(school)]


def test_cohorts_meet_in_pods_by_grade_band() -> None:
    t = read_schools(SAMPLES / "schools.csv")
    result = form_networks(t, network_policy_from_dict({"shape": "cohort", "min_partners": 4, "max_partners": 8,
                                                        "require_focus_match": False}))
    cohort = [r for r in rows(result) if r[3] == "partner"]
    assert cohort and all(r[4] in ("elementary", "middle", "high") for r in cohort)


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "schools.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def test_bad_schools_file_names_row_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, [
        "A,a,D1,elementary,K,5,36.1,-86.1,host,,rigorous_instruction",  # host with no strengths
        "B,b,D1,middle,6,8,95,-86.1,partner,,rigor",  # bad latitude, unknown focus code
        "C,c,D1,middle,8,6,36.1,-86.1,chief,rigorous_instruction,",  # grades reversed, unknown role
        "C,c,D1,castle,6,8,36.1,-86.1,either,rigorous_instruction,",  # duplicate id, unknown level
    ])
    with pytest.raises(InputError) as err:
        read_schools(path)
    found = {(p.row, p.column) for p in err.value.problems}
    assert {(2, "strengths"), (3, "latitude"), (3, "needs"), (4, "grade_min"), (4, "role"), (5, "school_id"),
            (5, "level")} <= found
    unknown = next(p for p in err.value.problems if p.column == "needs" and p.row == 3)
    assert unknown.value == "rigor" and "rigorous_instruction" in unknown.message


def test_impossible_policies_say_which_setting(tmp_path: Path) -> None:
    for raw, column in (({"min_partners": 5, "max_partners": 3}, "min_partners"),
                        ({"shape": "quad", "host_capacity": 2}, "host_capacity"),
                        ({"shape": "hexad"}, "shape"), ({"max_km": -1}, "max_km"), ({"colour": 1}, "colour"),
                        ({"peer_min_size": 5, "peer_max_size": 4}, "peer_min_size"), ({"min_partners": 0},
                                                                                        "min_partners")):
        with pytest.raises(InputError) as err:
            network_policy_from_dict(raw)
        assert err.value.problems[0].column == column
    t = read_schools(SAMPLES / "schools.csv")
    with pytest.raises(InputError) as err:
        form_networks(t, network_policy_from_dict({"avoid": [["S0001", "NOPE"]]}))
    assert err.value.problems[0].value == "NOPE"


def test_cli_writes_three_files_or_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "nets"
    assert cli(["networks", str(SAMPLES / "schools.csv"), "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["optimal"] is True and summary["gap"] == 0.0
    with (out / "networks.csv").open() as fh:
        got = list(csv.DictReader(fh))
    assert {r["role"] for r in got} == {"host", "partner"}
    assert len({r["network_id"] for r in got}) == summary["n_networks"]
    with (out / "unassigned.csv").open() as fh:
        left = list(csv.DictReader(fh))
    assert len(left) == summary["n_left_out"] and all(r["reason"] for r in left)
    assert len(got) + len(left) == summary["n_schools"]
    bad = _write(tmp_path, ["A,a,D1,elementary,K,5,36.1,-86.1,host,,rigorous_instruction"])
    assert cli(["networks", str(bad), "--out", str(tmp_path / "none")]) == 2
    assert not (tmp_path / "none").exists()
    assert "a host with no strengths" in capsys.readouterr().err


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_outputs_name_every_school(tmp_path: Path) -> None:
    """networks.csv and unassigned.csv carry each school's name beside its id, and explanations name the other
    schools "name (id)"; a name with a comma, quotes and markup is written as plain text and reads back unchanged."""
    schools = _csv_rows(SAMPLES / "schools.csv")
    for k, row in enumerate(schools):
        if k % 2:
            row["name"] = f'{row["name"]}, "Campus {k}" <b>east</b>'
    path = tmp_path / "schools.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, list(schools[0]))
        w.writeheader()
        w.writerows(schools)
    names = {r["school_id"]: r["name"] for r in schools}
    out = tmp_path / "out"
    assert cli(["networks", str(path), "--out", str(out)]) == 0
    got, left = _csv_rows(out / "networks.csv"), _csv_rows(out / "unassigned.csv")
    assert list(got[0]) == ["network_id", "school_id", "school_name", "role", "pod", "focus_area", "explanation"]
    assert list(left[0]) == ["school_id", "school_name", "reason"]
    assert {r["school_id"]: r["school_name"] for r in got + left} == names and len(got) + len(left) == len(names)
    for nid in {r["network_id"] for r in got}:
        net = [r for r in got if r["network_id"] == nid]
        (host,) = [r for r in net if r["role"] == "host"]
        for r in net:
            if r["role"] == "partner":
                assert r["explanation"].startswith(f"partner of {names[host['school_id']]} ({host['school_id']}) ")
                assert f"{names[r['school_id']]} ({r['school_id']})" in host["explanation"]
    assert any('"Campus' in r["explanation"] and "<b>east</b>" in r["explanation"] for r in got)
    assert '""Campus' in (out / "networks.csv").read_text(encoding="utf-8")  # quoted by the csv module
    # A school with a blank name is named by its id alone.
    bare = _write(tmp_path, ["H1,,D1,elementary,K,5,36.00,-86.0,host,rigorous_instruction,",
                             "P1,,D1,elementary,K,5,36.01,-86.0,partner,,rigorous_instruction",
                             "P2,,D1,elementary,K,5,36.02,-86.0,partner,,rigorous_instruction"])
    result = form_networks(read_schools(bare))
    assert {r[2] for r in rows(result)} == {""}
    assert [r[6].split(" for ")[0] for r in rows(result) if r[3] == "partner"] == ["partner of H1"] * 2
    assert rows(result)[0][6].endswith("who need rigorous instruction: P1, P2")


def test_facilitators_get_the_least_total_travel(tmp_path: Path) -> None:
    import itertools

    from matcher.networks.facilitators import assign_facilitators, read_facilitators
    t = read_schools(SAMPLES / "schools.csv")
    result = form_networks(t, network_policy_from_dict({"shape": "pair"}))
    nets = result.networks
    assert len(nets) >= 5
    path = tmp_path / "fac.csv"
    path.write_text("facilitator_id,latitude,longitude,caseload\nF1,35.9,-86.3,2\nF2,35.6,-85.9,3\nF3,36.2,-85.7,\n")
    fac = read_facilitators(path, default_caseload=2)
    got = assign_facilitators(result, fac)
    assert sorted(a.network_id for a in got) == sorted(n.network_id for n in nets)
    assert {a.facilitator_name for a in got} == {""}  # the file has no name column
    load = {f: sum(1 for a in got if a.facilitator_id == f) for f in ("F1", "F2", "F3")}
    assert load["F1"] <= 2 and load["F2"] <= 3 and load["F3"] <= 2
    # brute force: every way to give each network a facilitator within caseloads
    caps = {"F1": 2, "F2": 3, "F3": 2}
    where = {f: (float(fac.latitude[i]), float(fac.longitude[i])) for i, f in enumerate(fac.facilitator_id)}

    def km(f: str, net: Any) -> float:
        return float(haversine_km(where[f][0], where[f][1], t.latitude[net.leader], t.longitude[net.leader]))
    best = min(sum(km(f, n) for f, n in zip(choice, nets, strict=True))
               for choice in itertools.product(caps, repeat=len(nets))
               if all(choice.count(f) <= c for f, c in caps.items()))
    assert sum(a.km_to_host for a in got) == pytest.approx(best, abs=0.01)


def test_facilitator_problems_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from matcher.networks.facilitators import read_facilitators
    path = tmp_path / "fac.csv"
    path.write_text("facilitator_id,latitude,longitude,caseload\nF1,95,-86.3,2\nF1,35.6,-85.9,zero\n")
    with pytest.raises(InputError) as err:
        read_facilitators(path)
    assert {(p.row, p.column) for p in err.value.problems} == {(2, "latitude"), (3, "facilitator_id"),
                                                               (3, "caseload")}
    path.write_text("facilitator_id,latitude,longitude,caseload\nF1,35.9,-86.3,1\n")
    out = tmp_path / "out"
    assert cli(["networks", str(SAMPLES / "schools.csv"), "--out", str(out), "--facilitators", str(path)]) == 2
    assert "can carry only 1" in capsys.readouterr().err and not out.exists()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schools=school_sets(), which=st.integers(len(POLICIES) - 2, len(POLICIES) - 1))
def test_history_rules_equal_brute_force(schools: list[dict[str, Any]], which: int) -> None:
    """stay (with last year's network) and max_years, against the brute force more often than the mix above."""
    test_optimum_equals_brute_force.hypothesis.inner_test(schools, which)


def _school(i: str, role: str, lat: float, last: str = "", years: int = 0) -> dict[str, Any]:
    return {"id": i, "role": role, "strengths": ["rigorous_instruction"] if role == "host" else [],
            "needs": [] if role == "host" else ["rigorous_instruction"], "lat": lat, "lon": -86.0, "gmin": 0,
            "gmax": 5, "district": "A", "last": last, "years": years}


def test_stay_keeps_last_years_network_and_max_years_splits_it() -> None:
    schools = [_school("H1", "host", 36.00), _school("H2", "host", 36.30, "L1", 3),
               _school("P1", "partner", 36.01, "L1", 3), _school("P2", "partner", 36.02),
               _school("P3", "partner", 36.31), _school("P4", "partner", 36.03)]
    t = _table(schools)

    def network_of(result: NetworkResult, school: str) -> set[str]:
        i = list(t.school_id).index(school)
        net = next(n for n in result.networks if i in (n.leader, *n.members))
        return {str(t.school_id[j]) for j in (net.leader, *net.members)}
    free = form_networks(t, network_policy_from_dict({}))
    assert "H2" not in network_of(free, "P1")  # H1 is 33 km closer
    stay = form_networks(t, network_policy_from_dict({"stay": ["P1"]}))
    assert {"H2", "P1"} <= network_of(stay, "P1")
    assert stay.summary["objective"] < free.summary["objective"]
    assert {"H2", "P1"} <= network_of(form_networks(t, network_policy_from_dict({"stay": ["H2"]})), "P1")
    with pytest.raises(InfeasibleError, match=re.escape("x (H2), x (P1)")):  # named as people read them
        form_networks(t, network_policy_from_dict({"stay": ["P1"], "max_years": 3}))
    apart = form_networks(t, network_policy_from_dict({"max_years": 3, "weight_km": 0}))
    assert "H2" not in network_of(apart, "P1")
    # two partners of one old network stay together, with whichever host suits them both
    pair = [_school("H1", "host", 36.00), _school("H2", "host", 36.30), _school("P1", "partner", 36.01),
            _school("P2", "partner", 36.02, "L2"), _school("P3", "partner", 36.31),
            _school("P4", "partner", 36.29, "L2")]
    t = _table(pair)
    free = form_networks(t, network_policy_from_dict({}))
    assert "P4" not in network_of(free, "P2")
    assert "P4" in network_of(form_networks(t, network_policy_from_dict({"stay": ["P2"]})), "P2")


def test_policy_settings_read_back_to_the_same_policy() -> None:
    from matcher.networks.policy import policy_dict
    for raw in POLICIES + [{"focus_areas": ["a", "b"], "max_km": 3, "stay": ["S1"]}]:
        p = network_policy_from_dict(raw)
        assert network_policy_from_dict(json.loads(json.dumps(policy_dict(p)))) == p


def test_named_schools_and_impossible_sizes(tmp_path: Path) -> None:
    lines = ["H1,a,D1,elementary,K,5,36.00,-86.0,host,rigorous_instruction,",
             "H2,b,D1,elementary,K,5,36.10,-86.0,host,rigorous_instruction,",
             "P1,c,D1,elementary,K,5,36.01,-86.0,partner,,rigorous_instruction",
             "P2,d,D1,elementary,K,5,36.09,-86.0,partner,,rigorous_instruction"]
    path = tmp_path / "s.csv"
    path.write_text("\n".join([HEADER + ",named_schools", *[x + "," for x in lines[:2]], lines[2] + ",H2",
                               lines[3] + ","]) + "\n")
    t = read_schools(path)
    pair = {"shape": "pair"}
    near = form_networks(t, network_policy_from_dict(pair))
    asked = form_networks(t, network_policy_from_dict({**pair, "weight_named": 50}))

    def host_of(result: NetworkResult, school: str) -> str:
        i = list(t.school_id).index(school)
        return str(t.school_id[next(n.leader for n in result.networks if i in n.members)])
    assert host_of(near, "P1") == "H1" and host_of(asked, "P1") == "H2"
    assert "asked to work together" in " ".join(r[6] for r in rows(asked))
    quads = form_networks(t, network_policy_from_dict({"shape": "quad"}))  # two partners cannot make a quad
    assert quads.networks == () and all("below 3" in why or "not needed" in why for why in quads.left_out.values())
    path.write_text("\n".join([HEADER + ",named_schools", lines[0] + ",ELSEWHERE"]) + "\n")
    assert read_schools(path).named_schools == (frozenset({"ELSEWHERE"}),)  # a school that did not apply


def test_peer_groups_keep_the_distance_limit_between_every_two() -> None:
    """Three schools 20 km apart in a line: no group of 3 within 25 km, in whatever order the file lists them."""
    def peer(i: str, lat: float) -> dict[str, Any]:
        return {**_school(i, "partner", lat), "role": "either"}
    a, b, c = peer("A", 36.0), peer("B", 36.18), peer("C", 36.36)
    policy = network_policy_from_dict({"mode": "peer", "max_km": 25})
    for order in ([a, b, c], [b, a, c], [c, b, a]):
        assert form_networks(_table(order), policy).networks == ()
    assert len(form_networks(_table([b, a, c]), network_policy_from_dict({"mode": "peer"})).networks) == 1


@st.composite
def clustered_school_sets(draw: Any) -> list[dict[str, Any]]:
    """2 to 4 clusters of schools 1 degree of latitude apart (about 111 km), each cluster's schools within 22 km."""
    out: list[dict[str, Any]] = []
    for c in range(draw(st.integers(2, 4))):
        for s in draw(school_sets())[:draw(st.integers(3, 5))]:
            out.append({**s, "id": f"S{len(out)}", "lat": s["lat"] + c, "district": "A", "new_principal": False,
                        "strengths": s["strengths"] or [CODES[c % 3]], "needs": s["needs"] or [CODES[c % 3]]})
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schools=clustered_school_sets(), which=st.integers(0, len(POLICIES) - 1))
def test_parts_solved_apart_equal_one_model(schools: list[dict[str, Any]], which: int) -> None:
    """The independent parts of the link graph, each solved exactly, add up to the one model's optimum."""
    raw = {"max_km": 40.0, **POLICIES[which]}
    policy = network_policy_from_dict(raw).replace(workers=1)
    t = _table(schools)
    try:
        whole = form_networks(t, policy, _split=False)
    except (InputError, InfeasibleError) as err:
        with pytest.raises(type(err)):
            form_networks(t, policy)
        return
    split = form_networks(t, policy)
    assert whole.summary["optimal"] and split.summary["optimal"]
    assert split.summary["bound"] == split.summary["objective"] and split.summary["gap"] == 0.0
    assert check(split) == split.summary["objective"] == whole.summary["objective"]
    if raw.get("max_networks") is not None:
        assert split.summary["n_parts_solved"] == 1


def test_max_networks_keeps_one_model() -> None:
    """Two clusters 111 km apart, each a triad: solved as two parts, unless max_networks couples them."""
    schools = [_school("H1", "host", 36.00), _school("P1", "partner", 36.01), _school("P2", "partner", 36.02),
               _school("H2", "host", 37.00), _school("P3", "partner", 37.01), _school("P4", "partner", 37.03),
               _school("P5", "partner", 38.00)]  # alone: nothing to solve
    t = _table(schools)
    free = form_networks(t, network_policy_from_dict({"max_km": 25}))
    assert free.summary["n_parts_solved"] == 2 and len(free.networks) == 2 and free.summary["optimal"]
    one = form_networks(t, network_policy_from_dict({"max_km": 25, "max_networks": 1}))
    assert one.summary["n_parts_solved"] == 1 and len(one.networks) == 1 and one.summary["optimal"]
    assert one.summary["objective"] == max(check(one), 0) < free.summary["objective"] == check(free)
