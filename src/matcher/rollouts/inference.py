"""Standard errors and degrees of freedom for a simulated trial's estimates, valid with few clusters.

Weighted least squares of one or more outcomes on a treatment column and covariates, with block fixed effects
absorbed by weighted within-block demeaning, clustered by school.

`cluster_fit(Y, X, w, blocks, clusters, method)` fits the WLS of every column of Y on X (column 0: the treatment,
whose coefficient is returned) plus a dummy per block (no intercept column: the block dummies are the intercept),
weights w (students), and returns that coefficient for every outcome, its covariance across outcomes and the degrees
of freedom for t tests of it. Everything is computed in the sqrt(w)-transformed space (every row multiplied by
sqrt(w)), where the full model's hat matrix H (block dummies included) is symmetric; Xt is X demeaned within blocks
(weighted) and transformed, M = (Xt'Xt)^-1, e the transformed residuals, and Xt_g, e_g, H_gg cluster g's rows.
By Frisch-Waugh-Lovell the treatment row of (Z'Z)^-1 Z' (Z the full design) is the first row of M Xt', so every
sandwich below is the full-model one, restricted to the coefficients of X.

- "cr1": the usual cluster-robust (Liang-Zeger) covariance with statsmodels' small-sample factor,
  V = G/(G-1) (N-1)/(N-p) M sum_g Xt_g'e_g e_g'Xt_g M, p = k + B parameters (block dummies counted), and
  df = max(min(G - 1, N - p), 1): exactly `statsmodels WLS(...).fit(cov_type="cluster")` with dummy columns.
- "cr2": the bias-reduced linearization of Bell & McCaffrey (2002), in the form of Pustejovsky & Tipton (2018,
  JBES, "Small-sample methods for cluster-robust variance estimation and hypothesis testing in fixed effects
  models"): V = M sum_g Xt_g'A_g e_g e_g'A_g Xt_g M, A_g = (I - H_gg)^(-1/2), H the FULL model's hat matrix (fixed
  effects included, as Pustejovsky & Tipton require for models with absorbed fixed effects); A_g is the symmetric
  generalized inverse square root, zero on directions where an eigenvalue of I - H_gg is <= 1e-12 (as clubSandwich
  does). Under the working model (Omega = I in the transformed space: the weights are inverse variances,
  clubSandwich's convention for WLS) V is unbiased. df: Bell & McCaffrey's Satterthwaite degrees of freedom for the
  treatment coefficient, nu = tr(S)^2 / ||S||_F^2, S = C'(I - H)C, C's column g = A_g Xt_g M e_1 on cluster g's rows
  (Imbens & Kolesar 2016, REStat, "Robust standard errors in small samples: some practical advice", recommend
  exactly this pair). It depends on X, w, blocks and clusters only, not on Y. For a difference in means with equal
  weights V is the Neyman variance s1^2/n1 + s0^2/n0 and nu Welch's formula at equal variances.
- "cr3": the cluster jackknife, MacKinnon, Nielsen & Webb (2023, J. Econometrics, "Fast and reliable jackknife and
  bootstrap methods for cluster-robust inference") CV3: V = (G-1)/G sum_g (b_(g) - b)(b_(g) - b)', b_(g) the fit
  without cluster g, in closed form b_(g) - b = -M Xt_g'(I - H_gg)^-1 e_g; df = G - 1. With a generalized inverse
  (directions with eigenvalue <= 1e-12 contribute nothing) this still equals the refit's (estimable) treatment
  coefficient where dropping cluster g also drops a fixed effect: a block of one school (h = 1: the refit loses that
  block and the school never informed b), every school of structure 2 and every block of a single school in
  structure 3 (I - H_gg is then always singular along sqrt(w_g), that block's own fixed effect), or a school whose
  removal leaves some covariate unidentified while the treatment coefficient stays estimable. A matched pair that
  loses one school leaves its partner alone in its block; the full-model H already accounts for it
  (h_i = w_i/W_pair + leverage, nonsingular in general) and the formula matches the refit, as it does for a school
  removed from a block of several schools in structure 3. For the unweighted difference in means
  V = (G-1)/G (s1^2/(n1-1) + s0^2/(n0-1)).

`pair_difference(y, z, w, pairs)` is Imai, King & Nall's (2009, Statistical Science, "The essential role of pair
matching in cluster-randomized experiments") size-weighted estimator for matched-pair cluster-randomized designs,
with their variance estimator and J - 1 degrees of freedom.

Three data structures occur, and `cluster_fit` detects which from blocks and clusters. Clusters must be nested
within blocks (each cluster's rows all in one block); a cluster spanning several blocks is refused (ValueError).
1. one row per cluster (school-level designs): every cluster code occurs once; blocks group several rows (matched
   pairs, blocks, or one block of all rows). Every per-cluster quantity is a scalar per row.
2. blocks equal clusters (teacher-level designs with school fixed effects): block codes and cluster codes define the
   same partition, many rows per cluster. Then H_gg = s_g s_g'/W_g + Xt_g M Xt_g' (s_g = sqrt(w_g)) with Xt_g and
   e_g orthogonal to s_g, and every quantity reduces to k x k algebra per cluster (batched eigh of L'Xt_g'Xt_g L,
   L L' = M).
3. clusters nested within blocks, several rows per cluster and some block holding several clusters (a teacher-level
   difference in means: one block, the intercept, clustered by school; or schools within blocks). Blocks of one
   cluster and clusters of one row may be mixed in. For cluster g in block b, H_gg = s_g s_g'/W_b + Xt_g M Xt_g'
   = V_g V_g' with V_g = [s_g/sqrt(W_b), Xt_g L], Xt_g no longer orthogonal to s_g, and every quantity reduces to
   (k+1) x (k+1) algebra per cluster (batched eigh of V_g'V_g, built from the per-cluster cross-products W_g,
   s_g'Xt_g, Xt_g'Xt_g, s_g'e_g, Xt_g'e_g; see `_nested`). The BM df's S = C'(I - H)C splits into diag(C_g'C_g),
   the block projection's sum_b v_b v_b'/W_b (v_b: s_g'C_g over block b's clusters) and U M U' (U = C'Xt), so tr S
   and ||S||_F^2 cost O(G k^2) with no N x G matrix. Structure 2 is the special case where s_g/sqrt(W_b) has
   norm 1 (lam = 1: a singular direction, dropped) and runs the same code with that direction left out.
   With every column of X constant within clusters (school-level treatment), beta, CR2, CR3 and the BM df equal
   those of the one-row-per-cluster regression of the weighted cluster means on X with weights W_g (only s_g'e_g
   enters). In particular, with one block, equal weights, equal cluster sizes and X = cluster-level treatment, CR2 is
   the Neyman variance s1^2/G1 + s0^2/G0 of the cluster means, the BM df Welch's formula at equal variances with
   G1, G0 clusters, and CR3 (G-1)/G (s1^2/(G1-1) + s0^2/(G0-1)).
Nothing here loops over clusters in Python. Structures 2 and 3 work from per-cluster weighted moments (sums of w,
w x, w x x', w x y' after centering each column at its overall weighted mean; block means from the cluster sums)
rather than demeaned N-row columns (several times faster at 70,000 rows: fewer N-sized temporaries), at a relative
accuracy of roughly 1e-16 (school-level spread / within-school spread)^2: 1e-11 when school means spread 1,000
times more than teachers within a school.

The generalized inverse changes nothing where I - H_gg is exactly singular: if (I - H_gg) v = 0 then
(I - H)_{., g} v = 0 too (I - H is a symmetric idempotent), so e_g and the columns of (I - H) C carry nothing along v.
The 1e-12 threshold only keeps rounding noise in such a direction from being multiplied by 1e6 (CR2) or 1e12 (CR3).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

SINGULAR = 1e-12  # an eigenvalue of I - H_gg at or below this is treated as zero (generalized inverse), as clubSandwich
METHODS = ("cr1", "cr2", "cr3")


def within(columns: np.ndarray, w: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """Each column (rows x columns) minus its weighted mean within the row's block (codes 0..B-1)."""
    n_b = int(blocks.max()) + 1
    total = np.bincount(blocks, w, minlength=n_b)
    out = np.empty_like(columns, dtype=float)
    for j in range(columns.shape[1]):
        out[:, j] = columns[:, j] - (np.bincount(blocks, w * columns[:, j], minlength=n_b) / total)[blocks]
    return out


class ClusterFit(NamedTuple):
    beta: np.ndarray  # (m,) coefficient of the first column of X, one per outcome column of Y
    cov: np.ndarray  # (m, m) its cluster-robust covariance across outcomes
    df: float  # degrees of freedom for t tests of that coefficient (or of any combination across outcomes)


def _codes(a, n: int, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.shape != (n,) or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must be {n} integer codes")
    if n and a.min() < 0:
        raise ValueError(f"{name} must be codes 0, 1, ...")
    return a.astype(np.intp, copy=False)


def _structure(blocks: np.ndarray, clusters: np.ndarray) -> tuple[int, np.ndarray | None]:
    """(1, None): one row per cluster; (2, None): blocks and clusters define the same partition; (3, block_of):
    clusters nested within blocks, some block holding several clusters (block_of[g] is cluster g's block);
    ValueError when a cluster spans several blocks."""
    counts = np.bincount(clusters)
    if counts.max() == 1:
        return 1, None
    if blocks is clusters or np.array_equal(blocks, clusters):
        return 2, None
    block_of = np.zeros(counts.size, dtype=np.intp)
    block_of[clusters] = blocks
    if not np.array_equal(block_of[clusters], blocks):
        raise ValueError("a cluster spans several blocks: clusters must lie within blocks (or be single rows)")
    used = block_of[counts > 0]
    return (2, None) if np.unique(used).size == used.size else (3, block_of)


def _nan_fit(m: int) -> ClusterFit:
    return ClusterFit(np.full(m, np.nan), np.full((m, m), np.nan), float("nan"))


def _solve(K: np.ndarray, KXY: np.ndarray, tss: np.ndarray):
    """L (L L' = M = K^-1) and the coefficients M KXY, or None when a within regressor is (numerically) absorbed by
    the blocks or collinear with the others: Cholesky's R_jj^2, what is left of column j after the columns before it
    and the blocks, is <= 1e-10 of its total sum of squares about the overall (weighted) mean."""
    try:
        chol = np.linalg.cholesky(K)  # R R' = Xt'Xt
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.diag(chol) ** 2 > 1e-10 * tss):
        return None
    L = np.linalg.inv(chol).T
    return L, L @ L.T, L @ (L.T @ KXY)


def cluster_fit(Y, X, w, blocks, clusters, method: str) -> ClusterFit:
    """WLS of every column of Y (N, m) on X (N, k; column 0 the treatment) and block dummies, weights w, clustered by
    `clusters`: the treatment coefficient per outcome, its covariance across outcomes (method "cr1", "cr2" or
    "cr3", see the module docstring) and degrees of freedom. All nan when a column of X has no variation left within
    blocks or is collinear with the others (X rank deficient after the block effects)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    Y = np.asarray(Y, dtype=float)
    X = np.asarray(X, dtype=float)
    Y = Y[:, None] if Y.ndim == 1 else Y
    X = X[:, None] if X.ndim == 1 else X
    if Y.ndim != 2 or X.ndim != 2 or X.shape[0] != Y.shape[0] or X.shape[1] < 1 or Y.shape[1] < 1:
        raise ValueError("Y must be (N, m) and X (N, k) with k, m >= 1")
    n = X.shape[0]
    w = np.asarray(w, dtype=float)
    if w.shape != (n,) or not np.all(w > 0):
        raise ValueError("w must be N positive weights")
    same = blocks is clusters
    blocks = _codes(blocks, n, "blocks")
    clusters = blocks if same else _codes(clusters, n, "clusters")
    kind, block_of = _structure(blocks, clusters)
    if kind == 1:
        return _one_row_per_cluster(Y, X, w, blocks, method)
    return _nested(Y, X, w, clusters, block_of, method)


def _inverse_power(x: np.ndarray, power: float) -> np.ndarray:
    """x^-power for x > SINGULAR, 0 otherwise (the generalized inverse's convention)."""
    ok = x > SINGULAR
    return np.where(ok, np.where(ok, x, 1.0) ** -power, 0.0)


def _df_cr1(n_clusters: int, n: int, p: int) -> float:
    return float(max(min(n_clusters - 1, n - p), 1))


def _cr1_scale(n_clusters: int, n: int, p: int) -> float:
    """statsmodels' small-sample factor for a cluster-robust covariance with p parameters."""
    return n_clusters / (n_clusters - 1) * (n - 1) / (n - p) if n_clusters > 1 and n > p else float("nan")


def _one_row_per_cluster(Y, X, w, blocks, method) -> ClusterFit:
    """Structure 1: H_ii = w_i/W_block + Xt_i'M Xt_i, and every cluster's A_g is a scalar."""
    n, k = X.shape
    m = Y.shape[1]
    w_block = np.bincount(blocks, w)
    n_blocks = int(np.count_nonzero(w_block))
    s = np.sqrt(w)
    inv_W = np.divide(1.0, w_block, out=np.zeros(w_block.size), where=w_block > 0)  # codes may have gaps
    d = np.column_stack([X, Y])
    for j in range(k + m):  # as within(), without dividing by an empty block's zero weight
        d[:, j] -= (np.bincount(blocks, w * d[:, j], minlength=w_block.size) * inv_W)[blocks]
    d *= s[:, None]
    xt, yt = d[:, :k], d[:, k:]
    xc = X - (w @ X) / w.sum()
    fit = _solve(xt.T @ xt, xt.T @ yt, w @ (xc * xc))
    if fit is None:
        return _nan_fit(m)
    L, M, coef = fit
    e = yt - xt @ coef
    beta = coef[0].copy()
    a = xt @ M[0]  # the treatment row of M Xt'
    if method == "cr1":
        q = a[:, None] * e
        p = k + n_blocks
        return ClusterFit(beta, _cr1_scale(n, n, p) * (q.T @ q), _df_cr1(n, n, p))

    xl = xt @ L
    lev = np.einsum("ij,ij->i", xl, xl)
    share = w * inv_W[blocks]
    phi = _inverse_power(1.0 - share - lev, 0.5 if method == "cr2" else 1.0)
    dd = a * phi  # C = diag(dd) in structure 1
    q = dd[:, None] * e
    cov = q.T @ q
    if method == "cr3":
        return ClusterFit(beta, cov * (n - 1) / n, float(n - 1))
    # S = D (I - P - Xt M Xt') D, D = diag(dd), P the block projection sqrt(w_i w_j)/W_b:
    # S = Delta - R - T with Delta = D^2, R = D P D, T = U M U', U = D Xt; the Frobenius norm term by term.
    d2 = dd * dd
    d4 = d2 * d2
    trace = float(np.sum(d2 * (1.0 - share - lev)))
    ok = w_block > 0
    n_b = w_block.size
    r_b = np.bincount(blocks, d2 * w, minlength=n_b)  # R_b = v v'/W_b, v = d sqrt(w): ||R_b||_F = v'v / W_b
    r_norm = np.sum((r_b[ok] / w_block[ok]) ** 2)
    ul = dd[:, None] * xl  # U L
    t_norm = np.sum((ul.T @ ul) ** 2)  # ||U M U'||_F^2 = ||L'U'U L||_F^2
    cross_dr = np.sum(d4 * share)  # <Delta, R>
    cross_dt = np.sum(d4 * lev)  # <Delta, T>
    # <R, T> = sum_b (1/W_b) || L' sum_{i in b} d_i^2 sqrt(w_i) Xt_i ||^2
    z = (d2 * s)[:, None] * xl
    zb = np.stack([np.bincount(blocks, z[:, j], minlength=n_b) for j in range(k)])
    cross_rt = np.sum(np.sum(zb[:, ok] ** 2, axis=0) / w_block[ok])
    frob = np.sum(d4) + r_norm + t_norm - 2 * cross_dr - 2 * cross_dt + 2 * cross_rt
    return ClusterFit(beta, cov, _satterthwaite(trace, frob))


def _nested(Y, X, w, clusters, block_of, method) -> ClusterFit:
    """Structures 2 and 3: clusters nested within blocks, several rows per cluster (block_of[g] is cluster g's block;
    None when blocks are the clusters). Everything comes from per-cluster weighted moments (by bincount, after
    centering every column at its overall weighted mean): W_g, the within-cluster cross-products and the deviations
    dev_g of cluster g's weighted means from its block's. In the transformed space, with s_g = sqrt(w_g),
    a_g = Xt_g's_g = W_g dev_x, K_g = Xt_g'Xt_g = within_g + W_g dev_x dev_x', Xt_g'Yt_g likewise, u_g = Xt_g'e_g and
    t_g = s_g'e_g = W_g dev_y - a_g'b.

    H_gg = V_g V_g' with V_g = [s_g / sqrt(W_b), Xt_g L] (n_g x (k+1)) and Gram matrix
    Gam_g = V_g'V_g = [[W_g/W_b, a_g'L/sqrt(W_b)], [L'a_g/sqrt(W_b), L'K_g L]] = Q diag(lam) Q'. For f = x^-1/2 (CR2)
    or x^-1 (CR3) with the generalized-inverse convention, V_g'f(I - V_g V_g') = f(I - Gam_g) V_g' (push-through),
    and Xt_g = V_g P with P = [0; L^-1], so M Xt_g'f(I - H_gg) e_g = M P' Q diag(phi) Q' V_g'e_g, phi = f(1 - lam),
    V_g'e_g = [t_g/sqrt(W_b); L'u_g]: its treatment row is beta_g' diag(phi) Q'V_g'e_g with beta_g = Q'P M e_1 =
    Q[1:]'L[0] (L^-1 M = L'). Likewise for the Bell-McCaffrey df with c = M e_1: C_g'C_g = c'Xt_g'f^2 Xt_g c =
    sum_l beta_l^2 phi_l^2 lam_l, and Q diag(phi lam) beta_g = [s_g'C_g/sqrt(W_b); L'Xt_g'C_g].
    When a block is one cluster, s_g/sqrt(W_b) has norm 1 and a_g = 0: that direction has lam = 1 and drops out
    (structure 2, where e_g and Xt_g are orthogonal to s_g)."""
    n, k = X.shape
    m = Y.shape[1]
    c = k + m
    Z = np.empty((c, n))
    Z[:k] = X.T
    Z[k:] = Y.T
    Z -= (Z @ w / w.sum())[:, None]
    n_g = int(clusters.max()) + 1
    W_g = np.bincount(clusters, w, minlength=n_g)
    sums = np.empty((c, n_g))
    cross = np.empty((n_g, k, c))  # within-cluster sums of w (z_i - zbar_g)(z_j - zbar_g), i < k
    for i in range(c):
        wz = w * Z[i]
        sums[i] = np.bincount(clusters, wz, minlength=n_g)
        if i < k:
            for j in range(i, c):
                cross[:, i, j] = np.bincount(clusters, wz * Z[j], minlength=n_g)
    present = np.flatnonzero(W_g > 0)  # codes may have gaps
    if present.size < n_g:
        W_g, sums, cross = W_g[present], sums[:, present], cross[present]
    G = present.size
    for i in range(k):
        for j in range(i, c):
            cross[:, i, j] -= sums[i] * sums[j] / W_g
        for j in range(i):
            cross[:, i, j] = cross[:, j, i]
    if block_of is None:  # blocks are the clusters: no deviation from the block means
        block = np.arange(G)
        W_b = W_g
        dev = None
    else:
        block = block_of[present]
        W_b = np.bincount(block, W_g)
        inv_b = np.divide(1.0, W_b, out=np.zeros(W_b.size), where=W_b > 0)
        dev = np.empty((c, G))
        for i in range(c):
            dev[i] = sums[i] / W_g - (np.bincount(block, sums[i], minlength=W_b.size) * inv_b)[block]
        cross += (W_g * dev[:k]).T[:, :, None] * dev.T[:, None, :]
    n_blocks = int(np.count_nonzero(W_b))
    wb = W_b[block]  # every cluster's block weight
    kg = np.ascontiguousarray(cross[:, :, :k])  # (G, k, k)
    kxy = cross[:, :, k:]  # (G, k, m)
    tss = np.einsum("ij,ij->i", Z[:k], Z[:k] * w)
    fit = _solve(kg.sum(axis=0), kxy.sum(axis=0), tss)
    if fit is None:
        return _nan_fit(m)
    L, M, coef = fit
    beta = coef[0].copy()
    ug = kxy - kg @ coef  # (G, k, m): Xt_g'e_g

    if method == "cr1":
        q = np.einsum("j,gjm->gm", M[0], ug)
        p = k + n_blocks
        return ClusterFit(beta, _cr1_scale(G, n, p) * (q.T @ q), _df_cr1(G, n, p))

    lu = np.einsum("jl,gjm->glm", L, ug)  # L'u_g
    if dev is None:  # s_g/sqrt(W_b) has norm 1 and is orthogonal to Xt_g L and e_g: lam = 1 there, and it drops out
        lam, Q = np.linalg.eigh(L.T @ kg @ L)  # (G, k), (G, k, k)
        qx, ve = Q, lu
    else:
        rs = 1.0 / np.sqrt(wb)
        a = W_g[:, None] * dev[:k].T  # (G, k): Xt_g's_g
        gam = np.empty((G, k + 1, k + 1))  # V_g'V_g
        gam[:, 0, 0] = W_g / wb
        gam[:, 0, 1:] = (a @ L) * rs[:, None]
        gam[:, 1:, 0] = gam[:, 0, 1:]
        gam[:, 1:, 1:] = L.T @ kg @ L
        ve = np.empty((G, k + 1, m))  # V_g'e_g
        ve[:, 0, :] = (W_g[:, None] * dev[k:].T - a @ coef) * rs[:, None]  # s_g'e_g / sqrt(W_b)
        ve[:, 1:, :] = lu
        lam, Q = np.linalg.eigh(gam)  # (G, k+1), (G, k+1, k+1)
        qx = Q[:, 1:, :]
    lam = np.clip(lam, 0.0, None)
    phi = _inverse_power(1.0 - lam, 0.5 if method == "cr2" else 1.0)
    bg = np.einsum("gjl,j->gl", qx, L[0])  # beta_g
    qe = np.einsum("gjl,gjm->glm", Q, ve)  # Q'V_g'e_g
    q = np.einsum("gl,glm->gm", bg * phi, qe)
    cov = q.T @ q
    if method == "cr3":
        return ClusterFit(beta, cov * (G - 1) / G, float(G - 1))
    # S = C'(I - H)C = Delta - R - T: Delta = diag(C_g'C_g), R = sum_b v_b v_b'/W_b (v_b: s_g'C_g over block b's
    # clusters), T = U M U' (U = C'Xt); r_g = s_g'C_g / sqrt(W_b) and row g of U L both come from
    # Q diag(phi lam) beta_g = V_g'C_g.
    lp = lam * phi
    d2 = np.sum(bg * bg * lp * phi, axis=1)
    qt = np.einsum("gjl,gl->gj", Q, lp * bg)
    r, ul = (np.zeros(G), qt) if dev is None else (qt[:, 0], qt[:, 1:])  # s_g'C_g / sqrt(W_b), row g of U L
    r2 = r * r
    t = np.sum(ul * ul, axis=1)
    trace = float(np.sum(d2) - np.sum(r2) - np.sum(t))
    r_norm = np.sum(np.bincount(block, r2) ** 2)  # ||v_b v_b'/W_b||_F = v_b'v_b / W_b
    z = r[:, None] * ul  # <R, T> = sum_b || sum_{g in b} r_g (U L)_g ||^2
    cross_rt = sum(np.sum(np.bincount(block, z[:, j]) ** 2) for j in range(k))
    frob = (np.sum(d2 * d2) + r_norm + np.sum((ul.T @ ul) ** 2) - 2 * np.sum(d2 * r2) - 2 * np.sum(d2 * t)
            + 2 * cross_rt)
    return ClusterFit(beta, cov, _satterthwaite(trace, frob))


def _satterthwaite(trace: float, frob: float) -> float:
    if not (trace > 0 and frob > 0):
        return float("nan")
    return float(trace * trace / frob)


def pair_difference(y, z, w, pairs) -> tuple[float, float, float]:
    """Imai, King & Nall's (2009) estimator for a matched-pair cluster-randomized trial: (estimate, se, df).

    y: the schools' (student-weighted) mean outcomes; z: 1 treated, 0 control; w: the schools' students; pairs:
    block codes. Pair j's difference D_j = y_treated - y_control and size n_j = w_treated + w_control give
    tau = sum_j n_j D_j / n (n = sum_j n_j) and variance J / ((J - 1) n^2) sum_j (n_j D_j - n tau / J)^2, with
    J - 1 degrees of freedom. Blocks without exactly one treated and one control school (an odd school out of the
    matching) are left out. se is nan when fewer than two pairs remain (and everything is nan with none)."""
    y = np.asarray(y, dtype=float)
    z = np.asarray(z)
    w = np.asarray(w, dtype=float)
    pairs = np.asarray(pairs).astype(np.intp, copy=False)
    treated = z == 1
    control = z == 0
    if not np.all(treated | control):
        raise ValueError("z must be 0 or 1")
    n_b = int(pairs.max()) + 1 if pairs.size else 0
    n_t = np.bincount(pairs, treated, minlength=n_b)
    n_c = np.bincount(pairs, control, minlength=n_b)
    keep = (n_t == 1) & (n_c == 1)
    J = int(np.count_nonzero(keep))
    if J == 0:
        return float("nan"), float("nan"), float("nan")
    diff = np.bincount(pairs, np.where(treated, y, -y), minlength=n_b)[keep]
    size = np.bincount(pairs, w, minlength=n_b)[keep]
    total = size.sum()
    tau = float(np.sum(size * diff) / total)
    if J < 2:
        return tau, float("nan"), 0.0
    var = J / ((J - 1) * total**2) * np.sum((size * diff - total * tau / J) ** 2)
    return tau, float(np.sqrt(var)), float(J - 1)
