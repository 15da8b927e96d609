"""Analytic minimum detectable effect sizes and power for the two rollout designs, by the textbook formulas
of Bloom (2006, "The core analytics of randomized experiments for social research") as tabulated in
PowerUp! (Dong & Maynard 2013, Journal of Research on Educational Effectiveness 6(1), 24-67).

Effects are in standard deviations of the outcome's TOTAL variance (student + teacher + school), and the
intraclass correlations are shares of that total: icc_school = rho3, icc_teacher = rho2,
1 - rho2 - rho3 = the student share.

School-level assignment (PowerUp!'s CRA3_3r, students in teachers in schools, treatment at the school):

    MDES = M_df * sqrt( rho3 (1-R3^2) / (P(1-P) K)
                      + rho2 (1-R2^2) / (P(1-P) K n)
                      + (1-rho2-rho3)(1-R1^2) / (P(1-P) K n m) ),
    df   = K - B - g - 1

K schools, n teachers per school, m students per teacher, P the treated share, g school-level covariates,
B fixed blocks (B = 1 when unblocked: the intercept). The "- 1" is the treatment coefficient: unblocked this
is PowerUp!'s K - g - 2 exactly. (Block fixed effects leave the variance terms unchanged in this
approximation; they only cost degrees of freedom.)

Teacher-level assignment within schools (schools as fixed blocks; PowerUp!'s BCRA3_2f):

    MDES = M_df * sqrt( rho2 (1-R2^2) / (P(1-P) K n)
                      + (1-rho2-rho3)(1-R1^2) / (P(1-P) K n m) ),
    df   = K n - K - g - 1        (constant treatment effect, school intercepts: the default)
    df   = K (n - 2) - g          (PowerUp!'s BCRA3_2f: school intercepts AND school-by-treatment effects)

PowerUp! writes BCRA3_2f with rho2 and (1 - rho2), the ICC and effect size defined WITHIN schools (the
school variance is absorbed by the fixed effects). With total-variance ICCs as here, rho2' = rho2 / (1 - rho3)
and MDES_total = MDES_within * sqrt(1 - rho3): the same formula, standardized by the total SD.

Multiplier M_df = t(1 - alpha/2, df) + t(power, df) (two-sided; Bloom's multiplier, about 2.80 for large df
at alpha .05 and power .80). Power for an effect delta: lambda = delta / SE with SE = MDES / M_df, and

    central   (PowerUp!'s approximation, the default): 1 - T_df(t_crit - lambda) + T_df(-t_crit - lambda)
    noncentral (exact for a t test with known variance components): the same with the noncentral t cdf.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy import stats


class Analytic(NamedTuple):
    case: str
    formula: str
    df: float
    se: float
    mdes: float
    power: float  # power for the given effect


def multiplier(alpha: float, power: float, df: float) -> float:
    """Bloom's MDES multiplier: t(1 - alpha/2) + t(power), two-sided, with df degrees of freedom (the same
    definition as simulate.multiplier)."""
    return float(stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df))


def power_for(effect: float, se: float, df: float, alpha: float, method: str = "central") -> float:
    """Two-sided power of a t test of size alpha when the estimate's standard error is se."""
    if not (se > 0 and df > 0):
        return float("nan")
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    lam = effect / se
    if method == "central":
        return float(stats.t.sf(crit - lam, df) + stats.t.cdf(-crit - lam, df))
    if method == "noncentral":
        return float(stats.nct.sf(crit, df, lam) + stats.nct.cdf(-crit, df, lam))
    raise ValueError(f"power method must be 'central' or 'noncentral', not {method!r}")


def _r2(r2: float | Sequence[float]) -> tuple[float, float, float]:
    """(student, teacher, school) shares explained by the covariate; one number means the same at every level."""
    if isinstance(r2, (int, float)):
        return float(r2), float(r2), float(r2)
    vals = tuple(float(v) for v in r2)
    if len(vals) == 2:
        return vals[0], vals[1], 0.0
    if len(vals) != 3:
        raise ValueError("r2 is one number or (student, teacher[, school])")
    return vals  # type: ignore[return-value]


def _check(schools: float, teachers: float, students: float, icc_school: float, icc_teacher: float,
           share: float) -> None:
    if not 0 < share < 1:
        raise ValueError("share (the treated proportion) must be strictly between 0 and 1")
    if schools <= 0 or teachers <= 0 or students <= 0:
        raise ValueError("schools, teachers_per_school and students_per_teacher must be positive")
    if icc_school < 0 or icc_teacher < 0 or icc_school + icc_teacher > 1:
        raise ValueError("the intraclass correlations must be non-negative and sum to at most 1")


def _finish(case: str, formula: str, var: float, df: float, alpha: float, power: float, effect: float,
            method: str) -> Analytic:
    if df <= 0:
        return Analytic(case, formula, float(df), float(np.sqrt(var)), float("nan"), float("nan"))
    se = float(np.sqrt(var))
    m = multiplier(alpha, power, df)
    return Analytic(case, f"{formula}; power by the {method} t", float(df), se, m * se,
                    power_for(effect, se, df, alpha, method))


def school_level(*, schools: float, blocks: int, teachers_per_school: float, students_per_teacher: float,
                 icc_school: float, icc_teacher: float, r2: float | Sequence[float], covariates: int,
                 share: float, alpha: float, power: float, effect: float,
                 power_method: str = "central") -> Analytic:
    """Whole schools assigned (PowerUp!'s CRA3_3r), with B fixed blocks (B = 1 unblocked); df = K - B - g - 1."""
    _check(schools, teachers_per_school, students_per_teacher, icc_school, icc_teacher, share)
    r1, r2_, r3 = _r2(r2)
    k, n, m, pq = float(schools), float(teachers_per_school), float(students_per_teacher), share * (1 - share)
    var = (icc_school * (1 - r3) / (pq * k)
           + icc_teacher * (1 - r2_) / (pq * k * n)
           + (1 - icc_school - icc_teacher) * (1 - r1) / (pq * k * n * m))
    df = k - max(int(blocks), 1) - covariates - 1
    formula = ("CRA3_3 (Dong & Maynard 2013): MDES = M_df * sqrt(rho3(1-R3^2)/(P(1-P)K) + rho2(1-R2^2)/(P(1-P)Kn)"
               " + (1-rho2-rho3)(1-R1^2)/(P(1-P)Knm)), df = K - B - g - 1")
    return _finish("school_level", formula, var, df, alpha, power, effect, power_method)


def teacher_level(*, schools: float, blocks: int, teachers_per_school: float, students_per_teacher: float,
                  icc_school: float, icc_teacher: float, r2: float | Sequence[float], covariates: int,
                  share: float, alpha: float, power: float, effect: float, power_method: str = "central",
                  block_by_treatment: bool = False) -> Analytic:
    """Teachers assigned within schools, schools as fixed blocks (PowerUp!'s BCRA3_2f).

    The schools are the blocks: `blocks` counts fixed blocks and is used only when it exceeds the number of
    schools (blocks nested in schools). df = K n - B - g - 1 (constant effect, school intercepts) or, with
    block_by_treatment, PowerUp!'s K (n - 2) - g (B (n - 2) - g with more blocks than schools)."""
    _check(schools, teachers_per_school, students_per_teacher, icc_school, icc_teacher, share)
    r1, r2_, _ = _r2(r2)
    k, n, m, pq = float(schools), float(teachers_per_school), float(students_per_teacher), share * (1 - share)
    var = (icc_teacher * (1 - r2_) / (pq * k * n)
           + (1 - icc_school - icc_teacher) * (1 - r1) / (pq * k * n * m))
    b = max(float(blocks), k)
    if block_by_treatment:
        df = k * n - 2 * b - covariates
        dfs = "df = K(n-2) - g (PowerUp!'s BCRA3_2f)"
    else:
        df = k * n - b - covariates - 1
        dfs = "df = Kn - K - g - 1 (constant effect, school intercepts)"
    formula = ("BCRA3_2f (Dong & Maynard 2013), total-variance ICCs: MDES = M_df * sqrt(rho2(1-R2^2)/(P(1-P)Kn)"
               f" + (1-rho2-rho3)(1-R1^2)/(P(1-P)Knm)), {dfs}")
    return _finish("teacher_level", formula, var, df, alpha, power, effect, power_method)


def design_effect_unequal(sizes: Sequence[float] | np.ndarray, icc: float | None = None) -> float:
    """How much unequal cluster sizes inflate the variance of a cluster-randomized comparison, relative to equal
    clusters of the same mean size (multiply the variance by this, the MDES by its square root).

    Without icc: 1 + CV^2, CV = sd / mean of the sizes (population sd, ddof 0) -- the large-cluster limit and an
    upper bound of the exact factor. With icc (Eldridge, Ashby & Kerry 2006, Int J Epidemiol 35:1292):
    (1 + ((CV^2 + 1) mbar - 1) icc) / (1 + (mbar - 1) icc)."""
    s = np.asarray(sizes, dtype=float)
    s = s[np.isfinite(s)]
    if s.size == 0 or s.mean() <= 0:
        return float("nan")
    mbar = float(s.mean())
    cv2 = float(s.var() / mbar ** 2)
    if icc is None:
        return 1.0 + cv2
    return float((1 + ((cv2 + 1) * mbar - 1) * icc) / (1 + (mbar - 1) * icc))
