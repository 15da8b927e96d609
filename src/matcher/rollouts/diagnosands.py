"""DeclareDesign-style diagnosands of one estimator over the replications of a simulated trial, each with a
Monte Carlo standard error, and plain-words flags when a test's size or an interval's coverage is off.

Monte Carlo SEs are DeclareDesign's: the standard deviation of the diagnosand over nonparametric bootstrap
resamples of the replications. The bootstrap is vectorized: a (draws, R) matrix of resampled indices is turned,
chunk by chunk, into per-draw counts, and every diagnosand is a ratio of count-weighted sums, so one matrix
product per chunk gives all of them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .analytic import multiplier

# Elements of the (draws, R) index/count matrices held at once: about 20 bytes each (int32 indices, int64
# counts, float64 counts) -> under ~50 MB whatever R is.
_CHUNK_ELEMENTS = 1_000_000

DIAGNOSANDS = ("bias", "rmse", "power", "coverage", "mean_se", "sd_estimate", "type_s_rate",
               "exaggeration_ratio", "mdes")


def _none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _from_sums(s: np.ndarray, r: int, mult: float, signed: bool) -> np.ndarray:
    """Diagnosands from column sums (rows: draws) of the per-replication matrix built in diagnose()."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / r
        sd = np.sqrt(np.maximum(s[:, 6] - s[:, 5] ** 2 / r, 0.0) / (r - 1)) if r > 1 else np.full(len(s), np.nan)
        sig = s[:, 2]
        out = np.column_stack([
            mean[:, 0],                       # bias
            np.sqrt(mean[:, 1]),              # rmse
            mean[:, 2],                       # power
            mean[:, 3],                       # coverage
            mean[:, 4],                       # mean_se
            sd,                               # sd_estimate
            s[:, 7] / sig if signed else np.full(len(s), np.nan),  # type_s_rate
            s[:, 8] / sig if signed else np.full(len(s), np.nan),  # exaggeration_ratio
            mult * sd,                        # mdes
        ])
    return out


def diagnose(estimate: Any, se: Any, p_value: Any, ci_low: Any, ci_high: Any, truth: Any, *, alpha: float,
             power: float, df: float, bootstrap: int = 500, seed: int = 0) -> dict[str, float | None]:
    """Diagnosands over R replications, each D with D_mc_se (bootstrap SD over `bootstrap` resamples, None when
    bootstrap is 0 or R < 2); power and coverage also with the binomial SE sqrt(p(1-p)/R).

    Rows with a non-finite estimate, se or truth should be dropped by the caller. A NaN p-value counts as not
    significant; NaN interval bounds as not covering. type_s_rate and exaggeration_ratio are None when any truth
    is 0 or no replication is significant (their SEs also when few resamples have a significant replication)."""
    est = np.asarray(estimate, dtype=float).ravel()
    r = est.size
    out: dict[str, float | None] = {"replications": float(r)}
    if r == 0:
        for d in DIAGNOSANDS:
            out[d] = out[f"{d}_mc_se"] = None
        out["power_binomial_se"] = out["coverage_binomial_se"] = None
        return out
    se_ = np.asarray(se, dtype=float).ravel()
    p = np.asarray(p_value, dtype=float).ravel()
    lo = np.asarray(ci_low, dtype=float).ravel()
    hi = np.asarray(ci_high, dtype=float).ravel()
    tr = np.broadcast_to(np.asarray(truth, dtype=float), est.shape).ravel()
    if not (se_.size == p.size == lo.size == hi.size == r):
        raise ValueError("estimate, se, p_value, ci_low and ci_high must have the same length")

    err = est - tr
    with np.errstate(invalid="ignore"):
        reject = (p <= alpha).astype(float)
        covered = ((lo <= tr) & (tr <= hi)).astype(float)
    signed = bool(np.all(tr != 0))
    centred = est - est.mean()  # centring keeps the one-pass variance accurate
    if signed:
        wrong = reject * (np.sign(est) != np.sign(tr))
        ratio = reject * np.abs(est) / np.abs(tr)
    else:
        wrong = ratio = np.zeros(r)
    # Every diagnosand is a function of these columns' sums.
    v = np.column_stack([err, err ** 2, reject, covered, se_, centred, centred ** 2, wrong, ratio])
    mult = multiplier(alpha, power, df) if df > 0 else float("nan")

    point = _from_sums(v.sum(axis=0)[None, :], r, mult, signed)[0]
    for d, x in zip(DIAGNOSANDS, point, strict=True):
        out[d] = _none(x)

    if bootstrap > 0 and r > 1:
        rng = np.random.default_rng(seed)
        chunk = max(1, min(bootstrap, _CHUNK_ELEMENTS // r))
        reps = np.empty((bootstrap, len(DIAGNOSANDS)))
        for start in range(0, bootstrap, chunk):
            c = min(chunk, bootstrap - start)
            idx = rng.integers(0, r, size=(c, r), dtype=np.int32 if r < 2**31 // max(c, 1) else np.int64)
            idx += (np.arange(c, dtype=idx.dtype) * r)[:, None]  # row offsets: one bincount for the chunk
            counts = np.bincount(idx.ravel(), minlength=c * r).reshape(c, r)
            del idx
            reps[start:start + c] = _from_sums(counts @ v, r, mult, signed)
        with np.errstate(invalid="ignore"):
            for j, d in enumerate(DIAGNOSANDS):
                col = reps[:, j]
                ok = np.isfinite(col)
                # A ratio undefined in more than a few resamples (no significant replication) has no usable SE.
                out[f"{d}_mc_se"] = (float(col[ok].std(ddof=1)) if out[d] is not None and ok.sum() >= 2
                                     and ok.mean() >= 0.9 else None)
    else:
        for d in DIAGNOSANDS:
            out[f"{d}_mc_se"] = None

    for d in ("power", "coverage"):
        x = out[d]
        out[f"{d}_binomial_se"] = math.sqrt(x * (1 - x) / r) if x is not None else None
    return out


def _pct(x: float) -> str:
    """A share as a percentage: one decimal, or the plain number when it is whole (5%, 95%, 2.5%)."""
    v = 100 * x
    return f"{v:.0f}" if abs(v - round(v)) < 1e-9 else f"{v:.1f}"


def _points(se: float) -> str:
    v = 100 * se
    return f"{v:.1f}" if v >= 0.095 else f"{v:.2f}"


def flags(diag: dict, *, alpha: float, null: bool, replications: int) -> list[dict]:
    """Size (null runs only) and coverage flags, raised when the Monte Carlo estimate is more than two binomial
    standard errors of the NOMINAL level, sqrt(alpha (1 - alpha) / R), from it."""
    out: list[dict] = []
    if replications <= 0:
        return out
    mc_se = math.sqrt(alpha * (1 - alpha) / replications)
    band = 2 * mc_se
    power, coverage = diag.get("power"), diag.get("coverage")
    if null and power is not None and abs(power - alpha) > band:
        verdict = ("its p-values are too small" if power > alpha
                   else "its p-values are too large (conservative)")
        out.append({"kind": "size", "value": float(power), "nominal": float(alpha), "mc_se": mc_se,
                    "message": (f"rejects a true null {_pct(power)}% of the time at the {_pct(alpha)}% level "
                                f"(Monte Carlo SE {_points(mc_se)} points): {verdict}")})
    nominal = 1 - alpha
    if coverage is not None and abs(coverage - nominal) > band:
        verdict = "too narrow" if coverage < nominal else "conservative (too wide)"
        out.append({"kind": "coverage", "value": float(coverage), "nominal": nominal, "mc_se": mc_se,
                    "message": (f"{_pct(nominal)}% intervals cover {_pct(coverage)}% (nominal {_pct(nominal)}%, "
                                f"Monte Carlo SE {_points(mc_se)} points): {verdict}")})
    return out
