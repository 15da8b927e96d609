"""The large-pool route (pairing.large): the same optimum as the dense route, tie-breaks and held pairs included,
a valid bound when it stops early, and the right refusal without LEMON. Pools are made "large" here by lowering
the threshold, so that the dense route (every candidate pair, rustworkx's blossom) is the independent check."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.errors import InputError
from matcher.io.teachers import read_teachers
from matcher.pairing import engine, large
from matcher.pairing.engine import pair_teachers
from matcher.pairing.solvers import lemon
from matcher.policy import Policy
from matcher.rubric import bundled
from matcher.synth import write_district

from .checks import check_pairing
from .reference import Ref

pytestmark = pytest.mark.skipif(not lemon.available(), reason=f"LEMON not built: {lemon.unavailable_reason()}")


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    d = tmp_path_factory.mktemp("large")
    write_district(d / "t.csv", 24, 22, seed=5)
    return read_teachers(d / "t.csv", bundled("team"))


def _large(monkeypatch: pytest.MonkeyPatch, size: int = 20) -> None:
    monkeypatch.setattr(large, "LARGE_POOL", size)


def _lexicographic(r) -> tuple[float, int]:
    return r.summary["total_value"], r.summary["two_way_pairs"]


@pytest.mark.parametrize("policy", [
    Policy(scope="district"),
    Policy(scope="district", subject="prefer_same", grade="prefer_same"),
    Policy(scope="district", max_junior_years=5, max_grade_distance=3, weigh_gap_size=True),
    Policy(scope="all", subject="require_same", indicator_weights=(("questioning", 2.0),)),
], ids=["default", "soft", "rules-gap", "all-require-same"])
def test_large_route_finds_the_dense_optimum(table, monkeypatch: pytest.MonkeyPatch, policy: Policy) -> None:
    dense = pair_teachers(table, policy)
    _large(monkeypatch)
    big = pair_teachers(table, policy)
    assert big.summary["solvers"].get("large", 0) >= 1 and "large_pools" in big.summary
    assert big.summary["optimal"] and dense.summary["optimal"]
    assert _lexicographic(big) == _lexicographic(dense)
    assert big.summary["large_pools"]["value_upper_bound"] == big.summary["total_value"]
    if policy.soft_preferences:  # the soft tie-break too: the same number of preferred pairs
        def soft(r):
            t = r.teachers
            return sum(t.subject[t.index[q.teacher_a]] == t.subject[t.index[q.teacher_b]] for q in r.pairs)
        assert soft(big) == soft(dense)
    check_pairing(big, Ref(table, policy))
    assert {u.teacher_id for u in big.unmatched} | {x for q in big.pairs for x in (q.teacher_a, q.teacher_b)} \
        == set(table.teacher_id.tolist())


def test_held_pairs_and_their_price_match_the_dense_route(table, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = Policy(scope="district")
    first = pair_teachers(table, Policy(scope="district", max_grade_distance=2))  # pairs that are not optimal now
    previous = [(q.teacher_a, q.teacher_b) for q in first.pairs[::2]]
    dense = pair_teachers(table, policy, previous=previous)
    _large(monkeypatch)
    big = pair_teachers(table, policy, previous=previous)
    assert big.summary["solvers"].get("large", 0) >= 1
    assert _lexicographic(big) == _lexicographic(dense)
    for key in ("kept", "broken", "value_cost"):
        assert big.summary["previous"][key] == dense.summary["previous"][key]


def test_a_route_stopped_early_states_a_valid_bound(table, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = Policy(scope="district")
    exact = pair_teachers(table, policy).summary["total_value"]
    _large(monkeypatch)
    monkeypatch.setattr(large, "MAX_ROUNDS", 1)
    monkeypatch.setattr(large, "_START_PER_TEACHER", 1)
    early = pair_teachers(table, policy)
    s = early.summary
    assert not s["optimal"] and s["large_pools"]["unproven"] >= 1
    assert s["total_value"] <= exact <= s["large_pools"]["value_upper_bound"]
    assert s["large_pools"]["gap"] > 0
    check_pairing(early, Ref(table, policy))


def test_too_many_pairs_to_settle_the_tie_breaks_is_not_called_optimal(table, monkeypatch) -> None:
    policy = Policy(scope="district")
    exact = pair_teachers(table, policy).summary["total_value"]
    _large(monkeypatch)
    monkeypatch.setattr(large, "MAX_RESTRICTED", 0)
    r = pair_teachers(table, policy)
    assert not r.summary["optimal"]
    assert r.summary["total_value"] <= exact <= r.summary["large_pools"]["value_upper_bound"]


def test_the_bound_is_valid_for_any_potentials() -> None:
    """U(y) = sum(y) + sum_e max(0, p_e - y_u - y_v) bounds every matching, whatever y >= 0 is: checked against
    brute force on small random graphs (the formula the route's early stop relies on)."""
    from itertools import combinations

    rng = np.random.default_rng(3)
    for _ in range(40):
        n = int(rng.integers(3, 8))
        edges = [(a, b, int(rng.integers(1, 6))) for a, b in combinations(range(n), 2) if rng.random() < 0.6]
        best = 0
        for k in range(1, n // 2 + 1):
            for pick in combinations(edges, k):
                ends = [x for a, b, _ in pick for x in (a, b)]
                if len(set(ends)) == len(ends):
                    best = max(best, sum(w for *_, w in pick))
        y = rng.integers(0, 4, n)
        bound = int(y.sum()) + sum(max(0, w - y[a] - y[b]) for a, b, w in edges)
        assert best <= bound


def test_without_lemon_a_pool_above_the_dense_limit_is_refused(table, monkeypatch) -> None:
    monkeypatch.setattr(lemon, "available", lambda: False)
    monkeypatch.setattr(engine, "MAX_POOL", 50)
    with pytest.raises(InputError, match="large-pool route needs the LEMON matcher"):
        pair_teachers(table, Policy(scope="district"))


def test_one_way_large_pools_stay_dense(table, monkeypatch: pytest.MonkeyPatch) -> None:
    _large(monkeypatch)
    r = pair_teachers(table, Policy(scope="district", mode="one_way"))
    assert "large" not in r.summary["solvers"] and "large_pools" not in r.summary
