"""Small-sample cluster-robust inference (matcher.rollouts.inference) against independent computations: a dense
brute-force reference written from the textbook definitions, statsmodels fits with explicit dummy columns and
explicit leave-one-cluster-out refits, closed forms (Neyman, Welch, a hand-worked case) and the paired t-test."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import statsmodels.api as sm
from scipy import stats

from matcher.rollouts.inference import ClusterFit, _nested, cluster_fit, pair_difference, within

RTOL = 1e-9


# ---------------------------------------------------------------------------------------------------------------
# Dense reference: the definitions, with N x N matrices, explicit dummies and per-cluster matrix functions.
# ---------------------------------------------------------------------------------------------------------------

def _dummies(codes: np.ndarray) -> np.ndarray:
    used = np.unique(codes)
    return (codes[:, None] == used[None, :]).astype(float)


def _matrix_power_pinv(A: np.ndarray, power: float) -> np.ndarray:
    """Symmetric generalized inverse power A^-power: eigenvalues <= 1e-12 are dropped."""
    lam, vec = np.linalg.eigh(A)
    inv = np.zeros_like(lam)
    ok = lam > 1e-12
    inv[ok] = lam[ok] ** -power
    return (vec * inv) @ vec.T


def dense_reference(Y, X, w, blocks, clusters):
    """beta, V_CR1 (no small-sample factor), V_CR2, V_CR3 (without (G-1)/G) across outcomes, and the BM df."""
    n = len(w)
    s = np.sqrt(w)
    D = _dummies(blocks)
    Z = s[:, None] * np.column_stack([X, D])  # the full design, transformed
    Yt = s[:, None] * Y
    ZZi = np.linalg.inv(Z.T @ Z)
    H = Z @ ZZi @ Z.T
    eye = np.eye(n)
    e = (eye - H) @ Yt
    coef = ZZi @ Z.T @ Yt
    Ds = s[:, None] * D
    Xt = (eye - Ds @ np.linalg.solve(Ds.T @ Ds, Ds.T)) @ (s[:, None] * X)
    M = np.linalg.inv(Xt.T @ Xt)
    row = (ZZi @ Z.T)[0]  # the treatment row of (Z'Z)^-1 Z'
    c = M[:, 0]
    scores = {"cr1": [], "cr2": [], "cr3": []}
    cols = []
    for g in np.unique(clusters):
        idx = np.flatnonzero(clusters == g)
        ImH = eye[np.ix_(idx, idx)] - H[np.ix_(idx, idx)]
        A = _matrix_power_pinv(ImH, 0.5)
        J = _matrix_power_pinv(ImH, 1.0)
        scores["cr1"].append(row[idx] @ e[idx])
        scores["cr2"].append(row[idx] @ A @ e[idx])
        scores["cr3"].append(row[idx] @ J @ e[idx])
        cols.append((eye - H)[:, idx] @ A @ Xt[idx] @ c)  # Bell-McCaffrey's G matrix, column g
    V = {key: np.array(v).T @ np.array(v) for key, v in scores.items()}
    Gm = np.column_stack(cols)
    lam = np.linalg.eigvalsh(Gm.T @ Gm)
    return coef[0], V, lam.sum() ** 2 / np.sum(lam**2), H


# ---------------------------------------------------------------------------------------------------------------
# Data: structure 1 (one row per cluster: matched pairs, unequal blocks, one block), structure 2 (teachers),
# structure 3 (teachers in schools nested within blocks, several schools per block).
# ---------------------------------------------------------------------------------------------------------------

def _outcomes(rng, X, n):
    Y = np.column_stack([X @ [0.3, 0.8] + rng.normal(size=n) * rng.uniform(0.5, 2, n),
                         X @ [-0.1, 0.4] + rng.standard_t(3, size=n)])
    return Y + 5.0  # a level that the block effects absorb


def schools(rng, sizes):
    """One row per school, blocks of the given sizes, treatment balanced-ish within each block."""
    blocks = np.repeat(np.arange(len(sizes)), sizes)
    n = blocks.size
    z = np.concatenate([rng.permutation(np.arange(sz) < max(1, sz // 2)) for sz in sizes]).astype(float)
    x = rng.normal(size=n) + blocks * 0.1
    X = np.column_stack([z, x])
    w = rng.integers(15, 400, n).astype(float)
    return _outcomes(rng, X, n), X, w, blocks, np.arange(n)


def teachers(rng, sizes):
    """Rows are teachers; each school is both the block and the cluster; treatment randomized within school."""
    clusters = np.repeat(np.arange(len(sizes)), sizes)
    n = clusters.size
    z = np.concatenate([rng.permutation(np.arange(sz) < (sz + 1) // 2) for sz in sizes]).astype(float)
    x = rng.normal(size=n) + clusters * 0.2
    X = np.column_stack([z, x])
    w = rng.integers(5, 35, n).astype(float)
    perm = rng.permutation(n)  # rows need not be sorted by cluster
    Y = _outcomes(rng, X, n)
    return Y[perm], X[perm], w[perm], clusters[perm].copy(), clusters[perm].copy()


def nested(rng, sizes_by_block):
    """Rows are teachers, clusters are schools (sizes listed block by block) nested within blocks, a block holding
    one or several schools; treatment randomized across the teachers of each block; school effects in x and y."""
    sizes = [sz for block in sizes_by_block for sz in block]
    clusters = np.repeat(np.arange(len(sizes)), sizes)
    block_of = np.repeat(np.arange(len(sizes_by_block)), [len(block) for block in sizes_by_block])
    blocks = block_of[clusters]
    n = clusters.size
    z = np.concatenate([rng.permutation(np.arange(nb) < (nb + 1) // 2) for nb in np.bincount(blocks)]).astype(float)
    school = rng.normal(size=len(sizes))
    x = rng.normal(size=n) + school[clusters] + blocks * 0.3
    X = np.column_stack([z, x])
    w = rng.integers(5, 35, n).astype(float)
    Y = _outcomes(rng, X, n) + np.c_[1.0, -0.5] * school[clusters][:, None]
    perm = rng.permutation(n)
    return Y[perm], X[perm], w[perm], blocks[perm].copy(), clusters[perm].copy()


CASES = {
    "pairs": lambda rng: schools(rng, [2] * 7),
    "pairs_many": lambda rng: schools(rng, [2] * 20),
    "blocks": lambda rng: schools(rng, [3, 5, 4, 2, 6]),
    "one_block": lambda rng: schools(rng, [14]),
    "teachers": lambda rng: teachers(rng, list(rng.integers(2, 10, 9))),
    "teachers_small": lambda rng: teachers(rng, [2, 3, 2, 5, 4]),
    "nested_one_block": lambda rng: nested(rng, [[3, 5, 2, 7, 4, 6]]),
    "nested_blocks": lambda rng: nested(rng, [[3, 4, 2], [5, 2], [2, 3, 4, 3]]),
    "nested_single_school_blocks": lambda rng: nested(rng, [[4], [3, 5, 2], [6], [2, 3]]),
    "nested_one_row_schools": lambda rng: nested(rng, [[1, 4, 3], [2, 1, 5], [3, 1, 2]]),
}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_dense_reference(case, seed):
    Y, X, w, blocks, clusters = CASES[case](np.random.default_rng(seed))
    beta, V, df_bm, _ = dense_reference(Y, X, w, blocks, clusters)
    n, k = X.shape
    G = np.unique(clusters).size
    p = k + np.unique(blocks).size
    cr1 = cluster_fit(Y, X, w, blocks, clusters, "cr1")
    cr2 = cluster_fit(Y, X, w, blocks, clusters, "cr2")
    cr3 = cluster_fit(Y, X, w, blocks, clusters, "cr3")
    for fit in (cr1, cr2, cr3):
        assert isinstance(fit, ClusterFit)
        np.testing.assert_allclose(fit.beta, beta, rtol=RTOL)
        assert fit.cov.shape == (2, 2)
    np.testing.assert_allclose(cr1.cov, V["cr1"] * G / (G - 1) * (n - 1) / (n - p), rtol=RTOL)
    np.testing.assert_allclose(cr2.cov, V["cr2"], rtol=RTOL)
    np.testing.assert_allclose(cr3.cov, V["cr3"] * (G - 1) / G, rtol=RTOL)
    np.testing.assert_allclose(cr2.df, df_bm, rtol=RTOL)
    assert cr1.df == max(min(G - 1, n - p), 1)
    assert cr3.df == G - 1
    assert abs(cr2.cov[0, 1]) > 0  # the covariance across outcomes is really compared


def test_dense_reference_matrix_functions_agree_with_sqrtm():
    """The reference's eigh-based (I - H_gg)^-1/2 agrees with scipy.linalg.sqrtm where I - H_gg is nonsingular:
    clusters of several rows in one block (structure 3)."""
    rng = np.random.default_rng(5)
    n = 12
    X = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)]).astype(float)
    w = rng.uniform(1, 3, n)
    blocks = np.zeros(n, dtype=int)
    clusters = np.repeat(np.arange(4), 3)
    _, _, _, H = dense_reference(rng.normal(size=(n, 2)), X, w, blocks, clusters)
    for g in range(4):
        ImH = np.eye(3) - H[np.ix_(clusters == g, clusters == g)]
        root = scipy.linalg.sqrtm(ImH)
        np.testing.assert_allclose(_matrix_power_pinv(ImH, 0.5), np.linalg.inv(np.real(root)), rtol=1e-8)


# ---------------------------------------------------------------------------------------------------------------
# CR1 = statsmodels; CR3 = explicit leave-one-cluster-out refits.
# ---------------------------------------------------------------------------------------------------------------

def _sm_cluster(y, X, w, blocks, clusters):
    fit = sm.WLS(y, np.column_stack([X, _dummies(blocks)]), weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": clusters})
    return fit.params[0], fit.cov_params()[0, 0], fit.df_resid


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", list(CASES))
def test_cr1_is_statsmodels_with_dummy_columns(case, seed):
    Y, X, w, blocks, clusters = CASES[case](np.random.default_rng(seed))
    fit = cluster_fit(Y, X, w, blocks, clusters, "cr1")
    b0, v0, df_resid = _sm_cluster(Y[:, 0], X, w, blocks, clusters)
    b1, v1, _ = _sm_cluster(Y[:, 1], X, w, blocks, clusters)
    _, v01, _ = _sm_cluster(Y[:, 0] + Y[:, 1], X, w, blocks, clusters)  # var(b0 + b1): estimates are linear in Y
    np.testing.assert_allclose(fit.beta, [b0, b1], rtol=RTOL)
    np.testing.assert_allclose(fit.cov, [[v0, (v01 - v0 - v1) / 2], [(v01 - v0 - v1) / 2, v1]], rtol=1e-8)
    assert fit.df == max(min(np.unique(clusters).size - 1, df_resid), 1)


def leave_one_cluster_out(Y, X, w, blocks, clusters):
    """(G-1)/G sum_g (b_(g) - b)(b_(g) - b)' from statsmodels refits without cluster g (dummies of the blocks left;
    pinv, so a treatment coefficient that stays estimable is returned even if a covariate is not)."""
    def coef(keep):
        Z = np.column_stack([X[keep], _dummies(blocks[keep])])
        return [sm.WLS(Y[keep, j], Z, weights=w[keep]).fit().params[0] for j in range(Y.shape[1])]

    b = np.array(coef(np.ones(len(w), bool)))
    dev = np.array([np.array(coef(clusters != g)) - b for g in np.unique(clusters)])
    G = dev.shape[0]
    return (G - 1) / G * dev.T @ dev


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("case", list(CASES))
def test_cr3_is_the_leave_one_cluster_out_jackknife(case, seed):
    Y, X, w, blocks, clusters = CASES[case](np.random.default_rng(seed))
    fit = cluster_fit(Y, X, w, blocks, clusters, "cr3")
    np.testing.assert_allclose(fit.cov, leave_one_cluster_out(Y, X, w, blocks, clusters), rtol=1e-8)


@pytest.mark.filterwarnings("ignore:The design matrix is rank-deficient")
def test_singular_leave_outs_use_the_generalized_inverse():
    """Where I - H_gg is singular the cluster contributes nothing, which is what the refit gives: (a) a block of one
    school (h = 1: the refit loses the block, the school never informed b); (b) a covariate that only one school of
    a pair carries (both schools of that pair have h = 1: without either, the covariate or the block is no longer
    identified, but the treatment coefficient is unchanged)."""
    rng = np.random.default_rng(11)
    Y, X, w, blocks, clusters = schools(rng, [2, 2, 2, 1, 2, 3, 2, 2])
    flag = np.zeros(len(w))
    flag[0] = 1.0  # carried by school 0 only, in pair 0
    X3 = np.column_stack([X, flag])
    for design in (X, X3):
        beta, V, df_bm, H = dense_reference(Y, design, w, blocks, clusters)
        singular = np.isclose(np.diag(H), 1.0)
        assert singular[blocks == 3].all() and (design is X or singular[:2].all())
        cr2 = cluster_fit(Y, design, w, blocks, clusters, "cr2")
        cr3 = cluster_fit(Y, design, w, blocks, clusters, "cr3")
        np.testing.assert_allclose(cr2.cov, V["cr2"], rtol=RTOL)
        np.testing.assert_allclose(cr2.df, df_bm, rtol=RTOL)
        np.testing.assert_allclose(cr3.cov, leave_one_cluster_out(Y, design, w, blocks, clusters), rtol=1e-8)


def test_teacher_level_leave_outs_drop_the_school_fixed_effect():
    """Structure 2: I - H_gg is always singular along sqrt(w_g) (the school's own effect), and a school whose
    within-school treatment is constant has no within variation; both still match the refits."""
    rng = np.random.default_rng(3)
    Y, X, w, blocks, clusters = teachers(rng, [3, 4, 2, 5, 1, 3])
    X = X.copy()
    X[clusters == 0, 0] = 1.0  # school 0: every teacher treated
    fit = cluster_fit(Y, X, w, blocks, clusters, "cr3")
    np.testing.assert_allclose(fit.cov, leave_one_cluster_out(Y, X, w, blocks, clusters), rtol=1e-8)
    beta, V, df_bm, _ = dense_reference(Y, X, w, blocks, clusters)
    cr2 = cluster_fit(Y, X, w, blocks, clusters, "cr2")
    np.testing.assert_allclose(cr2.cov, V["cr2"], rtol=RTOL)
    np.testing.assert_allclose(cr2.df, df_bm, rtol=RTOL)


# ---------------------------------------------------------------------------------------------------------------
# Known answers.
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n1, n0", [(7, 7), (3, 11), (5, 2), (2, 2)])
def test_difference_in_means_textbook_answers(n1, n0):
    """One row per school, one block, equal weights, X = treatment: CR2 is the Neyman variance, the BM df is
    Welch's formula at equal variances (Imbens & Kolesar 2016), and CR3 is (G-1)/G (s1^2/(n1-1) + s0^2/(n0-1)),
    i.e. (G-1)/G times the sum of squared leave-one-school-out deviations of the difference in means."""
    rng = np.random.default_rng(n1 * 100 + n0)
    z = np.r_[np.ones(n1), np.zeros(n0)]
    y = rng.normal(size=n1 + n0) * np.where(z == 1, 3.0, 1.0) + 2 * z
    G = n1 + n0
    args = (y[:, None], z[:, None], np.ones(G), np.zeros(G, dtype=int), np.arange(G))
    s1, s0 = y[z == 1].var(ddof=1), y[z == 0].var(ddof=1)
    cr2 = cluster_fit(*args, "cr2")
    np.testing.assert_allclose(cr2.beta[0], y[z == 1].mean() - y[z == 0].mean(), rtol=RTOL)
    np.testing.assert_allclose(cr2.cov[0, 0], s1 / n1 + s0 / n0, rtol=RTOL)
    welch = (1 / n1 + 1 / n0) ** 2 / (1 / (n1**2 * (n1 - 1)) + 1 / (n0**2 * (n0 - 1)))
    np.testing.assert_allclose(cr2.df, welch, rtol=RTOL)
    cr3 = cluster_fit(*args, "cr3")
    np.testing.assert_allclose(cr3.cov[0, 0], (G - 1) / G * (s1 / (n1 - 1) + s0 / (n0 - 1)), rtol=RTOL)
    loo = [np.mean(y[(z == 1) & (np.arange(G) != i)]) - np.mean(y[(z == 0) & (np.arange(G) != i)])
           for i in range(G)]
    np.testing.assert_allclose(cr3.cov[0, 0], (G - 1) / G * np.sum((np.array(loo) - cr2.beta[0]) ** 2), rtol=RTOL)
    assert cr3.df == G - 1


def test_hand_worked_weighted_difference_in_means():
    """Four schools, one block, X = treatment, weights 1, 3 | 2, 2, outcomes 2, 6 | 1, 3.

    Weighted means 5 (treated, W1 = 4) and 2 (control, W0 = 4): beta = 3; raw residuals r = -3, 1 | -1, 1.
    Here H = sqrt(w) sqrt(w)'/W_arm within each arm (0 across), so h_i = w_i / W_arm = 1/4, 3/4 | 1/2, 1/2, and the
    treatment row of M Xt' is sqrt(w_i)/W1 (treated), -sqrt(w_i)/W0 (control): school i's score is w_i r_i / W_arm.
      CR1: sum (w r / W)^2 = 9/16 + 9/16 + 1/4 + 1/4 = 13/8, times G/(G-1) (N-1)/(N-p) = 4/3 * 3/2 = 2: 13/4.
      CR2: sum (w r / W)^2 / (1 - h) = (9/16)/(3/4) + (9/16)/(1/4) + 2 (1/4)/(1/2) = 3/4 + 9/4 + 1 = 4.
      CR3: sum (w r / W)^2 / (1 - h)^2 = 1 + 9 + 1 + 1 = 12, times (G-1)/G = 3/4: 9 (the leave-one-out estimates
           are 4, 0, 2, 4, deviations 1, -3, -1, 1).
      BM df: C = diag(d), d_i^2 = w_i / (W_arm (W_arm - w_i)) = 1/12, 3/4 | 1/4, 1/4; S = D (I - H) D is block
           diagonal by arm: treated [[1/16, -sqrt(3)/16], [-sqrt(3)/16, 3/16]], control [[1/8, -1/8], [-1/8, 1/8]];
           tr S = 1/4 + 1/4 = 1/2, ||S||^2 = 1/16 + 1/16 = 1/8, nu = (1/4)/(1/8) = 2.
    """
    y = np.array([2.0, 6.0, 1.0, 3.0])[:, None]
    X = np.array([1.0, 1.0, 0.0, 0.0])[:, None]
    w = np.array([1.0, 3.0, 2.0, 2.0])
    args = (y, X, w, np.zeros(4, dtype=int), np.arange(4))
    cr1, cr2, cr3 = (cluster_fit(*args, m) for m in ("cr1", "cr2", "cr3"))
    np.testing.assert_allclose([cr1.beta[0], cr2.beta[0], cr3.beta[0]], 3.0, rtol=RTOL)
    np.testing.assert_allclose(cr1.cov[0, 0], 13 / 4, rtol=RTOL)
    np.testing.assert_allclose(cr2.cov[0, 0], 4.0, rtol=RTOL)
    np.testing.assert_allclose(cr3.cov[0, 0], 9.0, rtol=RTOL)
    np.testing.assert_allclose(cr2.df, 2.0, rtol=RTOL)
    assert cr1.df == 2 and cr3.df == 3  # min(G - 1, N - p) = min(3, 2)


def _cluster_means(y, X, w, clusters):
    """Weighted cluster means of y and X, the clusters' total weights (rows: cluster codes in order)."""
    W = np.bincount(clusters, w)
    ybar = np.column_stack([np.bincount(clusters, w * y[:, j]) / W for j in range(y.shape[1])])
    xbar = np.column_stack([np.bincount(clusters, w * X[:, j]) / W for j in range(X.shape[1])])
    return ybar, xbar, W


@pytest.mark.parametrize("sizes_by_block", [[[3, 5, 2, 7, 4, 6]], [[4], [3, 5, 2], [6], [2, 3, 1, 4]]])
def test_cluster_level_regressors_equal_the_regression_on_cluster_means(sizes_by_block):
    """Clusters nested in blocks, every column of X constant within clusters (e.g. school-level treatment): Xt_g and
    s_g = sqrt(w_g) are parallel, so H_gg = h_g s_g s_g'/W_g and only s_g'e_g = W_g (ybar_g - fit_g) enters. Hence
    beta, CR2, CR3 and the BM df equal those of the one-row-per-cluster fit of the weighted cluster means ybar_g on
    xbar_g with weights W_g (structure 1), for any weights and blocks; CR1 differs only in (N-1)/(N-p) vs
    (G-1)/(G-p) and its df in min(G-1, N-p) vs min(G-1, G-p)."""
    rng = np.random.default_rng(len(sizes_by_block))
    Y, X, w, blocks, clusters = nested(rng, sizes_by_block)
    G = clusters.max() + 1
    block_of = np.zeros(G, dtype=int)
    block_of[clusters] = blocks
    Xc = np.column_stack([np.arange(G) % 2, rng.normal(size=G)]).astype(float)  # both arms in blocks of 2+ schools
    X = Xc[clusters]
    ybar, xbar, W = _cluster_means(Y, X, w, clusters)
    n, p = len(w), X.shape[1] + np.unique(blocks).size
    for method in ("cr1", "cr2", "cr3"):
        rows = cluster_fit(Y, X, w, blocks, clusters, method)
        means = cluster_fit(ybar, xbar, W, block_of, np.arange(G), method)
        np.testing.assert_allclose(rows.beta, means.beta, rtol=RTOL)
        scale = (n - 1) / (n - p) * (G - p) / (G - 1) if method == "cr1" else 1.0
        np.testing.assert_allclose(rows.cov, means.cov * scale, rtol=RTOL)
        if method == "cr1":
            assert rows.df == min(G - 1, n - p) and means.df == max(min(G - 1, G - p), 1)
        else:
            np.testing.assert_allclose(rows.df, means.df, rtol=RTOL)


@pytest.mark.parametrize("g1, g0, size", [(5, 5, 4), (3, 8, 6), (4, 2, 3), (2, 2, 10)])
def test_cluster_randomized_difference_in_means_textbook_answers(g1, g0, size):
    """One block, equal weights, every cluster of `size` rows, X = treatment assigned by cluster. beta is the
    difference of the means of the cluster means ybar_g, and in terms of those G1 + G0 cluster means (sample
    variances s1^2, s0^2):
      CR2 = s1^2/G1 + s0^2/G0 exactly (the Neyman variance of the cluster means; I - H_gg = I - 11'/(G_a size) has
            eigenvalue 1 - 1/G_a along 1, so cluster g's score is (ybar_g - ybar_a) sqrt(G_a/(G_a-1)) / G_a),
      BM df = Welch's formula at equal variances with G1, G0 clusters, (1/G1 + 1/G0)^2 /
            (1/(G1^2 (G1-1)) + 1/(G0^2 (G0-1))),
      CR3 = (G-1)/G (s1^2/(G1-1) + s0^2/(G0-1)).
    The same holds with unequal weights inside clusters as long as every cluster's total weight is the same (then
    ybar_g are the weighted cluster means); it is the one-row-per-cluster textbook answer applied to cluster means."""
    rng = np.random.default_rng(g1 * 100 + g0 * 10 + size)
    G = g1 + g0
    clusters = np.repeat(np.arange(G), size)
    zc = np.r_[np.ones(g1), np.zeros(g0)]
    y = (rng.normal(size=G) * np.where(zc == 1, 2.0, 1.0) + zc)[clusters] + rng.normal(size=G * size)
    n = G * size
    blocks = np.zeros(n, dtype=int)
    welch = (1 / g1 + 1 / g0) ** 2 / (1 / (g1**2 * (g1 - 1)) + 1 / (g0**2 * (g0 - 1)))
    raw = rng.uniform(1, 5, n)
    for w in (np.ones(n), raw / np.bincount(clusters, raw)[clusters] * 7.0):  # equal totals per cluster
        ybar = np.bincount(clusters, w * y) / np.bincount(clusters, w)
        s1, s0 = ybar[zc == 1].var(ddof=1), ybar[zc == 0].var(ddof=1)
        args = (y, zc[clusters], w, blocks, clusters)
        cr2, cr3 = cluster_fit(*args, "cr2"), cluster_fit(*args, "cr3")
        np.testing.assert_allclose(cr2.beta[0], ybar[zc == 1].mean() - ybar[zc == 0].mean(), rtol=RTOL)
        np.testing.assert_allclose(cr2.cov[0, 0], s1 / g1 + s0 / g0, rtol=RTOL)
        np.testing.assert_allclose(cr2.df, welch, rtol=RTOL)
        np.testing.assert_allclose(cr3.cov[0, 0], (G - 1) / G * (s1 / (g1 - 1) + s0 / (g0 - 1)), rtol=RTOL)
        assert cr3.df == G - 1


@pytest.mark.parametrize("case", ["teachers", "pairs", "blocks", "nested_one_row_schools"])
def test_general_nested_algebra_reproduces_the_other_structures(case):
    """The (k+1) x (k+1) algebra of structure 3 (block_of given), run on the other structures: on structure 2 the
    direction s_g/sqrt(W_b) has norm 1 and is singular; on structure 1 every V_g'V_g has rank one."""
    Y, X, w, blocks, clusters = CASES[case](np.random.default_rng(4))
    block_of = np.zeros(clusters.max() + 1, dtype=np.intp)
    block_of[clusters] = blocks
    for method in ("cr1", "cr2", "cr3"):
        ref = cluster_fit(Y, X, w, blocks, clusters, method)
        got = _nested(Y, X, w, clusters, block_of, method)
        np.testing.assert_allclose(got.beta, ref.beta, rtol=RTOL)
        np.testing.assert_allclose(got.cov, ref.cov, rtol=RTOL)
        np.testing.assert_allclose(got.df, ref.df, rtol=RTOL)


def test_df_does_not_depend_on_outcomes_and_outcomes_are_linear():
    Y, X, w, blocks, clusters = teachers(np.random.default_rng(8), [4, 6, 3, 5, 7])
    a = cluster_fit(Y, X, w, blocks, clusters, "cr2")
    b = cluster_fit(Y[:, ::-1] * 3.0 + 1.0, X, w, blocks, clusters, "cr2")
    assert a.df == pytest.approx(b.df, rel=1e-12)
    s = cluster_fit(Y.sum(axis=1), X, w, blocks, clusters, "cr2")  # a 1-D Y is one outcome
    np.testing.assert_allclose(s.cov[0, 0], a.cov.sum(), rtol=RTOL)
    np.testing.assert_allclose(s.beta[0], a.beta.sum(), rtol=RTOL)


# ---------------------------------------------------------------------------------------------------------------
# Structures refused, degenerate fits, within().
# ---------------------------------------------------------------------------------------------------------------

def test_other_structures_and_arguments_are_refused():
    rng = np.random.default_rng(0)
    Y, X, w, _, _ = schools(rng, [4, 4, 4])
    blocks = np.repeat(np.arange(3), 4)
    with pytest.raises(ValueError, match="spans several blocks"):  # a cluster across two blocks
        cluster_fit(Y, X, w, blocks, np.r_[0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2], "cr2")
    with pytest.raises(ValueError, match="spans several blocks"):  # ... also when the others are single rows
        cluster_fit(Y, X, w, blocks, np.r_[0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10], "cr2")
    with pytest.raises(ValueError, match="method"):
        cluster_fit(Y, X, w, blocks, np.arange(12), "hc2")
    with pytest.raises(ValueError, match="weights"):
        cluster_fit(Y, X, np.r_[0.0, w[1:]], blocks, np.arange(12), "cr1")
    # the same partition under different codes is structure 2
    Yt, Xt, wt, b, c = teachers(rng, [3, 4, 5])
    fit = cluster_fit(Yt, Xt, wt, b, (c + 1) % 3, "cr2")
    ref = cluster_fit(Yt, Xt, wt, b, c, "cr2")
    np.testing.assert_allclose(fit.cov, ref.cov, rtol=RTOL)


@pytest.mark.parametrize("case", ["pairs", "teachers", "nested_blocks"])
def test_rank_deficient_within_regressors_give_nan(case):
    Y, X, w, blocks, clusters = CASES[case](np.random.default_rng(1))
    X = X.copy()
    X[:, 1] = 3.7 * blocks + 100.0  # constant within blocks: absorbed
    for method in ("cr1", "cr2", "cr3"):
        fit = cluster_fit(Y, X, w, blocks, clusters, method)
        assert np.isnan(fit.beta).all() and np.isnan(fit.cov).all()
    X[:, 1] = 2 * X[:, 0] - 1  # collinear with the treatment
    assert np.isnan(cluster_fit(Y, X, w, blocks, clusters, "cr2").beta).all()


@pytest.mark.parametrize("case", ["blocks", "teachers", "nested_one_block", "nested_blocks",
                                  "nested_single_school_blocks", "nested_one_row_schools"])
@pytest.mark.parametrize("columns", [[0], [0, 1, 2]])
def test_one_or_three_regressors(case, columns):
    rng = np.random.default_rng(21)
    Y, X, w, blocks, clusters = CASES[case](rng)
    X = np.column_stack([X, rng.normal(size=len(w))])[:, columns]
    beta, V, df_bm, _ = dense_reference(Y, X, w, blocks, clusters)
    fit = cluster_fit(Y, X, w, blocks, clusters, "cr2")
    np.testing.assert_allclose(fit.beta, beta, rtol=RTOL)
    np.testing.assert_allclose(fit.cov, V["cr2"], rtol=RTOL)
    np.testing.assert_allclose(fit.df, df_bm, rtol=RTOL)
    cr3 = cluster_fit(Y, X, w, blocks, clusters, "cr3")
    G = np.unique(clusters).size
    np.testing.assert_allclose(cr3.cov, V["cr3"] * (G - 1) / G, rtol=RTOL)


@pytest.mark.parametrize("case", ["blocks", "teachers", "nested_blocks"])
def test_unused_codes_and_large_levels_change_nothing(case):
    """Codes with gaps (empty blocks or clusters) count only the ones used; school-level offsets 100 times the
    within-school spread (absorbed by the fixed effects) cost no more than ~1e-9 of relative accuracy (structure 2
    works from per-cluster weighted moments)."""
    rng = np.random.default_rng(6)
    Y, X, w, blocks, clusters = CASES[case](rng)
    level = rng.normal(size=blocks.max() + 1) * 100.0
    Y2, X2 = Y + level[blocks][:, None], X + np.c_[0.0, 1.0] * level[blocks][:, None]
    clusters2 = clusters if case == "blocks" else clusters * 3
    for method in ("cr1", "cr2", "cr3"):
        a = cluster_fit(Y, X, w, blocks, clusters, method)
        b = cluster_fit(Y2, X2, w, blocks * 3, clusters2, method)
        np.testing.assert_allclose(b.beta, a.beta, rtol=1e-9)
        np.testing.assert_allclose(b.cov, a.cov, rtol=1e-9)
        np.testing.assert_allclose(b.df, a.df, rtol=1e-9)


def test_within_is_weighted_block_demeaning():
    rng = np.random.default_rng(2)
    cols, w, blocks = rng.normal(size=(9, 2)), rng.uniform(1, 2, 9), np.r_[0, 0, 1, 1, 1, 2, 2, 2, 2]
    expect = cols.copy()
    for b in range(3):
        expect[blocks == b] -= np.average(cols[blocks == b], axis=0, weights=w[blocks == b])
    np.testing.assert_allclose(within(cols, w, blocks), expect, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------------------------------
# Imai, King & Nall (2009).
# ---------------------------------------------------------------------------------------------------------------

def ikn_loop(y, z, w, pairs):
    D, size = [], []
    for p in np.unique(pairs):
        rows = np.flatnonzero(pairs == p)
        if len(rows) != 2 or sorted(z[rows]) != [0, 1]:
            continue
        t, c = (rows[0], rows[1]) if z[rows[0]] == 1 else (rows[1], rows[0])
        D.append(y[t] - y[c])
        size.append(w[t] + w[c])
    D, size = np.array(D), np.array(size)
    J, n = len(D), size.sum()
    tau = sum(size[j] * D[j] for j in range(J)) / n
    var = J / ((J - 1) * n**2) * sum((size[j] * D[j] - n * tau / J) ** 2 for j in range(J))
    return tau, np.sqrt(var), J - 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pair_difference_matches_the_ikn_formulas(seed):
    rng = np.random.default_rng(seed)
    J = 9
    pairs = np.repeat(np.arange(J), 2)
    z = np.concatenate([rng.permutation([0, 1]) for _ in range(J)])
    # an odd school out (block 9, alone), a block of three (10) and a block with two treated (11): all ignored
    pairs = np.r_[pairs, 9, 10, 10, 10, 11, 11]
    z = np.r_[z, 1, 1, 0, 0, 1, 1]
    n = len(z)
    y, w = rng.normal(size=n) + z, rng.integers(20, 300, n).astype(float)
    order = rng.permutation(n)
    got = pair_difference(y[order], z[order], w[order], pairs[order])
    np.testing.assert_allclose(got, ikn_loop(y, z, w, pairs), rtol=1e-12)
    assert got[2] == J - 1


def test_pair_difference_with_equal_weights_is_the_paired_t_test():
    rng = np.random.default_rng(4)
    J = 8
    pairs = np.repeat(np.arange(J), 2)
    z = np.concatenate([rng.permutation([0, 1]) for _ in range(J)])
    y = rng.normal(size=2 * J) + 0.5 * z
    tau, se, df = pair_difference(y, z, np.full(2 * J, 120.0), pairs)
    treated = np.array([y[(pairs == j) & (z == 1)][0] for j in range(J)])
    control = np.array([y[(pairs == j) & (z == 0)][0] for j in range(J)])
    t = stats.ttest_rel(treated, control)
    np.testing.assert_allclose(tau / se, t.statistic, rtol=1e-12)
    np.testing.assert_allclose(2 * stats.t.sf(abs(tau / se), df), t.pvalue, rtol=1e-10)
    assert df == J - 1


def test_pair_difference_with_fewer_than_two_pairs():
    tau, se, df = pair_difference([3.0, 1.0, 5.0], [1, 0, 1], [10.0, 30.0, 5.0], [0, 0, 1])
    assert tau == 2.0 and np.isnan(se)
    assert all(np.isnan(pair_difference([1.0, 2.0], [1, 1], [1.0, 1.0], [0, 0])))
