"""Diagnosands, their Monte Carlo SEs, size/coverage flags and the analytic MDES/power formulas, against known
answers: Gelman & Carlin (2014), closed forms, direct numpy formulas and PowerUp!'s published examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from matcher.rollouts import analytic
from matcher.rollouts.diagnosands import diagnose, flags

from .test_rollouts import analytic_power

Z = stats.norm.ppf(0.975)


def normal_grid(d: float, s: float, n: int = 200_001):
    """Estimates at n evenly spaced quantiles of N(d, s^2), with z-test p-values and 95% intervals."""
    q = (np.arange(n) + 0.5) / n
    est = d + s * stats.norm.ppf(q)
    se = np.full(n, s)
    p = 2 * stats.norm.sf(np.abs(est) / s)
    return est, se, p, est - Z * s, est + Z * s, np.full(n, d)


def retrodesign(d: float, s: float, alpha: float = 0.05) -> tuple[float, float, float]:
    """Power, type S and exaggeration of a z test, by the closed forms and numerical integration."""
    z = stats.norm.ppf(1 - alpha / 2)
    hi, lo = stats.norm.sf(z - d / s), stats.norm.cdf(-z - d / s)
    power = hi + lo
    type_s = (lo if d > 0 else hi) / power
    dens = lambda x: abs(x) * stats.norm.pdf(x, d, s)  # noqa: E731
    e_abs = integrate.quad(dens, z * s, np.inf)[0] + integrate.quad(dens, -np.inf, -z * s)[0]
    return power, type_s, e_abs / power / abs(d)


# ---------------------------------------------------------------- Gelman & Carlin (2014)


def test_gelman_carlin_published_example():
    """Gelman & Carlin (2014), "Beyond power calculations", Perspectives on Psychological Science 9(6): the
    ovulation-and-voting example, true effect D = 2 percentage points, s = 8.1: power 0.06, Type S 24%,
    exaggeration ratio 9.7. Their 9.7 comes from retrodesign()'s 10,000 simulated draws; exact integration gives
    9.54, so the published number is checked to its simulation noise and the exact one tightly."""
    power, type_s, exaggeration = retrodesign(2, 8.1)
    assert round(power, 2) == 0.06
    assert round(type_s, 2) == 0.24
    assert exaggeration == pytest.approx(9.7, abs=0.25)
    assert exaggeration == pytest.approx(9.5366, abs=1e-3)

    d = diagnose(*normal_grid(2, 8.1), alpha=0.05, power=0.8, df=1e9, bootstrap=0)
    assert d["power"] == pytest.approx(power, rel=1e-4)
    assert d["type_s_rate"] == pytest.approx(type_s, rel=1e-3)
    assert d["exaggeration_ratio"] == pytest.approx(exaggeration, rel=1e-3)
    assert round(d["power"], 2) == 0.06 and round(d["type_s_rate"], 2) == 0.24
    assert d["coverage"] == pytest.approx(0.95, abs=1e-4)
    assert d["bias"] == pytest.approx(0, abs=1e-6)


def test_type_s_and_exaggeration_closed_forms_negative_truth():
    """A negative true effect: type S is the significant share above zero, 1 - Phi(z - D/s), over the power."""
    dd, s = -0.5, 1.0
    power, type_s, exaggeration = retrodesign(dd, s)
    assert type_s == pytest.approx(stats.norm.sf(Z - dd / s) / power)
    # Lu, Qiu & Deng (2019)'s closed form for E|X| over the rejection region
    c = Z * s
    e_abs = (dd * stats.norm.cdf((dd - c) / s) + s * stats.norm.pdf((c - dd) / s)
             - dd * stats.norm.cdf((-c - dd) / s) + s * stats.norm.pdf((-c - dd) / s))
    assert exaggeration == pytest.approx(e_abs / power / abs(dd), rel=1e-8)
    d = diagnose(*normal_grid(dd, s), alpha=0.05, power=0.8, df=1e9, bootstrap=0)
    assert d["power"] == pytest.approx(power, rel=1e-4)
    assert d["type_s_rate"] == pytest.approx(type_s, rel=2e-3)
    assert d["exaggeration_ratio"] == pytest.approx(exaggeration, rel=1e-4)


def test_type_s_none_when_truth_is_zero_or_nothing_significant():
    est, se, p, lo, hi, tr = normal_grid(0.0, 1.0, 2001)
    d = diagnose(est, se, p, lo, hi, tr, alpha=0.05, power=0.8, df=100, bootstrap=50)
    assert d["type_s_rate"] is None and d["exaggeration_ratio"] is None
    assert d["type_s_rate_mc_se"] is None and d["exaggeration_ratio_mc_se"] is None
    d = diagnose(est, se, np.ones_like(p), lo, hi, tr + 1, alpha=0.05, power=0.8, df=100, bootstrap=50)
    assert d["power"] == 0 and d["type_s_rate"] is None and d["exaggeration_ratio"] is None


# ---------------------------------------------------------------- direct formulas and Monte Carlo SEs


def simulated(r: int = 2000, seed: int = 4):
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.15, 0.25, r)  # truth varies across replications
    se = rng.uniform(0.08, 0.12, r)
    est = truth + 0.02 + rng.normal(0, 0.1, r)
    p = 2 * stats.t.sf(np.abs(est / se), 30)
    p[5] = np.nan  # not significant
    lo, hi = est - 2.04 * se, est + 2.04 * se
    hi[7] = np.inf
    return est, se, p, lo, hi, truth


def test_diagnosands_match_direct_formulas():
    est, se, p, lo, hi, truth = simulated()
    d = diagnose(est, se, p, lo, hi, truth, alpha=0.05, power=0.8, df=30)
    err = est - truth
    sig = p <= 0.05
    assert d["replications"] == 2000
    assert d["bias"] == pytest.approx(err.mean(), rel=1e-10)
    assert d["rmse"] == pytest.approx(np.sqrt((err ** 2).mean()), rel=1e-10)
    assert d["power"] == pytest.approx(sig.mean(), rel=1e-12)
    assert d["coverage"] == pytest.approx(((lo <= truth) & (truth <= hi)).mean(), rel=1e-12)
    assert d["mean_se"] == pytest.approx(se.mean(), rel=1e-10)
    assert d["sd_estimate"] == pytest.approx(est.std(ddof=1), rel=1e-10)
    assert d["type_s_rate"] == pytest.approx((est[sig] < 0).mean(), abs=1e-12)
    assert d["exaggeration_ratio"] == pytest.approx((np.abs(est[sig]) / truth[sig]).mean(), rel=1e-10)
    m = stats.t.ppf(0.975, 30) + stats.t.ppf(0.8, 30)
    assert d["mdes"] == pytest.approx(m * est.std(ddof=1), rel=1e-10)
    assert analytic.multiplier(0.05, 0.8, 30) == pytest.approx(m, rel=1e-12)
    pw, cv = d["power"], d["coverage"]
    assert d["power_binomial_se"] == pytest.approx(math.sqrt(pw * (1 - pw) / 2000))
    assert d["coverage_binomial_se"] == pytest.approx(math.sqrt(cv * (1 - cv) / 2000))


def test_bootstrap_mc_se_agree_with_analytic_ones_and_are_reproducible():
    est, se, p, lo, hi, truth = simulated()
    d = diagnose(est, se, p, lo, hi, truth, alpha=0.05, power=0.8, df=30, bootstrap=500, seed=1)
    r = len(est)
    assert d["power_mc_se"] == pytest.approx(d["power_binomial_se"], rel=0.10)
    assert d["coverage_mc_se"] == pytest.approx(d["coverage_binomial_se"], rel=0.10)
    assert d["bias_mc_se"] == pytest.approx((est - truth).std(ddof=1) / math.sqrt(r), rel=0.10)
    assert d["mean_se_mc_se"] == pytest.approx(se.std(ddof=1) / math.sqrt(r), rel=0.10)
    # SD of a normal sample's SD: sigma / sqrt(2 (R - 1)); the MDES scales with it.
    assert d["sd_estimate_mc_se"] == pytest.approx(d["sd_estimate"] / math.sqrt(2 * (r - 1)), rel=0.15)
    assert d["mdes_mc_se"] == pytest.approx(d["sd_estimate_mc_se"] * analytic.multiplier(0.05, 0.8, 30))
    for key in ("type_s_rate_mc_se", "exaggeration_ratio_mc_se", "rmse_mc_se"):
        assert d[key] is not None and d[key] >= 0
    assert diagnose(est, se, p, lo, hi, truth, alpha=0.05, power=0.8, df=30, bootstrap=500, seed=1) == d
    other = diagnose(est, se, p, lo, hi, truth, alpha=0.05, power=0.8, df=30, bootstrap=500, seed=2)
    assert other["bias"] == d["bias"] and other["bias_mc_se"] != d["bias_mc_se"]


def test_chunked_bootstrap_equals_a_single_chunk(monkeypatch):
    """Chunking only changes memory, not the numbers (the index matrix is drawn in the same order)."""
    from matcher.rollouts import diagnosands

    args = simulated(300)
    whole = diagnose(*args, alpha=0.05, power=0.8, df=30, bootstrap=97, seed=3)
    monkeypatch.setattr(diagnosands, "_CHUNK_ELEMENTS", 300 * 10)
    chunked = diagnose(*args, alpha=0.05, power=0.8, df=30, bootstrap=97, seed=3)
    assert chunked.keys() == whole.keys()
    for k, v in whole.items():
        assert chunked[k] == (pytest.approx(v, rel=1e-9) if v is not None else None), k


def test_small_and_empty_inputs():
    d = diagnose([0.1], [0.1], [0.3], [-0.1], [0.3], [0.1], alpha=0.05, power=0.8, df=10)
    assert d["bias"] == 0 and d["sd_estimate"] is None and d["mdes"] is None and d["bias_mc_se"] is None
    d = diagnose([], [], [], [], [], [], alpha=0.05, power=0.8, df=10)
    assert d["replications"] == 0 and d["power"] is None and d["power_binomial_se"] is None


# ---------------------------------------------------------------- flags


def null_run(rejections: int, covered: int, r: int = 2000):
    """A null run with exactly `rejections` p-values below .05 and `covered` intervals covering 0."""
    est = np.linspace(-1, 1, r)
    p = np.where(np.arange(r) < rejections, 0.01, 0.5)
    lo = np.where(np.arange(r) < covered, -1.0, 0.5)
    return diagnose(est, np.ones(r), p, lo, lo + 2, np.zeros(r), alpha=0.05, power=0.8, df=50, bootstrap=0)


def test_flags_exactly_outside_the_two_se_band():
    # R = 2000: the nominal SE is sqrt(.05 * .95 / 2000) = 0.487 points, the band +-0.975 points.
    assert flags(null_run(119, 1881), alpha=0.05, null=True, replications=2000) == []  # 5.95%, 94.05%: inside
    assert flags(null_run(81, 1919), alpha=0.05, null=True, replications=2000) == []   # 4.05%, 95.95%: inside
    out = flags(null_run(120, 1880), alpha=0.05, null=True, replications=2000)          # 6.0%, 94.0%: outside
    assert [f["kind"] for f in out] == ["size", "coverage"]
    size, cov = out
    assert size["value"] == pytest.approx(0.06) and size["nominal"] == 0.05
    assert size["mc_se"] == pytest.approx(math.sqrt(0.05 * 0.95 / 2000))
    assert size["message"] == ("rejects a true null 6% of the time at the 5% level (Monte Carlo SE 0.5 points): "
                               "its p-values are too small")
    assert cov["message"] == "95% intervals cover 94% (nominal 95%, Monte Carlo SE 0.5 points): too narrow"
    out = flags(null_run(80, 1920), alpha=0.05, null=True, replications=2000)
    assert "conservative" in out[0]["message"] and "4%" in out[0]["message"]
    assert out[1]["message"].startswith("95% intervals cover 96% (nominal 95%") and "conservative" in out[1]["message"]
    # Not a null run: no size flag, coverage still checked.
    assert [f["kind"] for f in flags(null_run(120, 1880), alpha=0.05, null=False, replications=2000)] == ["coverage"]


def test_flag_messages_name_the_numbers():
    out = flags({"power": 0.072, "coverage": 0.928}, alpha=0.05, null=True, replications=2000)
    assert out[0]["message"] == ("rejects a true null 7.2% of the time at the 5% level (Monte Carlo SE 0.5 points):"
                                 " its p-values are too small")
    assert out[1]["message"] == "95% intervals cover 92.8% (nominal 95%, Monte Carlo SE 0.5 points): too narrow"
    band = 2 * math.sqrt(0.1 * 0.9 / 500)
    assert flags({"power": 0.1 + band * 0.999, "coverage": 0.9}, alpha=0.1, null=True, replications=500) == []
    out = flags({"power": 0.1 + band * 1.001, "coverage": 0.9}, alpha=0.1, null=True, replications=500)
    assert len(out) == 1 and "at the 10% level" in out[0]["message"] and "1.3 points" in out[0]["message"]


# ---------------------------------------------------------------- analytic MDES and power


def test_bloom_multiplier():
    """Bloom (1995, Evaluation Review 19:547; 2006): the MDES multiplier is 2.8 (1.96 + 0.84) for large df, two
    sided alpha .05, power .80."""
    assert round(analytic.multiplier(0.05, 0.80, 1e8), 2) == 2.80
    assert analytic.multiplier(0.05, 0.80, 18) == pytest.approx(stats.t.ppf(0.975, 18) + stats.t.ppf(0.8, 18))


COMMON = dict(share=0.5, alpha=0.05, power=0.8, effect=0.2)


def test_powerupr_published_examples():
    """The PowerUpR package's documented examples (Bulus, Dong, Kelcey & Spybrook; the R version of PowerUp!,
    Dong & Maynard 2013), mdes.*() at alpha .05 two-sided, power .80, P .5, no covariates:
      mdes.cra3r3(rho3=.06, rho2=.17, n=15, J=3, K=60)   -> .269   (PowerUpR's n = our students per teacher,
      mdes.cra2r2(rho2=.17, n=15, J=20)                  -> .629    J = teachers per school, K = schools)
      mdes.bcra3f2(rho2=.10, n=20, J=44, K=5)            -> .145
    and, with covariates, the cross-check values of an R transcription of PowerUp!'s worksheets:
      CRA3_3r(R2_1=.37, R2_2=.53, R2_3=.87, g_3=1, n=20, J=2, K=66, rho_3=.38, rho_2=.10) -> .199
      BCRA3_2f(R2_1=.50, R2_2=.50, g_2=1, n=20, J=44, K=5, rho_2=.10)                   -> .102"""
    a = analytic.school_level(schools=60, blocks=1, teachers_per_school=3, students_per_teacher=15, icc_school=0.06,
                              icc_teacher=0.17, r2=0.0, covariates=0, **COMMON)
    assert a.df == 58 and round(a.mdes, 3) == 0.269
    a = analytic.school_level(schools=20, blocks=1, teachers_per_school=1, students_per_teacher=15, icc_school=0.17,
                              icc_teacher=0.0, r2=0.0, covariates=0, **COMMON)
    assert a.df == 18 and round(a.mdes, 3) == 0.629
    for by_treatment in (False, True):
        a = analytic.teacher_level(schools=5, blocks=1, teachers_per_school=44, students_per_teacher=20,
                                   icc_school=0.0, icc_teacher=0.10, r2=0.0, covariates=0, **COMMON,
                                   block_by_treatment=by_treatment)
        assert a.df == (210 if by_treatment else 214) and round(a.mdes, 3) == 0.145
    a = analytic.school_level(schools=66, blocks=1, teachers_per_school=2, students_per_teacher=20, icc_school=0.38,
                              icc_teacher=0.10, r2=(0.37, 0.53, 0.87), covariates=1, **COMMON)
    assert a.df == 63 and round(a.mdes, 3) == 0.199
    a = analytic.teacher_level(schools=5, blocks=1, teachers_per_school=44, students_per_teacher=20, icc_school=0.0,
                               icc_teacher=0.10, r2=(0.5, 0.5), covariates=1, **COMMON, block_by_treatment=True)
    assert a.df == 209 and round(a.mdes, 3) == 0.102


def test_school_level_formula_computed_independently():
    k, b, n, m, r3, r2, g, pt = 30, 3, 4, 22, 0.12, 0.08, 1, 0.4
    a = analytic.school_level(schools=k, blocks=b, teachers_per_school=n, students_per_teacher=m, icc_school=r3,
                              icc_teacher=r2, r2=(0.3, 0.4, 0.5), covariates=g, share=pt, alpha=0.1, power=0.9,
                              effect=0.25)
    pq = pt * (1 - pt)
    se = math.sqrt(r3 * 0.5 / (pq * k) + r2 * 0.6 / (pq * k * n) + (1 - r2 - r3) * 0.7 / (pq * k * n * m))
    df = k - b - g - 1
    mult = stats.t.ppf(0.95, df) + stats.t.ppf(0.9, df)
    assert a.df == df and a.se == pytest.approx(se) and a.mdes == pytest.approx(mult * se)
    crit = stats.t.ppf(0.95, df)
    assert a.power == pytest.approx(1 - stats.t.cdf(crit - 0.25 / se, df) + stats.t.cdf(-crit - 0.25 / se, df))
    # At the MDES the near-tail central-t power is the target power exactly (how the multiplier is built);
    at = analytic.school_level(schools=k, blocks=b, teachers_per_school=n, students_per_teacher=m, icc_school=r3,
                               icc_teacher=r2, r2=(0.3, 0.4, 0.5), covariates=g, share=pt, alpha=0.1, power=0.9,
                               effect=a.mdes)
    # (the far tail, T(-t_crit - lambda), adds a sliver on top)
    assert at.power - stats.t.cdf(-crit - a.mdes / a.se, df) == pytest.approx(0.9, abs=1e-9)
    assert "central t" in a.formula


def test_three_levels_reduce_to_two_when_the_teacher_icc_is_zero():
    """CRA3_3 with rho2 = 0 is CRA2_2 with n*m students per school, however they are split into classes."""
    kw = dict(schools=24, blocks=1, icc_school=0.15, icc_teacher=0.0, r2=(0.4, 0.0, 0.6), covariates=1, **COMMON)
    a = analytic.school_level(teachers_per_school=4, students_per_teacher=25, **kw)
    b = analytic.school_level(teachers_per_school=1, students_per_teacher=100, **kw)
    pq = 0.25
    se2 = math.sqrt(0.15 * 0.4 / (pq * 24) + 0.85 * 0.6 / (pq * 24 * 100))  # Bloom's two-level CRA2_2
    assert a.se == pytest.approx(b.se) == pytest.approx(se2)
    assert a.mdes == pytest.approx(b.mdes) and a.df == 21


@pytest.mark.parametrize("r2,covariates", [(0.0, 0), (0.5, 1)])
def test_noncentral_power_agrees_with_test_rollouts_analytic_power(r2, covariates):
    j, n, m = 40, 4, 25
    a = analytic.school_level(schools=j, blocks=1, teachers_per_school=n, students_per_teacher=m, icc_school=0.15,
                              icc_teacher=0.1, r2=r2, covariates=covariates, share=0.5, alpha=0.05, power=0.8,
                              effect=0.3, power_method="noncentral")
    assert a.power == pytest.approx(analytic_power(0.3, j, n, m, 0.15, 0.1, r2, covariates), rel=1e-10)
    central = analytic.school_level(schools=j, blocks=1, teachers_per_school=n, students_per_teacher=m,
                                    icc_school=0.15, icc_teacher=0.1, r2=r2, covariates=covariates, share=0.5,
                                    alpha=0.05, power=0.8, effect=0.3)
    assert central.power == pytest.approx(a.power, abs=0.01)  # PowerUp!'s central approximation is close


def test_teacher_level_matches_powerup_within_school_standardization():
    """PowerUp!'s BCRA3_2f uses the within-school ICC rho2' = rho2 / (1 - rho3) and effect sizes in within-school
    SDs; ours uses total-variance ICCs and total SDs: MDES_total = MDES_within * sqrt(1 - rho3)."""
    k, n, m, r3, r2 = 12, 6, 20, 0.2, 0.1
    ours = analytic.teacher_level(schools=k, blocks=1, teachers_per_school=n, students_per_teacher=m, icc_school=r3,
                                  icc_teacher=r2, r2=(0.3, 0.5), covariates=1, **COMMON, block_by_treatment=True)
    rho = r2 / (1 - r3)
    df = k * (n - 2) - 1
    within = (stats.t.ppf(0.975, df) + stats.t.ppf(0.8, df)) * math.sqrt(
        rho * 0.5 / (0.25 * k * n) + (1 - rho) * 0.7 / (0.25 * k * n * m))
    assert ours.df == df and ours.mdes == pytest.approx(within * math.sqrt(1 - r3))
    const = analytic.teacher_level(schools=k, blocks=1, teachers_per_school=n, students_per_teacher=m, icc_school=r3,
                                   icc_teacher=r2, r2=(0.3, 0.5), covariates=1, **COMMON)
    assert const.df == k * n - k - 1 - 1 and const.se == pytest.approx(ours.se)
    # Assigning teachers within schools removes the school variance: a smaller MDES than assigning schools.
    school = analytic.school_level(schools=k, blocks=1, teachers_per_school=n, students_per_teacher=m,
                                   icc_school=r3, icc_teacher=r2, r2=(0.3, 0.5, 0.0), covariates=1, **COMMON)
    assert const.mdes < school.mdes


def test_design_effect_unequal():
    assert analytic.design_effect_unequal([20, 20, 20]) == 1.0
    sizes = [10, 20, 30, 40]
    cv2 = np.var(sizes) / np.mean(sizes) ** 2
    assert analytic.design_effect_unequal(sizes) == pytest.approx(1 + cv2)
    exact = analytic.design_effect_unequal(sizes, icc=0.1)
    assert exact == pytest.approx((1 + ((cv2 + 1) * 25 - 1) * 0.1) / (1 + 24 * 0.1))
    assert 1 < exact < 1 + cv2
    assert analytic.design_effect_unequal(sizes, icc=0.0) == 1.0
