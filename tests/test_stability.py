"""Earlier pairs on a re-run: keep_untouched keeps every one still allowed and pairs the rest exactly; a principal's
kept pairs hold whatever the stability; the two-way tie-break and weight; all against brute force."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.pairing.engine import pair_teachers
from matcher.pairing.model import FIXED_POINT, build_scoring
from matcher.policy import Policy

from .checks import check_pairing
from .reference import Ref, brute_force, make_table
from .strategies import SMALL, teacher_rows


def _schools(table) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, s in enumerate(table.school_id.tolist()):
        out.setdefault(s, []).append(i)
    return out


def _held(ref: Ref, pairs: list[tuple[int, int]], one_way: bool, k: int = 1) -> list[tuple[int, int]]:
    """The earlier pairs that stay, from the definition: in order, each one still allowed and worth something whose
    teachers no earlier-held pair has taken (one-way: a target has one partner, a partner at most k targets, and
    nobody is both)."""
    held: list[tuple[int, int]] = []
    for a, b in pairs:
        useful = ref.gain_units(a, b) > 0 if one_way else ref.pair_units(a, b) > 0
        if not (ref.allowed(a, b) and useful):
            continue
        if one_way:
            targets = {y for _, y in held}
            partners = [x for x, _ in held]
            if b in targets or b in partners or a in targets or partners.count(a) >= k:
                continue
        elif {a, b} & {x for pr in held for x in pr}:
            continue
        if (a, b) not in held:
            held.append((a, b))
    return held


def _draw_pairs(data: st.DataObject, n: int, size: int = 4) -> list[tuple[int, int]]:
    idx = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=size))
    return [(a, b) for a, b in idx if a != b]


@given(rows=teacher_rows(min_size=2, max_size=9), data=st.data())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_keep_untouched_keeps_every_still_allowed_pair_and_pairs_the_rest_exactly(rows: list[dict],
                                                                                  data: st.DataObject) -> None:
    table = make_table(SMALL, rows)
    prev_idx = _draw_pairs(data, len(table))
    previous = [(table.teacher_id[a], table.teacher_id[b]) for a, b in prev_idx]
    policy = Policy()  # previous_stability keep_untouched is the default
    ref = Ref(table, policy)
    result = pair_teachers(table, policy, previous=previous)
    check_pairing(result, ref)
    idx = table.index
    got = {frozenset((idx[q.teacher_a], idx[q.teacher_b])) for q in result.pairs}
    held = _held(ref, prev_idx, one_way=False)
    assert {frozenset(p) for p in held} <= got
    # Everyone else is paired exactly: the free teachers' optimum, school by school.
    taken = {x for p in held for x in p}
    rest = sum(brute_force(ref, [i for i in m if i not in taken])[0] for m in _schools(table).values())
    held_units = sum(ref.pair_units(a, b) for a, b in held)
    assert round(result.summary["total_value"] * ref.scale) == held_units + rest
    # The cost reported is the fresh optimum's value minus this one's.
    fresh = sum(brute_force(ref, m)[0] for m in _schools(table).values())
    assert round(result.summary["previous"]["value_cost"] * ref.scale) == fresh - held_units - rest
    assert result.summary["previous"]["stability"] == "keep_untouched"
    assert result.summary["previous"]["kept"] == len({frozenset(p) for p in prev_idx} & got)


@given(k=st.integers(1, 2), rows=teacher_rows(min_size=2, max_size=7, schools=1), data=st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_keep_untouched_one_way(k: int, rows: list[dict], data: st.DataObject) -> None:
    table = make_table(SMALL, rows)
    prev_idx = _draw_pairs(data, len(table))
    previous = [(table.teacher_id[a], table.teacher_id[b]) for a, b in prev_idx]
    policy = Policy(mode="one_way", max_targets_per_partner=k)
    ref = Ref(table, policy)
    result = pair_teachers(table, policy, previous=previous)
    check_pairing(result, ref)
    idx = table.index
    got = {(idx[q.teacher_a], idx[q.teacher_b]) for q in result.pairs}
    held = _held(ref, prev_idx, one_way=True, k=k)
    assert set(held) <= got
    # Nothing better exists with those arcs held: the brute force over the whole school bounds it, and equals it
    # when no arc is held.
    best = brute_force(ref, list(range(len(table))))[0]
    value = round(result.summary["total_value"] * ref.scale)
    assert value <= best
    assert round(result.summary["previous"]["value_cost"] * ref.scale) == best - value
    if not held:
        assert value == best


@given(rows=teacher_rows(min_size=2, max_size=8), data=st.data(),
       stability=st.sampled_from(["keep_untouched", "balanced", "full"]))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_principals_kept_pairs_hold_while_allowed_whatever_the_stability(rows: list[dict], data: st.DataObject,
                                                                         stability: str) -> None:
    table = make_table(SMALL, rows)
    keep_idx = _draw_pairs(data, len(table), 3)
    keep = [(table.teacher_id[a], table.teacher_id[b]) for a, b in keep_idx]
    policy = Policy(previous_stability=stability)  # type: ignore[arg-type]
    ref = Ref(table, policy)
    result = pair_teachers(table, policy, previous=[], keep=keep)
    check_pairing(result, ref)
    idx = table.index
    got = {frozenset((idx[q.teacher_a], idx[q.teacher_b])): q for q in result.pairs}
    held = _held(ref, keep_idx, one_way=False)
    for a, b in held:
        assert got[frozenset((a, b))].origin == "kept"
    if keep:
        summary = result.summary["kept_on_request"]
        assert summary["held"] == len(held)
        assert summary["requested"] == len({frozenset(p) for p in keep_idx})
        assert len(summary["not_held"]) == summary["requested"] - len(held)
    taken = {x for p in held for x in p}
    rest = sum(brute_force(ref, [i for i in m if i not in taken])[0] for m in _schools(table).values())
    assert round(result.summary["total_value"] * ref.scale) == sum(ref.pair_units(a, b) for a, b in held) + rest


def test_a_refused_kept_pair_says_why() -> None:
    rows = [{"teacher_id": "A", "scores": [1, 1, 1, 1, 1]}, {"teacher_id": "B", "scores": [5, 5, 5, 5, 5]},
            {"teacher_id": "C", "scores": [3, 3, 3, 3, 3]}]
    table = make_table(SMALL, rows)
    result = pair_teachers(table, Policy(do_not_pair=(("A", "B"),)), keep=[("A", "B"), ("A", "C"), ("A", "Z")])
    reasons = {(d["teacher_a"], d["teacher_b"]): d["reason"] for d in result.summary["kept_on_request"]["not_held"]}
    assert reasons == {("A", "B"): "on the do-not-pair list",
                       ("A", "C"): "the new scores give neither teacher a reinforcement area in the other's "
                                   "refinement areas",
                       ("A", "Z"): "no longer on the roster: Z"}


def test_full_stability_ignores_previous_pairs_in_the_objective() -> None:
    """Two optimal pairings; balanced and keep_untouched keep the earlier one, full says it re-solved."""
    s = [5, 5, 1, 1, 3]
    rows = [{"teacher_id": "A", "scores": s}, {"teacher_id": "B", "scores": s[::-1]},
            {"teacher_id": "C", "scores": s}, {"teacher_id": "D", "scores": s[::-1]}]
    table = make_table(SMALL, rows)
    fresh = {(q.teacher_a, q.teacher_b) for q in pair_teachers(table, Policy()).pairs}
    other = [("A", "D"), ("B", "C")] if ("A", "B") in fresh else [("A", "B"), ("C", "D")]
    for stability in ("balanced", "keep_untouched"):
        r = pair_teachers(table, Policy(previous_stability=stability), previous=other)  # type: ignore[arg-type]
        assert {(q.teacher_a, q.teacher_b) for q in r.pairs} == set(other)
        assert r.summary["previous"]["kept"] == 2
    r = pair_teachers(table, Policy(previous_stability="full"), previous=other)
    assert r.summary["tie_breaks"] == ["two-way pairs"]
    assert "keep previous pairs" not in r.summary["tie_breaks"]
    if {(q.teacher_a, q.teacher_b) for q in r.pairs} != set(other):
        assert {d["reason"] for d in r.summary["previous"]["broken_pairs"]} == {
            "the pool was paired afresh (previous_stability full)"}


def test_two_way_pairs_break_ties_and_two_way_weight_trades_value() -> None:
    """A and B each support the other once (value 2); C supports D twice (value 2): among the optimal pairings
    the engine prefers two-way pairs, and a weight can make a two-way pair win over more value."""
    # i1..i5; weak < 3, strong >= 4.
    rows = [{"teacher_id": "A", "scores": [5, 1, 3, 3, 3]}, {"teacher_id": "B", "scores": [1, 5, 3, 3, 3]},
            {"teacher_id": "C", "scores": [3, 3, 5, 5, 3]}, {"teacher_id": "D", "scores": [3, 3, 1, 1, 3]}]
    table = make_table(SMALL, rows)
    r = pair_teachers(table, Policy())
    assert {(q.teacher_a, q.teacher_b) for q in r.pairs} == {("A", "B"), ("C", "D")}
    assert r.summary["two_way_pairs"] == 1
    # A one-way pair worth more: E supports A on i2, i3 and i4 (value 3); A and B support each other (value 2).
    rows2 = [{"teacher_id": "A", "scores": [5, 1, 1, 1, 3]}, {"teacher_id": "B", "scores": [1, 5, 3, 3, 3]},
             {"teacher_id": "E", "scores": [3, 5, 5, 5, 3]}]
    t2 = make_table(SMALL, rows2)
    plain = pair_teachers(t2, Policy())
    assert {(q.teacher_a, q.teacher_b) for q in plain.pairs} == {("A", "E")}
    assert plain.summary["two_way_pairs"] == 0
    weighted = pair_teachers(t2, Policy(two_way_weight=1.5))
    assert {(q.teacher_a, q.teacher_b) for q in weighted.pairs} == {("A", "B")}  # 2 + 1.5 > 3
    assert weighted.summary["objective"] == "value + two_way_weight x two-way pairs"
    assert weighted.summary["two_way_pairs"] == 1
    assert "two-way pairs" not in weighted.summary["tie_breaks"]
    # A fractional weight is exact too: the objective goes to fixed point rather than rounding 2.4 to 2, which
    # would tie A-B (2 + 2) with A-E (4) instead of preferring it (2 + 2.4).
    rows3 = [{"teacher_id": "A", "scores": [5, 1, 1, 1, 1]}, {"teacher_id": "B", "scores": [1, 5, 3, 3, 3]},
             {"teacher_id": "E", "scores": [3, 5, 5, 5, 5]}]
    t3 = make_table(SMALL, rows3)
    assert build_scoring(t3, Policy(two_way_weight=2.4)).scale == FIXED_POINT
    for w, best in ((2.4, ("A", "B")), (1.6, ("A", "E"))):
        got = pair_teachers(t3, Policy(two_way_weight=w))
        assert [(q.teacher_a, q.teacher_b) for q in got.pairs] == [best]


def test_a_rematch_may_refuse_a_pair_and_remove_one_of_its_teachers() -> None:
    from matcher.pairing.rematch import rematch

    rows = [{"teacher_id": "A", "scores": [1, 1, 1, 1, 1]}, {"teacher_id": "B", "scores": [5, 5, 5, 5, 5]},
            {"teacher_id": "C", "scores": [5, 5, 5, 5, 4]}, {"teacher_id": "D", "scores": [1, 1, 1, 1, 2]}]
    table = make_table(SMALL, rows)
    out = rematch(table, Policy(), "S1", [("A", "B"), ("C", "D")], forbid=[("A", "B")], remove=["B"])
    assert {(q.teacher_a, q.teacher_b) for q in out.result.pairs} == {("C", "D")}
    assert {d["reason"] for d in out.broken} == {"refused by the principal"}
    assert out.value_cost == 0
