"""Randomization inference for a simulated trial's estimates: p-values and, by test inversion, confidence intervals,
from re-drawing the assignment with the design's own procedure.

The assignment space of a design (`Space`) is either enumerated exactly (`enumerate_space`: every assignment that
assignment.draw_blocked can make, with its probability, restricted to the acceptable ones under re-randomization)
or sampled (`draw_space`: Monte Carlo draws with the design's own procedure, re-randomization's rule included).

Every estimator's point estimate is linear in the outcome given the assignment, so the estimates under all the
assignments of a space are a few matrix products (`coefficients` for least squares with block fixed effects and a
covariate, `pair_coefficients` for the weighted pair-difference estimator). A sharp null "the effect is c" fixes
y - c t (t = z_obs for an intent-to-treat estimate, t = d_obs, the take-up, for the complier estimate; Imbens &
Rosenbaum 2005), whose coefficient on assignment k is a_k - c b_k (a_k: coefficient of y on z_k, b_k: of t on z_k).
`invert` tests every c at once: each comparison |a_k - c b_k| >= |a_obs - c b_obs| changes only at the roots of a
quadratic in c, so p(c) is piecewise constant and the confidence set is found exactly from the sorted roots.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
from scipy import sparse

from .assignment import draw_blocked_many, smd
from .inference import within

DEFAULT_CAP = 100_000  # assignments enumerated at most
MAX_SPACE_BYTES = 256 * 2**20  # the enumerated K x N table of assignments (bool) at most
CHUNK_BYTES = 32 * 2**20  # working memory per chunk of assignments (a few such arrays are alive at once)
TIE = 1e-12  # relative tolerance for ties in |a_k - c b_k| >= |a_obs - c b_obs|


class Space(NamedTuple):
    Z: np.ndarray  # (K, N) bool: K assignments of the N units
    weights: np.ndarray  # (K,) probabilities summing to 1 (exact enumeration) or all 1/K (Monte Carlo)
    exact: bool  # True: the whole space enumerated; False: Monte Carlo draws


class RI(NamedTuple):
    p_value: float  # at c = 0
    ci_low: float  # the hull of {c : p(c) > alpha}; -inf / +inf when unbounded, nan when empty
    ci_high: float


# ---------------------------------------------------------------------------------------------------------------
# The assignment space


def _block_counts(codes: np.ndarray, n_blocks: int, share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sizes, floor count, probability of one more) per block, computed exactly as draw_blocked does."""
    sizes = np.bincount(np.asarray(codes), minlength=n_blocks)
    exact = sizes * share
    base = np.floor(exact).astype(np.int64)
    return sizes, base, exact - base


def space_size(codes: np.ndarray, n_blocks: int, share: float) -> int:
    """The number of assignments draw_blocked can make: the product over blocks of C(n, floor(n p)), plus
    C(n, floor(n p) + 1) when n p is fractional. An exact (Python) integer."""
    sizes, base, frac = _block_counts(codes, n_blocks, share)
    total = 1
    for n, k, f in zip(sizes.tolist(), base.tolist(), frac.tolist(), strict=True):
        total *= math.comb(n, k) + (math.comb(n, k + 1) if f > 0 else 0)
    return total


def _subsets(n: int, k: int) -> np.ndarray:
    """(C(n, k), n) bool: every subset of size k of n units, in lexicographic order."""
    count = math.comb(n, k)
    out = np.zeros((count, n), dtype=bool)
    if count and k:
        idx = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(n), k)), dtype=np.int64,
                          count=count * k).reshape(count, k)
        out[np.arange(count)[:, None], idx] = True
    return out


def _block_table(n: int, k: int, frac: float) -> tuple[np.ndarray, np.ndarray]:
    """A block's possible assignments and their probabilities (k treated with probability 1 - frac, k + 1 with
    probability frac, every subset of a size equally likely)."""
    low = _subsets(n, k)
    if frac <= 0:
        return low, np.full(len(low), 1.0 / len(low))
    high = _subsets(n, k + 1)
    return (np.vstack([low, high]),
            np.concatenate([np.full(len(low), (1.0 - frac) / len(low)), np.full(len(high), frac / len(high))]))


def max_abs_smd(balance: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """(K,) the largest |standardized mean difference| (assignment.smd) over the balance columns for each row of
    Z, vectorized; NaN where no column has two units of each arm (as np.nanmax of assignment.smd)."""
    balance = np.asarray(balance, dtype=float)
    balance = balance[:, None] if balance.ndim == 1 else balance
    K = len(Z)
    if balance.shape[1] == 0:
        return np.zeros(K)
    worst = np.full(K, np.nan)
    for j in range(balance.shape[1]):
        v = balance[:, j]
        ok = ~np.isnan(v)
        x = v[ok] - v[ok].mean()  # centred: sums of squares without cancellation
        Zv = Z[:, ok].astype(float)
        nt = Zv.sum(axis=1)
        nc = ok.sum() - nt
        st, sst = Zv @ x, Zv @ (x * x)
        sc, ssc = x.sum() - st, (x * x).sum() - sst
        zb = Z[:, ok]
        # a group of equal values has no spread at all (not a rounding error's worth): as assignment.smd
        flat_t = np.where(zb, x, -np.inf).max(axis=1) == np.where(zb, x, np.inf).min(axis=1)
        flat_c = np.where(zb, -np.inf, x).max(axis=1) == np.where(zb, np.inf, x).min(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            mt, mc = st / nt, sc / nc
            vt = np.where(flat_t, 0.0, np.maximum(sst - st * mt, 0.0) / (nt - 1))
            vc = np.where(flat_c, 0.0, np.maximum(ssc - sc * mc, 0.0) / (nc - 1))
            sd = np.sqrt((vt + vc) / 2)
            diff = mt - mc
            d = np.where(sd > 0, diff / sd, np.where(diff == 0, 0.0, np.inf))
        d = np.where((nt < 2) | (nc < 2), np.nan, np.abs(d))
        worst = np.fmax(worst, d)
    return worst


def _acceptable(balance: np.ndarray, Z: np.ndarray, threshold: float) -> np.ndarray:
    """Rows of Z whose largest |SMD| is within the threshold, decided exactly as replicate.assign does (rows within
    a rounding error of the threshold are re-checked with assignment.smd itself)."""
    keep = np.zeros(len(Z), dtype=bool)
    step = max(1, CHUNK_BYTES // max(8 * Z.shape[1], 1))
    for s in range(0, len(Z), step):
        worst = max_abs_smd(balance, Z[s:s + step])
        keep[s:s + step] = worst <= threshold
        close = np.flatnonzero(np.abs(worst - threshold) <= 1e-9 * max(abs(threshold), 1.0))
        for i in close:
            d = smd(balance, Z[s + i])
            keep[s + i] = bool(np.any(~np.isnan(d))) and float(np.nanmax(np.abs(d))) <= threshold
    return keep


def enumerate_space(codes: np.ndarray, n_blocks: int, share: float, balance: np.ndarray | None = None,
                    threshold: float | None = None, cap: int = DEFAULT_CAP) -> Space:
    """Every assignment draw_blocked(rng, codes, n_blocks, share) can make, with its probability: the product of
    the blocks' tables (a block whose n p is fractional has floor(n p) treated with probability 1 - frac and one
    more with probability frac, each subset of a size equally likely). With balance and threshold
    (re-randomization): only the assignments whose largest |SMD| is within the threshold, the probabilities
    renormalized (uniform over the acceptable assignments when the blocks' counts are fixed; Morgan & Rubin 2012).
    ValueError when the space has more than `cap` assignments, or its table would take more than MAX_SPACE_BYTES,
    or no assignment is acceptable."""
    codes = np.asarray(codes, dtype=np.int64)
    size = space_size(codes, n_blocks, share)
    N = len(codes)
    if size > cap:
        raise ValueError(f"the design has {size:,} possible assignments, more than the {cap:,} enumerated at most; "
                         "draw a Monte Carlo sample of them instead (draw_space)")
    if size * max(N, 1) > MAX_SPACE_BYTES:
        raise ValueError(f"{size:,} assignments of {N:,} units would take {size * N / 2**20:,.0f} MB; "
                         "draw a Monte Carlo sample of them instead (draw_space)")
    sizes, base, frac = _block_counts(codes, n_blocks, share)
    order = np.argsort(codes, kind="stable")  # units of block b are order[starts[b]:starts[b] + sizes[b]]
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    Z = np.zeros((1, N), dtype=bool)
    prob = np.ones(1)
    for b in range(n_blocks):
        if sizes[b] == 0:
            continue
        table, p = _block_table(int(sizes[b]), int(base[b]), float(frac[b]))
        units = order[starts[b]:starts[b] + sizes[b]]
        K, k = len(Z), len(table)
        Z = np.repeat(Z, k, axis=0)  # row i * k + j: the earlier blocks' row i with this block's row j
        Z[:, units] = np.tile(table, (K, 1))
        prob = (prob[:, None] * p[None, :]).ravel()
    if balance is not None and threshold is not None:
        keep = _acceptable(np.asarray(balance, dtype=float), Z, float(threshold))
        if not keep.any():
            raise ValueError(f"no assignment has every |standardized mean difference| within {threshold}")
        Z, prob = Z[keep], prob[keep]
    return Space(Z, prob / prob.sum(), True)


def draw_space(rng: np.random.Generator, codes: np.ndarray, n_blocks: int, share: float, k: int,
               balance: np.ndarray | None = None, threshold: float | None = None,
               max_draws: int = 10_000) -> Space:
    """k Monte Carlo draws by the design's own procedure: draw_blocked's (vectorized), and with a balance threshold
    (re-randomization) only draws within it, as replicate.assign accepts them; ValueError when fewer than k of
    k * max_draws draws are acceptable (assign's own limit, per draw)."""
    if k < 1:
        raise ValueError("draw at least one assignment")
    if balance is None or threshold is None:
        return Space(draw_blocked_many(rng, codes, n_blocks, share, k), np.full(k, 1.0 / k), False)
    kept: list[np.ndarray] = []
    found = tried = 0
    while found < k:
        if tried >= k * max_draws:
            raise ValueError(f"only {found:,} of {tried:,} re-drawn assignments met the balance threshold "
                             f"{threshold:g}; randomization inference needs {k:,}")
        batch = min(max(2 * (k - found), 64), k * max_draws - tried)
        Z = draw_blocked_many(rng, codes, n_blocks, share, batch)
        tried += batch
        ok = Z[_acceptable(np.asarray(balance, dtype=float), Z, float(threshold))][:k - found]
        kept.append(ok)
        found += len(ok)
    return Space(np.concatenate(kept), np.full(k, 1.0 / k), False)


# ---------------------------------------------------------------------------------------------------------------
# Estimates under many assignments at once


def _columns(a: np.ndarray | None, n: int) -> np.ndarray | None:
    if a is None:
        return None
    a = np.asarray(a, dtype=float)
    a = a[:, None] if a.ndim == 1 else a
    if len(a) != n:
        raise ValueError(f"{len(a)} rows for {n} units")
    return a if a.shape[1] else None


def _chunk(N: int, columns: int = 1) -> int:
    """Assignments per chunk: a few float64 arrays of chunk x N (or x columns) within CHUNK_BYTES."""
    return max(1, CHUNK_BYTES // (8 * max(N, columns, 1)))


def coefficients(Y: np.ndarray, Z: np.ndarray, w: np.ndarray, blocks: np.ndarray,
                 x: np.ndarray | None = None) -> np.ndarray:
    """(K, m): for each assignment z_k (row of Z), the WLS coefficient of z_k in the regression of each column of Y
    on z_k, the covariate(s) x (if given) and block fixed effects (one block, all codes 0: the difference in means
    with an intercept). NaN where z_k does not vary within any block after x.

    By Frisch-Waugh-Lovell, beta_k = sum w r_k y / sum w r_k^2 with r_k = M z_k, M the weighted projection off the
    blocks and x. M is self-adjoint in the weighted inner product, so the numerator is sum w z_k (M y), and
    sum w r_k^2 = z_k' W z_k - sum_b (sum_{i in b} w_i z_ki)^2 / W_b - v_k' (x~' W x~)^+ v_k with x~ = within-block
    x and v_k = x~' W z_k: matrix products with Z only, in chunks of assignments."""
    Z = np.atleast_2d(np.asarray(Z)).astype(bool, copy=False)
    K, N = Z.shape
    Y = _columns(Y, N)
    x = _columns(x, N)
    w = np.asarray(w, dtype=float)
    blocks = np.asarray(blocks, dtype=np.int64)
    present, blocks = np.unique(blocks, return_inverse=True)  # codes 0..B-1 without empty blocks
    B = len(present)
    W_b = np.bincount(blocks, w, minlength=B)
    S = sparse.csr_matrix((w, (blocks, np.arange(N))), shape=(B, N))  # block totals of w z: S @ z
    ey = within(Y, w, blocks)
    wx = gram_inv = None
    if x is not None:
        xt = within(x, w, blocks)
        wx = xt * w[:, None]
        gram_inv = np.linalg.pinv(wx.T @ xt)
        ey = ey - xt @ (gram_inv @ (wx.T @ ey))
    wy = ey * w[:, None]
    out = np.empty((K, Y.shape[1]))
    step = _chunk(N, B)
    for s in range(0, K, step):
        zc = Z[s:s + step].astype(float)
        num = zc @ wy
        zwz = zc @ w
        t = np.asarray(S @ zc.T).T  # (chunk, B): weight of the treated units in each block
        den = zwz - (t * t / W_b).sum(axis=1)
        if wx is not None:
            v = zc @ wx
            den = den - np.einsum("ki,ij,kj->k", v, gram_inv, v)
        scale = np.maximum(zwz, 1e-300)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[s:s + step] = np.where((den > 1e-12 * scale)[:, None], num / den[:, None], np.nan)
    return out


def pair_coefficients(Y: np.ndarray, Z: np.ndarray, w: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """(K, m): the Imai-King-Nall weighted pair-difference estimator sum_j n_j D_j / sum_j n_j for each assignment
    (n_j the pair's total weight, D_j its treated-minus-control difference). Blocks that are not pairs (an odd
    school out) are left out, and so is a pair both of whose units are in the same arm under an assignment
    (possible only with a treated share other than one half). NaN when no pair is split."""
    Z = np.atleast_2d(np.asarray(Z)).astype(bool, copy=False)
    K, N = Z.shape
    Y = _columns(Y, N)
    w = np.asarray(w, dtype=float)
    pairs = np.asarray(pairs, dtype=np.int64)
    order = np.argsort(pairs, kind="stable")
    _, starts, counts = np.unique(pairs[order], return_index=True, return_counts=True)
    two = starts[counts == 2]
    first, second = order[two], order[two + 1]
    n = w[first] + w[second]
    wd = n[:, None] * (Y[first] - Y[second])  # (P, m): n_j (y_first - y_second)
    out = np.empty((K, Y.shape[1]))
    step = _chunk(len(first))
    for s in range(0, K, step):
        za = Z[s:s + step][:, first].view(np.int8)
        zb = Z[s:s + step][:, second].view(np.int8)
        sign = za - zb  # +1: the first unit treated, -1: the second, 0: both in one arm (left out)
        den = (sign != 0) @ n
        num = sign.astype(float) @ wd
        with np.errstate(divide="ignore", invalid="ignore"):
            out[s:s + step] = np.where((den > 0)[:, None], num / den[:, None], np.nan)
    return out


# ---------------------------------------------------------------------------------------------------------------
# The test and its inversion


def _p_values(cs: np.ndarray, a: np.ndarray, b: np.ndarray, a_obs: float, b_obs: float, weights: np.ndarray,
              exact: bool, bad: np.ndarray) -> np.ndarray:
    """p(c) for each c in cs. Assignments with a non-finite a_k or b_k (estimator undefined) count as at least as
    extreme as the observed one (conservative)."""
    a_max = max(float(np.abs(a[~bad]).max(initial=0.0)), abs(a_obs))
    b_max = max(float(np.abs(b[~bad]).max(initial=0.0)), abs(b_obs))
    a_f, b_f = np.where(bad, 0.0, a), np.where(bad, 0.0, b)
    K = len(a)
    uniform = bool(np.all(weights == weights[0]))
    out = np.empty(len(cs))
    step = max(1, (2**21) // max(K, 1))
    for s in range(0, len(cs), step):
        c = cs[s:s + step, None]
        tol = TIE * (a_max + np.abs(c) * b_max)
        hit = (np.abs(a_f[None, :] - c * b_f[None, :]) >= np.abs(a_obs - c * b_obs) - tol) | bad[None, :]
        if not exact:
            out[s:s + step] = (1.0 + hit.sum(axis=1)) / (K + 1.0)
        elif uniform:  # count / K exactly: a p-value of 5 / 100 is 0.05, not a rounding error above it
            out[s:s + step] = hit.sum(axis=1) / K
        else:
            out[s:s + step] = np.minimum(hit @ weights, 1.0)
    return out


def invert(a: np.ndarray, b: np.ndarray, a_obs: float, b_obs: float, space_weights: np.ndarray, exact: bool,
           alpha: float) -> RI:
    """The randomization test of "the effect is c" for every c, and its p-value at c = 0.

    Under assignment k the statistic is |a_k - c b_k|, observed |a_obs - c b_obs|.
    p(c) = sum_k weight_k 1[|a_k - c b_k| >= |a_obs - c b_obs|] when exact (the observed assignment is one of the
    enumerated ones), (1 + #{k: ...}) / (K + 1) for K Monte Carlo draws. Ties are within a relative 1e-12.
    Each comparison changes only where a_k - c b_k = +-(a_obs - c b_obs), so p is evaluated at every such root
    and between consecutive roots: the interval is the exact hull of {c : p(c) > alpha}."""
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    weights = np.asarray(space_weights, dtype=float).ravel()
    if len(a) != len(b) or len(a) != len(weights):
        raise ValueError("a, b and the weights need one value per assignment")
    if not (np.isfinite(a_obs) and np.isfinite(b_obs)) or not len(a):
        return RI(float("nan"), float("nan"), float("nan"))
    bad = ~(np.isfinite(a) & np.isfinite(b))
    p0 = float(_p_values(np.zeros(1), a, b, a_obs, b_obs, weights, exact, bad)[0])
    points, values = _sweep(a, b, a_obs, b_obs, weights, exact, bad)
    inside = values > alpha
    if not inside.any():
        return RI(p0, float("nan"), float("nan"))
    # p is upper semicontinuous (each comparison holds on a closed set), so an end of the set is a root: values
    # alternate between open intervals (even positions: left of every root, between roots, right of every root)
    # and the roots themselves (odd positions)
    i, j = int(np.argmax(inside)), len(values) - 1 - int(np.argmax(inside[::-1]))
    low = -np.inf if i == 0 else float(points[i if i % 2 else i - 1])
    high = np.inf if j == len(values) - 1 else float(points[j if j % 2 else j + 1])
    return RI(p0, low, high)


def _sweep(a: np.ndarray, b: np.ndarray, a_obs: float, b_obs: float, weights: np.ndarray, exact: bool,
           bad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """p(c) on the whole line in O(K log K): (points, values) where points[1::2] are the sorted distinct roots and
    values[2 i + 1] is p at root i, values[2 i] p on the open interval left of it (values[-1]: right of all).

    Comparison k holds where f_k(c) = (a_k - c b_k)^2 - (a_obs - c b_obs)^2 >= 0, a quadratic with roots
    (a_k -+ a_obs) / (b_k -+ b_obs): it holds at -inf by the sign of its leading terms and flips at each simple
    root. Assignments equal to the observed one or its mirror image (within a relative 1e-12), and those where the
    estimator is undefined, hold everywhere."""
    scale = TIE * (max(float(np.abs(a[~bad]).max(initial=0.0)), abs(a_obs))
                   + max(float(np.abs(b[~bad]).max(initial=0.0)), abs(b_obs)))
    same = (np.abs(a - a_obs) <= scale) & (np.abs(b - b_obs) <= scale)
    mirror = (np.abs(a + a_obs) <= scale) & (np.abs(b + b_obs) <= scale)
    always = bad | same | mirror
    k = np.flatnonzero(~always)
    ak, bk = a[k], b[k]
    lead = bk**2 - b_obs**2
    lin = -2 * (ak * bk - a_obs * b_obs)
    const = ak**2 - a_obs**2
    start = np.where(lead != 0, lead > 0, np.where(lin != 0, lin < 0, const >= 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = (ak - a_obs) / (bk - b_obs)
        r2 = (ak + a_obs) / (bk + b_obs)
    double = np.isfinite(r1) & (r1 == r2)  # touches zero there without changing sign
    roots = np.concatenate([r1, np.where(double, np.nan, r2)])
    owner = np.concatenate([np.arange(len(k)), np.arange(len(k))])
    flips = np.concatenate([~double, np.ones(len(k), dtype=bool)])
    keep = np.isfinite(roots)
    roots, owner, flips = roots[keep], owner[keep], flips[keep]
    order = np.lexsort((owner, roots))
    roots, owner, flips = roots[order], owner[order], flips[order]
    w = weights[k]
    # Each comparison's state just left of each of its roots: its start, flipped by its earlier roots.
    earlier = np.zeros(len(roots), dtype=np.int64)
    first = np.ones(len(roots), dtype=bool)
    by_owner = np.argsort(owner, kind="stable")  # roots of one comparison in increasing order
    same_owner = np.flatnonzero(owner[by_owner][1:] == owner[by_owner][:-1]) + 1
    first[by_owner[same_owner]] = False
    earlier[by_owner[same_owner]] = flips[by_owner[same_owner - 1]]
    left_state = start[owner] ^ (~first & earlier.astype(bool))
    base = float(weights[always].sum() + w[start].sum()) if exact else float(always.sum() + start.sum())
    unit = w[owner] if exact else np.ones(len(roots))
    delta = np.where(flips, np.where(left_state, -unit, unit), 0.0)  # the change across each root
    gain = np.where(left_state, 0.0, unit)  # what holding at the root itself adds to its left interval
    distinct, group = np.unique(roots, return_inverse=True)
    change = np.bincount(group, delta, minlength=len(distinct))
    at_root = np.bincount(group, gain, minlength=len(distinct))
    left = base + np.concatenate([[0.0], np.cumsum(change)])  # p left of root i (i < n), and right of all (n)
    values = np.empty(2 * len(distinct) + 1)
    values[0::2] = left
    values[1::2] = left[:-1] + at_root
    if exact:
        uniform = bool(np.all(weights == weights[0]))
        values = np.round(values * len(weights)) / len(weights) if uniform else np.minimum(values, 1.0)
    else:
        values = (1.0 + values) / (len(a) + 1.0)
    points = np.empty(2 * len(distinct) + 1)
    points[1::2] = distinct
    points[0::2] = np.nan
    return points, values
