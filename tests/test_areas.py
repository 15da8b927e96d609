"""Policy `areas` (issue 13, "Reciprocal areas"): relative and designated reinforcement and refinement areas with
the min_gap rule, checked against tests/reference.py's independent restatement and brute force, hand-computed
answers, and the readers (wide, observation-level, Excel, long, JSON rows, stored rosters)."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.errors import InputError
from matcher.io.teachers import read_teachers
from matcher.pairing import model
from matcher.pairing.engine import pair_teachers
from matcher.pairing.model import build_scoring
from matcher.policy import Policy
from matcher.rubric import bundled
from matcher.service.datasets import read_rows
from matcher.store.codec import merge_rosters, roster_of, table_of

from .reference import Ref, brute_force, make_table
from .strategies import SMALL, teacher_rows

N = math.nan
TEAM = bundled("team")
SAMPLE = Path(__file__).resolve().parent.parent / "data" / "samples" / "observations.csv"
IND = SMALL.indicators  # i1 .. i5


def T(tid: str, scores: list[float], **kw) -> dict:
    return {"teacher_id": tid, "scores": scores, **kw}


def names(mask: np.ndarray) -> set[str]:
    return {IND[j] for j in np.flatnonzero(mask)}


def the_pair(result, a: str, b: str):
    return next(p for p in result.pairs if {p.teacher_a, p.teacher_b} == {a, b})


def reason(result, tid: str):
    return next(u for u in result.unmatched if u.teacher_id == tid)


# ---- relative areas by hand ------------------------------------------------------------------------------------

@pytest.mark.parametrize("scores,k,refine,reinforce", [
    ([1, 2, 2, 3, 5], 2, {"i1", "i2", "i3"}, {"i4", "i5"}),  # the 2nd lowest (2) ties: both 2s are refinement
    ([1, 2, 2, 3, 5], 1, {"i1"}, {"i5"}),
    ([1, 2, 2, 3, 5], 3, {"i1", "i2", "i3"}, {"i2", "i3", "i4", "i5"}),  # 3rd highest is 2: both 2s, twice
    ([3, 3, 3, 3, 3], 1, set(IND), set(IND)),  # a flat profile: every indicator is both
    ([5, 5, 1, 1, 3], 1, {"i3", "i4"}, {"i1", "i2"}),
    ([N, 4, N, 2, 3], 3, {"i2", "i4", "i5"}, {"i2", "i4", "i5"}),  # fewer than k observed: all observed ones
    ([N, 4, N, 2, 3], 2, {"i4", "i5"}, {"i2", "i5"}),
    ([N, 4, N, 2, 3], 5, {"i2", "i4", "i5"}, {"i2", "i4", "i5"}),
    ([2.5, 2.49, 4.0, 3.99, 4.0], 1, {"i2"}, {"i3", "i5"}),
    ([N, N, N, N, N], 3, set(), set()),  # never observed: no area at all
])
def test_relative_areas_hand_computed(scores: list[float], k: int, refine: set[str], reinforce: set[str]) -> None:
    table = make_table(SMALL, [T("A", scores)])
    policy = Policy(areas="relative", areas_per_teacher=k)
    scoring = build_scoring(table, policy)
    assert names(scoring.weak[0]) == refine
    assert names(scoring.strong[0]) == reinforce
    ref_reinforce, ref_refine = Ref(table, policy).areas(0)
    assert {IND[j] for j in ref_refine} == refine and {IND[j] for j in ref_reinforce} == reinforce


# U and V mirror each other: with k = 2, U's reinforcement areas are i1, i2 (5, 4) and its refinement areas i4, i5
# (2, 1); V's the other way round. The gaps: i1 4 points, i2 2, i4 2, i5 4 (i3 is nobody's area).
MIRROR = [T("U", [5, 4, 3, 2, 1]), T("V", [1, 2, 3, 4, 5])]


@pytest.mark.parametrize("min_gap,u_helps_v,v_helps_u", [
    (0.0, ("i1", "i2"), ("i4", "i5")),
    (1.0, ("i1", "i2"), ("i4", "i5")),
    (2.0, ("i1", "i2"), ("i4", "i5")),  # a gap of exactly min_gap counts
    (2.5, ("i1",), ("i5",)),
    (4.0, ("i1",), ("i5",)),
])
def test_min_gap_hand_computed(min_gap: float, u_helps_v: tuple, v_helps_u: tuple) -> None:
    r = pair_teachers(make_table(SMALL, MIRROR), Policy(areas="relative", areas_per_teacher=2, min_gap=min_gap))
    p = the_pair(r, "U", "V")
    assert (p.a_helps_b, p.b_helps_a) == (u_helps_v, v_helps_u)
    assert p.value == len(u_helps_v) + len(v_helps_u) == r.summary["total_value"]
    assert "U and V can learn from each other." in p.explanation
    assert "i1 (U 5.00, V 1.00)" in p.explanation
    assert r.summary["two_way_pairs"] == 1


def test_gap_sized_value_and_a_gap_too_large() -> None:
    gap_sized = pair_teachers(make_table(SMALL, MIRROR),
                              Policy(areas="relative", areas_per_teacher=2, weigh_gap_size=True))
    assert the_pair(gap_sized, "U", "V").value == 4 + 2 + 2 + 4
    r = pair_teachers(make_table(SMALL, MIRROR), Policy(areas="relative", areas_per_teacher=2, min_gap=4.01))
    assert not r.pairs
    for tid in "UV":
        u = reason(r, tid)
        assert u.code == "no_helper"
        assert "2 highest scores" in u.reason and "at least 4.01 points higher" in u.reason
        assert "below" not in u.reason and "between" not in u.reason and "strong" not in u.reason


def test_gap_is_compared_with_a_tolerance() -> None:
    """4.1 - 3.1 is 0.9999999999999996 in floating point: still a gap of one point."""
    rows = [T("U", [4.1, 2, 2, 2, 2]), T("V", [3.1, 4, 4, 4, 4])]
    p = the_pair(pair_teachers(make_table(SMALL, rows), Policy(areas="relative", areas_per_teacher=1)), "U", "V")
    assert p.a_helps_b == ("i1",) and p.b_helps_a == ("i2", "i3", "i4", "i5")


def test_missing_scores_are_never_relative_areas() -> None:
    rows = [T("U", [5, N, N, 1, N]), T("V", [1, 5, N, N, N]), T("W", [N, N, N, N, N])]
    r = pair_teachers(make_table(SMALL, rows), Policy(areas="relative", areas_per_teacher=1))
    p = the_pair(r, "U", "V")
    assert p.a_helps_b == ("i1",) and p.b_helps_a == ()  # i4 is U's refinement area, but V did not score it
    assert reason(r, "W").code == "no_scores"


# ---- designated areas by hand ----------------------------------------------------------------------------------

def test_designated_areas_with_gap_rule_and_missing_scores() -> None:
    rows = [
        T("A", [5, 2, N, 3, 3], reinforce=["i1", "i3"], refine=["i2"]),
        T("B", [2, 4, 1, N, 3], reinforce=["i2"], refine=["i1", "i3", "i4"]),
        T("C", [4.5, 3, 3, 3, 3], reinforce=["i1", "i5"], refine=[]),
        T("D", [3, 3, 3, 3, 3]),  # nothing named
    ]
    table = make_table(SMALL, rows)
    r = pair_teachers(table, Policy(areas="designated"))
    ab = the_pair(r, "A", "B")
    # i1: 5 vs 2 (gap 3); i3: A not scored, so the designation decides; B supports A on i2 (4 vs 2).
    assert (ab.a_helps_b, ab.b_helps_a) == (("i1", "i3"), ("i2",))
    assert "i3 (A not observed, B 1.00)" in ab.explanation
    assert reason(r, "D").code == "no_areas" and "named" in reason(r, "D").reason
    assert reason(r, "C").code == "taken"  # C could support B on i1 (4.5 vs 2) but A and B are worth more together
    # min_gap 3: A still covers B on i1 (gap exactly 3) and i3 (no score); B's i2 gap of 2 no longer counts.
    r3 = pair_teachers(table, Policy(areas="designated", min_gap=3))
    ab3 = the_pair(r3, "A", "B")
    assert (ab3.a_helps_b, ab3.b_helps_a) == (("i1", "i3"), ())
    # With gap sizes, an area without both scores counts its weight (a gap of one point).
    rg = pair_teachers(table, Policy(areas="designated", weigh_gap_size=True))
    assert the_pair(rg, "A", "B").value == 3 + 1 + 2


def test_designated_without_the_columns_is_a_clear_error() -> None:
    with pytest.raises(InputError) as info:
        pair_teachers(make_table(SMALL, MIRROR), Policy(areas="designated"))
    (p,) = info.value.problems
    assert "reinforcement_areas" in p.message and "refinement_areas" in p.message and "neither" in p.message
    assert p.file == "generated"
    one_column = make_table(SMALL, [T("U", [5, 4, 3, 2, 1], refine=["i4"]), T("V", [1, 2, 3, 4, 5])])
    with pytest.raises(InputError, match="no reinforcement_areas column"):
        pair_teachers(one_column, Policy(areas="designated"))
    # Validating a policy on an empty table (the API does, before any data) is no error.
    build_scoring(table_of(SMALL, []), Policy(areas="designated"))


# ---- thresholds stay as they were ------------------------------------------------------------------------------

def _outcome(result) -> tuple:
    return result.pairs, result.unmatched, result.summary["total_value"]


def test_thresholds_ignore_min_gap_and_k(district: tuple[Path, Path]) -> None:
    for path in (district[0], SAMPLE):
        table = read_teachers(path, TEAM)
        base = pair_teachers(table, Policy())
        assert _outcome(pair_teachers(table, Policy(areas="thresholds", min_gap=3.5, areas_per_teacher=1))) == \
            _outcome(base)
        scoring = build_scoring(table, Policy(min_gap=2.0))
        assert scoring.min_gap is None and scoring.areas == "thresholds"
        # The cover test under thresholds is exactly "reinforcement area of u and refinement area of v".
        s = table.scores
        assert np.array_equal(scoring.covers(s, np.arange(len(table))[:, None], np.arange(len(table))[None, :]),
                              scoring.strong[:, None, :] & scoring.weak[None, :, :])


# ---- brute force against the reference -------------------------------------------------------------------------

def _schools(table) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, s in enumerate(table.school_id.tolist()):
        out.setdefault(s, []).append(i)
    return out


def _check_against_reference(table, policy: Policy) -> None:
    """The engine's total equals the brute-force optimum of the reference's definition, every pair's value and
    indicator lists are the definition's, and (mutual) the two-way count is the brute force's tie-break optimum."""
    result = pair_teachers(table, policy)
    ref = Ref(table, policy)
    idx = table.index
    one_way = policy.mode == "one_way"
    seen: set[int] = set()
    for q in result.pairs:
        a, b = idx[q.teacher_a], idx[q.teacher_b]
        assert ref.allowed(a, b), q
        assert q.a_helps_b == ref.covered(a, b), (q, ref.covered(a, b))
        assert q.b_helps_a == (() if one_way else ref.covered(b, a)), (q, ref.covered(b, a))
        units = ref.pair_units(a, b)
        assert units > 0 and abs(q.value - units / ref.scale) < 1e-9, (q, units)
        if not one_way:
            assert not {a, b} & seen
            seen |= {a, b}
    assert {u.teacher_id for u in result.unmatched} | {t for q in result.pairs for t in (q.teacher_a, q.teacher_b)} \
        == set(table.teacher_id.tolist())
    pools = _schools(table) if policy.scope == "school" else {"all": list(range(len(table)))}  # one district
    best = [brute_force(ref, m) for m in pools.values()]
    assert round(result.summary["total_value"] * ref.scale) == sum(b[0] for b in best)
    if not one_way:
        assert result.summary["two_way_pairs"] == sum(1 for q in result.pairs if q.a_helps_b and q.b_helps_a)
        assert result.summary["two_way_pairs"] == sum(b[2] for b in best)
    assert result.summary["optimal"] is True


@given(rows=teacher_rows(max_size=8), k=st.integers(1, 4), gap=st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0]),
       sized=st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_relative_matches_brute_force(rows: list[dict], k: int, gap: float, sized: bool) -> None:
    _check_against_reference(make_table(SMALL, rows),
                             Policy(areas="relative", areas_per_teacher=k, min_gap=gap, weigh_gap_size=sized))


@given(rows=teacher_rows(max_size=8), k=st.integers(1, 3), rule=st.sampled_from([
    {"max_junior_years": 5}, {"subject": "require_same"}, {"indicator_weights": (("i1", 2.0), ("i3", 0.0))},
    {"domain_weights": (("b", 0.5),), "weigh_gap_size": True}, {"scope": "district"}]))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_relative_with_rules_and_weights_matches_brute_force(rows: list[dict], k: int, rule: dict) -> None:
    _check_against_reference(make_table(SMALL, rows), Policy(areas="relative", areas_per_teacher=k, **rule))


@given(rows=teacher_rows(max_size=6, schools=1), k=st.integers(1, 3), targets=st.integers(1, 2))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_relative_one_way_matches_brute_force(rows: list[dict], k: int, targets: int) -> None:
    _check_against_reference(make_table(SMALL, rows), Policy(mode="one_way", max_targets_per_partner=targets,
                                                             areas="relative", areas_per_teacher=k))


@st.composite
def designated_rows(draw, max_size: int = 8) -> list[dict]:
    rows = draw(teacher_rows(max_size=max_size))
    subsets = st.lists(st.sampled_from(IND), max_size=3, unique=True)
    for r in rows:
        r["reinforce"] = draw(subsets)
        r["refine"] = draw(subsets)  # may overlap the reinforcement areas, as a file may say
    return rows


@given(rows=designated_rows(), gap=st.sampled_from([0.0, 1.0, 2.0]), sized=st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_designated_matches_brute_force(rows: list[dict], gap: float, sized: bool) -> None:
    _check_against_reference(make_table(SMALL, rows), Policy(areas="designated", min_gap=gap, weigh_gap_size=sized))


# ---- large pools: the blocked computation equals the whole one and the reference -------------------------------

@pytest.mark.parametrize("areas,sized,weights", [
    ("relative", False, ()), ("relative", True, ()), ("designated", False, (("questioning", 1.5),)),
    ("designated", True, ())])
def test_blocked_help_equals_the_reference(monkeypatch: pytest.MonkeyPatch, areas: str, sized: bool,
                                           weights: tuple) -> None:
    rng = np.random.default_rng(7)
    n, k = 70, len(TEAM.indicators)
    scores = rng.choice(np.array([1, 2, 2.5, 3, 3.33, 4, 4.67, 5, N]), size=(n, k))
    rows = [T(f"T{i:03d}", scores[i].tolist(),
              reinforce=[TEAM.indicators[j] for j in rng.choice(k, 2, replace=False)],
              refine=[TEAM.indicators[j] for j in rng.choice(k, 3, replace=False)]) for i in range(n)]
    table = make_table(TEAM, rows)
    policy = Policy(areas=areas, weigh_gap_size=sized, indicator_weights=weights, areas_per_teacher=4)
    scoring = build_scoring(table, policy)
    everyone = np.arange(n)
    whole = scoring.help_units(table.scores, everyone, everyone)  # every (helper, area) row against everyone
    monkeypatch.setattr(model, "CHUNK", 500)  # too small for that: blocks of 7 helpers, indicator by indicator
    blocked = scoring.help_units(table.scores, everyone, everyone)
    ref = Ref(table, policy)
    expected = np.array([[ref.gain_units(u, v) if u != v else whole[u, u] for v in range(n)] for u in range(n)])
    assert np.array_equal(whole, blocked)
    assert np.array_equal(whole, expected)
    assert whole.sum() > 0


# ---- explanations ------------------------------------------------------------------------------------------------

def test_relative_reasons_never_speak_of_thresholds() -> None:
    rows = [T("A", [5, 4, 3, 2, 1]), T("B", [1, 2, 3, 4, 5]), T("C", [5, 4, 3, 2, 1.5]),
            T("E", [N, N, N, N, N]), T("F", [2, 2, 2, 2, 2], opt_out=True),
            # another school: flat profiles, every score both kinds of area, but nobody a point apart
            T("D", [3, 3, 3, 3, 3], school_id="S2"), T("G", [3.5, 3.5, 3.5, 3.5, 3.5], school_id="S2")]
    r = pair_teachers(make_table(SMALL, rows), Policy(areas="relative", areas_per_teacher=2))
    (pair,) = r.pairs
    assert "B" in (pair.teacher_a, pair.teacher_b) and pair.value == 4
    other = "A" if "C" in (pair.teacher_a, pair.teacher_b) else "C"
    for u in r.unmatched:
        assert "between 3" not in u.reason and "below 3" not in u.reason and "4 or above" not in u.reason
    assert reason(r, "E").code == "no_scores" and reason(r, "F").code == "opted_out"
    assert reason(r, other).code == "taken"
    for tid in "DG":
        assert reason(r, tid).code == "no_helper"
        assert "a pair needs an indicator among one teacher's 2 highest scores and the other's 2 lowest, scored " \
               "at least 1 point higher" in reason(r, tid).reason
    for p in r.pairs:
        assert "weak" not in p.explanation.lower()


# ---- reading designated areas -----------------------------------------------------------------------------------

ROSTER = {"Teacher ID": ["T1", "T2", "T3"], "School ID": ["S1", "S1", "S1"], "Subject": ["math"] * 3,
          "Grades": ["5"] * 3, "Years Experience": [3, 10, 20]}
QUESTIONING, THINKING, STANDARDS = (TEAM.indicators.index(x) for x in
                                    ("questioning", "thinking", "standards_and_objectives"))


def _wide(**areas: list[str]) -> pd.DataFrame:
    df = pd.DataFrame({**ROSTER, "Questioning": [2, 4, 3], "Thinking": [4, 2, 3], "Standards and Objectives":
                       [3, 3, 5]})
    for header, cells in areas.items():
        df[header.replace("_", " ")] = cells
    return df


def _marked(table, field: str) -> list[set[str]]:
    marks = getattr(table, field)
    return [{TEAM.indicators[j] for j in np.flatnonzero(row)} for row in marks]


def test_wide_file_with_labelled_names(tmp_path: Path) -> None:
    df = _wide(Reinforcement_Areas=["Thinking", "questioning; Standards & Objectives", ""],
               Refinement_Areas=["Questioning", " thinking ;", "Standards/Objectives;Questioning"])
    path = tmp_path / "teachers.csv"
    df.to_csv(path, index=False)
    table = read_teachers(path, TEAM)
    assert _marked(table, "reinforcement_areas") == [{"thinking"}, {"questioning", "standards_and_objectives"}, set()]
    assert _marked(table, "refinement_areas") == [{"questioning"}, {"thinking"},
                                                  {"standards_and_objectives", "questioning"}]
    assert not any("kept as extras" in w for w in table.warnings)
    r = pair_teachers(table, Policy(areas="designated"))
    p = the_pair(r, "T1", "T2")  # T1 supports T2 on thinking (4 vs 2), T2 supports T1 on questioning (4 vs 2)
    assert (p.a_helps_b, p.b_helps_a) == (("thinking",), ("questioning",))
    # A file without the columns reads as before: no areas, and designated is refused naming the file.
    plain = tmp_path / "plain.csv"
    _wide().to_csv(plain, index=False)
    table = read_teachers(plain, TEAM)
    assert table.reinforcement_areas is None and table.refinement_areas is None
    with pytest.raises(InputError) as info:
        pair_teachers(table, Policy(areas="designated"))
    assert info.value.problems[0].file == str(plain)


def _observations() -> pd.DataFrame:
    """Three observations of T1 (each naming its own areas), two of T2, one of T3."""
    return pd.DataFrame({
        "Teacher ID": ["T1", "T1", "T2", "T1", "T2", "T3"], "School ID": ["S1"] * 6, "Subject": ["math"] * 6,
        "Grades": ["5"] * 6, "Years Experience": [3, 3, 10, 3, 10, 20],
        "Observation Date": ["2025-09-01", "2025-11-01", "2025-09-02", "2026-02-01", "2026-01-10", "2025-10-01"],
        "Questioning": [2, 1, 4, 3, 5, 3], "Thinking": [4, 5, 2, 4, 2, 3],
        "Area of Reinforcement": ["Thinking", "", "Questioning", "Standards and Objectives", "Questioning", ""],
        "Area of Refinement": ["Questioning", "questioning", "Thinking", "", "", "Thinking"],
    })


def _check_observations(table) -> None:
    ids = table.teacher_id.tolist()
    reinforce = dict(zip(ids, _marked(table, "reinforcement_areas"), strict=True))
    refine = dict(zip(ids, _marked(table, "refinement_areas"), strict=True))
    assert reinforce == {"T1": {"thinking", "standards_and_objectives"}, "T2": {"questioning"}, "T3": set()}
    assert refine == {"T1": {"questioning"}, "T2": {"thinking"}, "T3": {"thinking"}}


def test_observation_export_takes_the_union_of_each_teachers_rows(tmp_path: Path) -> None:
    path = tmp_path / "observations.csv"
    _observations().to_csv(path, index=False)
    table = read_teachers(path, TEAM)
    _check_observations(table)
    r = pair_teachers(table, Policy(areas="designated"))
    p = the_pair(r, "T1", "T2")  # T1: questioning 2, thinking 4.33; T2: questioning 4.5, thinking 2
    assert (p.a_helps_b, p.b_helps_a) == (("thinking",), ("questioning",))
    assert reason(r, "T3").code == "taken"  # T1 (thinking 4.33) could support T3 (3) in thinking
    table3 = table.subset(np.array([0, 2]))
    assert table3.teacher_id.tolist() == ["T1", "T3"]
    p13 = the_pair(pair_teachers(table3, Policy(areas="designated")), "T1", "T3")
    assert p13.a_helps_b == ("thinking",) and p13.b_helps_a == ()


def test_excel_export(tmp_path: Path) -> None:
    df = _observations()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["TEAM observation export, school year 2025-26"])  # a title row above the header
    sheet.append(list(df.columns))
    for row in df.itertuples(index=False):
        sheet.append([None if v == "" else v for v in row])
    path = tmp_path / "observations.xlsx"
    book.save(path)
    _check_observations(read_teachers(path, TEAM))


def test_unknown_indicator_names_file_row_column_and_value(tmp_path: Path) -> None:
    df = _observations()
    df.loc[3, "Area of Refinement"] = "Thinking; Questionning"
    df.loc[5, "Area of Reinforcement"] = "Classroom vibes"
    path = tmp_path / "observations.csv"
    df.to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        read_teachers(path, TEAM)
    problems = info.value.problems
    assert len(problems) == 2
    a = next(p for p in problems if p.column == "Area of Refinement")
    assert (a.file, a.row, a.value) == (str(path), 5, "Questionning")
    assert "not an indicator of the TEAM General Educator rubric" in a.message and "'questioning'" in a.message
    b = next(p for p in problems if p.column == "Area of Reinforcement")
    assert (b.file, b.row, b.value) == (str(path), 7, "Classroom vibes")


def test_long_format_areas_are_on_the_roster(tmp_path: Path) -> None:
    roster = pd.DataFrame({**ROSTER, "reinforcement_areas": ["thinking", "questioning", ""],
                           "refinement_areas": ["questioning", "thinking", "Nonsense"]})
    scores = pd.DataFrame({"teacher_id": ["T1", "T1", "T2", "T2"], "indicator": ["questioning", "thinking"] * 2,
                           "score": [2, 4, 4, 2]})
    roster_path, score_path = tmp_path / "roster.csv", tmp_path / "scores.csv"
    roster.to_csv(roster_path, index=False)
    scores.to_csv(score_path, index=False)
    with pytest.raises(InputError) as info:
        read_teachers(score_path, TEAM, roster_path)
    (p,) = info.value.problems
    assert (p.file, p.row, p.column, p.value) == (str(roster_path), 4, "refinement_areas", "Nonsense")
    roster.loc[2, "refinement_areas"] = ""
    roster.to_csv(roster_path, index=False)
    table = read_teachers(score_path, TEAM, roster_path)
    assert _marked(table, "reinforcement_areas") == [{"thinking"}, {"questioning"}, set()]
    p = the_pair(pair_teachers(table, Policy(areas="designated")), "T1", "T2")
    assert (p.a_helps_b, p.b_helps_a) == (("thinking",), ("questioning",))


def test_json_rows_and_stored_rosters_carry_the_areas() -> None:
    rows = [{"teacher_id": t, "school_id": "S1", "subject": "math", "grades": "5", "years_experience": 5,
             "scores": {"questioning": q, "thinking": th}, "reinforcement_areas": ra, "refinement_areas": fa}
            for t, q, th, ra, fa in (("T1", 2, 4, ["Thinking"], "questioning"),
                                     ("T2", 4, 2, "Questioning;", ["thinking", "Standards & Objectives"]),
                                     ("T3", 3, 3, [], None))]
    table = read_rows(rows, TEAM)
    assert _marked(table, "refinement_areas") == [{"questioning"}, {"thinking", "standards_and_objectives"}, set()]
    with pytest.raises(InputError) as info:
        read_rows([{**rows[0], "refinement_areas": ["Questioning", "Nope"]}], TEAM)
    assert (info.value.problems[0].row, info.value.problems[0].value) == (0, "Nope")
    # Stored rosters: the areas travel as names; a roster stored before they existed (no key) has none.
    roster = roster_of(table, np.arange(3))
    assert roster["reinforcement_areas"] == [["thinking"], ["questioning"], []]
    back = table_of(TEAM, [("S1", roster)])
    assert np.array_equal(back.reinforcement_areas, table.reinforcement_areas)
    assert np.array_equal(back.refinement_areas, table.refinement_areas)
    assert _outcome(pair_teachers(back, Policy(areas="designated"))) == \
        _outcome(pair_teachers(table, Policy(areas="designated")))
    old = {k: v for k, v in roster.items() if k not in ("reinforcement_areas", "refinement_areas")}
    assert table_of(TEAM, [("S1", old)]).reinforcement_areas is None
    assert "reinforcement_areas" not in roster_of(table_of(TEAM, [("S1", old)]), np.arange(3))
    # A re-match adding a teacher from JSON rows without the keys: the merged roster keeps everyone's areas.
    added = roster_of(read_rows([{k: v for k, v in rows[2].items() if "areas" not in k} | {"teacher_id": "T4"}],
                                TEAM), np.arange(1))
    merged = merge_rosters(roster, added, {"T3"})
    assert merged["refinement_areas"] == [["questioning"], ["standards_and_objectives", "thinking"], []]
    assert table_of(TEAM, [("S1", merged)]).teacher_id.tolist() == ["T1", "T2", "T4"]


# ---- the bundled sample -----------------------------------------------------------------------------------------

def test_sample_relative_optimum_equals_an_independent_matching() -> None:
    """On the sample export, relative areas' total equals networkx's maximum-weight matching on the reference's pair
    values, school by school (opt-outs left out)."""
    table = read_teachers(SAMPLE, TEAM)
    policy = Policy(areas="relative")
    result = pair_teachers(table, policy)
    ref = Ref(table, policy)
    total = 0
    for members in _schools(table).values():
        g = nx.Graph()
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                w = ref.pair_units(a, b)
                if w > 0 and ref.allowed(a, b):
                    g.add_edge(a, b, weight=w)
        total += sum(g[a][b]["weight"] for a, b in nx.max_weight_matching(g))
    assert result.summary["total_value"] == total / ref.scale
    idx = table.index
    for q in result.pairs:
        assert q.a_helps_b == ref.covered(idx[q.teacher_a], idx[q.teacher_b])
        assert q.b_helps_a == ref.covered(idx[q.teacher_b], idx[q.teacher_a])
    with pytest.raises(InputError, match="has neither column"):
        pair_teachers(table, Policy(areas="designated"))

