"""Random assignment: complete, blocked, matched pairs and re-randomization, over schools or over teachers within
schools, and the balance table of a draw.

Every design is a blocked draw underneath: complete randomization is one block, matched pairs are blocks of two
(an odd school out is its own block), teacher-level designs are blocked by school. Within a block of n units with
treated share p, floor(n p) units are treated, plus one more with probability n p - floor(n p) (as randomizr's
block_ra does), so the share holds within every block and overall in expectation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import rustworkx as rx

from ..errors import InputError, Problem

MAX_PAIRING_BLOCK = 4000  # units matched densely in one block: the complete graph has n^2/2 edges


@dataclass(frozen=True)
class Blocks:
    codes: np.ndarray  # unit -> block number
    labels: list[str]  # block number -> label

    @property
    def count(self) -> int:
        return len(self.labels)


def block_codes(frame: pd.DataFrame, columns: tuple[str, ...]) -> Blocks:
    """Blocks from the combinations of `columns` that occur (one block when there are no columns)."""
    if not columns:
        return Blocks(np.zeros(len(frame), dtype=np.int64), ["all"])
    keys = frame[list(columns)].astype(str).agg(" / ".join, axis=1) if len(columns) > 1 else \
        frame[columns[0]].astype(str)
    labels, codes = np.unique(keys.to_numpy(dtype=object).astype(str), return_inverse=True)
    return Blocks(codes.astype(np.int64), labels.tolist())


def draw_blocked(rng: np.random.Generator, codes: np.ndarray, n_blocks: int, share: float) -> np.ndarray:
    """Treated (bool per unit): within each block floor(n p) units, plus one with probability of the remainder."""
    sizes = np.bincount(codes, minlength=n_blocks)
    exact = sizes * share
    base = np.floor(exact).astype(np.int64)
    treated_n = base + (rng.random(n_blocks) < exact - base)
    order = np.lexsort((rng.random(len(codes)), codes))
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    rank = np.arange(len(codes)) - starts[codes[order]]
    treated = np.empty(len(codes), dtype=bool)
    treated[order] = rank < treated_n[codes[order]]
    return treated


def draw_blocked_many(rng: np.random.Generator, codes: np.ndarray, n_blocks: int, share: float,
                      k: int) -> np.ndarray:
    """k independent draws of draw_blocked at once ((k, units) bool): the same distribution, vectorized."""
    sizes = np.bincount(codes, minlength=n_blocks)
    exact = sizes * share
    base = np.floor(exact).astype(np.int64)
    treated_n = base[None, :] + (rng.random((k, n_blocks)) < (exact - base)[None, :])
    # A uniformly random order within each block: sort by block, then by a random key.
    order = np.argsort(codes[None, :] + rng.random((k, len(codes))), axis=1, kind="stable")
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    block_of = codes[order]
    rank = np.arange(len(codes))[None, :] - starts[block_of]
    treated = np.empty((k, len(codes)), dtype=bool)
    np.put_along_axis(treated, order, rank < np.take_along_axis(treated_n, block_of, axis=1), axis=1)
    return treated


def smd(values: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Standardized mean differences (treated - control over the pooled SD) of each column; NaNs are skipped."""
    values = np.atleast_2d(values.T).T if values.ndim == 1 else values
    out = np.zeros(values.shape[1])
    for j in range(values.shape[1]):
        v = values[:, j]
        t, c = v[treated & ~np.isnan(v)], v[~treated & ~np.isnan(v)]
        if len(t) < 2 or len(c) < 2:
            out[j] = np.nan
            continue
        sd = np.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2)
        diff = t.mean() - c.mean()
        out[j] = diff / sd if sd > 0 else (0.0 if diff == 0 else np.inf)
    return out


def balance_table(covariates: pd.DataFrame, treated: np.ndarray, threshold: float) -> pd.DataFrame:
    values = covariates.to_numpy(dtype=float)
    d = smd(values, treated)
    rows = []
    for j, name in enumerate(covariates.columns):
        v = values[:, j]
        rows.append({"covariate": name, "mean_treated": float(np.nanmean(v[treated])) if treated.any() else np.nan,
                     "mean_control": float(np.nanmean(v[~treated])) if (~treated).any() else np.nan,
                     "smd": float(d[j]), "threshold": threshold, "within_threshold": bool(abs(d[j]) <= threshold)})
    return pd.DataFrame(rows)


def matched_pairs(covariates: pd.DataFrame, within: Blocks) -> Blocks:
    """Pairs of similar units with the least total Mahalanobis distance (an exact minimum-weight perfect matching
    in each block, by rustworkx's blossom algorithm); an odd unit out of a block is a block of its own."""
    x = covariates.to_numpy(dtype=float)
    x = np.where(np.isnan(x), np.nanmean(x, axis=0), x)
    x = np.nan_to_num(x - x.mean(axis=0))
    cov = np.atleast_2d(np.cov(x, rowvar=False)) if len(x) > 1 else np.eye(x.shape[1])
    # Mahalanobis distance through the pseudo-inverse: directions without spread (a constant covariate, or one
    # that is a combination of others) are left out instead of making the covariance singular.
    vals, vecs = np.linalg.eigh(cov)
    keep = vals > 1e-12 * max(float(vals.max(initial=0.0)), 1e-300)
    whitened = x @ vecs[:, keep] / np.sqrt(vals[keep])
    codes = np.full(len(x), -1, dtype=np.int64)
    labels: list[str] = []
    for b in range(within.count):
        units = np.flatnonzero(within.codes == b)
        if len(units) > MAX_PAIRING_BLOCK:
            raise InputError([Problem("design", f"block {within.labels[b]!r} has {len(units):,} schools; matched "
                                                f"pairs are formed within blocks of at most {MAX_PAIRING_BLOCK:,}",
                                      column="assignment.blocks")])
        for left, right in _min_distance_pairs(whitened[units]):
            codes[units[[left, right]]] = len(labels)
            labels.append(f"{within.labels[b]} / pair {len(labels) + 1}" if within.count > 1 else
                          f"pair {len(labels) + 1}")
        for u in units[codes[units] < 0]:
            codes[u] = len(labels)
            labels.append(f"{within.labels[b]} / odd one out" if within.count > 1 else "odd one out")
    return Blocks(codes, labels)


def _min_distance_pairs(points: np.ndarray) -> list[tuple[int, int]]:
    """A maximum-cardinality matching of least total distance, on integer weights (distances in 1e-6 units)."""
    n = len(points)
    if n < 2:
        return []
    dist = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    units = np.rint(dist * 1e6).astype(np.int64)
    top = int(units.max()) + 1
    graph = rx.PyGraph()
    graph.add_nodes_from(range(n))
    i, j = np.triu_indices(n, 1)
    graph.add_edges_from(list(zip(i.tolist(), j.tolist(), (top - units[i, j]).tolist(), strict=True)))
    matching = rx.max_weight_matching(graph, max_cardinality=True, weight_fn=int)
    return sorted((min(a, b), max(a, b)) for a, b in matching)
