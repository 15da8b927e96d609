"""Exact solvers over integer-indexed arrays; `matching` and `star_packing` are the front doors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...errors import MatcherError
from . import blossom, lemon


@dataclass(frozen=True)
class Solution:
    """Chosen edges (indices into the edge arrays given to the solver) and whether optimality is proven."""

    chosen: np.ndarray
    optimal: bool
    method: str


MatchingSolver = Callable[[int, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _certified(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    from . import certified  # scipy is imported only when a dense pool needs it

    return certified.solve(n, u, v, w)


def _cpsat(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    from . import cpsat

    return cpsat.solve_matching(n, u, v, w)


def _networkx(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    from . import reference

    return reference.networkx_matching(n, u, v, w)


def fastest_blossom() -> MatchingSolver:
    """LEMON's C++ blossom when its shim is built, else rustworkx's (benchmarks/matchers.py compares them)."""
    return lemon.solve if lemon.available() else blossom.solve


MATCHING_SOLVERS: dict[str, MatchingSolver] = {
    "blossom": blossom.solve,  # rustworkx (compiled Edmonds blossom)
    "certified": _certified,  # LP bound + reduced-cost fixing + blossom on what is left
    "cpsat": _cpsat,  # OR-Tools CP-SAT integer program
    "networkx": _networkx,  # pure-Python blossom, the benchmark baseline and a cross-check
    "lemon": lemon.solve,  # LEMON's C++ blossom, optional (`make lemon`); raises MatcherError when not built
}

# Above this many candidate edges in one component, the certified route beats a plain blossom.
DENSE_EDGES = 60_000


def matching(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray, solver: str | MatchingSolver = "auto") -> Solution:
    """Maximum-weight matching on n vertices, edges (u[i], v[i]) with integer weights w[i] > 0."""
    if callable(solver):
        return Solution(np.asarray(solver(n, u, v, w)), True, getattr(solver, "__name__", "custom"))
    name = solver
    if solver == "auto":
        name = "certified" if len(u) >= DENSE_EDGES else "blossom"  # certified falls back itself if huge
    if name not in MATCHING_SOLVERS:
        raise MatcherError(f"unknown solver {solver!r}; choose auto or one of {', '.join(MATCHING_SOLVERS)}")
    if len(u) == 0:
        return Solution(np.zeros(0, dtype=np.int64), True, name)
    return Solution(np.asarray(MATCHING_SOLVERS[name](n, u, v, w), dtype=np.int64), True, name)


def star_packing(n: int, p: np.ndarray, t: np.ndarray, w: np.ndarray, k: int,
                 fixed: np.ndarray | None = None, solver: str = "auto", time_limit: float | None = None) -> Solution:
    """One-way pairing: arcs p[i] -> t[i] (partner helps target) with weights w[i] > 0; each target gets at most
    one partner, each partner at most k targets, nobody is both. Arcs listed in `fixed` must be chosen."""
    fixed = np.zeros(0, dtype=np.int64) if fixed is None else np.asarray(fixed, dtype=np.int64)
    if len(p) == 0:
        return Solution(np.zeros(0, dtype=np.int64), True, "none")
    if k == 1 and len(fixed) == 0 and solver != "cpsat":
        # With one target per partner every vertex is in at most one arc: an ordinary matching on the best arc
        # of each unordered pair, so the blossom is exact here.
        best = blossom.best_arc_per_pair(n, p, t, w)
        sol = matching(n, np.minimum(p, t)[best], np.maximum(p, t)[best], w[best], solver)
        return Solution(best[sol.chosen], sol.optimal, sol.method)
    if solver not in ("auto", "cpsat"):
        raise MatcherError(f"unknown one-way solver {solver!r}; choose auto or cpsat")
    from . import star  # scipy and OR-Tools load only for one-way runs

    chosen, method, proven = star.solve(n, p, t, w, k, fixed, lp_first=solver == "auto", time_limit=time_limit)
    return Solution(chosen, proven, method)
