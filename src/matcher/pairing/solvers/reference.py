"""networkx's pure-Python blossom: the benchmark baseline and an independent cross-check in tests."""

from __future__ import annotations

import networkx as nx
import numpy as np


def networkx_matching(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    g = nx.Graph()
    g.add_nodes_from(range(n))
    for i, (a, b, c) in enumerate(zip(u.tolist(), v.tolist(), w.tolist(), strict=True)):
        g.add_edge(a, b, weight=c, eid=i)
    mate = nx.max_weight_matching(g, maxcardinality=False)
    return np.sort(np.array([g.edges[a, b]["eid"] for a, b in mate], dtype=np.int64))
