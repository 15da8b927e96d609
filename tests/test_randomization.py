"""Randomization inference (rollouts/randomization.py) against independent computations: brute-force enumeration
with itertools, draw_blocked's empirical frequencies, statsmodels fits per assignment, a hand-computed Fisher
exact test, direct evaluation of p(c) on a grid, and the size of the test over the whole assignment space."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from matcher.rollouts import randomization as R
from matcher.rollouts.assignment import draw_blocked, smd
from matcher.rollouts.estimators import Data, complier_iv, difference_in_means, regression
from matcher.rollouts.inference import pair_difference

# (codes, share): matched pairs with an odd school out, two blocks with a fractional n p, complete randomization
DESIGNS = {
    "3 pairs + odd": (np.array([0, 0, 1, 1, 2, 2, 3]), 0.5),
    "4 pairs + odd": (np.array([0, 1, 0, 2, 1, 3, 2, 4, 3]), 0.5),  # pairs' units not adjacent
    "blocks 3 and 4": (np.array([1, 0, 1, 0, 1, 1, 0]), 0.5),
    "complete 6": (np.zeros(6, dtype=np.int64), 0.5),
    "complete 5 at 0.3": (np.zeros(5, dtype=np.int64), 0.3),
}


def brute_force(codes: np.ndarray, share: float) -> dict[tuple[bool, ...], float]:
    """Every 0/1 vector that draw_blocked can return, with its probability, from the rule in its docstring."""
    n_blocks = int(codes.max()) + 1
    out = {}
    for bits in itertools.product([False, True], repeat=len(codes)):
        z = np.array(bits)
        prob = 1.0
        for b in range(n_blocks):
            n = int((codes == b).sum())
            k = int(z[codes == b].sum())
            base = math.floor(n * share)
            frac = n * share - base
            if k == base:
                prob *= (1 - frac) / math.comb(n, k)
            elif k == base + 1 and frac > 0:
                prob *= frac / math.comb(n, k)
            else:
                prob = 0.0
        if prob > 0:
            out[bits] = prob
    return out


def as_dict(space: R.Space) -> dict[tuple[bool, ...], float]:
    return {tuple(bool(v) for v in row): float(p) for row, p in zip(space.Z, space.weights, strict=True)}


def dummies(codes: np.ndarray) -> np.ndarray:
    return (codes[:, None] == np.unique(codes)[None, :]).astype(float)


# ---------------------------------------------------------------------------------------------------------------
# The assignment space


@pytest.mark.parametrize("name", list(DESIGNS))
def test_space_matches_brute_force(name):
    codes, share = DESIGNS[name]
    truth = brute_force(codes, share)
    n_blocks = int(codes.max()) + 1
    assert R.space_size(codes, n_blocks, share) == len(truth)
    space = R.enumerate_space(codes, n_blocks, share)
    assert space.exact and space.Z.dtype == bool and space.Z.shape == (len(truth), len(codes))
    got = as_dict(space)
    assert len(got) == len(truth)  # no duplicate rows
    assert got.keys() == truth.keys()
    assert np.allclose([got[k] for k in truth], list(truth.values()), rtol=1e-12, atol=0)
    assert space.weights.sum() == pytest.approx(1.0, abs=1e-12)


def test_space_size_examples():
    # 7 matched pairs and an odd school out: 2^7 * 2 (the odd school is treated with probability 1/2)
    assert R.space_size(np.r_[np.repeat(np.arange(7), 2), 7], 8, 0.5) == 256
    assert R.space_size(np.zeros(20, dtype=np.int64), 1, 0.5) == math.comb(20, 10)
    assert R.space_size(np.zeros(5, dtype=np.int64), 1, 0.3) == math.comb(5, 1) + math.comb(5, 2)
    # exact integers beyond float precision
    assert R.space_size(np.zeros(200, dtype=np.int64), 1, 0.5) == math.comb(200, 100)


def test_enumeration_is_capped():
    codes = np.zeros(20, dtype=np.int64)
    with pytest.raises(ValueError, match="184,756 possible assignments"):
        R.enumerate_space(codes, 1, 0.5, cap=100_000)
    assert len(R.enumerate_space(codes, 1, 0.5, cap=200_000).Z) == 184_756


@pytest.mark.parametrize("name", ["4 pairs + odd", "blocks 3 and 4"])
def test_probabilities_match_draw_blocked(name):
    codes, share = DESIGNS[name]
    n_blocks = int(codes.max()) + 1
    space = R.enumerate_space(codes, n_blocks, share)
    bits = 1 << np.arange(len(codes))
    keys = space.Z.astype(np.int64) @ bits
    index = {int(k): i for i, k in enumerate(keys)}
    rng = np.random.default_rng(20240611)
    n = 200_000
    counts = np.zeros(len(keys))
    for _ in range(n):
        counts[index[int(draw_blocked(rng, codes, n_blocks, share).astype(np.int64) @ bits)]] += 1
    expected = n * space.weights
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert stats.chi2.sf(chi2, len(keys) - 1) > 1e-4
    se = np.sqrt(expected * (1 - space.weights))
    assert np.max(np.abs(counts - expected) / se) < 5


def test_rerandomization_keeps_exactly_the_acceptable():
    rng = np.random.default_rng(3)
    for codes, share in [(np.zeros(8, dtype=np.int64), 0.5), (DESIGNS["blocks 3 and 4"][0], 0.5)]:
        balance = rng.normal(size=(len(codes), 2))
        balance[1, 1] = np.nan  # smd skips NaNs
        full = R.enumerate_space(codes, int(codes.max()) + 1, share)
        worst = np.array([np.nanmax(np.abs(smd(balance, z))) for z in full.Z])
        assert np.allclose(R.max_abs_smd(balance, full.Z), worst, rtol=1e-10, atol=0)
        threshold = float(np.quantile(worst, 0.3))
        kept = R.enumerate_space(codes, int(codes.max()) + 1, share, balance, threshold)
        accept = worst <= threshold  # replicate.assign's rule
        assert as_dict(kept).keys() == as_dict(R.Space(full.Z[accept], full.weights[accept], True)).keys()
        assert np.allclose(kept.weights, full.weights[accept] / full.weights[accept].sum())
        assert kept.weights.sum() == pytest.approx(1.0)
    # complete randomization: uniform over the acceptable assignments (Morgan & Rubin 2012)
    codes = np.zeros(8, dtype=np.int64)
    kept = R.enumerate_space(codes, 1, 0.5, rng.normal(size=(8, 1)), 0.2)
    assert np.allclose(kept.weights, 1 / len(kept.weights))
    with pytest.raises(ValueError, match="no assignment"):
        R.enumerate_space(codes, 1, 0.5, rng.normal(size=(8, 1)), 0.0)


def test_max_abs_smd_edge_cases():
    Z = np.array([[1, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0]], dtype=bool)
    b = np.column_stack([np.ones(6), [1, 1, 2, 2, 2, 2], [1, np.nan, 3, 4, 5, 6]])
    for z, got in zip(Z, R.max_abs_smd(b, Z), strict=True):
        d = smd(b, z)
        want = np.nan if np.all(np.isnan(d)) else np.nanmax(np.abs(d))
        assert (np.isnan(got) and np.isnan(want)) or got == pytest.approx(want)
    assert R.max_abs_smd(np.zeros((6, 0)), Z).tolist() == [0, 0, 0]


def test_draw_space():
    codes, share = DESIGNS["4 pairs + odd"]
    space = R.draw_space(np.random.default_rng(1), codes, 5, share, 50)
    assert not space.exact and space.Z.shape == (50, 9) and np.allclose(space.weights, 1 / 50)
    again = R.draw_space(np.random.default_rng(1), codes, 5, share, 50)
    assert np.array_equal(space.Z, again.Z)
    # With a balance threshold: only acceptable draws, as many as asked.
    balance = np.arange(9, dtype=float)[:, None] ** 1.5
    kept = R.draw_space(np.random.default_rng(2), codes, 5, share, 200, balance, 0.3)
    assert kept.Z.shape == (200, 9) and (R.max_abs_smd(balance, kept.Z) <= 0.3).all()
    with pytest.raises(ValueError, match="balance threshold"):
        R.draw_space(np.random.default_rng(3), codes, 5, share, 20, balance, 1e-9, max_draws=5)


# ---------------------------------------------------------------------------------------------------------------
# Coefficients under many assignments


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of a few assignments, so that the chunk boundaries are exercised."""
    monkeypatch.setattr(R, "CHUNK_BYTES", 8 * 14 * 3)


@pytest.mark.parametrize("covariates", [0, 1, 2])
@pytest.mark.parametrize("blocked", [False, True])
def test_coefficients_match_statsmodels(covariates, blocked, small_chunks):
    rng = np.random.default_rng(covariates + 10 * blocked)
    N = 14
    codes = np.repeat(np.arange(4), [3, 4, 5, 2]) if blocked else np.zeros(N, dtype=np.int64)
    w = rng.uniform(5, 30, N)
    Y = rng.normal(size=(N, 2))
    x = rng.normal(size=(N, covariates)) if covariates else None
    Z = np.array([draw_blocked(rng, codes, int(codes.max()) + 1, 0.5) for _ in range(23)])
    Z[5] = True  # no variation within any block: undefined
    got = R.coefficients(Y, Z, w, codes, x)
    assert got.shape == (23, 2)
    for k, z in enumerate(Z):
        exog = np.column_stack([z.astype(float)] + ([x] if x is not None else []) + [dummies(codes)])
        for j in range(2):
            if k == 5:
                assert np.isnan(got[k, j])
                continue
            assert got[k, j] == pytest.approx(sm.WLS(Y[:, j], exog, weights=w).fit().params[0], rel=1e-9, abs=1e-12)
    one = R.coefficients(Y[:, 0], Z, w, codes, x)  # a single outcome vector
    assert np.allclose(one[:, 0], got[:, 0], equal_nan=True)


def test_coefficients_are_the_estimators():
    """At the observed assignment the coefficients are the package's own estimates (difference in means,
    regression with blocks and the covariate, and the complier IV estimate as reduced form over first stage)."""
    rng = np.random.default_rng(8)
    N = 16
    codes = np.repeat(np.arange(4), 4)
    z = draw_blocked(rng, codes, 4, 0.5)
    d = z & (rng.random(N) < 0.7)
    d[np.flatnonzero(z)[0]] = True
    x = rng.normal(size=N)
    y = x + 0.3 * d + rng.normal(size=N)
    w = rng.uniform(10, 40, N)
    data = Data(y, z.astype(float), d.astype(float), x, w, codes, np.arange(N))
    Z = z[None, :]
    assert R.coefficients(y, Z, w, np.zeros(N, dtype=np.int64))[0, 0] == pytest.approx(
        difference_in_means(data, 0.05, "cr2", False).estimate, rel=1e-10)
    assert R.coefficients(y, Z, w, codes, x)[0, 0] == pytest.approx(
        regression(data, 0.05, True, "cr2").estimate, rel=1e-10)
    a, b = R.coefficients(np.column_stack([y, d]), Z, w, codes, x)[0]
    assert a / b == pytest.approx(complier_iv(data, 0.05, True, "cr2").estimate, rel=1e-9)
    pairs = np.repeat(np.arange(8), 2)
    zp = draw_blocked(rng, pairs, 8, 0.5)
    assert R.pair_coefficients(y, zp[None], w, pairs)[0, 0] == pytest.approx(
        pair_difference(y, zp.astype(float), w, pairs)[0], rel=1e-12)


def test_coefficients_with_covariate_absorbed_by_blocks():
    """A covariate constant within blocks adds nothing to the fixed effects (statsmodels' pinv does the same)."""
    rng = np.random.default_rng(2)
    codes = np.repeat(np.arange(3), 4)
    x = np.array([1.0, 2.0, 5.0])[codes]
    y, w = rng.normal(size=12), rng.uniform(1, 2, 12)
    Z = np.array([draw_blocked(rng, codes, 3, 0.5) for _ in range(5)])
    assert np.allclose(R.coefficients(y, Z, w, codes, x), R.coefficients(y, Z, w, codes))


def loop_pairs(y, z, w, pairs):
    num = den = 0.0
    for p in np.unique(pairs):
        units = np.flatnonzero(pairs == p)
        if len(units) != 2 or z[units[0]] == z[units[1]]:
            continue
        t, c = (units[0], units[1]) if z[units[0]] else (units[1], units[0])
        num += (w[t] + w[c]) * (y[t] - y[c])
        den += w[t] + w[c]
    return num / den if den else np.nan


@pytest.mark.parametrize("share", [0.5, 0.3])
def test_pair_coefficients_match_a_loop(share, monkeypatch):
    monkeypatch.setattr(R, "CHUNK_BYTES", 8 * 4)
    rng = np.random.default_rng(5)
    pairs = np.array([0, 3, 1, 0, 2, 1, 4, 3, 2, 5, 5])  # 4 is an odd school out
    N = len(pairs)
    Y, w = rng.normal(size=(N, 3)), rng.uniform(1, 9, N)
    Z = np.array([draw_blocked(rng, pairs, 6, share) for _ in range(40)])
    got = R.pair_coefficients(Y, Z, w, pairs)
    for k, z in enumerate(Z):
        for j in range(3):
            want = loop_pairs(Y[:, j], z, w, pairs)
            assert (np.isnan(want) and np.isnan(got[k, j])) or got[k, j] == pytest.approx(want, rel=1e-12)
    if share == 0.5:
        assert not np.isnan(got).any()


# ---------------------------------------------------------------------------------------------------------------
# Exact p-values against literal enumeration


def p_at(c, a, b, a_obs, b_obs, space):
    """p(c) through invert's p-value at 0 of the shifted statistics (a - c b)."""
    return R.invert(a - c * b, b, a_obs - c * b_obs, b_obs, space.weights, space.exact, 0.05).p_value


def test_fisher_exact_by_hand():
    # Four matched pairs, unit 2j treated in pair j, treated-minus-control differences 3, 1, 2, -0.5: the mean
    # difference is 5.5 / 4 = 1.375. The 16 sign flips give |sum| >= 5.5 only for (+,+,+,+) = 6.5 and
    # (+,+,+,-) = 5.5 and their two mirror images, so Fisher's exact p-value is 4 / 16 = 0.25.
    pairs = np.repeat(np.arange(4), 2)
    y = np.array([3, 0, 1, 0, 2, 0, -0.5, 0])
    z = np.arange(8) % 2 == 0
    w = np.ones(8)
    space = R.enumerate_space(pairs, 4, 0.5)
    assert len(space.Z) == 16
    for coef in (lambda Y, Z: R.pair_coefficients(Y, Z, w, pairs), lambda Y, Z: R.coefficients(Y, Z, w, pairs)):
        a = coef(y, space.Z)[:, 0]
        b = coef(z.astype(float), space.Z)[:, 0]
        a_obs = coef(y, z[None])[0, 0]
        assert a_obs == pytest.approx(1.375)
        ri = R.invert(a, b, a_obs, 1.0, space.weights, True, 0.05)
        assert ri.p_value == pytest.approx(0.25)


def literal(codes, share):
    """The design's assignments by itertools (independently of enumerate_space): product over blocks of the
    subsets of the block's size (the blocks here have integer n p)."""
    blocks = [np.flatnonzero(codes == b) for b in np.unique(codes)]
    choices = [list(itertools.combinations(u.tolist(), int(round(len(u) * share)))) for u in blocks]
    out = []
    for pick in itertools.product(*choices):
        z = np.zeros(len(codes), dtype=bool)
        for chosen in pick:
            z[list(chosen)] = True
        out.append(z)
    return out


@pytest.mark.parametrize("design", ["pairs", "complete"])
def test_exact_p_values_by_refitting(design):
    rng = np.random.default_rng(11)
    if design == "pairs":  # 4 matched pairs: 16 assignments; regression with pair effects and a covariate
        codes = np.repeat(np.arange(4), 2)
        N = 8
        x = rng.normal(size=N)
        exog = lambda z: np.column_stack([z, x, dummies(codes)])  # noqa: E731
        blocks, cov = codes, x
    else:  # complete randomization of 6, 3 treated: 20 assignments; difference in means
        codes = np.zeros(6, dtype=np.int64)
        N = 6
        exog = lambda z: np.column_stack([z, np.ones(N)])  # noqa: E731
        blocks, cov = codes, None
    w = rng.uniform(1, 5, N)
    y0 = rng.normal(size=N)
    everything = literal(codes, 0.5)
    assert len(everything) == (16 if design == "pairs" else 20)
    space = R.enumerate_space(codes, int(codes.max()) + 1, 0.5)
    assert {tuple(z) for z in everything} == {tuple(z) for z in space.Z}
    z_obs = everything[5]
    y = y0 + 0.8 * z_obs
    fit = lambda yy, z: sm.WLS(yy, exog(z.astype(float)), weights=w).fit().params[0]  # noqa: E731
    a = R.coefficients(y, space.Z, w, blocks, cov)[:, 0]
    b = R.coefficients(z_obs.astype(float), space.Z, w, blocks, cov)[:, 0]
    a_obs = fit(y, z_obs)
    for c in (0.0, 0.8, -1.3, 2.5):
        stat = [abs(fit(y - c * z_obs, z)) for z in everything]  # the null fixes y - c z_obs
        observed = abs(fit(y - c * z_obs, z_obs))
        want = np.mean([s >= observed - 1e-10 for s in stat])
        assert p_at(c, a, b, a_obs, 1.0, space) == pytest.approx(want, abs=1e-12)
    ri = R.invert(a, b, a_obs, 1.0, space.weights, True, 0.2)
    assert ri.p_value == pytest.approx(np.mean([abs(fit(y, z)) >= abs(a_obs) - 1e-10 for z in everything]))
    assert p_at(a_obs, a, b, a_obs, 1.0, space) == 1.0  # the estimate itself: every assignment as extreme
    assert ri.ci_low <= a_obs <= ri.ci_high


def test_exact_iv_p_values_by_refitting():
    """The complier estimate's test: under "the effect is c", y - c d_obs is fixed; its coefficient on each
    assignment is a_k - c b_k with b_k the coefficient of d_obs (not z_obs)."""
    rng = np.random.default_rng(4)
    codes = np.repeat(np.arange(4), 2)
    x, w = rng.normal(size=8), rng.uniform(1, 5, 8)
    space = R.enumerate_space(codes, 4, 0.5)
    z_obs = space.Z[3]
    d_obs = z_obs & np.array([1, 1, 1, 0, 1, 1, 1, 1], dtype=bool)
    y = rng.normal(size=8) + 1.5 * d_obs
    exog = lambda z: np.column_stack([z.astype(float), x, dummies(codes)])  # noqa: E731
    fit = lambda yy, z: sm.WLS(yy, exog(z), weights=w).fit().params[0]  # noqa: E731
    ab = R.coefficients(np.column_stack([y, d_obs]), space.Z, w, codes, x)
    a_obs, b_obs = fit(y, z_obs), fit(d_obs.astype(float), z_obs)
    for c in (0.0, 1.5, -2.0, 7.0):
        observed = abs(fit(y - c * d_obs, z_obs))
        want = np.mean([abs(fit(y - c * d_obs, z)) >= observed - 1e-10 for z in space.Z])
        assert p_at(c, ab[:, 0], ab[:, 1], a_obs, b_obs, space) == pytest.approx(want, abs=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# The inversion


def p_direct(c, a, b, a_obs, b_obs, weights, exact):
    """p(c) literally, one c at a time."""
    scale = max(np.abs(a).max(), abs(a_obs)) + abs(c) * max(np.abs(b).max(), abs(b_obs))
    hit = np.abs(a - c * b) >= abs(a_obs - c * b_obs) - 1e-12 * scale
    return float(weights @ hit) if exact else (1 + hit.sum()) / (len(a) + 1)


def check_interval(a, b, a_obs, b_obs, weights, exact, alpha):
    ri = R.invert(a, b, a_obs, b_obs, weights, exact, alpha)
    p = lambda c: p_direct(c, a, b, a_obs, b_obs, weights, exact)  # noqa: E731
    assert ri.p_value == pytest.approx(p(0.0))
    lo, hi = ri.ci_low, ri.ci_high
    assert lo <= hi
    width = hi - lo if np.isfinite(hi - lo) else 10.0
    eps = 1e-7 * max(1.0, abs(lo) if np.isfinite(lo) else 0, abs(hi) if np.isfinite(hi) else 0)
    if np.isfinite(lo):
        assert p(lo - eps) <= alpha < max(p(lo), p(lo + eps))
    if np.isfinite(hi):
        assert p(hi + eps) <= alpha < max(p(hi), p(hi - eps))
    centre = (lo + hi) / 2 if np.isfinite(width) and np.isfinite(lo + hi) else a_obs / b_obs
    grid = centre + np.linspace(-3, 3, 4001) * width
    outside = [p(c) for c in grid if c < lo or c > hi]
    assert all(v <= alpha for v in outside)
    assert any(p(c) > alpha for c in grid if lo <= c <= hi)
    return ri


@pytest.mark.parametrize("exact", [True, False])
def test_invert_itt_interval_crosses_alpha(exact):
    rng = np.random.default_rng(21 + exact)
    N = 10
    codes = np.zeros(N, dtype=np.int64)
    w, x = rng.uniform(1, 3, N), rng.normal(size=N)
    if exact:
        space = R.enumerate_space(codes, 1, 0.5)  # 252 assignments
    else:
        space = R.draw_space(rng, codes, 1, 0.5, 400)
    z_obs = draw_blocked(rng, codes, 1, 0.5)
    y = x + 1.0 * z_obs + rng.normal(size=N)
    a = R.coefficients(y, space.Z, w, codes, x)[:, 0]
    b = R.coefficients(z_obs.astype(float), space.Z, w, codes, x)[:, 0]
    a_obs = R.coefficients(y, z_obs[None], w, codes, x)[0, 0]
    for alpha in (0.05, 0.1, 0.3):
        ri = check_interval(a, b, a_obs, 1.0, space.weights, exact, alpha)
        assert ri.ci_low < a_obs < ri.ci_high
        assert np.isfinite(ri.ci_low) and np.isfinite(ri.ci_high)
    if exact:  # z and 1 - z give opposite estimates: every c = estimate has p = 1
        assert p_at(a_obs, a, b, a_obs, 1.0, space) == 1.0


def test_invert_iv_interval_and_unbounded():
    rng = np.random.default_rng(9)
    N = 12
    codes = np.repeat(np.arange(3), 4)
    w, x = rng.uniform(1, 3, N), rng.normal(size=N)
    space = R.enumerate_space(codes, 3, 0.5)  # 216
    z_obs = space.Z[100]
    for strength, seed in ((0.9, 1), (0.2, 2)):  # strong and weak first stage
        g = np.random.default_rng(seed)
        d_obs = z_obs & (g.random(N) < strength)
        d_obs[np.flatnonzero(z_obs)[0]] = True
        y = x + 2.0 * d_obs + g.normal(size=N)
        ab = R.coefficients(np.column_stack([y, d_obs]), space.Z, w, codes, x)
        obs = R.coefficients(np.column_stack([y, d_obs]), z_obs[None], w, codes, x)[0]
        ri = check_interval(ab[:, 0], ab[:, 1], obs[0], obs[1], space.weights, True, 0.1)
        assert ri.ci_low <= obs[0] / obs[1] <= ri.ci_high
    # a first stage weaker than most assignments' own: p(c) -> share of |b_k| >= |b_obs| > alpha as |c| -> inf
    a, b = rng.normal(size=300), rng.normal(size=300)
    ri = check_interval(a, b, 0.5, 0.01, np.full(300, 1 / 300), False, 0.05)
    assert ri.ci_low == -np.inf and ri.ci_high == np.inf


def test_invert_edge_cases():
    w = np.full(4, 0.25)
    empty = R.invert(np.zeros(4), np.zeros(4), 1.0, 0.0, w, True, 0.05)  # never as extreme: p = 0 everywhere
    assert empty.p_value == 0 and np.isnan(empty.ci_low) and np.isnan(empty.ci_high)
    everything = R.invert(np.ones(4), np.zeros(4), 1.0, 0.0, w, True, 0.05)  # always: p = 1 everywhere
    assert everything == (1.0, -np.inf, np.inf)
    assert all(np.isnan(R.invert(np.ones(4), np.ones(4), np.nan, 1.0, w, True, 0.05)))
    # an assignment whose estimate is undefined counts as at least as extreme (conservative)
    ri = R.invert(np.array([0.1, 0.2, np.nan, 3.0]), np.ones(4), 3.0, 1.0, w, True, 0.05)
    assert ri.p_value == 0.5
    # Monte Carlo: (1 + count) / (K + 1)
    ri = R.invert(np.array([0.1, 0.2, 5.0]), np.ones(3), 3.0, 1.0, np.full(3, 1 / 3), False, 0.05)
    assert ri.p_value == pytest.approx(2 / 4)


# ---------------------------------------------------------------------------------------------------------------
# Size


@pytest.mark.parametrize("design", ["complete 8", "blocks 3 and 4", "rerandomized 10"])
def test_exact_size_over_the_whole_space(design):
    """Under a sharp null, with the observed assignment drawn from the space itself, P(p <= alpha) is exactly the
    largest attainable p-value <= alpha (deterministic: every assignment of the space as the observed one), and
    the interval covers the true effect with probability >= 1 - alpha."""
    rng = np.random.default_rng(len(design))
    if design == "complete 8":
        codes = np.zeros(8, dtype=np.int64)
        space = R.enumerate_space(codes, 1, 0.5)
    elif design == "blocks 3 and 4":  # unequal probabilities
        codes = DESIGNS["blocks 3 and 4"][0]
        space = R.enumerate_space(codes, 2, 0.5)
    else:
        codes = np.zeros(10, dtype=np.int64)
        space = R.enumerate_space(codes, 1, 0.5, rng.normal(size=(10, 2)), 0.5)
    N, K = len(codes), len(space.Z)
    x, w = rng.normal(size=N), rng.uniform(1, 4, N)
    B = R.coefficients(space.Z.T.astype(float), space.Z, w, codes, x)  # B[k, j]: coefficient of z_j on z_k
    for _ in range(8):
        y0 = rng.normal(size=N) + x
        a0 = R.coefficients(y0, space.Z, w, codes, x)[:, 0]
        for alpha in (0.05, 0.1, 0.25):
            p = np.array([R.invert(a0, B[:, j], a0[j], 1.0, space.weights, True, alpha).p_value for j in range(K)])
            rate = float(space.weights @ (p <= alpha))
            assert rate <= alpha + 1e-12
            assert rate == pytest.approx(max(p[p <= alpha], default=0.0), abs=1e-12)
        tau = 0.7  # a constant effect: y = y0 + tau z_j, a_j = a0 + tau B[:, j]
        covered = 0.0
        for j in range(K):
            ri = R.invert(a0 + tau * B[:, j], B[:, j], a0[j] + tau, 1.0, space.weights, True, 0.1)
            covered += space.weights[j] * (ri.ci_low <= tau <= ri.ci_high)
        assert covered >= 0.9 - 1e-12


def test_monte_carlo_size():
    """Monte Carlo p-values (1 + count) / (K + 1) are valid: rejection rate <= alpha + 3 SE."""
    rng = np.random.default_rng(77)
    codes = np.repeat(np.arange(3), 10)
    N, reps, K, alpha = 30, 1000, 99, 0.1
    x = rng.normal(size=N)
    w = rng.uniform(1, 4, N)
    draw = lambda g: draw_blocked(g, codes, 3, 0.5)  # noqa: E731
    rejections = 0
    for _ in range(reps):
        y = x + rng.standard_t(3, size=N)
        z = draw(rng)
        space = R.draw_space(rng, codes, 3, 0.5, K)
        a = R.coefficients(y, space.Z, w, codes, x)[:, 0]
        b = R.coefficients(z.astype(float), space.Z, w, codes, x)[:, 0]
        a_obs = R.coefficients(y, z[None], w, codes, x)[0, 0]
        rejections += R.invert(a, b, a_obs, 1.0, space.weights, False, alpha).p_value <= alpha
    se = np.sqrt(alpha * (1 - alpha) / reps)
    assert alpha - 4 * se <= rejections / reps <= alpha + 3 * se


def test_large_k_in_chunks():
    """K x N larger than a chunk: the same coefficients as one assignment at a time."""
    rng = np.random.default_rng(6)
    N = 1800
    codes = np.repeat(np.arange(60), 30)
    x, w, y = rng.normal(size=N), rng.uniform(1, 30, N), rng.normal(size=N)
    Z = np.array([draw_blocked(rng, codes, 60, 0.5) for _ in range(3000)])  # 3000 x 1800 x 8 = 43 MB > a chunk
    got = R.coefficients(y, Z, w, codes, x)
    for k in (0, 1234, 2999):
        assert got[k, 0] == pytest.approx(R.coefficients(y, Z[k:k + 1], w, codes, x)[0, 0], rel=1e-10)
    ri = R.invert(got[:, 0], R.coefficients(Z[0].astype(float), Z, w, codes, x)[:, 0], got[0, 0], 1.0,
                  np.full(3000, 1 / 3000), False, 0.05)
    assert ri.ci_low < got[0, 0] < ri.ci_high


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_sweep_equals_p_evaluated_point_by_point(exact, seed):
    """The O(K log K) sweep gives p at every root and on every interval between roots exactly as evaluating each
    comparison at that point does (ties, mirror images and undefined estimates included)."""
    rng = np.random.default_rng(seed)
    K = 300
    a, b = rng.normal(size=K), rng.normal(1, 0.5, size=K)
    a_obs, b_obs = float(a[0]), float(b[0])  # the observed assignment is one of them
    a[1], b[1] = -a_obs, -b_obs  # its mirror image
    a[2:6] = np.round(a[2:6], 1)  # a few exact ties among the others
    b[2:6] = np.round(b[2:6], 1)
    a[7] = np.nan  # an assignment where the estimator is undefined
    weights = rng.dirichlet(np.ones(K)) if exact and seed % 2 else np.full(K, 1 / K)
    bad = ~(np.isfinite(a) & np.isfinite(b))
    points, values = R._sweep(a, b, a_obs, b_obs, weights, exact, bad)
    roots = points[1::2]
    mids = np.concatenate([[roots[0] - 1], (roots[:-1] + roots[1:]) / 2, [roots[-1] + 1]])
    direct_roots = R._p_values(roots, a, b, a_obs, b_obs, weights, exact, bad)
    direct_mids = R._p_values(mids, a, b, a_obs, b_obs, weights, exact, bad)
    assert np.allclose(values[1::2], direct_roots, atol=1e-12)
    assert np.allclose(values[0::2], direct_mids, atol=1e-12)
