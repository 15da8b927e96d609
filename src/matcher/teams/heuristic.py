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
    col_of = {(g, r): j for j, (g, r) in enumerate(zip(f.col_class.tolist(), f.col_row.tolist(), strict=True))}
    # Class x teacher incidence (dense: a group has at most a few hundred classes and teachers).
    weak = np.zeros((n_g, n_t), dtype=bool)
    strong = np.zeros((n_g, n_t), dtype=bool)
    every = np.zeros((n_g, n_t), dtype=bool)
    weak[f.col_class[f.col_weak], f.col_row[f.col_weak]] = True
    strong[f.col_class[f.col_strong], f.col_row[f.col_strong]] = True
    every[f.col_class, f.col_row] = True
    options = weak.sum(axis=0)  # classes each teacher could learn in
    pure = options == 0  # nothing to learn: the best leaders
    free = np.ones(n_t, dtype=bool)
    open_ = np.ones(n_g, dtype=bool)  # neither opened nor given up
    teams: dict[int, list[int]] = {}
    n = np.zeros(n_g, dtype=np.int64)
    per_team = hi - 1 if req else hi
    order = np.lexsort((np.arange(n_t), options))  # teachers with the fewest options first

    def ranked(mask: np.ndarray) -> list[int]:
        return [int(r) for r in order if mask[r]]

    while True:
        learners_n = weak.astype(np.int64) @ free
        leaders_n = strong.astype(np.int64) @ free
        ok = open_ & (learners_n > 0) & ((leaders_n > 0) | (not req))
        if not ok.any():
            break
        score = np.where(ok, learners_n * (n_t + 1) + strong.astype(np.int64) @ (free & pure), -1)
        g = int(np.argmax(score))
        open_[g] = False
        learners = ranked(weak[g] & free)
        helpers = ranked(strong[g] & free) if req else []
        k = -(-len(learners) // per_team)
        k = min(k, len(helpers), int(f.max_teams[g])) if req else min(k, int(f.max_teams[g]))
        members = learners[: per_team * k] + helpers[:k]
        short = lo * k - len(members)
        if short > 0:
            rest = every[g] & free
            rest[members] = False
            pool = ranked(rest)
            if len(pool) < short:
                continue
            members += pool[:short]
        teams[g] = members
        n[g] = k
        free[members] = False
    for r in np.flatnonzero(free).tolist():  # join a team with room that shares a key, as a learner if possible
        room = [g for g in teams if (g, r) in col_of and len(teams[g]) < hi * n[g]]
        if room:
            g = min(room, key=lambda g: (not f.col_weak[col_of[(g, r)]], len(teams[g]) / n[g], g))
            teams[g].append(r)
    chosen = np.asarray(sorted(col_of[(g, r)] for g, ms in teams.items() for r in ms), dtype=np.int64)
    return chosen, n
