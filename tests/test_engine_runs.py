"""Whole runs on synthetic districts: worker count never changes the answer; every route is checked."""

from __future__ import annotations

import math

import pytest

from matcher.io.pair_lists import read_school_coords
from matcher.io.teachers import read_teachers
from matcher.pairing.engine import pair_teachers
from matcher.policy import Policy
from matcher.report.outputs import write_outputs
from matcher.rubric import bundled
from matcher.synth import write_district

from .checks import check_pairing
from .reference import Ref


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    d = tmp_path_factory.mktemp("district")
    write_district(d / "t.csv", 40, 25, seed=21, schools_path=d / "s.csv")
    return read_teachers(d / "t.csv", bundled("team")), read_school_coords(d / "s.csv")


@pytest.mark.parametrize("policy", [
    Policy(),
    Policy(mode="one_way", max_targets_per_partner=2),
    Policy(subject="prefer_same", weigh_gap_size=True, cross_school_fallback=True, fallback_max_km=30),
])
def test_workers_do_not_change_the_answer(district, policy: Policy) -> None:
    table, coords = district
    one = pair_teachers(table, policy, school_coords=coords, workers=1)
    two = pair_teachers(table, policy, school_coords=coords, workers=2)
    assert one.pairs == two.pairs and one.unmatched == two.unmatched
    assert one.summary["total_value"] == two.summary["total_value"]
    check_pairing(two, Ref(table, policy))


def test_progress_is_reported_up_to_one(district) -> None:
    seen: list[float] = []
    pair_teachers(district[0], Policy(), progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_one_way_with_must_pairs_uses_fixed_arcs(district) -> None:
    table, _ = district
    free = pair_teachers(table, Policy(mode="one_way", max_targets_per_partner=2))
    pick = [p for p in free.pairs][:5]
    # Force the reverse-free choice: keep the partner, give them a different target they can also support.
    must = tuple((p.teacher_a, p.teacher_b) for p in pick)
    pol = Policy(mode="one_way", max_targets_per_partner=2, must_pair=must)
    forced = pair_teachers(table, pol)
    check_pairing(forced, Ref(table, pol))
    assert forced.summary["total_value"] == free.summary["total_value"]  # they were optimal already
    # The pools with must-pairs are solved with those arcs fixed, and still proven optimal (LP branch and bound,
    # or CP-SAT when it falls back).
    assert forced.summary["optimal"] is True


def test_cross_school_fallback_on_a_district_checks_out(district) -> None:
    table, coords = district
    pol = Policy(cross_school_fallback=True, fallback_max_km=25)
    r = pair_teachers(table, pol, school_coords=coords)
    check_pairing(r, Ref(table, pol))
    cross = [p for p in r.pairs if p.origin == "cross_school"]
    assert cross and r.summary["cross_school_pairs"] == len(cross)
    for p in cross:
        (la1, lo1), (la2, lo2) = coords[p.school_id], coords[p.school_b]
        h = (math.sin(math.radians(la2 - la1) / 2) ** 2 + math.cos(math.radians(la1)) * math.cos(math.radians(la2))
             * math.sin(math.radians(lo2 - lo1) / 2) ** 2)
        assert 2 * 6371.0088 * math.asin(math.sqrt(h)) <= 25
    base = pair_teachers(table, Policy())
    assert r.summary["total_value"] == pytest.approx(base.summary["total_value"] + r.summary["cross_school_value"])


def test_report_workers_write_the_same_files(tmp_path) -> None:
    write_district(tmp_path / "t.csv", 110, 8, seed=3)
    result = pair_teachers(read_teachers(tmp_path / "t.csv", bundled("team")), Policy())
    write_outputs(result, tmp_path / "one", workers=1)
    write_outputs(result, tmp_path / "two", workers=2)
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    assert len(files) == 3 + 110 + len(result.pairs)  # the CSVs and summary, the school pages, the handouts
    for f in files:
        assert (tmp_path / "one" / f).read_bytes() == (tmp_path / "two" / f).read_bytes(), f


def test_for_school_returns_only_that_schools_rows(district) -> None:
    table, coords = district
    r = pair_teachers(table, Policy(cross_school_fallback=True), school_coords=coords)
    school = table.school_id[0]
    pairs, unmatched = r.for_school(school)
    assert pairs and all(school in (p.school_id, p.school_b) for p in pairs)
    assert all(u.school_id == school for u in unmatched)
    mine = {t for t, s in zip(table.teacher_id, table.school_id, strict=True) if s == school}
    assert {x for p in pairs for x in (p.teacher_a, p.teacher_b) if x in mine} | {u.teacher_id for u in unmatched} \
        == mine
