"""Effect estimates for one simulated trial, with inference that holds with few clusters.

Rows are the analysis units' student-weighted class means: one row per school in a school-level design, one row
per teacher in a teacher-level design; standard errors are cluster-robust by school.

- difference_in_means: the treated-minus-control difference of student-weighted means (intent to treat). In a
  matched-pair design it is Imai, King & Nall's pair-weighted difference with its pair-difference variance.
- regression: WLS of the outcome on treatment, the baseline score and block fixed effects (intent to treat).
- complier_iv: the complier average causal effect, reduced form over first stage (the just-identified 2SLS
  estimate, same covariates), tested and bounded by Anderson-Rubin: the effect c is rejected when the reduced
  form of y - c d on assignment is, which stays valid whatever the first stage's strength.

The inference each estimator uses (`analysis.inference`; "auto" picks the small-sample one, see `method_for`):
CR2 with Bell-McCaffrey degrees of freedom, CR3 (the cluster jackknife), CR1 (the usual cluster-robust errors,
too small with few clusters: kept to show it), or randomization inference (randomization.py). inference.py holds
the formulas and tests/test_inference.py checks them against dense textbook computations.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy import special, stats

from .inference import cluster_fit, pair_difference


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


# What the summary says each inference is (the estimator's own words come first).
LABELS = {
    "pair_difference": "pair-difference variance (Imai, King & Nall 2009), t with pairs - 1 degrees of freedom",
    "cr2": "CR2 cluster-robust standard error (Bell & McCaffrey), t with Bell-McCaffrey degrees of freedom",
    "cr3": "CR3 cluster-jackknife standard error, t with schools - 1 degrees of freedom",
    "cr1": "CR1 cluster-robust standard error (the usual one; too small with few schools), t with schools - 1 "
           "degrees of freedom",
    "randomization": "randomization inference: p-value and interval from re-drawing the assignment as the "
                     "design does",
}


def method_for(estimator: str, inference: str, paired: bool, randomization: bool, enumerated: bool) -> str:
    """The inference an estimator uses. "auto" picks what holds its size on small trials: randomization inference
    whenever the whole assignment space is enumerated (the exact test; the 14-school pilot's 128 assignments) and
    for the difference in means of matched pairs (its pair-difference t test is conservative when pairs differ in
    size); CR2 otherwise. Without randomization inference, the matched-pair difference in means uses its
    pair-difference variance whatever is asked (cluster-robust errors of a pair estimate are not defined here).
    tests/test_rollout_size.py checks the defaults' size and coverage on the pilot and a 20-school design."""
    if inference == "auto":
        if randomization and (enumerated or (estimator == "difference_in_means" and paired)):
            return "randomization"
        inference = "cr2"
    if estimator == "difference_in_means" and paired and inference != "randomization":
        return "pair_difference"
    return inference


def label(estimator: str, method: str) -> str:
    text = LABELS[method]
    if estimator == "complier_iv" and method != "randomization":
        return f"Anderson-Rubin test and interval, reduced form with {text}"
    return text


@lru_cache(maxsize=256)
def _critical(df: float, alpha: float) -> float:
    return float(stats.t.ppf(1 - alpha / 2, df))


def _p(t: float, df: float) -> float:
    return float(2 * special.stdtr(df, -abs(t)))  # Student's t CDF, as scipy.stats.t.sf without its overhead


def _finish(beta: float, se: float, df: float, alpha: float) -> Estimate:
    if not np.isfinite(se) or se <= 0 or not np.isfinite(df):
        return Estimate(beta, float("nan"), df, float("nan"), float("nan"), float("nan"))
    t = _critical(df, alpha)
    return Estimate(beta, se, df, _p(beta / se, df), beta - t * se, beta + t * se)


def _fit_method(method: str) -> str:
    """The standard error behind a method (randomization inference still reports CR2's)."""
    return "cr2" if method == "randomization" else method


def difference_in_means(data: Data, alpha: float, method: str, paired: bool) -> Estimate:
    if paired:  # randomization inference replaces the p-value and interval afterwards
        est, se, df = pair_difference(data.y, data.z, data.w, data.blocks)
        return _finish(est, se, df, alpha)
    fit = cluster_fit(data.y[:, None], data.z[:, None], data.w, np.zeros(len(data.y), dtype=np.int64),
                      data.clusters, _fit_method(method))
    return _finish(float(fit.beta[0]), float(np.sqrt(fit.cov[0, 0])), fit.df, alpha)


def _regressors(data: Data, covariate: bool) -> np.ndarray:
    return np.column_stack([data.z, data.x] if covariate else [data.z])


def regression(data: Data, alpha: float, covariate: bool, method: str) -> Estimate:
    fit = cluster_fit(data.y[:, None], _regressors(data, covariate), data.w, data.blocks, data.clusters,
                      _fit_method(method))
    return _finish(float(fit.beta[0]), float(np.sqrt(fit.cov[0, 0])), fit.df, alpha)


def complier_iv(data: Data, alpha: float, covariate: bool, method: str) -> Estimate:
    """Reduced form (y on z) over first stage (d on z), jointly fitted; the standard error is the delta method's
    (2SLS's sandwich), the p-value and interval Anderson-Rubin's: {c : |rf(y - c d)| <= t se(rf(y - c d))}."""
    fit = cluster_fit(np.column_stack([data.y, data.d]), _regressors(data, covariate), data.w, data.blocks,
                      data.clusters, _fit_method(method))
    (ry, rd), v, df = fit.beta, fit.cov, fit.df
    if not np.isfinite(df) or rd == 0 or not np.all(np.isfinite(v)):
        return Estimate(float("nan"), float("nan"), df, float("nan"), float("nan"), float("nan"))
    beta = float(ry / rd)
    var = v[0, 0] - 2 * beta * v[0, 1] + beta**2 * v[1, 1]
    se = float(np.sqrt(var) / abs(rd)) if var > 0 else float("nan")
    p = _p(ry / np.sqrt(v[0, 0]), df) if v[0, 0] > 0 else float("nan")
    low, high = anderson_rubin(float(ry), float(rd), v, _critical(df, alpha))
    return Estimate(beta, se, df, p, low, high)


def anderson_rubin(ry: float, rd: float, v: np.ndarray, t: float) -> tuple[float, float]:
    """The hull of {c : (ry - c rd)^2 <= t^2 (v00 - 2 c v01 + c^2 v11)}: a bounded interval when the first stage
    is significant, otherwise unbounded (-inf, inf), as Anderson-Rubin sets are under weak instruments."""
    a = rd**2 - t**2 * v[1, 1]
    b = -2 * (ry * rd - t**2 * v[0, 1])
    c = ry**2 - t**2 * v[0, 0]
    disc = b * b - 4 * a * c
    if a <= 0 or disc < 0:  # the set is the whole line, or the complement of an interval: unbounded either way
        return float("-inf"), float("inf")
    root = np.sqrt(disc)
    return float((-b - root) / (2 * a)), float((-b + root) / (2 * a))


class RIAdjustment(NamedTuple):
    """What randomization inference re-estimates for an estimator: the coefficient of each re-drawn assignment on
    the outcome (a) and on `second` (b: the observed assignment, or the take-up for the complier effect), with the
    estimator's own adjustment `kind`: "pairs" (the pair-difference estimate), "none" (a plain difference in
    means) or "blocks" (block fixed effects and, when the analysis adjusts, the baseline score)."""

    kind: str
    second: np.ndarray


def ri_adjustment(estimator: str, data: Data, paired: bool) -> RIAdjustment:
    if estimator == "difference_in_means":
        return RIAdjustment("pairs" if paired else "none", data.z)
    return RIAdjustment("blocks", data.z if estimator == "regression" else data.d)
