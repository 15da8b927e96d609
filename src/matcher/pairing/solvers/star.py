"""One-way pairing (a partner supports up to K targets, nobody is both) as an integer program.

With K >= 2 this packs stars of at most K leaves, which contains partition into paths of three vertices, an
NP-complete problem; so there is no blossom-style algorithm and we solve an integer program. The strong LP
relaxation (x_pt <= r_p) is integral for most schools: solve it with HiGHS, and when the rounded LP solution is
feasible and reaches the LP's dual bound, it is optimal (the bound is recomputed from the duals so that it is
valid whatever the LP solver's tolerances). Otherwise CP-SAT solves the model to proven optimality.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from . import blossom, cpsat

_LP_SAFE_WEIGHT = 2**40  # beyond this, float64 rounding could blur the certificate; go straight to CP-SAT


def _lp_model(n: int, p: np.ndarray, t: np.ndarray, k: int) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Rows: in(v) + r_v <= 1; out(v) - k r_v <= 0; x_pt - r_p <= 0. Columns: arcs, then r_0..r_{n-1}."""
    na = len(p)
    arc = np.arange(na)
    rows = np.concatenate([t, np.arange(n), n + p, n + np.arange(n), 2 * n + arc, 2 * n + arc])
    cols = np.concatenate([arc, na + np.arange(n), arc, na + np.arange(n), arc, na + p])
    vals = np.concatenate([np.ones(na), np.ones(n), np.ones(na), np.full(n, -float(k)), np.ones(na),
                           -np.ones(na)])
    A = sparse.csr_matrix((vals, (rows, cols)), shape=(2 * n + na, na + n))
    b = np.concatenate([np.ones(n), np.zeros(n), np.zeros(na)])
    return A, b


def feasible_value(n: int, p: np.ndarray, t: np.ndarray, w: np.ndarray, k: int, chosen: np.ndarray) -> int | None:
    """The value of the chosen arcs if they form a valid one-way pairing, else None."""
    indeg = np.bincount(t[chosen], minlength=n)
    outdeg = np.bincount(p[chosen], minlength=n)
    if (indeg > 1).any() or (outdeg > k).any() or ((indeg > 0) & (outdeg > 0)).any():
        return None
    return int(w[chosen].sum())


def _lp_certified(n: int, p: np.ndarray, t: np.ndarray, w: np.ndarray, k: int) -> np.ndarray | None:
    A, b = _lp_model(n, p, t, k)
    c = np.concatenate([w.astype(float), np.zeros(n)])
    res = linprog(-c, A_ub=A, b_ub=b, bounds=(0, 1), method="highs")
    if res.status != 0:
        return None
    x = res.x[: len(p)]
    chosen = np.flatnonzero(x > 0.5)
    value = feasible_value(n, p, t, w, k, chosen)
    if value is None:
        return None
    y = np.maximum(-res.ineqlin.marginals, 0.0)  # duals of the <= rows, made nonnegative
    bound = float(b @ y + np.maximum(c - A.T @ y, 0.0).sum())  # valid for any y >= 0 since x <= 1
    return chosen if value > bound - 1 + 1e-6 else None


def solve(n: int, p: np.ndarray, t: np.ndarray, w: np.ndarray, k: int, fixed: np.ndarray,
          lp_first: bool = True, time_limit: float | None = None) -> tuple[np.ndarray, str, bool]:
    """(chosen arc indices, method, proven optimal) of a one-way pairing; `fixed` arcs are forced in.
    Only a time limit can leave optimality unproven."""
    if lp_first and len(fixed) == 0 and int(w.max(initial=0)) * len(p) < _LP_SAFE_WEIGHT:
        chosen = _lp_certified(n, p, t, w, k)
        if chosen is not None:
            return chosen, "lp-certified", True
    # Under a time limit, start CP-SAT from a feasible pairing (one target per partner) and keep it if nothing
    # better is found in time.
    hint = blossom.best_arc_matching(n, p, t, w) if time_limit is not None and len(fixed) == 0 else None
    chosen, proven = cpsat.solve_star_packing(n, p, t, w, k, fixed, time_limit, hint)
    return chosen, "cpsat", proven
