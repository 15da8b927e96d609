"""The engine's optimum equals brute force on small schools, and independent exact solvers on larger ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.pairing.engine import pair_teachers
from matcher.pairing.solvers import matching, star_packing
from matcher.policy import Policy
from matcher.rubric import bundled
from matcher.synth import generate_district

from .checks import check_pairing
from .reference import Ref, brute_force, make_table
from .strategies import SMALL, teacher_rows

POLICIES = {
    "ipi default": Policy(),
    "weights + gap size": Policy(indicator_weights=(("i1", 2.0),), domain_weights=(("b", 0.5),), weigh_gap_size=True),
    "thresholds": Policy(weak_below=2.5, strong_at_least=3.5),
    "require same subject": Policy(subject="require_same"),
    "require same grade": Policy(grade="require_same"),
    "prefer same subject (tie-break)": Policy(subject="prefer_same"),
    "prefer cross grade (tie-break)": Policy(grade="prefer_cross"),
    "prefer same subject (weighted)": Policy(subject="prefer_same", preference_weight=0.5),
    "max grade distance": Policy(max_grade_distance=2),
    "junior partner rule": Policy(max_junior_years=5),
    "opt-outs ignored": Policy(respect_opt_out=False),
    "district scope": Policy(scope="district"),
    "two-way weighted": Policy(two_way_weight=1.5),
    "two-way weighted, prefer same subject": Policy(two_way_weight=1, subject="prefer_same"),
    "everything": Policy(weigh_gap_size=True, subject="prefer_same", grade="prefer_cross", max_grade_distance=7,
                         max_junior_years=10, domain_weights=(("a", 1.5),)),
}


def _schools(table) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, s in enumerate(table.school_id.tolist()):
        out.setdefault(s, []).append(i)
    return out


def _lexicographic(result, ref: Ref, previous: set) -> tuple:
    """The engine's (value, kept, two-way, soft) in the brute force's terms."""
    idx = result.teachers.index
    one_way = ref.policy.mode == "one_way"
    pw, tw = ref.policy.preference_weight, ref.policy.two_way_weight
    v = kept = two = soft = 0
    for q in result.pairs:
        a, b = idx[q.teacher_a], idx[q.teacher_b]
        u = ref.pair_units(a, b)
        s = ref.soft(a, b)
        t = int(not one_way and ref.gain_units(a, b) > 0 and ref.gain_units(b, a) > 0)
        if pw > 0:
            u += int(round(pw * ref.scale * s))
            s = 0
        if tw > 0:
            u += int(round(tw * ref.scale * t))
            t = 0
        v += u
        soft += s
        two += t
        kept += ((a, b) if one_way else (min(a, b), max(a, b))) in previous
    return v, kept, two, soft


@pytest.mark.parametrize("name", list(POLICIES))
@given(rows=teacher_rows(max_size=9))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutual_matches_brute_force(name: str, rows: list[dict]) -> None:
    policy = POLICIES[name]
    table = make_table(SMALL, rows)
    result = pair_teachers(table, policy)
    ref = Ref(table, policy)
    check_pairing(result, ref)
    pools = _schools(table) if policy.scope == "school" else {"all": list(range(len(table)))}
    expected = tuple(map(sum, zip(*(brute_force(ref, m) for m in pools.values()), strict=True)))
    assert _lexicographic(result, ref, set()) == expected
    assert result.summary["optimal"] is True


@pytest.mark.parametrize("k", [1, 2, 3])
@given(rows=teacher_rows(max_size=7, schools=1), gap=st.booleans())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_one_way_matches_brute_force(k: int, rows: list[dict], gap: bool) -> None:
    policy = Policy(mode="one_way", max_targets_per_partner=k, weigh_gap_size=gap)
    table = make_table(SMALL, rows)
    result = pair_teachers(table, policy)
    ref = Ref(table, policy)
    check_pairing(result, ref)
    assert _lexicographic(result, ref, set())[0] == brute_force(ref, list(range(len(table))))[0]


@given(rows=teacher_rows(min_size=2, max_size=9), data=st.data())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_previous_pairs_are_kept_when_still_optimal(rows: list[dict], data: st.DataObject) -> None:
    """balanced: keeping last run's pairs never costs value, and as many are kept as any optimal pairing could
    keep."""
    table = make_table(SMALL, rows)
    n = len(table)
    prev_idx = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=4))
    previous = [(table.teacher_id[a], table.teacher_id[b]) for a, b in prev_idx if a != b]
    policy = Policy(previous_stability="balanced")
    ref = Ref(table, policy)
    result = pair_teachers(table, policy, previous=previous)
    check_pairing(result, ref)
    prev_keys = {(min(table.index[a], table.index[b]), max(table.index[a], table.index[b])) for a, b in previous}
    expected = tuple(map(sum, zip(*(brute_force(ref, m, prev_keys) for m in _schools(table).values()),
                                  strict=True)))
    got = _lexicographic(result, ref, prev_keys)
    assert got[:2] == expected[:2]
    assert result.summary["previous"]["kept"] == got[1]


def _synth_pool(seed: int, n_schools: int, mean: float):
    teachers, _ = generate_district(n_schools, mean, seed)
    scores = teachers[list(bundled("team").indicators)].to_numpy(dtype=float)
    weak, strong = scores < 3, scores >= 4
    return teachers, weak.astype(np.int64), strong.astype(np.int64)


def _edges(weak: np.ndarray, strong: np.ndarray, rng: np.random.Generator | None = None):
    g = strong @ weak.T
    v = g + g.T
    np.fill_diagonal(v, 0)
    a, b = np.nonzero(np.triu(v, 1))
    w = v[a, b]
    if rng is not None:  # a tie-break component, as the engine adds for soft preferences
        w = w * 1000 + rng.integers(0, 7, len(w))
    return a, b, w


def _value(a, b, w, chosen) -> int:
    ends = np.concatenate([a[chosen], b[chosen]])
    assert len(np.unique(ends)) == len(ends), "not a matching"
    return int(w[chosen].sum())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_blossom_equals_cpsat_and_networkx_on_real_sized_schools(seed: int) -> None:
    teachers, weak, strong = _synth_pool(seed, 6, 45)
    rng = np.random.default_rng(seed)
    for school in teachers["school_id"].unique()[:4]:
        rows = np.flatnonzero(teachers["school_id"].to_numpy() == school)
        a, b, w = _edges(weak[rows], strong[rows], rng)
        n = len(rows)
        values = {name: _value(a, b, w, matching(n, a, b, w, name).chosen)
                  for name in ("blossom", "cpsat", "networkx", "certified")}
        assert len(set(values.values())) == 1, values


@pytest.mark.parametrize("seed", [4, 5])
def test_certified_route_equals_blossom_on_dense_pools(seed: int) -> None:
    teachers, weak, strong = _synth_pool(seed, 10, 40)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(teachers), size=350, replace=False)
    for tie_break in (None, rng):
        a, b, w = _edges(weak[rows], strong[rows], tie_break)
        n = len(rows)
        assert _value(a, b, w, matching(n, a, b, w, "certified").chosen) == \
            _value(a, b, w, matching(n, a, b, w, "blossom").chosen)


def test_certified_route_handles_an_lp_gap() -> None:
    """A triangle of mutual helpers has LP value 1.5 x edge weight but matching value 1 x: the certificate
    cannot close, so the reduced-cost route must still find the true optimum."""
    n = 9  # three disjoint triangles plus a heavy edge elsewhere
    a = np.array([0, 1, 0, 3, 4, 3, 6, 7, 6, 2])
    b = np.array([1, 2, 2, 4, 5, 5, 7, 8, 8, 5])
    w = np.array([5, 5, 5, 4, 4, 4, 3, 3, 3, 1])
    from matcher.pairing.solvers import certified

    assert _value(a, b, w, certified.solve(n, a, b, w)) == _value(a, b, w, matching(n, a, b, w, "cpsat").chosen)


@pytest.mark.parametrize("seed,k", [(6, 2), (7, 3)])
def test_one_way_lp_route_equals_cpsat(seed: int, k: int) -> None:
    from matcher.pairing.solvers import cpsat, star

    teachers, weak, strong = _synth_pool(seed, 8, 35)
    school = teachers["school_id"].to_numpy()
    for s in np.unique(school)[:8]:
        rows = np.flatnonzero(school == s)
        g = strong[rows] @ weak[rows].T
        np.fill_diagonal(g, 0)
        p, t = np.nonzero(g)
        w = g[p, t]
        n = len(rows)
        via_auto = star_packing(n, p, t, w, k)
        via_cpsat = cpsat.solve_star_packing(n, p, t, w, k, np.zeros(0, dtype=np.int64))
        assert star.feasible_value(n, p, t, w, k, via_auto.chosen) == star.feasible_value(n, p, t, w, k, via_cpsat)


def test_statewide_sample_blossom_equals_networkx() -> None:
    teachers, weak, strong = _synth_pool(11, 60, 39)
    school = teachers["school_id"].to_numpy()
    for s in np.unique(school):
        rows = np.flatnonzero(school == s)
        a, b, w = _edges(weak[rows], strong[rows])
        n = len(rows)
        assert _value(a, b, w, matching(n, a, b, w, "blossom").chosen) == \
            _value(a, b, w, matching(n, a, b, w, "networkx").chosen)


def test_one_way_time_limit_returns_a_feasible_unproven_pairing() -> None:
    """Past the time limit the answer is still a valid pairing, at least as good as one target per partner,
    and it is labelled unproven rather than optimal."""
    from matcher.pairing.solvers import blossom, star

    rng = np.random.default_rng(0)
    n = 200
    strong = (rng.random((n, 19)) < 0.25).astype(np.int64)
    weak = (rng.random((n, 19)) < 0.2).astype(np.int64)
    g = strong @ weak.T
    np.fill_diagonal(g, 0)
    p, t = np.nonzero(g)
    w = g[p, t]
    chosen, method, proven = star.solve(n, p, t, w, 3, np.zeros(0, dtype=np.int64), time_limit=0.05)
    value = star.feasible_value(n, p, t, w, 3, chosen)
    assert method == "cpsat" and proven is False
    assert value is not None and value >= int(w[blossom.best_arc_matching(n, p, t, w)].sum())


@pytest.mark.slow
def test_certified_route_equals_blossom_on_a_benchmark_sized_pool() -> None:
    """2,000 teachers, about a million candidate pairs, with tie-break weights (blossom alone takes ~30 s)."""
    teachers, weak, strong = _synth_pool(13, 60, 39)
    rng = np.random.default_rng(13)
    rows = rng.choice(len(teachers), size=2000, replace=False)
    a, b, w = _edges(weak[rows], strong[rows], rng)
    assert len(a) > 500_000
    assert _value(a, b, w, matching(2000, a, b, w, "certified").chosen) == \
        _value(a, b, w, matching(2000, a, b, w, "blossom").chosen)
