"""The optional LEMON matcher: same total as rustworkx and networkx, a valid matching, big weights exact."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.errors import MatcherError
from matcher.pairing.solvers import blossom, fastest_blossom, lemon, matching
from matcher.pairing.solvers.reference import networkx_matching

needs_lemon = pytest.mark.skipif(not lemon.available(), reason=f"LEMON matcher unavailable: "
                                                                f"{lemon.unavailable_reason()}")

BIG = 10**9
WEIGHTS = st.sampled_from(["ties", "big", "wide", "max"])


def _weights(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "ties":  # many equal optima, so the solvers may pick different but equally heavy matchings
        return rng.integers(1, 4, size)
    if kind == "big":  # 1e9 + small: near-ties at the scale of the engine's lexicographic weights
        return BIG + rng.integers(0, 4, size)
    if kind == "wide":
        return rng.integers(1, 10**12, size)
    return lemon.MAX_WEIGHT - rng.integers(0, 8, size)  # the largest weights LEMON is given


def _check_matching(n: int, u: np.ndarray, v: np.ndarray, chosen: np.ndarray) -> None:
    assert chosen.dtype == np.int64
    assert np.all(np.diff(chosen) > 0), "indices ascending, no repeats"
    assert len(chosen) == 0 or (chosen[0] >= 0 and chosen[-1] < len(u))
    ends = np.concatenate([u[chosen], v[chosen]])
    assert len(np.unique(ends)) == len(ends), "no vertex in two chosen edges"
    assert np.all((ends >= 0) & (ends < n))


def _total(w: np.ndarray, chosen: np.ndarray) -> int:
    return sum(int(x) for x in w[chosen])  # Python ints: no int64 overflow on 2^56-sized weights


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Up to 14 vertices (some isolated), any subset of the pairs in either orientation, possibly no edge."""
    n = draw(st.integers(0, 14))
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    picked = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=40)) if pairs else []
    flips = draw(st.lists(st.booleans(), min_size=len(picked), max_size=len(picked)))
    u = np.array([b if f else a for (a, b), f in zip(picked, flips, strict=True)], dtype=np.int64)
    v = np.array([a if f else b for (a, b), f in zip(picked, flips, strict=True)], dtype=np.int64)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return n, u, v, _weights(draw(WEIGHTS), len(u), rng).astype(np.int64)


@needs_lemon
@settings(max_examples=300, deadline=None)
@given(graphs())
def test_lemon_equals_rustworkx_and_networkx_on_small_graphs(graph: tuple) -> None:
    n, u, v, w = graph
    before = (u.copy(), v.copy(), w.copy())
    chosen = lemon.solve(n, u, v, w)
    _check_matching(n, u, v, chosen)
    total = _total(w, chosen)
    assert total == _total(w, blossom.solve(n, u, v, w))
    assert total == _total(w, networkx_matching(n, u, v, w))
    for a, b in zip(before, (u, v, w), strict=True):
        np.testing.assert_array_equal(a, b)  # inputs untouched


def _random_graph(n: int, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """About m distinct pairs on n vertices (the rest isolated when m is small), in random orientation."""
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = a != b
    key = np.unique(np.minimum(a, b)[keep] * n + np.maximum(a, b)[keep])
    rng.shuffle(key)
    u, v = key // n, key % n
    flip = rng.random(len(u)) < 0.5
    return np.where(flip, v, u), np.where(flip, u, v)


@needs_lemon
@pytest.mark.parametrize("kind", ["ties", "big", "wide", "max"])
@pytest.mark.parametrize(("n", "m", "seed"), [(39, 400, 1), (120, 1_500, 2), (150, 60, 3)])
def test_lemon_equals_networkx_on_pool_sized_graphs(n: int, m: int, seed: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    u, v = _random_graph(n, m, rng)
    w = _weights(kind, len(u), rng)
    chosen = lemon.solve(n, u, v, w)
    _check_matching(n, u, v, chosen)
    assert _total(w, chosen) == _total(w, networkx_matching(n, u, v, w)) == _total(w, blossom.solve(n, u, v, w))


@needs_lemon
@pytest.mark.parametrize("kind", ["ties", "big", "wide", "max"])
def test_lemon_equals_rustworkx_on_a_medium_graph(kind: str) -> None:
    rng = np.random.default_rng(16)
    n = 1_000
    u, v = _random_graph(n, 30_000, rng)
    w = _weights(kind, len(u), rng)
    chosen = lemon.solve(n, u, v, w)
    _check_matching(n, u, v, chosen)
    assert _total(w, chosen) == _total(w, blossom.solve(n, u, v, w))


@needs_lemon
def test_lemon_edge_cases() -> None:
    empty = np.zeros(0, dtype=np.int64)
    assert lemon.solve(0, empty, empty, empty).tolist() == []
    assert lemon.solve(5, empty, empty, empty).tolist() == []
    # A self-loop and a non-positive weight are never chosen; of two parallel edges the heavier is.
    u, v, w = np.array([0, 0, 1, 2]), np.array([0, 1, 0, 3]), np.array([100, 5, 7, 0])
    assert lemon.solve(4, u, v, w).tolist() == [2]
    # int32, float and strided inputs are read as int64 without being changed.
    u32 = np.array([0, 9, 1, 9, 2, 9], dtype=np.int32)[::2]
    assert lemon.solve(3, u32, np.array([1, 2, 0]), np.array([5.0, 6.0, 5.0])).tolist() == [1]


@needs_lemon
def test_weights_beyond_lemons_bound_go_to_rustworkx_and_bad_endpoints_raise() -> None:
    u, v = np.array([0, 1, 2]), np.array([1, 2, 3])
    w = np.array([lemon.MAX_WEIGHT + 1, lemon.MAX_WEIGHT + 3, lemon.MAX_WEIGHT + 1])
    assert lemon.solve(4, u, v, w).tolist() == blossom.solve(4, u, v, w).tolist() == [0, 2]
    with pytest.raises(MatcherError, match="outside"):
        lemon.solve(2, np.array([0]), np.array([2]), np.array([1]))


@needs_lemon
def test_front_door_runs_lemon_by_name() -> None:
    sol = matching(4, np.array([0, 1, 2]), np.array([1, 2, 3]), np.array([3, 5, 3]), solver="lemon")
    assert sol.method == "lemon" and sol.chosen.tolist() == [0, 2]
    assert fastest_blossom() is lemon.solve


def test_unbuilt_lemon_is_unavailable_and_named_in_the_error(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path) -> None:
    monkeypatch.setenv("MATCHER_LEMON_LIB", str(tmp_path / "missing.so"))
    lemon._load.cache_clear()
    try:
        assert not lemon.available()
        assert "make lemon" in lemon.unavailable_reason()
        assert fastest_blossom() is blossom.solve
        with pytest.raises(MatcherError, match="solver 'lemon'.*make lemon"):
            matching(2, np.array([0]), np.array([1]), np.array([1]), solver="lemon")
        (tmp_path / "missing.so").write_bytes(b"not a library")  # present but broken: still no exception
        lemon._load.cache_clear()
        assert not lemon.available() and "did not load" in lemon.unavailable_reason()
    finally:
        monkeypatch.delenv("MATCHER_LEMON_LIB")
        lemon._load.cache_clear()


@needs_lemon
@pytest.mark.parametrize("seed", range(6))
def test_fractional_duals_are_an_optimal_dual_of_the_matching_lp(seed: int) -> None:
    """4 x the potentials: nonnegative, covering every edge (y_u + y_v >= w), and summing to 4 x the LP optimum that
    HiGHS finds for max w.x with x(delta(v)) <= 1 (an odd cycle makes it fractional: a triangle is 1.5)."""
    from scipy import sparse
    from scipy.optimize import linprog

    rng = np.random.default_rng(seed)
    n, m = 40, 300
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = u != v
    u, v = u[keep], v[keep]
    w = rng.integers(1, 12, len(u))
    pot = lemon.fractional_duals(n, u, v, w)
    assert (pot >= 0).all() and (pot[u] + pot[v] >= 4 * w).all()
    a = sparse.csr_matrix((np.ones(2 * len(u)), (np.r_[u, v], np.r_[np.arange(len(u)), np.arange(len(u))])),
                          shape=(n, len(u)))
    lp = -linprog(-w, A_ub=a, b_ub=np.ones(n), bounds=(0, None), method="highs").fun
    assert pot.sum() == round(4 * lp)
    assert list(lemon.fractional_duals(3, np.array([0, 1, 0]), np.array([1, 2, 2]), np.array([1, 1, 1]))) == [2, 2, 2]
