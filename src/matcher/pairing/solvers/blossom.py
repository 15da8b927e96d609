"""Exact maximum-weight matching with rustworkx's compiled Edmonds blossom algorithm."""

from __future__ import annotations

import numpy as np
import rustworkx as rx


def solve(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Indices of the chosen edges of a maximum-weight matching (integer weights, exact)."""
    g = rx.PyGraph(multigraph=False)
    g.add_nodes_from(range(n))
    g.add_edges_from(list(zip(u.tolist(), v.tolist(), w.tolist(), strict=True)))
    mate = rx.max_weight_matching(g, max_cardinality=False, weight_fn=int)
    if not mate:
        return np.zeros(0, dtype=np.int64)
    # Decode matched vertex pairs back to edge indices through sorted (min, max) keys.
    ends = np.array(list(mate), dtype=np.int64)
    lo, hi = np.minimum(u, v).astype(np.int64), np.maximum(u, v).astype(np.int64)
    keys = lo * n + hi
    order = np.argsort(keys)
    found = order[np.searchsorted(keys, ends.min(axis=1) * n + ends.max(axis=1), sorter=order)]
    return np.sort(found)


def best_arc_per_pair(n: int, p: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Indices of the heaviest arc p->t of each unordered pair {p, t}."""
    key = np.minimum(p, t).astype(np.int64) * n + np.maximum(p, t)
    order = np.lexsort((-w, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    return order[first]


def best_arc_matching(n: int, p: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Indices of arcs p->t forming a maximum-weight matching on the better arc of each unordered pair.

    This is the exact one-way optimum when a partner supports one target (every teacher is then in at most one
    arc), and a feasible one-way pairing for any K.
    """
    best = best_arc_per_pair(n, p, t, w)
    return best[solve(n, np.minimum(p, t)[best], np.maximum(p, t)[best], w[best])]
