"""Each policy option, on small hand-checked schools: must/do-not pair, opt-outs, fallback, previous runs,
experience, weights, rubrics, reasons and wording."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matcher.errors import InfeasibleError, InputError, MatcherError
from matcher.io.teachers import read_teachers
from matcher.pairing.engine import pair_teachers
from matcher.policy import Policy
from matcher.rubric import bundled
from matcher.synth import write_district

from .checks import check_pairing
from .reference import Ref, brute_force, make_table
from .strategies import SMALL

N = math.nan


def T(tid: str, scores: list[float], **kw) -> dict:
    return {"teacher_id": tid, "scores": scores, **kw}


# A school where A helps B on i1, i2; B helps A on i4; C helps D on i3; D helps nobody.
SCHOOL = [
    T("A", [4.5, 4.0, 3.0, 2.0, 3.0], years=20),
    T("B", [2.0, 2.5, 3.0, 4.5, 3.0], years=2),
    T("C", [3.0, 3.0, 4.0, 3.0, 3.0], years=10),
    T("D", [3.0, 3.0, 2.0, 3.0, 3.0], years=10),
    T("E", [3.0, 3.0, 3.0, 3.0, 3.0], years=10),  # no refinement or reinforcement area
]


def run(rows: list[dict], policy: Policy | None = None, **kw):
    table = make_table(SMALL, rows)
    result = pair_teachers(table, policy or Policy(), **kw)
    check_pairing(result, Ref(table, policy or Policy()))
    return result


def pairs_of(result) -> set[frozenset[str]]:
    return {frozenset((p.teacher_a, p.teacher_b)) for p in result.pairs}


def reason(result, tid: str):
    return next(u for u in result.unmatched if u.teacher_id == tid)


def test_default_policy_hand_checked() -> None:
    r = run(SCHOOL)
    assert pairs_of(r) == {frozenset("AB"), frozenset("CD")}
    ab = next(p for p in r.pairs if {p.teacher_a, p.teacher_b} == {"A", "B"})
    assert ab.value == 3 and ab.a_helps_b == ("i1", "i2") and ab.b_helps_a == ("i4",)
    assert ab.focus_indicator in ("i1", "i4")
    assert r.summary["total_value"] == 4 and r.summary["optimal"] is True
    assert reason(r, "E").code == "no_areas"


def test_explanations_name_indicators_and_both_scores_in_neutral_words() -> None:
    r = run(SCHOOL)
    ab = next(p for p in r.pairs if p.teacher_a == "A")
    assert "A can support B in i1 (A 4.50, B 2.00)" in ab.explanation
    assert "B can support A in i4 (B 4.50, A 2.00)" in ab.explanation
    assert "Suggested focus" in ab.explanation
    for p in r.pairs:
        assert "weak" not in p.explanation.lower()
    for u in r.unmatched:
        assert "weak" not in u.reason.lower()


def test_do_not_pair_is_never_formed_and_the_rest_stays_optimal() -> None:
    pol = Policy(do_not_pair=(("A", "B"),))
    r = run(SCHOOL, pol)
    assert frozenset("AB") not in pairs_of(r)
    ref = Ref(make_table(SMALL, SCHOOL), pol)
    assert r.summary["total_value"] == brute_force(ref, list(range(5)))[0]


def test_must_pair_is_formed_even_when_not_optimal() -> None:
    rows = SCHOOL + [T("F", [2.0, 3.0, 3.0, 3.0, 3.0])]  # A could help F on i1
    r = run(rows, Policy(must_pair=(("A", "F"),)))
    assert frozenset("AF") in pairs_of(r)
    assert next(p for p in r.pairs if "F" in (p.teacher_a, p.teacher_b)).origin == "must_pair"
    assert r.summary["must_pairs"] == 1


@pytest.mark.parametrize("policy,words", [
    (Policy(must_pair=(("A", "B"), ("B", "C"))), "B is in another must-pair"),
    (Policy(must_pair=(("A", "B"),), do_not_pair=(("B", "A"),)), "do-not-pair"),
    (Policy(must_pair=(("A", "E"),)), "neither teacher can support the other"),
    (Policy(must_pair=(("A", "X"),)), None),  # unknown teacher: an input error instead
])
def test_must_pair_conflicts_are_named(policy: Policy, words: str | None) -> None:
    table = make_table(SMALL, SCHOOL)
    if words is None:
        with pytest.raises(InputError) as err:
            pair_teachers(table, policy, policy_source="policy.toml")
        (prob,) = err.value.problems
        assert (prob.file, prob.column, prob.value) == ("policy.toml", "must_pair", "X")
        return
    with pytest.raises(InfeasibleError, match=words):
        pair_teachers(table, policy)


def test_must_pair_across_schools_and_with_an_opted_out_teacher_is_infeasible() -> None:
    rows = [T("A", [4.5, 3, 3, 3, 3], school_id="S1"), T("B", [2, 3, 3, 3, 3], school_id="S2"),
            T("C", [2, 3, 3, 3, 3], school_id="S1", opt_out=True)]
    table = make_table(SMALL, rows)
    with pytest.raises(InfeasibleError) as err:
        pair_teachers(table, Policy(must_pair=(("A", "B"), ("C", "A"))))
    msg = str(err.value)
    assert "different schools (S1, S2)" in msg and "C opted out" in msg and "another must-pair" in msg


def test_opted_out_teachers_are_left_out_with_that_reason() -> None:
    rows = [dict(r) for r in SCHOOL]
    rows[1]["opt_out"] = True
    r = run(rows)
    assert all("B" not in (p.teacher_a, p.teacher_b) for p in r.pairs)
    assert reason(r, "B").code == "opted_out"
    assert run(rows, Policy(respect_opt_out=False)).summary["n_pairs"] == 2


def test_unmatched_reasons_are_specific() -> None:
    rows = [
        T("A", [4.5, 3, 3, 3, 3], subject="math"),
        T("B", [2.0, 3, 3, 3, 3], subject="math"),
        T("C", [2.0, 3, 3, 3, 3], subject="math"),  # A is taken by B (tie) -> taken
        T("D", [3, 3, 2.0, 3, 3], subject="math"),  # nobody strong in i3 -> no_helper, names the area
        T("E", [3, 4.5, 3, 3, 3], subject="art"),   # could help F, but subject must match -> ruled_out
        T("F", [3, 2.0, 3, 3, 3], subject="math"),
        T("G", [N, N, N, N, N], subject="math"),
    ]
    r = run(rows, Policy(subject="require_same"))
    codes = {u.teacher_id: u.code for u in r.unmatched}
    taken = next(x for x in ("B", "C") if x in codes)
    other = "C" if taken == "B" else "B"
    assert codes[taken] == "taken" and f"A (value 1) is paired with {other}" in reason(r, taken).reason
    assert codes["D"] == "no_helper" and "i3" in reason(r, "D").reason
    assert codes["E"] == "ruled_out" and "subject" in reason(r, "E").reason
    assert codes["G"] == "no_scores"


def test_one_way_partner_supports_up_to_k_targets_and_is_never_a_target() -> None:
    rows = [T("P", [4.5, 4.5, 4.5, 3, 3]), T("Q", [2, 3, 3, 4.5, 3]), T("R", [3, 2, 3, 3, 3]),
            T("S", [3, 3, 2, 3, 3])]
    r1 = run(rows, Policy(mode="one_way", max_targets_per_partner=1))
    r3 = run(rows, Policy(mode="one_way", max_targets_per_partner=3))
    assert r1.summary["n_pairs"] == 1 and r3.summary["n_pairs"] == 3
    assert {p.teacher_a for p in r3.pairs} == {"P"}
    assert all(not p.b_helps_a for p in r3.pairs)
    # Q could support P on i4, but P is a partner, so Q cannot also be P's partner: P is never both.
    assert all(p.teacher_b != "P" for p in r3.pairs)


def test_experience_rule_drops_a_junior_partner_direction() -> None:
    # B (2 years) would support A (20 years) on i4; with a 10-year limit only A -> B counts.
    r = run(SCHOOL, Policy(max_junior_years=10))
    ab = next(p for p in r.pairs if {p.teacher_a, p.teacher_b} == {"A", "B"})
    assert ab.value == 2 and ab.b_helps_a == ()
    rows = [T("A", [3, 3, 3, 2.0, 3], years=25), T("B", [3, 3, 3, 4.5, 3], years=1)]
    r = run(rows, Policy(max_junior_years=10))
    assert r.summary["n_pairs"] == 0 and reason(r, "A").code == "ruled_out"
    assert "less experienced" in reason(r, "A").reason


def test_weights_and_gap_size_value() -> None:
    pol = Policy(indicator_weights=(("i1", 2.0),), domain_weights=(("b", 0.5),), weigh_gap_size=True)
    r = run(SCHOOL, pol)
    ab = next(p for p in r.pairs if {p.teacher_a, p.teacher_b} == {"A", "B"})
    # i1: 2 x (4.5 - 2.0) = 5; i2: 1 x (4.0 - 2.5) = 1.5; i4 (domain b): 0.5 x (4.5 - 2.0) = 1.25
    assert ab.value == pytest.approx(7.75)


def test_unknown_weight_names_are_input_errors() -> None:
    with pytest.raises(InputError) as err:
        pair_teachers(make_table(SMALL, SCHOOL), Policy(indicator_weights=(("nope", 1.0),),
                                                        domain_weights=(("zzz", 2.0),)))
    assert {p.column for p in err.value.problems} == {"indicator_weights.nope", "domain_weights.zzz"}


def test_soft_preferences_break_ties_only_unless_weighted() -> None:
    # A can help B (math) or C (art) equally; with prefer_same subject the tie goes to B.
    rows = [T("A", [4.5, 3, 3, 3, 3], subject="art"), T("B", [2, 3, 3, 3, 3], subject="math"),
            T("C", [2, 3, 3, 3, 3], subject="art"), T("D", [3, 4.5, 4.5, 3, 3], subject="math"),
            T("E", [3, 2, 2, 3, 3], subject="art"), T("F", [3, 2, 3, 3, 3], subject="math")]
    r = run(rows, Policy(subject="prefer_same"))
    assert frozenset("AC") in pairs_of(r) and r.summary["total_value"] == 3
    assert r.summary["soft_preferences"].startswith("tie-break")
    assert frozenset("DE") in pairs_of(r)  # worth 2, cross subject; D-F (same subject) is worth only 1
    # Weighted heavily, same-subject pairs win even at a cost in value.
    w = run(rows, Policy(subject="prefer_same", preference_weight=5))
    assert "weighted" in w.summary["soft_preferences"]
    assert pairs_of(w) == {frozenset("AC"), frozenset("DF")} and w.summary["total_value"] == 2


def test_previous_run_is_kept_and_changes_are_counted() -> None:
    first = run(SCHOOL)
    previous = [(p.teacher_a, p.teacher_b) for p in first.pairs] + [("A", "Z")]
    again = run([r for r in SCHOOL if r["teacher_id"] != "D"], previous=previous, previous_source="pairs.csv")
    pv = again.summary["previous"]
    assert (pv["kept"], pv["broken"], pv["new"]) == (1, 2, 0)
    reasons = {(d["teacher_a"], d["teacher_b"]): d["reason"] for d in pv["broken_pairs"]}
    assert "no longer on the roster: D" in reasons[("C", "D")]
    assert "no longer on the roster: Z" in reasons[("A", "Z")]
    assert {p.previous for p in again.pairs} == {"kept"}


def test_cross_school_fallback_pairs_leftovers_within_district_and_distance() -> None:
    rows = [T("A", [4.5, 3, 3, 3, 3], school_id="S1"), T("B", [2, 3, 3, 3, 3], school_id="S2"),
            T("C", [3, 4.5, 3, 3, 3], school_id="S3", district_id="D2"),
            T("D", [3, 2, 3, 3, 3], school_id="S4", district_id="D9")]
    assert run(rows).summary["n_pairs"] == 0
    r = run(rows, Policy(cross_school_fallback=True))
    assert pairs_of(r) == {frozenset("AB")}
    p = r.pairs[0]
    assert p.origin == "cross_school" and {p.school_id, p.school_b} == {"S1", "S2"}
    assert r.summary["cross_school_pairs"] == 1
    coords = {"S1": (36.0, -86.0), "S2": (36.5, -86.0), "S3": (35, -85), "S4": (35, -85)}  # S1-S2: ~55 km
    near = run(rows, Policy(cross_school_fallback=True, fallback_max_km=100), school_coords=coords)
    assert near.summary["n_pairs"] == 1
    far = run(rows, Policy(cross_school_fallback=True, fallback_max_km=40), school_coords=coords)
    assert far.summary["n_pairs"] == 0 and "too far" in reason(far, "A").reason
    with pytest.raises(InputError, match="coordinates"):
        pair_teachers(make_table(SMALL, rows), Policy(cross_school_fallback=True, fallback_max_km=40))


def test_unknown_solver_name_is_refused() -> None:
    with pytest.raises(MatcherError, match="unknown solver"):
        pair_teachers(make_table(SMALL, SCHOOL), Policy(solver="magic"))


def test_inputs_are_not_mutated() -> None:
    table = make_table(SMALL, SCHOOL)
    before = table.scores.copy(), table.teacher_id.copy(), table.opt_out.copy()
    pair_teachers(table, Policy(weigh_gap_size=True, max_junior_years=3))
    assert np.array_equal(before[0], table.scores, equal_nan=True)
    assert (before[1] == table.teacher_id).all() and (before[2] == table.opt_out).all()


def test_danielson_rubric_end_to_end(tmp_path) -> None:
    """22 indicators on a 1-4 scale: nothing assumes TEAM's 19 indicators or its 1-5 scale."""
    rubric = bundled("danielson")
    write_district(tmp_path / "d.csv", 3, 25, seed=5, rubric=rubric)
    table = read_teachers(tmp_path / "d.csv", rubric)
    result = pair_teachers(table, Policy())
    check_pairing(result, Ref(table, Policy()))
    assert result.summary["n_pairs"] > 10 and result.summary["weak_below"] == 2.5
    assert all(set(p.a_helps_b) <= set(rubric.indicators) for p in result.pairs)


def test_previous_pair_broken_by_a_rule_names_the_rule() -> None:
    previous = [("A", "B")]  # A (20 years) and B (2 years): B's help to A is refused under a 10-year limit ...
    rows = [T("A", [3, 3, 3, 2.0, 3], years=20), T("B", [3, 3, 3, 4.5, 3], years=2),
            T("C", [3, 3, 3, 4.5, 3], years=19)]
    r = run(rows, Policy(max_junior_years=10), previous=previous)
    (broken,) = r.summary["previous"]["broken_pairs"]
    assert "experience rule" in broken["reason"]
    r = run(rows, Policy(grade="require_same"), previous=previous)
    assert r.summary["previous"]["kept"] == 1  # ... and nothing else stops it


def test_a_pool_too_large_for_dense_matching_is_refused(monkeypatch) -> None:
    from matcher.pairing import engine

    monkeypatch.setattr(engine, "MAX_POOL", 3)
    with pytest.raises(InputError, match="pool of 5 teachers"):
        pair_teachers(make_table(SMALL, SCHOOL), Policy(scope="all"))
