"""Exact matching on dense pools: an LP upper bound, reduced-cost fixing, then a blossom on what is left.

The degree-constrained LP (x(δ(v)) <= 1) bounds every matching. Its optimum is half a maximum-weight assignment
on the bipartite double cover, and an optimal dual y (y_a + y_b >= w_ab, y >= 0) follows from the assignment's
potentials. For any matching M, w(M) <= sum(y) - sum of reduced costs of M's edges, so once some matching of
value L is known, an edge whose reduced cost exceeds sum(y) - L is in no matching worth L or more: it can be
dropped without losing any optimum. When L already reaches floor(sum(y)), L is optimal outright.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from . import blossom

MAX_DENSE_VERTICES = 6_000
_TOP_K = 16
_EXACT_FLOAT = 2**52  # linear_sum_assignment works in float64


def _assignment_duals(V: np.ndarray, sigma: np.ndarray) -> np.ndarray | None:
    """u for the assignment LP: shortest paths in the residual graph of the optimal assignment sigma.

    u[i'] <= u[i] + V[i', s(i')] - V[i, s(i')] for all i, i'. Returns None if it fails to converge, which an
    optimal sigma rules out; the caller then trusts nothing and falls back to the full blossom.
    """
    vs = V[np.arange(len(V)), sigma]
    C = vs[None, :] - V[:, sigma]
    u = np.zeros(len(V), dtype=np.int64)
    for _ in range(len(V) + 1):
        nu = np.minimum(u, (u[:, None] + C).min(axis=0))
        if np.array_equal(nu, u):
            return u
        u = nu
    return None


def _top_k_edges(V: np.ndarray, k: int) -> np.ndarray:
    n = len(V)
    k = min(k, n - 1)
    idx = np.argpartition(-V, k, axis=1)[:, :k]
    rows = np.repeat(np.arange(n), k)
    cols = idx.ravel()
    keep = V[rows, cols] > 0
    return np.unique(np.minimum(rows, cols)[keep].astype(np.int64) * n + np.maximum(rows, cols)[keep])


def solve(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Indices of the chosen edges of a maximum-weight matching, proven optimal."""
    w = np.asarray(w, dtype=np.int64)
    if n > MAX_DENSE_VERTICES or int(w.max(initial=0)) * n >= _EXACT_FLOAT:
        return blossom.solve(n, u, v, w)
    V = np.zeros((n, n), dtype=np.int64)
    V[u, v] = w
    V[v, u] = w
    edge_keys = np.minimum(u, v).astype(np.int64) * n + np.maximum(u, v)
    eid = (edge_keys, np.argsort(edge_keys, kind="stable"))
    rows, sigma = linear_sum_assignment(V, maximize=True)
    A = int(V[rows, sigma].sum())  # twice the LP bound, once the duals below confirm it
    # The duals certify the bound themselves, so nothing rests on the assignment solver being exact.
    uu = _assignment_duals(V, sigma)
    if uu is None:
        return blossom.solve(n, u, v, w)
    inv = sigma.argsort()
    y2 = uu + (V[inv, np.arange(n)] - uu[inv])  # twice the degree-LP dual: y_k = (u_k + v_k) / 2
    rc2 = y2[:, None] + y2[None, :] - 2 * V  # twice the reduced costs
    if int(y2.sum()) != A or (rc2[V > 0] < 0).any() or (y2 < 0).any():
        return blossom.solve(n, u, v, w)  # never expected: the certificate did not check out
    # A good matching first: the blossom on each vertex's best edges plus the assignment's support.
    keys = np.union1d(_top_k_edges(V, _TOP_K),
                      [min(i, j) * n + max(i, j) for i, j in zip(rows.tolist(), sigma.tolist(), strict=True)
                       if i != j and V[i, j] > 0])
    chosen = _solve_keys(keys, n, V)
    lower = int(V[keys[chosen] // n, keys[chosen] % n].sum())
    if 2 * lower >= A - 1:  # lower >= floor(A / 2) >= every matching's value
        return _edge_ids(keys[chosen], eid)
    slack2 = A - 2 * lower
    a_idx, b_idx = np.nonzero(np.triu((rc2 <= slack2) & (V > 0), 1))
    keys = np.union1d(a_idx.astype(np.int64) * n + b_idx, keys[chosen])
    return _edge_ids(keys[_solve_keys(keys, n, V)], eid)


def _solve_keys(keys: np.ndarray, n: int, V: np.ndarray) -> np.ndarray:
    a, b = keys // n, keys % n
    return blossom.solve(n, a, b, V[a, b])


def _edge_ids(keys: np.ndarray, eid: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The input's edge indices of the chosen (min * n + max) keys (eid: the input's keys and their sort order)."""
    edge_keys, order = eid
    return np.sort(order[np.searchsorted(edge_keys, keys, sorter=order)])
