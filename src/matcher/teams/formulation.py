"""The team model of one group of teachers as arrays, and its LP relaxation (HiGHS) for bounds.

Columns: x_j = 1 when teacher col_teacher[j] joins class col_class[j] (in template slot col_slot[j]), then one
integer n_c per class (its number of teams, 0..max_teams). Rows, all written A [x; n] <= rhs:
  every teacher in at most one class;
  per class: at least n_c members working on the focus, at least n_c strong in it (if required), and
  min_size * n_c <= members <= max_size * n_c (with a template: exactly count_s * n_c members in slot s);
  x_j <= n_c for the learners and the strong members: nobody joins a class with no team. Implied by the rows
  above for integer n, but it forbids the LP's fractional teams (n_c = 0.4 holding two whole learners) and closes
  most of the LP gap; for the other members it adds little to the bound and a quarter to the LP time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from ..errors import SolverError
from .encode import SchoolData, TeamClass
from .model import TeamPolicy


@dataclass(frozen=True, eq=False)
class Formulation:
    classes: tuple[TeamClass, ...]
    col_class: np.ndarray  # (nx,) index into classes
    col_teacher: np.ndarray  # (nx,) local teacher index
    col_slot: np.ndarray  # (nx,) template slot (0 without a template)
    col_weak: np.ndarray  # (nx,) bool: the teacher works on the class's focus (a learner)
    col_strong: np.ndarray  # (nx,) bool
    teachers: np.ndarray  # the group's local teachers, sorted
    col_row: np.ndarray  # (nx,) position of col_teacher in teachers
    max_teams: np.ndarray  # (G,)

    @property
    def n_cols(self) -> int:
        return len(self.col_class)

    @property
    def weight(self) -> int:
        """One more learner outweighs every teacher placed: the lexicographic objective in one number."""
        return len(self.teachers) + 1


def formulate(school: SchoolData, classes: list[TeamClass]) -> Formulation:
    cc: list[int] = []
    ct: list[int] = []
    cs: list[int] = []
    for g, c in enumerate(classes):
        for i in c.members:
            for s in (school.fits[i] if school.fits[i] else (0,)):
                cc.append(g)
                ct.append(i)
                cs.append(s)
    col_class, col_teacher = np.asarray(cc, dtype=np.int64), np.asarray(ct, dtype=np.int64)
    focus = np.asarray([c.focus for c in classes], dtype=np.int64)
    teachers, col_row = np.unique(col_teacher, return_inverse=True)
    return Formulation(tuple(classes), col_class, col_teacher, np.asarray(cs, dtype=np.int64),
                       school.weak[col_teacher, focus[col_class]], school.strong[col_teacher, focus[col_class]],
                       teachers, col_row, np.asarray([c.max_teams for c in classes], dtype=np.int64))


def lp_rows(f: Formulation, policy: TeamPolicy) -> tuple[sparse.csr_matrix, np.ndarray]:
    nx, n_g, n_t = f.n_cols, len(f.classes), len(f.teachers)
    xs, ns = np.arange(nx), nx + np.arange(n_g)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    rhs: list[np.ndarray] = []
    top = 0

    def block(r: np.ndarray, c: np.ndarray, v: np.ndarray | float) -> None:
        rows.append(top + r)
        cols.append(c)
        vals.append(np.broadcast_to(np.asarray(v, dtype=float), r.shape))

    block(f.col_row, xs, 1.0)  # each teacher at most once
    rhs.append(np.ones(n_t))
    top += n_t
    kinds = [f.col_weak] + ([f.col_strong] if policy.require_strong_member else [])
    for mask in kinds:  # n_c - (members of that kind) <= 0
        block(f.col_class[mask], xs[mask], -1.0)
        block(np.arange(n_g), ns, 1.0)
        rhs.append(np.zeros(n_g))
        top += n_g
    if policy.template:
        n_s = len(policy.template)
        counts = np.asarray([s.count for s in policy.template], dtype=float)
        slot_row = f.col_class * n_s + f.col_slot
        for sign in (1.0, -1.0):  # sum over slot - count * n == 0, as two rows
            block(slot_row, xs, sign)
            block(np.arange(n_g * n_s), np.repeat(ns, n_s), -sign * np.tile(counts, n_g))
            rhs.append(np.zeros(n_g * n_s))
            top += n_g * n_s
    else:
        block(f.col_class, xs, -1.0)
        block(np.arange(n_g), ns, float(policy.min_size))
        rhs.append(np.zeros(n_g))
        top += n_g
        block(f.col_class, xs, 1.0)
        block(np.arange(n_g), ns, -float(policy.max_size))
        rhs.append(np.zeros(n_g))
        top += n_g
    link = xs[f.col_weak | f.col_strong]  # members who are neither add little to the bound: left out
    block(np.arange(len(link)), link, 1.0)  # x_j - n_c <= 0
    block(np.arange(len(link)), nx + f.col_class[link], -1.0)
    rhs.append(np.zeros(len(link)))
    top += len(link)
    a = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(top, nx + n_g))
    return a, np.concatenate(rhs)


@dataclass(frozen=True)
class LpBound:
    bound: float  # a valid upper bound on c.x over all integer solutions
    x: np.ndarray  # the LP solution (columns then class counts)
    col_bound: np.ndarray  # per variable of upper bound 1: a valid upper bound on c.x over solutions with it at 1


def lp_bound(a: sparse.csr_matrix, rhs: np.ndarray, upper: np.ndarray, c: np.ndarray) -> LpBound:
    """max c.x s.t. a x <= rhs, 0 <= x <= upper. The bound is recomputed from the duals, so it is valid whatever
    HiGHS's tolerances: for any y >= 0, c.x <= rhs.y + sum(max(c - a'y, 0) * upper)."""
    res = linprog(-c, A_ub=a, b_ub=rhs, bounds=np.column_stack([np.zeros(len(upper)), upper]), method="highs")
    if res.status != 0:
        raise SolverError(f"HiGHS could not solve the team LP relaxation ({res.message})")
    y = np.maximum(-res.ineqlin.marginals, 0.0)
    reduced = c - a.T @ y
    bound = float(rhs @ y + np.maximum(reduced, 0.0) @ upper)
    return LpBound(bound, res.x, bound + np.minimum(reduced, 0.0))
