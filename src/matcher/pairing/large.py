"""Exact pairing of a large pool (a big district, a subject statewide) without listing every candidate pair.

A pool of n teachers has up to n(n-1)/2 candidate pairs (21 million in a district of 6,400 teachers, 300 million
among 25,000 elementary teachers statewide): too many for a blossom. Column generation over the fractional
matching LP (maximise sum p_e x_e with x(delta(v)) <= 1, x >= 0) finds the few that matter:

1. start from each teacher's best pairs by value;
2. solve the LP on the pairs so far (LEMON's MaxWeightedFractionalMatching: a combinatorial O(nm log n)
   algorithm with an optimal dual y, node potentials);
3. scan every pair of the pool in blocks for p_uv > y_u + y_v (a dual constraint the pairs so far do not cover)
   and add the worst few per teacher; repeat until none is left. Then y is a dual of the whole pool's LP, and
   U = sum(y) bounds every pairing's value. Whatever y is, U(y) = sum(y) + sum_e max(0, p_e - y_u - y_v) is a valid
   bound too, so a time limit still leaves a proven gap.
4. A maximum-weight matching on the pairs so far, by value alone (small weights: fast), is worth L. Any pairing
   worth at least L uses only pairs whose reduced cost y_u + y_v - p_e is at most U - L (reduced-cost fixing; see
   pairing/solvers/certified.py), so one exact matching over those pairs with the engine's lexicographic weights
   (value, then its tie-breaks) is the exact optimum of the whole pool, tie-breaks included.

Every number that proves something (the dual's feasibility, U, the reduced costs) is checked here in integer
arithmetic (4y, LEMON's dual scale), so nothing rests on LEMON being right: a wrong dual can only fail the check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .model import CHUNK, Group
from .solvers import lemon

# Pools above this many teachers take this route (when LEMON is built and the policy allows it); below it the
# dense route (every candidate pair, pairing.solvers) is as fast.
LARGE_POOL = 1_000
_START_PER_TEACHER = 16  # each teacher's best pairs to start from
_ADD_PER_TEACHER = 48  # violated dual constraints added per teacher and round
MAX_RESTRICTED = 6_000_000  # pairs the final exact matching may take; beyond, the gap is reported instead
MAX_ROUNDS = 60

Weights = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (a, b, value units) -> solver weights


@dataclass(frozen=True)
class LargeSolution:
    a: np.ndarray  # chosen pairs' local positions
    b: np.ndarray
    value: np.ndarray  # their value units
    optimal: bool  # proven: the value equals the bound, and the tie-breaks were solved over every pair that could
    bound: int  # an upper bound on the pool's value (units), proven: the value itself when optimal
    rounds: int
    pairs_scanned: int  # candidate pairs of the pool (ordered, each counted twice)
    pairs_solved: int  # pairs the last exact matching took


def applicable(policy_mode: str, solver: str, preference_weight: float, two_way_weight: float) -> str:
    """'' when the large route can take a pool under this policy, else why not."""
    if solver != "auto":
        return f"solver {solver!r} was asked for"
    if policy_mode != "mutual":
        return "one-way pairing is matched densely"
    if preference_weight > 0 or two_way_weight > 0:
        return "preference_weight and two_way_weight are matched densely"
    if not lemon.available():
        return f"the large-pool route needs the LEMON matcher ({lemon.unavailable_reason()})"
    return ""


def _values(g: Group, active: np.ndarray, blocks: list[tuple[int, int]]) -> np.ndarray:
    """(n, n) value units of every pair (help's compact type, which holds twice the largest help): 0 where a rule
    refuses the pair or a teacher is not active (taken by a held pair)."""
    n = len(g.members)
    out = np.empty((n, n), dtype=g.help.dtype)
    for s, e in blocks:
        v = g.help[s:e] + g.help[:, s:e].T
        v[~g.allowed[s:e]] = 0
        v[~active[s:e]] = 0
        v[:, ~active] = 0
        out[s:e] = v
    return out


def _top(v: np.ndarray, score: np.ndarray, k: int, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k best columns by score among pairs worth something: (row positions, columns)."""
    k = min(k, v.shape[1] - 1)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    top = np.argpartition(-score, k, axis=1)[:, :k]
    rows = np.repeat(np.arange(v.shape[0]), k)
    cols = top.ravel()
    keep = (v[rows, cols] > 0) & (score[rows, cols] > 0)
    return rows[keep] + s, cols[keep].astype(np.int64)


def _top_pairs(r: np.ndarray, c: np.ndarray, score: np.ndarray, k: int, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Of the pairs (r, c) with their scores (r ascending, as np.nonzero gives them), each row's k best."""
    order = np.lexsort((-score, r))
    r, c = r[order], c[order]
    first = np.searchsorted(r, r, side="left")  # where each row's run starts
    keep = np.arange(len(r)) - first < k
    return r[keep] + s, c[keep].astype(np.int64)


def _keys(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.unique(np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b))


def solve(g: Group, weights: Weights, active: np.ndarray | None = None,
          time_limit: float | None = None) -> LargeSolution:
    """The pool's best pairing (weights: the engine's lexicographic weights of given pairs), or, when the time
    limit stops the search or the last matching would be too large, the best found with its proven bound."""
    started = time.perf_counter()
    n = len(g.members)
    active = np.ones(n, dtype=bool) if active is None else active
    rows = max(1, CHUNK // max(n, 1))
    blocks = [(s, min(s + rows, n)) for s in range(0, n, rows)]

    def value_of(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, b = keys // n, keys % n
        return a, b, g.help[a, b].astype(np.int64) + g.help[b, a]

    values = _values(g, active, blocks)
    starts = []
    scanned = 0
    for s, e in blocks:
        v = values[s:e]
        scanned += int(np.count_nonzero(v))
        starts.append(_top(v, v, _START_PER_TEACHER, s))
    keys = _keys(n, np.concatenate([x for x, _ in starts]), np.concatenate([y for _, y in starts]))
    rounds, pot, feasible = 0, np.zeros(n, dtype=np.int64), False
    bound4 = None  # 4 x a proven bound
    while rounds < MAX_ROUNDS:
        rounds += 1
        a, b, p = value_of(keys)
        pot = lemon.fractional_duals(n, a, b, p) if len(a) else np.zeros(n, dtype=np.int64)
        pot = np.maximum(pot, 0)  # (LEMON's are; a valid bound needs y >= 0 whatever it returns)
        over4, adds = 0, []
        # 4 (p_uv - y_u - y_v) in the narrowest type that holds it (a pair worth nothing has no excess: y >= 0).
        small = np.int16 if 4 * int(values.max(initial=0)) + 2 * int(pot.max(initial=0)) < 2**15 else np.int64
        pot_s = pot.astype(small)
        for s, e in blocks:
            excess = values[s:e].astype(small)
            excess *= 4
            excess -= pot_s[s:e, None]
            excess -= pot_s[None, :]
            r, c = np.nonzero(excess > 0)
            if len(r):
                x = excess[r, c].astype(np.int64)
                over4 += int(x.sum())
                adds.append(_top_pairs(r, c, x, _ADD_PER_TEACHER, s))
        # Each violated pair was counted from both ends: U(y) = sum(y) + sum over pairs of the excess.
        b4 = int(pot.sum()) + over4 // 2
        bound4 = b4 if bound4 is None else min(bound4, b4)
        feasible = not adds
        if feasible or (time_limit is not None and time.perf_counter() - started > time_limit):
            break
        keys = np.union1d(keys, _keys(n, np.concatenate([x for x, _ in adds]), np.concatenate([y for _, y in adds])))
    assert bound4 is not None
    a, b, p = value_of(keys)
    chosen = lemon.solve(n, a, b, p)  # the value alone first: small weights, a fast blossom
    best = int(p[chosen].sum())
    # The last scan found no violated pair: pot is a dual of the whole pool's LP, and every pairing worth at least
    # `best` uses only pairs of reduced cost y_u + y_v - p_e <= U - best (0 when best reaches U: the tight pairs,
    # among which the tie-breaks are then decided). One exact matching over all of them is the pool's optimum.
    optimal, solved = False, len(a)
    if feasible:
        slack4 = int(pot.sum()) - 4 * best
        restricted, count = [], 0
        for s, e in blocks:
            v = values[s:e]
            r, c = np.nonzero((pot[s:e, None] + pot[None, :] - 4 * v.astype(np.int64) <= slack4) & (v > 0))
            count += len(r)
            if count > 2 * MAX_RESTRICTED:
                break
            restricted.append(_keys(n, r + s, c))
        if count <= 2 * MAX_RESTRICTED:
            keys = np.unique(np.concatenate(restricted)) if restricted else keys[:0]
            a, b, p = value_of(keys)
            chosen = lemon.solve(n, a, b, weights(a, b, p))
            optimal, solved = True, len(a)
    value = p[chosen]
    # Once proven optimal the bound is the optimum itself (the LP's may exceed it by half an odd cycle).
    bound = int(value.sum()) if optimal else -(-bound4 // 4)
    return LargeSolution(a[chosen], b[chosen], value, optimal, bound, rounds, scanned, solved)
