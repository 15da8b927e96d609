"""A fast greedy start for team formation (no template): often already optimal, which the bounds then prove.

Repeatedly open teams in the class with the most teachers still free to learn its focus, led by teachers strong
in it who have the least to learn themselves; then let everyone left join a team with room that shares their key.
"""

from __future__ import annotations

import numpy as np

from .formulation import Formulation
from .model import TeamPolicy


def greedy(f: Formulation, policy: TeamPolicy) -> tuple[np.ndarray, np.ndarray]:
    """(chosen column indices, teams per class) of a valid solution."""
    lo, hi = policy.min_size, policy.max_size
    req = policy.require_strong_member
    n_g, n_t = len(f.classes), len(f.teachers)
    col_of: dict[tuple[int, int], int] = {}
    weak: list[list[int]] = [[] for _ in range(n_g)]
    strong: list[list[int]] = [[] for _ in range(n_g)]
    every: list[list[int]] = [[] for _ in range(n_g)]
    options = np.zeros(n_t, dtype=np.int64)  # classes each teacher could learn in
    for j, (g, r, w, s) in enumerate(zip(f.col_class.tolist(), f.col_row.tolist(), f.col_weak.tolist(),
                                         f.col_strong.tolist(), strict=True)):
        col_of[(g, r)] = j
        every[g].append(r)
        if w:
            weak[g].append(r)
            options[r] += 1
        elif s:
            strong[g].append(r)
    free = np.ones(n_t, dtype=bool)
    opts = options.tolist()
    teams: dict[int, list[int]] = {}
    n = np.zeros(n_g, dtype=np.int64)
    dead: set[int] = set()
    per_team = hi - 1 if req else hi
    while True:
        best, pick = None, -1
        for g in range(n_g):
            if g in dead or g in teams:
                continue
            learners = sum(free[r] for r in weak[g])
            helpers = sum(free[r] and not opts[r] for r in strong[g])
            if learners == 0 or (req and not any(free[r] for r in strong[g])):
                continue
            key = (learners, helpers)
            if best is None or key > best:
                best, pick = key, g
        if pick < 0:
            break
        g = pick
        learners = sorted((r for r in weak[g] if free[r]), key=lambda r: (opts[r], r))
        helpers = sorted((r for r in strong[g] if free[r]), key=lambda r: (opts[r], r)) if req else []
        k = -(-len(learners) // per_team)
        k = min(k, len(helpers), int(f.max_teams[g])) if req else min(k, int(f.max_teams[g]))
        members = learners[: per_team * k] + helpers[:k]
        short = lo * k - len(members)
        if short > 0:
            taken = set(members)
            pool = sorted((r for r in every[g] if free[r] and r not in taken), key=lambda r: (opts[r], r))
            if len(pool) < short:
                dead.add(g)
                continue
            members += pool[:short]
        teams[g] = members
        n[g] = k
        for r in members:
            free[r] = False
    for r in np.flatnonzero(free).tolist():  # join a team with room that shares a key, as a learner if possible
        room = [g for g in teams if (g, r) in col_of and len(teams[g]) < hi * n[g]]
        if room:
            g = min(room, key=lambda g: (not f.col_weak[col_of[(g, r)]], len(teams[g]) / n[g], g))
            teams[g].append(r)
    chosen = np.asarray(sorted(col_of[(g, r)] for g, ms in teams.items() for r in ms), dtype=np.int64)
    return chosen, n
