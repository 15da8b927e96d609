"""Effect estimates for one simulated trial, by statsmodels (least squares) and linearmodels (2SLS).

Rows are the analysis units' student-weighted class means: one row per school in a school-level design, one row
per teacher in a teacher-level design. Standard errors are cluster-robust by school in both.

- difference_in_means: WLS of the outcome on treatment alone (intent to treat).
- regression: WLS of the outcome on treatment, the baseline score and block fixed effects (intent to treat).
- complier_iv: 2SLS of the outcome on implementation, instrumented by assignment, with the same covariates
  (the complier average causal effect).

Block fixed effects are absorbed by weighted within-block demeaning (Frisch-Waugh-Lovell), which gives the same
coefficient and cluster-robust covariance as dummy columns, without a column per block (a matched-pair design has
one block per two schools); the covariance is then scaled for the absorbed degrees of freedom. Tests and intervals
use Student's t with clusters - 1 degrees of freedom, or the residual degrees of freedom when fewer.
tests/test_rollouts.py checks both against the dummy-column fits.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import statsmodels.api as sm
from scipy import special, stats

# linearmodels asks for xarray on every fit, and Python does not remember a failed import: without xarray that
# search of sys.path cost 7 ms of a 38 ms statewide replication. A None entry makes the import fail at once.
if importlib.util.find_spec("xarray") is None:
    sys.modules.setdefault("xarray", None)  # type: ignore[arg-type]


class Estimate(NamedTuple):
    estimate: float
    se: float
    df: float
    p_value: float
    ci_low: float
    ci_high: float


class Data(NamedTuple):
    y: np.ndarray  # outcome means
    z: np.ndarray  # assigned to treatment (0/1)
    d: np.ndarray  # took the program up (0/1); z where everyone complies
    x: np.ndarray  # baseline score means
    w: np.ndarray  # students
    blocks: np.ndarray  # block codes 0..B-1
    clusters: np.ndarray  # school codes


def _demean(columns: np.ndarray, w: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """Each column minus its weighted mean within the unit's block."""
    n_b = int(blocks.max()) + 1
    total = np.bincount(blocks, w, minlength=n_b)
    out = np.empty_like(columns)
    for j in range(columns.shape[1]):
        out[:, j] = columns[:, j] - (np.bincount(blocks, w * columns[:, j], minlength=n_b) / total)[blocks]
    return out


def _df(data: Data, clusters: int, parameters: int) -> float:
    """Degrees of freedom for the t tests: clusters - 1, but never more than the residual degrees of freedom,
    which are fewer when blocks are many and schools few (7 matched pairs of schools leave 14 - 7 - 2 = 5)."""
    return float(max(min(clusters - 1, len(data.y) - parameters), 1))


@lru_cache(maxsize=256)
def _critical(df: float, alpha: float) -> float:
    return float(stats.t.ppf(1 - alpha / 2, df))


def _finish(beta: float, se: float, df: float, alpha: float) -> Estimate:
    if not np.isfinite(se) or se <= 0:
        return Estimate(beta, float("nan"), df, float("nan"), float("nan"), float("nan"))
    t = _critical(df, alpha)
    p = 2 * special.stdtr(df, -abs(beta / se))  # Student's t CDF, as scipy.stats.t.sf but without its overhead
    return Estimate(beta, se, df, float(p), beta - t * se, beta + t * se)


def _absorbed_scale(n: int, k: int, absorbed: int) -> float:
    """statsmodels' cluster covariance uses (n - 1) / (n - k); with `absorbed` fixed effects k is larger."""
    return (n - k) / max(n - k - absorbed, 1)


def difference_in_means(data: Data, alpha: float) -> Estimate:
    exog = np.column_stack([np.ones(len(data.y)), data.z])
    fit = sm.WLS(data.y, exog, weights=data.w).fit(cov_type="cluster", cov_kwds={"groups": data.clusters})
    return _finish(float(fit.params[1]), float(fit.bse[1]), _df(data, len(np.unique(data.clusters)), 2), alpha)


def regression(data: Data, alpha: float, covariate: bool) -> Estimate:
    cols = np.column_stack([data.y, data.z, data.x] if covariate else [data.y, data.z])
    dm = _demean(cols, data.w, data.blocks)
    fit = sm.WLS(dm[:, 0], dm[:, 1:], weights=data.w).fit(cov_type="cluster", cov_kwds={"groups": data.clusters})
    n_blocks = int(data.blocks.max()) + 1
    k = dm.shape[1] - 1
    scale = _absorbed_scale(len(data.y), k, n_blocks)
    df = _df(data, len(np.unique(data.clusters)), k + n_blocks)
    return _finish(float(fit.params[0]), float(fit.bse[0]) * np.sqrt(scale), df, alpha)


def complier_iv(data: Data, alpha: float, covariate: bool) -> Estimate:
    from linearmodels.iv import IV2SLS

    cols = np.column_stack([data.y, data.d, data.z, data.x] if covariate else [data.y, data.d, data.z])
    dm = _demean(cols, data.w, data.blocks)
    if not np.any(dm[:, 1]) or not np.any(dm[:, 2]):
        return _finish(float("nan"), float("nan"), 1.0, alpha)
    n_clusters = len(np.unique(data.clusters))
    # One row per cluster (school-level designs): linearmodels' clustered covariance is then exactly its
    # heteroskedasticity-robust one, which it computes without a loop over clusters.
    cov = {"cov_type": "robust"} if n_clusters == len(data.y) else {"cov_type": "clustered",
                                                                      "clusters": data.clusters}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = IV2SLS(dm[:, 0], dm[:, 3:] if covariate else None, dm[:, 1:2], dm[:, 2:3], weights=data.w).fit(
            debiased=True, **cov)
    n_blocks = int(data.blocks.max()) + 1
    k = dm.shape[1] - 2
    scale = _absorbed_scale(len(data.y), k, n_blocks)
    beta = float(np.asarray(fit.params)[-1])
    se = float(np.asarray(fit.std_errors)[-1]) * np.sqrt(scale)
    return _finish(beta, se, _df(data, n_clusters, k + n_blocks), alpha)
