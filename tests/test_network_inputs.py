"""Issue 15's network inputs and defaults: the per-school columns (host_capacity, years_hosting, school_type,
criteria_rank) are read and refused with file, row, column and value; grade alignment by default on generated
cities, with the placement cost it reports checked against the old default; large parts and short time limits
still answer, with a bound that holds; generated cities are reproducible."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from matcher.cli import main as cli
from matcher.errors import InputError
from matcher.io.schools import read_schools
from matcher.networks import solve
from matcher.networks.facilitators import read_facilitators
from matcher.networks.policy import NetworkPolicy, network_policy_from_dict
from matcher.networks.solve import form_networks
from matcher.synth_city import generate_city, write_city

from .test_networks import check

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def _city(tmp_path: Path, n: int, seed: int) -> Path:
    path = tmp_path / f"city_{n}_{seed}.csv"
    write_city(path, n, seed)
    return path


def test_per_school_columns_are_read(tmp_path: Path) -> None:
    t = read_schools(_city(tmp_path, 60, 3))
    frame = generate_city(60, 3)
    assert t.host_capacity is not None and t.years_hosting is not None and t.school_type is not None
    assert t.criteria_rank is not None
    given = frame["host_capacity"].to_numpy()
    assert [int(c) if c else 0 for c in given] == t.host_capacity.tolist()
    assert t.school_type.tolist() == frame["school_type"].tolist()
    assert [";".join(r) for r in t.criteria_rank] == frame["criteria_rank"].tolist()
    sample = read_schools(SAMPLES / "schools.csv")  # a file without them: None, and the rules that need them rest
    assert sample.host_capacity is None and sample.years_hosting is None and sample.criteria_rank is None


def test_bad_per_school_cells_name_row_column_and_value(tmp_path: Path) -> None:
    frame = generate_city(12, 4)
    frame["host_capacity"] = frame["host_capacity"].astype(object)
    frame.loc[2, "host_capacity"] = "0"
    frame.loc[3, "host_capacity"] = "two"
    frame.loc[4, "years_hosting"] = "-1"
    frame.loc[5, "criteria_rank"] = "proximty;named"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        read_schools(path)
    got = {(p.row, p.column, p.value): p.message for p in err.value.problems}
    assert set(got) == {(4, "host_capacity", "0"), (5, "host_capacity", "two"), (6, "years_hosting", "-1"),
                        (7, "criteria_rank", "proximty")}
    assert "did you mean 'proximity'" in got[7, "criteria_rank", "proximty"]


def test_policy_settings_are_checked() -> None:
    with pytest.raises(InputError) as err:
        network_policy_from_dict({"grade_band": "same", "cohort_min_years_hosting": -1, "same_school_type": "yes",
                                  "criteria_points": -5})
    assert {p.column for p in err.value.problems} == {"grade_band", "cohort_min_years_hosting", "same_school_type",
                                                       "criteria_points"}
    assert NetworkPolicy().grade_band == "require_same_where_possible"


@pytest.mark.parametrize("seed", [7, 8])
def test_grade_alignment_by_default_on_generated_cities(tmp_path: Path, seed: int) -> None:
    """Every partner shares a grade with its host unless it had no candidate host that does; at least 95% do; the
    placement cost the summary reports bounds what the old default (no grade rule) places."""
    t = read_schools(_city(tmp_path, 100, seed))
    new = form_networks(t, NetworkPolicy())
    # any answer of the old default (proven or not) places at most what the measured bound allows
    old = form_networks(t, NetworkPolicy(grade_band="prefer_same", time_limit_seconds=5))
    assert new.summary["optimal"]
    check(new)
    links = new.links
    has_aligned = np.bincount(links.u[links.aligned], minlength=len(t)) > 0
    for net in new.networks:
        for m in net.members:
            h = net.leader
            same = t.grade_min[m] <= t.grade_max[h] and t.grade_min[h] <= t.grade_max[m]
            assert same or not has_aligned[m]
    s = new.summary
    assert s["aligned_share"] >= 0.95
    assert old.summary["aligned_share"] < s["aligned_share"]
    rule = s["grade_rule"]
    assert rule["links_set_aside"] > 0
    assert old.summary["n_placed"] <= s["n_placed"] + rule["placement_cost_at_most"]
    assert rule["placed_without_rule"]["value"] <= rule["placed_without_rule"]["bound"]


def test_a_host_too_small_or_too_new_says_why(tmp_path: Path) -> None:
    frame = generate_city(40, 5)
    hosts = frame.index[frame["role"] == "host"]
    frame["host_capacity"] = frame["host_capacity"].astype(object)
    frame.loc[hosts[0], "host_capacity"] = "1"
    frame["years_hosting"] = frame["years_hosting"].astype(object)
    frame.loc[hosts[1], "years_hosting"] = "0"
    path = tmp_path / "city.csv"
    frame.to_csv(path, index=False)
    t = read_schools(path)
    triads = form_networks(t, NetworkPolicy())
    small = list(t.school_id).index(frame.loc[hosts[0], "school_id"])
    assert "can take 1 partner(s) as a host" in triads.left_out[small]
    cohorts = form_networks(t, network_policy_from_dict({"shape": "cohort", "min_partners": 4}))
    new = list(t.school_id).index(frame.loc[hosts[1], "school_id"])
    assert new in cohorts.left_out and "cohorts of 4 or more partners go to hosts" in cohorts.left_out[new]
    assert all(t.years_hosting[n.leader] >= 1 for n in cohorts.networks)


def test_a_part_too_large_keeps_each_members_best_links_and_a_bound_that_holds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    t = read_schools(_city(tmp_path, 100, 7))
    policy = NetworkPolicy(grade_band="prefer_same", max_km=4.0)
    exact = form_networks(t, policy)
    assert exact.summary["optimal"] and exact.summary["n_candidate_links"] > 600
    monkeypatch.setattr(solve, "MAX_MODEL_LINKS", 300)
    pruned = form_networks(t, policy)
    check(pruned)
    assert pruned.summary["bound"] >= exact.summary["objective"]  # the loose bound still bounds the optimum
    assert pruned.summary["objective"] <= exact.summary["objective"]
    assert not pruned.summary["optimal"] and pruned.summary["gap"] > 0


def test_out_of_time_still_answers_from_the_greedy_start(tmp_path: Path) -> None:
    t = read_schools(_city(tmp_path, 150, 10))
    result = form_networks(t, NetworkPolicy(time_limit_seconds=0.01, workers=1))
    check(result)
    assert result.summary["n_networks"] > 0
    assert result.summary["objective"] <= result.summary["bound"]


def test_facilitator_caseload_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "fac.csv"
    path.write_text("facilitator_id,latitude,longitude,caseload\nF1,40.7,-73.9,1e30\nF2,40.7,-73.9,3\n")
    with pytest.raises(InputError) as err:
        read_facilitators(path)
    assert [(p.row, p.column, float(p.value)) for p in err.value.problems] == [(2, "caseload", 1e30)]


def test_synth_city_is_reproducible_and_networks_prints_alignment(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert cli(["synth", "--city", "--schools", "80", "--seed", "3", "--out", str(a)]) == 0
    assert cli(["synth", "--city", "--schools", "80", "--seed", "3", "--out", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()
    with a.open() as f:
        assert len(list(csv.DictReader(f))) == 80
    capsys.readouterr()
    assert cli(["networks", str(a), "--out", str(tmp_path / "out")]) == 0
    said = capsys.readouterr().out
    assert "share a grade with their host" in said and "focus coverage" in said
    assert (tmp_path / "out" / "networks" / "index.html").exists()
