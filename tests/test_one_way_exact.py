"""One-way pairing's LP branch and bound (solvers/star.py) is exact: brute force on small pools, CP-SAT on larger ones,
through both LP back ends, with fixed arcs, and with its fallbacks to CP-SAT."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.errors import SolverError
from matcher.pairing.solvers import cpsat, star, star_packing
from matcher.rubric import bundled
from matcher.synth import generate_district

NONE = np.zeros(0, dtype=np.int64)


def brute_force(n: int, p: np.ndarray, t: np.ndarray, w: np.ndarray, k: int, fixed: np.ndarray = NONE) -> int | None:
    """The best value over every valid one-way pairing containing the fixed arcs (None: there is none), by choosing
    for each vertex in turn no partner or one of its in-arcs."""
    into = [[i for i in range(len(p)) if t[i] == v] for v in range(n)]
    must = {int(t[i]): int(i) for i in fixed}
    if len(must) < len(set(fixed.tolist())):
        return None
    role = [""] * n  # "p" partner, "t" target
    load = [0] * n
    best = [None]

    def go(v: int, value: int) -> None:
        if v == n:
            best[0] = value if best[0] is None else max(best[0], value)
            return
        if v not in must:
            go(v + 1, value)  # v gets no partner
        for i in into[v]:
            u = int(p[i])
            if (v in must and must[v] != i) or role[v] == "p" or role[u] == "t" or load[u] == k:
                continue
            saved = role[u], role[v]
            role[u], role[v] = "p", "t"
            load[u] += 1
            go(v + 1, value + int(w[i]))
            load[u] -= 1
            role[u], role[v] = saved

    go(0, 0)
    return best[0]


@st.composite
def small_pools(draw, max_n: int = 7):
    n = draw(st.integers(2, max_n))
    pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
    mask = draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    arcs = [pr for pr, keep in zip(pairs, mask, strict=True) if keep] or [pairs[0]]
    p = np.array([a for a, _ in arcs], dtype=np.int64)
    t = np.array([b for _, b in arcs], dtype=np.int64)
    w = np.array(draw(st.lists(st.integers(1, 4), min_size=len(arcs), max_size=len(arcs))), dtype=np.int64)
    k = draw(st.integers(1, 3))
    n_fixed = draw(st.integers(0, min(2, len(arcs))))
    fixed = np.array(sorted(draw(st.sets(st.integers(0, len(arcs) - 1), min_size=n_fixed, max_size=n_fixed))),
                     dtype=np.int64)
    return n, p, t, w, k, fixed


@pytest.mark.parametrize("backend", ["highs", "linprog"])
@given(pool=small_pools())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_branch_and_bound_matches_brute_force(backend: str, pool) -> None:
    n, p, t, w, k, fixed = pool
    expected = brute_force(n, p, t, w, k, fixed)
    chosen, _, proven = star._branch_and_bound(n, p, t, w, k, fixed, backend=backend)
    if expected is None:
        assert chosen is None and not proven  # left to CP-SAT, which reports that the fixed arcs admit no pairing
        return
    assert proven and chosen is not None
    assert star.feasible_value(n, p, t, w, k, chosen) == expected
    assert set(fixed.tolist()) <= set(chosen.tolist())


@given(pool=small_pools())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_front_door_matches_brute_force(pool) -> None:
    n, p, t, w, k, fixed = pool
    expected = brute_force(n, p, t, w, k, fixed)
    if expected is None:
        with pytest.raises(SolverError):
            star_packing(n, p, t, w, k, fixed)
        return
    sol = star_packing(n, p, t, w, k, fixed)
    assert sol.optimal
    assert star.feasible_value(n, p, t, w, k, sol.chosen) == expected
    assert set(fixed.tolist()) <= set(sol.chosen.tolist())


@given(pool=small_pools(max_n=6), data=st.data())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_bound_holds_for_any_nonnegative_duals(pool, data: st.DataObject) -> None:
    """The certificate's bound is valid for every y >= 0, not only for an optimal LP dual, over the whole box and
    over a box with arcs forced in."""
    n, p, t, w, k, fixed = pool
    lp = star._Relaxation(n, p, t, w, k)
    y = np.array(data.draw(st.lists(st.sampled_from([0.0, 1 / 3, 0.5, 1.0, 2.5, 7.0]), min_size=lp.nrows,
                                    max_size=lp.nrows)))
    lo = np.zeros(lp.ncols, dtype=np.int64)
    up = np.ones(lp.ncols, dtype=np.int64)
    certificate = lp.bound(y, lo, up)
    assert certificate is not None and certificate[0] >= brute_force(n, p, t, w, k) * star._DUAL_SCALE
    best_with_fixed = brute_force(n, p, t, w, k, fixed)
    if best_with_fixed is not None:
        for j in fixed.tolist():
            box = star._fix_arc(n, p, t, k, lo, up, j)
            assert box is not None
            lo, up = box
        certificate = lp.bound(y, lo, up)
        assert certificate is not None and certificate[0] >= best_with_fixed * star._DUAL_SCALE


def _school_pools(seed: int, n_schools: int, mean: float, tie_breaks: bool = False):
    """(n, p, t, w) per school of a synthetic district: arcs p -> t weighted by the indicators p can help t on."""
    teachers, _ = generate_district(n_schools, mean, seed)
    scores = teachers[list(bundled("team").indicators)].to_numpy(dtype=float)
    weak, strong = (scores < 3).astype(np.int64), (scores >= 4).astype(np.int64)
    school = teachers["school_id"].to_numpy()
    rng = np.random.default_rng(seed)
    for s in np.unique(school):
        rows = np.flatnonzero(school == s)
        g = strong[rows] @ weak[rows].T
        np.fill_diagonal(g, 0)
        p, t = np.nonzero(g)
        w = g[p, t].astype(np.int64)
        if tie_breaks:  # a lower layer, as the engine's soft preferences add
            w = w * (2 * len(rows) + 1) + rng.integers(0, 3, len(w))
        yield len(rows), p, t, w


@pytest.mark.parametrize("seed,k,tie_breaks", [(21, 2, False), (31, 3, False), (23, 2, True)])
def test_medium_schools_equal_cpsat(seed: int, k: int, tie_breaks: bool) -> None:
    methods: Counter[str] = Counter()
    for n, p, t, w in _school_pools(seed, 40, 39, tie_breaks):
        sol = star_packing(n, p, t, w, k)
        methods[sol.method] += 1
        exact = cpsat.solve_star_packing(n, p, t, w, k, NONE)[0]
        assert sol.optimal
        assert star.feasible_value(n, p, t, w, k, sol.chosen) == star.feasible_value(n, p, t, w, k, exact)
    assert methods["lp-certified"] > 0 and methods["lp-branch-and-bound"] > 0  # both routes were exercised


def test_medium_schools_with_fixed_arcs_equal_cpsat() -> None:
    rng = np.random.default_rng(5)
    for n, p, t, w in _school_pools(24, 25, 39):
        # Fix up to three compatible arcs chosen at random (as held or must pairs would be).
        fixed: list[int] = []
        for i in rng.permutation(len(p))[:10].tolist():
            if star.feasible_value(n, p, t, w, 2, np.array(fixed + [i])) is not None:
                fixed.append(i)
            if len(fixed) == 3:
                break
        f = np.array(sorted(fixed), dtype=np.int64)
        sol = star_packing(n, p, t, w, 2, f)
        exact = cpsat.solve_star_packing(n, p, t, w, 2, f)[0]
        assert sol.optimal and set(fixed) <= set(sol.chosen.tolist())
        assert star.feasible_value(n, p, t, w, 2, sol.chosen) == star.feasible_value(n, p, t, w, 2, exact)


def test_fallbacks_stay_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the node budget CP-SAT takes over; without scipy's HiGHS bindings the LPs go through linprog."""
    pools = list(_school_pools(23, 30, 39, tie_breaks=True))
    expected = [star.feasible_value(n, p, t, w, 2, cpsat.solve_star_packing(n, p, t, w, 2, NONE)[0])
                for n, p, t, w in pools]
    monkeypatch.setattr(star, "MAX_NODES", 1)
    methods: Counter[str] = Counter()
    for (n, p, t, w), value in zip(pools, expected, strict=True):
        chosen, method, proven = star.solve(n, p, t, w, 2, NONE)
        methods[method] += 1
        assert proven and star.feasible_value(n, p, t, w, 2, chosen) == value
    assert methods["cpsat"] > 0 and "lp-branch-and-bound" not in methods
    monkeypatch.setattr(star, "MAX_NODES", 400)
    monkeypatch.setattr(star, "_highs_class", lambda: None)
    for (n, p, t, w), value in zip(pools[:12], expected[:12], strict=True):
        chosen, method, proven = star.solve(n, p, t, w, 2, NONE)
        assert proven and method.startswith("lp-") and star.feasible_value(n, p, t, w, 2, chosen) == value


def test_time_limit_keeps_the_best_pairing_found() -> None:
    """Under a time limit too short to prove anything, the answer is a valid pairing at least as good as the
    branch and bound's best so far and as one target per partner, labelled unproven."""
    from matcher.pairing.solvers import blossom

    rng = np.random.default_rng(3)
    n = 150
    g = (rng.random((n, 19)) < 0.25).astype(np.int64) @ (rng.random((n, 19)) < 0.2).astype(np.int64).T
    np.fill_diagonal(g, 0)
    p, t = np.nonzero(g)
    w = g[p, t]
    chosen, method, proven = star.solve(n, p, t, w, 2, NONE, time_limit=0.02)
    value = star.feasible_value(n, p, t, w, 2, chosen)
    assert value is not None and value >= int(w[blossom.best_arc_matching(n, p, t, w)].sum())
    assert method == "cpsat" and not proven
