"""One shared checker: every constraint of a PairingResult, and its objective recomputed independently."""

from __future__ import annotations

from collections import Counter

from matcher.pairing.result import PairingResult

from .reference import Ref


def check_pairing(result: PairingResult, ref: Ref) -> None:
    t, p = result.teachers, result.policy
    idx = t.index
    pairs = result.pairs
    one_way = p.mode == "one_way"
    appearances = Counter()
    as_partner, as_target = Counter(), Counter()
    total_units = 0
    for q in pairs:
        a, b = idx[q.teacher_a], idx[q.teacher_b]
        appearances[a] += 1
        appearances[b] += 1
        must = (q.teacher_a, q.teacher_b) in p.must_pair or (
            not one_way and (q.teacher_b, q.teacher_a) in p.must_pair)
        if q.origin == "cross_school":
            assert t.school_id[a] != t.school_id[b] and t.district_id[a] == t.district_id[b], q
        elif not must:
            assert ref.allowed(a, b), f"pair breaks a hard rule: {q}"
        assert (q.teacher_a, q.teacher_b) not in p.do_not_pair and (q.teacher_b, q.teacher_a) not in p.do_not_pair
        units = ref.pair_units(a, b)
        assert units > 0, f"pair with no value: {q}"
        assert abs(q.value - units / ref.scale) < 1e-9, (q, units)
        total_units += units
        if one_way:
            as_partner[a] += 1
            as_target[b] += 1
            assert not q.b_helps_a
        # Reported indicators are exactly those where one is strong and the other weak.
        weak, strong = ref.thresholds()
        inds = t.rubric.indicators
        expect_ab = tuple(inds[j] for j in range(len(inds))
                          if t.scores[b, j] < weak and t.scores[a, j] >= strong and ref.weight(j) > 0)
        if ref.gain_units(a, b) > 0 or not expect_ab:
            assert q.a_helps_b == expect_ab, (q, expect_ab)
    if one_way:
        assert all(c <= p.max_targets_per_partner for c in as_partner.values())
        assert all(c <= 1 for c in as_target.values())
        assert not set(as_partner) & set(as_target), "a teacher is both partner and target"
    else:
        assert all(c == 1 for c in appearances.values()), "a teacher is in two pairs"
    for a, b in p.must_pair:
        assert any({q.teacher_a, q.teacher_b} == {a, b} for q in pairs), f"must-pair {a}-{b} missing"
    unmatched = {u.teacher_id for u in result.unmatched}
    paired = {t.teacher_id[i] for i in appearances}
    assert not unmatched & paired
    assert unmatched | paired == set(t.teacher_id.tolist()), "some teacher is neither paired nor explained"
    assert all(u.reason for u in result.unmatched)
    assert abs(result.summary["total_value"] - total_units / ref.scale) < 1e-6
    assert result.summary["n_pairs"] == len(pairs)
