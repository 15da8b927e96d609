"""One-way pairing (a partner supports up to K targets, nobody is both) as an integer program.

With K >= 2 this packs stars of at most K leaves, which contains partition into paths of three vertices, an
NP-complete problem; so there is no blossom-style algorithm and we solve an integer program. Its strong LP
relaxation (x_pt <= r_p) is integral for most schools, and where it is not its bound is almost always met by a
pairing rounded from it. The rest go to a small depth-first branch and bound over the same HiGHS model (re-solved
warm for each box), branching first on who is a partner: once every role is settled, the LP is a bipartite
b-matching's, which is integral. Every bound is recomputed from the LP's duals in integer arithmetic, so it is valid
whatever the LP solver's tolerances, and the only other pruning is a box whose forced arcs cannot form a pairing:
"optimal" stays proven. A school past MAX_NODES LPs, or whose LPs misbehave, goes to CP-SAT.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from scipy import sparse

from . import blossom

_LP_SAFE_WEIGHT = 2**40  # beyond this (max weight x arcs) a float LP is numerically unreliable: straight to CP-SAT
_DUAL_SCALE = 2**20  # duals are rounded to multiples of 1/_DUAL_SCALE, so that bounds are exact integers
# LPs one school's branch and bound may solve before CP-SAT takes over. Statewide one-way K = 2 needs at most 13;
# with soft-preference tie-breaks (weights in layers, so LP bounds are looser) a few schools need hundreds.
MAX_NODES = 400


def feasible_value(n: int, p: np.ndarray, t: np.ndarray, w: np.ndarray, k: int, chosen: np.ndarray) -> int | None:
    """The value of the chosen arcs if they form a valid one-way pairing, else None."""
    indeg = np.bincount(t[chosen], minlength=n)
    outdeg = np.bincount(p[chosen], minlength=n)
    if (indeg > 1).any() or (outdeg > k).any() or ((indeg > 0) & (outdeg > 0)).any():
        return None
    return int(w[chosen].sum())


def _highs_class() -> Any | None:
    """The HiGHS bindings scipy ships (scipy >= 1.15; a private module, hence the fallback to linprog)."""
    try:
        from scipy.optimize._highspy import _core
    except ImportError:
        return None
    return _core if hasattr(_core, "_Highs") else None


class _Relaxation:
    """The LP relaxation of one school, re-solved over boxes lo <= (x, r) <= up.

    Rows: in(v) + r_v <= 1; out(v) - k r_v <= 0; x_pt - r_p <= 0. Columns: arcs, then r_0..r_{n-1}. The matrix is
    built column-wise here (scipy.sparse and HiGHS's model objects cost more than the LP on a school this size).
    """

    def __init__(self, n: int, p: np.ndarray, t: np.ndarray, w: np.ndarray, k: int, backend: str = "highs"):
        na = len(p)
        arc = np.arange(na)
        # Arc a: rows t_a, n + p_a, 2n + a. r_v: rows v, n + v, then 2n + a for each arc a out of v.
        arc_rows = np.stack([t, n + p, 2 * n + arc], axis=1).ravel()
        v = np.arange(n)
        r_cols = np.concatenate([v, v, p])
        order = np.argsort(r_cols, kind="stable")  # stable: each column's rows stay increasing
        r_rows = np.concatenate([v, n + v, 2 * n + arc])[order]
        r_vals = np.concatenate([np.ones(n), np.full(n, -k), -np.ones(na)])[order]
        self.indices = np.concatenate([arc_rows, r_rows]).astype(np.int32)
        self.data = np.concatenate([np.ones(3 * na), r_vals]).astype(np.int64)
        r_start = 3 * na + np.concatenate([[0], np.cumsum(2 + np.bincount(p, minlength=n))])
        self.indptr = np.concatenate([3 * arc, r_start]).astype(np.int32)
        self.b = np.concatenate([np.ones(n), np.zeros(n + na)]).astype(np.int64)
        self.c = np.concatenate([w, np.zeros(n)]).astype(np.int64)
        self.ncols, self.nrows = na + n, 2 * n + na
        # Every |term| of a bound is at most max(y, 1) * _DUAL_SCALE times this: below 2**62 int64 sums are exact.
        self.magnitude = int(np.abs(self.c).sum()) + k * (len(self.data) + self.nrows)
        self.core = _highs_class() if backend == "highs" else None
        if self.core is not None:
            core = self.core
            self.highs = core._Highs()
            self.highs.setOptionValue("output_flag", False)
            self.highs.setOptionValue("threads", 1)
            self.highs.setOptionValue("presolve", "off")  # measured: presolve costs more than it saves here
            status = self.highs.passModel(
                self.ncols, self.nrows, len(self.data), int(core.MatrixFormat.kColwise), int(core.ObjSense.kMinimize),
                0.0, -self.c.astype(float), np.zeros(self.ncols), np.ones(self.ncols), np.full(self.nrows, -np.inf),
                self.b.astype(float), self.indptr, self.indices, self.data.astype(float),
                np.zeros(self.ncols, dtype=np.int32))  # all columns continuous
            self.passed = status == core.HighsStatus.kOk
            self.all_cols = np.arange(self.ncols, dtype=np.int32)

    def solve(self, lo: np.ndarray, up: np.ndarray,
              seconds: float | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """(x, y): a primal solution and the duals (made >= 0) of the <= rows, or None if the LP did not solve
        (in `seconds`, when given)."""
        if self.core is not None:
            if not self.passed:
                return None
            h = self.highs
            if seconds is not None:  # HiGHS holds its limit against the run time summed over this model's runs
                h.setOptionValue("time_limit", h.getRunTime() + max(seconds, 1e-3))
            h.changeColsBounds(self.ncols, self.all_cols, lo.astype(float), up.astype(float))
            h.run()
            if h.getModelStatus() != self.core.HighsModelStatus.kOptimal:
                return None
            s = h.getSolution()
            return np.array(s.col_value), np.maximum(-np.array(s.row_dual), 0.0)
        from scipy.optimize import linprog

        A = sparse.csc_matrix((self.data, self.indices, self.indptr), shape=(self.nrows, self.ncols))
        res = linprog(-self.c, A_ub=A, b_ub=self.b, bounds=np.column_stack([lo, up]), method="highs",
                      options={} if seconds is None else {"time_limit": max(seconds, 1e-3)})
        if res.status != 0:
            return None
        return res.x, np.maximum(-res.ineqlin.marginals, 0.0)

    def bound(self, y: np.ndarray, lo: np.ndarray, up: np.ndarray) -> tuple[int, np.ndarray] | None:
        """(U, d), exactly, or None: U is _DUAL_SCALE times an upper bound on c.x over the box, d the reduced costs
        (times _DUAL_SCALE) it rests on.

        For any y >= 0 and Ax <= b, c.x = y.Ax + (c - A'y).x <= y.b + sum_j max(d_j up_j, d_j lo_j), d = c - A'y.
        Rounding y to multiples of 1/_DUAL_SCALE keeps it >= 0 (so the bound stays valid) and makes every term an
        integer in int64.
        """
        Y = np.rint(y * _DUAL_SCALE).astype(np.int64)
        if max(int(Y.max(initial=0)), _DUAL_SCALE) * self.magnitude >= 2**62:
            return None
        d = self.c * _DUAL_SCALE - np.add.reduceat(self.data * Y[self.indices], self.indptr[:-1])
        return int(self.b @ Y) + int(np.maximum(d * up, d * lo).sum()), d


def _round(n: int, p: np.ndarray, t: np.ndarray, w: np.ndarray, k: int, x: np.ndarray) -> np.ndarray:
    """A pairing near an LP point: its integral arcs, then greedily its fractional ones (by LP value then weight,
    and by weight times LP value; the better of the two). The caller checks it with feasible_value."""
    base = np.flatnonzero(x > 1 - 1e-6)
    frac = np.flatnonzero((x > 1e-6) & (x <= 1 - 1e-6))
    if len(frac) == 0:
        return base
    indeg = np.bincount(t[base], minlength=n)
    outdeg = np.bincount(p[base], minlength=n)
    best, best_value = base, -1
    for order in (frac[np.lexsort((-w[frac], -x[frac]))], frac[np.argsort(-w[frac] * x[frac], kind="stable")]):
        ind, outd, extra = indeg.copy(), outdeg.copy(), []
        for j in order.tolist():
            a, b = p[j], t[j]
            if ind[b] == 0 and outd[b] == 0 and ind[a] == 0 and outd[a] < k:
                ind[b] += 1
                outd[a] += 1
                extra.append(j)
        value = int(w[extra].sum())
        if value > best_value:
            best, best_value = np.concatenate([base, np.array(extra, dtype=np.int64)]), value
    return best


def _fix_arc(n: int, p: np.ndarray, t: np.ndarray, k: int, lo: np.ndarray, up: np.ndarray,
             j: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The box with arc j forced in, and every arc that cannot go with it forced out; None if arc j cannot go
    with the arcs already forced in."""
    na = len(p)
    ones = np.flatnonzero(lo[:na] == 1)
    if feasible_value(n, p, t, np.zeros(na, dtype=np.int64), k, np.append(ones, j)) is None:
        return None
    lo, up = lo.copy(), up.copy()
    a, b = p[j], t[j]
    out = (t == b) | (t == a) | (p == b)  # b's other partners; arcs into a (a partners); arcs out of b (b a target)
    if np.count_nonzero(p[ones] == a) + 1 >= k:
        out |= p == a  # a is full
    out[ones] = False
    up[:na][out] = 0
    lo[j] = 1
    up[j] = 1
    lo[na + a] = 1
    up[na + b] = 0
    return lo, up


def _fix_role(p: np.ndarray, t: np.ndarray, lo: np.ndarray, up: np.ndarray,
              v: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two boxes where teacher v (free to be a partner or not: no forced arc touches v) is not a partner, then
    is one."""
    na = len(p)
    lo0, up0 = lo, up.copy()
    up0[na + v] = 0
    up0[:na][p == v] = 0
    lo1, up1 = lo.copy(), up.copy()
    lo1[na + v] = 1
    up1[:na][t == v] = 0
    return [(lo0, up0), (lo1, up1)]


def _branch_and_bound(n: int, p: np.ndarray, t: np.ndarray, w: np.ndarray, k: int, fixed: np.ndarray,
                      backend: str = "highs", max_nodes: int | None = None,
                      deadline: float | None = None) -> tuple[np.ndarray | None, int, bool]:
    """(best pairing found that contains the fixed arcs, LPs solved, proven optimal). Unproven when the LPs
    misbehave or the node or time budget runs out; no pairing either when the fixed arcs admit none."""
    na = len(p)
    max_nodes = MAX_NODES if max_nodes is None else max_nodes
    lp = _Relaxation(n, p, t, w, k, backend)
    lo = np.zeros(lp.ncols, dtype=np.int64)
    up = np.ones(lp.ncols, dtype=np.int64)
    for j in fixed.tolist():
        box = _fix_arc(n, p, t, k, lo, up, j)
        if box is None:
            return None, 0, False
        lo, up = box
    # With nothing fixed, pairing nobody is a valid start; otherwise the first LP point that rounds to a pairing.
    best: np.ndarray | None = np.zeros(0, dtype=np.int64) if len(fixed) == 0 else None
    best_value = 0 if best is not None else -1
    stack = [(lo, up)]
    nodes = 0
    while stack:
        if nodes == max_nodes or (deadline is not None and time.perf_counter() > deadline):
            return best, nodes, False
        lo, up = stack.pop()
        nodes += 1
        sol = lp.solve(lo, up, None if deadline is None else deadline - time.perf_counter())
        certificate = None if sol is None else lp.bound(sol[1], lo, up)
        if sol is None or certificate is None:
            return best, nodes, False
        x = sol[0]
        bound, d = certificate
        if bound < (best_value + 1) * _DUAL_SCALE:  # integer weights: no pairing here beats the best by 1
            continue
        chosen = _round(n, p, t, w, k, x[:na])
        value = feasible_value(n, p, t, w, k, chosen)
        if value is not None and value > best_value and (len(fixed) == 0 or np.isin(fixed, chosen).all()):
            best, best_value = chosen, value
            if bound < (best_value + 1) * _DUAL_SCALE:
                continue
        # Reduced-cost fixing: in this box, moving column j off the bound its term assumes lowers the bound by
        # |d_j|; where that leaves no room to beat the best, j keeps that bound in the whole subtree. (Arcs are
        # only ever fixed out: forcing one in could leave a box without a pairing.)
        need = (best_value + 1) * _DUAL_SCALE - bound
        free = lo < up
        off = free & (d < need)  # d_j < 0 here, as need <= 0
        on = free & (d > -need)
        on[:na] = False
        if off.any() or on.any():
            lo, up = np.where(on, 1, lo), np.where(off, 0, up)
        # Branch on a role first: once every r is 0 or 1, what is left is a bipartite b-matching, whose LP is
        # integral; an arc only when the roles are settled and the point is still fractional.
        gap = np.where(lo < up, np.abs(x - 0.5), np.inf)
        role = na + int(np.argmin(gap[na:]))
        j = role if gap[role] < 0.5 - 1e-6 else int(np.argmin(gap[:na]))
        if not gap[j] < 0.5 - 1e-6:
            return best, nodes, False  # an integral LP point the bound does not certify: leave it to CP-SAT
        if j >= na:
            stack.extend(_fix_role(p, t, lo, up, j - na))  # (not a partner, then a partner: explored first)
            continue
        down = up.copy()
        down[j] = 0
        stack.append((lo, down))
        box = _fix_arc(n, p, t, k, lo, up, j)
        if box is not None:
            stack.append(box)  # explored first
    return best, nodes, best is not None


def solve(n: int, p: np.ndarray, t: np.ndarray, w: np.ndarray, k: int, fixed: np.ndarray,
          lp_first: bool = True, time_limit: float | None = None) -> tuple[np.ndarray, str, bool]:
    """(chosen arc indices, method, proven optimal) of a one-way pairing; `fixed` arcs are forced in.
    Only a time limit can leave optimality unproven."""
    start = time.perf_counter()
    fixed = np.unique(fixed)
    found: np.ndarray | None = None
    if lp_first and int(w.max(initial=0)) * len(p) < _LP_SAFE_WEIGHT:
        # Under a time limit the branch and bound has half of it, CP-SAT the rest.
        deadline = None if time_limit is None else start + time_limit / 2
        found, nodes, proven = _branch_and_bound(n, p, t, w, k, fixed, deadline=deadline)
        if proven and found is not None:
            return found, "lp-certified" if nodes == 1 else "lp-branch-and-bound", True
    # Under a time limit, start CP-SAT from a feasible pairing (the branch and bound's best, or one target per
    # partner) and keep it if nothing better is found in time.
    hint = None
    if time_limit is not None and len(fixed) == 0:
        hint = blossom.best_arc_matching(n, p, t, w)
        if found is not None and int(w[found].sum()) > int(w[hint].sum()):
            hint = found
    left = None if time_limit is None else max(time_limit - (time.perf_counter() - start), 0.01)
    from . import cpsat  # OR-Tools loads only when a school needs it

    chosen, proven = cpsat.solve_star_packing(n, p, t, w, k, fixed, left, hint)
    return chosen, "cpsat", proven
