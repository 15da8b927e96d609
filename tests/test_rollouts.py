"""The rollout simulator against answers known without it: the analytic power of a cluster-randomized design,
the 5% rejection rate under the null, unbiasedness and coverage with the real pairing engine, block shares,
brute-force matched pairs, dummy-column regressions, and identical numbers across executors and worker counts."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from linearmodels.iv import IV2SLS
from scipy import stats

from matcher.cli import main
from matcher.errors import InputError
from matcher.rollouts.assignment import Blocks, _min_distance_pairs, draw_blocked, matched_pairs
from matcher.rollouts.design import design_from_dict
from matcher.rollouts.estimators import Data, complier_iv, regression
from matcher.rollouts.population import PairArrays, build_population, load_population, population_for
from matcher.rollouts.replicate import prepare, teacher_effects
from matcher.rollouts.simulate import simulate
from matcher.rubric import bundled

from .reference import make_table

RUBRIC = bundled("team")
K = len(RUBRIC.indicators)


def flat_table(schools: int, teachers: int):
    """Every teacher scores 3 everywhere: nobody is weak or strong, so nobody is paired."""
    rows = [{"teacher_id": f"T{s:03d}{t:02d}", "school_id": f"S{s:03d}", "district_id": f"D{s % 4}",
             "scores": [3.0] * K} for s in range(schools) for t in range(teachers)]
    return make_table(RUBRIC, rows)


def design(**sections) -> object:
    data = {"population": {"synthetic": {"schools": 12, "seed": 5}}}
    data.update(sections)
    return design_from_dict(data, "design.toml")


def analytic_power(delta: float, j: int, n: int, m: int, icc_s: float, icc_t: float, r2: float, covariates: int,
                   alpha: float = 0.05) -> float:
    """Two-sided power of a balanced cluster-randomized trial of j schools of n classes of m students, by the
    noncentral t distribution (Bloom 2006; Hedges & Rhoads 2010, three levels)."""
    var = (icc_s + icc_t / n + (1 - icc_s - icc_t) / (n * m)) * (1 - r2)
    se = math.sqrt(var / (0.25 * j))
    df = j - 2 - covariates
    crit = stats.t.ppf(1 - alpha / 2, df)
    lam = delta / se
    return float(1 - stats.nct.cdf(crit, df, lam) + stats.nct.cdf(-crit, df, lam))


# ---------------------------------------------------------------- known answers


@pytest.mark.parametrize("estimator,r2,covariates", [("difference_in_means", 0.0, 0), ("regression", 0.5, 1)])
def test_power_matches_the_analytic_formula(estimator, r2, covariates):
    j, n, m, reps = 40, 4, 25, 2000
    d = design(outcome={"effect_target": 0.0, "spillover": 0.3, "icc_school": 0.15, "icc_teacher": 0.1,
                        "covariate_r2": r2, "students_per_teacher": m},
               analysis={"estimators": [estimator], "covariate": covariates == 1},
               simulation={"replications": reps, "seed": 11})
    pop = population_for(d, flat_table(j, n))
    oc = simulate(d, population=pop, workers=2).summary["estimators"][estimator]
    expected = analytic_power(0.3, j, n, m, 0.15, 0.1, r2, covariates)
    mc_se = math.sqrt(expected * (1 - expected) / reps)
    assert abs(oc["power"] - expected) < 4 * mc_se + 0.01, (oc["power"], expected)
    assert oc["truth_mean"] == pytest.approx(0.3)
    # The estimate's spread matches the formula's standard error too.
    var = (0.15 + 0.1 / n + 0.75 / (n * m)) * (1 - r2)
    assert oc["sd_estimate"] == pytest.approx(math.sqrt(var / (0.25 * j)), rel=0.08)


def test_null_effect_rejects_five_percent_and_is_unbiased():
    reps = 2000
    d = design(outcome={"effect_target": 0.0}, takeup={"principals": 0.7},
               analysis={"estimators": ["difference_in_means", "regression"]},
               simulation={"replications": reps, "seed": 3})
    pop = population_for(d, flat_table(30, 3))
    result = simulate(d, population=pop, workers=2)
    band = 4 * math.sqrt(0.05 * 0.95 / reps)
    for name in ("difference_in_means", "regression"):
        oc = result.summary["estimators"][name]
        assert abs(oc["power"] - 0.05) < band, (name, oc["power"])
        assert abs(oc["bias"]) < 4 * oc["bias_mc_se"]
        assert oc["truth_mean"] == 0


def test_unbiased_with_the_real_pairing_engine_and_take_up():
    """Synthetic schools paired by the engine; principals and teachers take up part of the time."""
    reps = 600
    d = design(population={"synthetic": {"schools": 30, "mean_size": 20, "seed": 2}},
               assignment={"method": "blocked", "blocks": ["size_band"]},
               takeup={"principals": 0.75, "teachers": 0.8},
               outcome={"effect_target": 0.25, "effect_partner": 0.05, "spillover": 0.02},
               simulation={"replications": reps, "seed": 9})
    result = simulate(d, workers=2)
    est = result.summary["estimators"]
    assert set(est) == {"difference_in_means", "regression", "complier_iv"}
    for name in ("difference_in_means", "regression"):
        oc = est[name]
        assert oc["estimand"] == "itt"
        assert abs(oc["bias"]) < 4 * oc["bias_mc_se"], (name, oc)
        assert abs(oc["coverage"] - 0.95) < 4 * math.sqrt(0.05 * 0.95 / reps) + 0.01
    assert est["complier_iv"]["estimand"] == "cace"
    assert abs(est["complier_iv"]["bias"]) < 4 * est["complier_iv"]["bias_mc_se"] + 0.01
    # The complier effect is the ITT over the implementing share (about 0.75 of schools).
    ratio = est["regression"]["truth_mean"] / est["complier_iv"]["truth_mean"]
    assert 0.6 < ratio < 0.9
    # Regression with the baseline score is more precise than the difference in means.
    assert est["regression"]["rmse"] < est["difference_in_means"]["rmse"]
    assert 0 < est["regression"]["targets_paired_share"] < 1
    assert est["regression"]["truth_mean"] > 0


def test_teacher_level_design_misses_school_wide_spillover():
    """Within-school randomization: control teachers share the spillover, so the contrast misses it."""
    d = design(assignment={"unit": "teacher"}, outcome={"effect_target": 0.0, "spillover": 0.2},
               analysis={"estimators": ["difference_in_means"]}, simulation={"replications": 300, "seed": 4})
    pop = population_for(d, flat_table(10, 8))
    result = simulate(d, population=pop, workers=2)
    oc = result.summary["estimators"]["difference_in_means"]
    assert oc["truth_mean"] == pytest.approx(0.2)
    assert oc["bias"] == pytest.approx(-0.2, abs=4 * oc["bias_mc_se"])
    # Blocked by school: every school has floor or ceil of half its teachers treated.
    per_school = result.assignment.groupby("school_id")["arm"].apply(lambda a: (a == "treatment").sum())
    assert set(per_school) == {4}


# ---------------------------------------------------------------- assignment


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(1, 9), min_size=1, max_size=6), share=st.floats(0.05, 0.95),
       seed=st.integers(0, 2**32 - 1))
def test_blocked_draw_keeps_the_share_within_every_block(sizes, share, seed):
    codes = np.repeat(np.arange(len(sizes)), sizes)
    np.random.default_rng(seed).shuffle(codes)
    rng = np.random.default_rng(seed)
    totals = np.zeros(len(sizes))
    draws = 400
    for _ in range(draws):
        z = draw_blocked(rng, codes, len(sizes), share)
        counts = np.bincount(codes, z, minlength=len(sizes))
        for b, n in enumerate(sizes):
            assert counts[b] in (math.floor(n * share), math.ceil(n * share))
        totals += counts
    # In expectation the share is exact: n p treated per block.
    expected = np.asarray(sizes) * share
    assert np.all(np.abs(totals / draws - expected) < 4 * np.sqrt(0.25 / draws) + 1e-9)


def _brute_min_pairs(points: np.ndarray) -> float:
    n = len(points)
    best = math.inf

    def rec(left: list[int], total: float) -> None:
        nonlocal best
        if len(left) < 2:
            best = min(best, total)
            return
        first, rest = left[0], left[1:]
        if len(left) % 2 == 1:  # the odd one out may be anyone: try leaving `first` out
            rec(rest, total)
        for i, other in enumerate(rest):
            rec(rest[:i] + rest[i + 1:], total + float(np.linalg.norm(points[first] - points[other])))

    rec(list(range(n)), 0.0)
    return best


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 9), seed=st.integers(0, 10_000))
def test_matched_pairs_have_the_least_total_distance(n, seed):
    points = np.random.default_rng(seed).normal(size=(n, 2))
    pairs = _min_distance_pairs(points)
    assert len(pairs) == n // 2
    assert len({u for p in pairs for u in p}) == 2 * len(pairs)
    total = sum(float(np.linalg.norm(points[a] - points[b])) for a, b in pairs)
    assert total == pytest.approx(_brute_min_pairs(points), abs=1e-4 * n)


def test_matched_pairs_put_one_school_of_each_pair_in_each_arm():
    frame = pd.DataFrame({"teachers": [10, 11, 30, 31, 50, 52, 70], "mean_score": [3, 3.1, 2, 2.1, 4, 4, 3],
                          "constant": 1.0, "twice": [20, 22, 60, 62, 100, 104, 140]})  # no spread; collinear
    blocks = matched_pairs(frame, Blocks(np.zeros(7, dtype=np.int64), ["all"]))
    assert blocks.count == 4  # three pairs and the odd one out
    pairs = {tuple(np.flatnonzero(blocks.codes == b)) for b in range(blocks.count)}
    assert {(0, 1), (2, 3), (4, 5)} <= pairs
    rng = np.random.default_rng(0)
    for _ in range(50):
        z = draw_blocked(rng, blocks.codes, blocks.count, 0.5)
        assert all(z[a] != z[b] for a, b in [(0, 1), (2, 3), (4, 5)])


def test_rerandomized_draw_meets_the_threshold():
    d = design(population={"synthetic": {"schools": 40, "seed": 8}},
               assignment={"method": "rerandomized", "balance_threshold": 0.05},
               analysis={"ri_draws": 50},  # re-randomization inference's draws meet the threshold too (slow)
               simulation={"replications": 20, "seed": 1})
    result = simulate(d, workers=1)
    assert result.balance["within_threshold"].all()
    assert (result.balance["smd"].abs() <= 0.05).all()
    assert (result.replications["max_abs_smd"] <= 0.05).all()
    assert result.summary["first_draw"]["draws"] >= 1


# ---------------------------------------------------------------- estimators against dummy-column fits


def _data(seed: int, n: int = 60, blocks: int = 7) -> Data:
    rng = np.random.default_rng(seed)
    b = rng.integers(0, blocks, n)
    b[:blocks] = np.arange(blocks)
    z = (rng.random(n) < 0.5).astype(float)
    d = z * (rng.random(n) < 0.7)
    x = rng.normal(size=n)
    y = 0.3 * d + 0.5 * x + 0.2 * b + rng.normal(size=n)
    return Data(y, z, d, x, rng.integers(20, 200, n).astype(float), b, np.arange(n))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_absorbed_blocks_equal_dummy_columns(seed):
    """With CR1 the estimators are statsmodels' and linearmodels' dummy-column fits; the complier interval is
    Anderson-Rubin's: at each end the reduced form of y - c d on assignment is exactly at the critical t."""
    data = _data(seed)
    dummies = (data.blocks[:, None] == np.arange(data.blocks.max() + 1)).astype(float)
    exog = np.column_stack([data.z, data.x, dummies])
    full = sm.WLS(data.y, exog, weights=data.w).fit(cov_type="cluster", cov_kwds={"groups": data.clusters})
    mine = regression(data, 0.05, covariate=True, method="cr1")
    assert mine.estimate == pytest.approx(full.params[0], rel=1e-9)
    assert mine.se == pytest.approx(full.bse[0], rel=1e-9)
    iv = IV2SLS(data.y, np.column_stack([data.x, dummies]), data.d[:, None], data.z[:, None],
                weights=data.w).fit(cov_type="clustered", clusters=data.clusters, debiased=True)
    mine_iv = complier_iv(data, 0.05, covariate=True, method="cr1")
    assert mine_iv.estimate == pytest.approx(float(np.asarray(iv.params)[-1]), rel=1e-9)
    assert mine_iv.se == pytest.approx(float(np.asarray(iv.std_errors)[-1]), rel=1e-9)
    # The interval is estimate +- t(df) * se, df the smaller of clusters - 1 and the residual degrees of freedom.
    assert mine.df == min(len(data.y) - 1, len(data.y) - 2 - (data.blocks.max() + 1)) == 51
    t = stats.t.ppf(0.975, mine.df)
    assert mine.ci_high - mine.estimate == pytest.approx(t * mine.se)
    for end in (mine_iv.ci_low, mine_iv.ci_high):
        rf = sm.WLS(data.y - end * data.d, exog, weights=data.w).fit(cov_type="cluster",
                                                                      cov_kwds={"groups": data.clusters})
        assert abs(rf.params[0] / rf.bse[0]) == pytest.approx(t, rel=1e-7)
    assert mine_iv.ci_low < mine_iv.estimate < mine_iv.ci_high
    rf0 = sm.WLS(data.y, exog, weights=data.w).fit(cov_type="cluster", cov_kwds={"groups": data.clusters})
    assert mine_iv.p_value == pytest.approx(2 * stats.t.sf(abs(rf0.params[0] / rf0.bse[0]), mine.df), rel=1e-9)


def test_effect_depends_on_areas_covered():
    d = design(outcome={"effect_by_areas": [0.1, 0.2, 0.25], "effect_partner": 0.03, "spillover": 0.01})
    pop = build_population(flat_table(2, 2), None, "", d.policy)
    prep = prepare(d, pop)
    pairs = PairArrays(np.array([0, 2]), np.array([1, 3]), np.array([2, 5]), np.array([1, 0]))
    tau, received = teacher_effects(prep, pairs, np.array([True, True]), np.array([True, True]))
    # teacher 1 gets 2 areas from 0; teacher 0 gets 1 area from 1; teacher 3 gets 5 (>= 3) from 2; 2 only helps.
    assert received.tolist() == [1, 2, 0, 5]
    assert tau.tolist() == pytest.approx([0.1 + 0.03 + 0.01, 0.2 + 0.03 + 0.01, 0.03 + 0.01, 0.25 + 0.01])
    tau_off, _ = teacher_effects(prep, pairs, np.array([False, True]), np.array([False, True]))
    assert tau_off.tolist() == pytest.approx([0.0, 0.0, 0.04, 0.26])


# ---------------------------------------------------------------- same numbers everywhere


def test_same_seed_same_numbers_for_any_worker_count_and_repairing_path():
    d = design(takeup={"principals": 0.8}, simulation={"replications": 24, "seed": 5})
    one = simulate(d, workers=1).replications
    two = simulate(d, workers=2).replications
    pd.testing.assert_frame_equal(one, two)
    # Opting in before pairing, with everyone opting in, re-runs the engine in every replication: same pairs.
    again = simulate(d.replace(takeup=d.takeup.__class__(principals=0.8, teachers=1.0,
                                                         teachers_decide="before_pairing")), workers=1)
    assert not d.repairs_each_replication
    pd.testing.assert_frame_equal(one, again.replications)
    other = simulate(d.replace(seed=6), workers=1).replications
    assert not np.allclose(one["estimate"], other["estimate"])


def test_dask_local_cluster_equals_the_local_run():
    d = design(takeup={"principals": 0.8}, simulation={"replications": 16, "seed": 2},
               power_curve={"vary": "effect_target", "values": [0.0, 0.2], "replications": 6})
    local = simulate(d, workers=2)
    dask = simulate(d, executor="dask", workers=2)
    pd.testing.assert_frame_equal(local.replications, dask.replications)
    pd.testing.assert_frame_equal(local.power_curve, dask.power_curve)
    assert dask.summary["executor"] == "dask"


# ---------------------------------------------------------------- bad input, before any work


def _problems(data: dict) -> list[str]:
    with pytest.raises(InputError) as exc:
        design_from_dict(data, "d.toml")
    return [str(p) for p in exc.value.problems]


def test_bad_designs_name_section_key_and_value():
    found = _problems({"population": {"synthetic": {"schools": 10}},
                       "assignment": {"treated_share": 1.5, "method": "lottery"},
                       "takeup": {"principals": 0}, "outcome": {"icc_school": 0.6, "icc_teacher": 0.5},
                       "analysis": {"estimators": ["ols"]}, "simulation": {"replications": 1}, "colour": {}})
    text = "\n".join(found)
    for needle in ("'assignment.treated_share', value '1.5'", "'assignment.method', value 'lottery'",
                   "'takeup.principals', value '0.0'", "'outcome.icc_teacher'", "'analysis.estimators', value 'ols'",
                   "'simulation.replications', value '1'", "'colour'"):
        assert needle in text, needle
    assert "population" in "\n".join(_problems({"assignment": {}}))
    assert "matched pairs" in "\n".join(_problems({"population": {"synthetic": {"schools": 10}},
                                                   "assignment": {"method": "matched_pairs",
                                                                  "treated_share": 0.3}}))
    assert "needs covariates to match on" in "\n".join(_problems({"population": {"synthetic": {"schools": 10}},
                                                                   "assignment": {"method": "matched_pairs",
                                                                                  "balance_on": []}}))
    assert "within their own school" in "\n".join(_problems({"population": {"synthetic": {"schools": 10}},
                                                             "pairing": {"cross_school_fallback": True}}))


def test_population_checks_columns_and_blocks_before_any_replication():
    pop_design = design(assignment={"method": "blocked", "blocks": ["region"]})
    with pytest.raises(InputError, match="unknown school column; known: teachers, mean_score"):
        simulate(pop_design)
    d = design(assignment={"method": "blocked", "blocks": ["school_name_initial"]})
    with pytest.raises(InputError, match="assignment.blocks"):
        simulate(d)
    # Fewer schools than blocks: each block of one school.
    table = flat_table(6, 2)
    d = design(assignment={"method": "blocked", "blocks": ["district_id", "teachers"], "balance_on": ["teachers"]})
    pop = population_for(d, table)
    with pytest.raises(InputError, match=r"fewer than 2 of the 6 schools.*small_blocks"):
        simulate(d, population=pop)
    d = design(assignment={"method": "blocked", "blocks": ["district_id"], "small_blocks": "pool",
                           "balance_on": ["teachers"]}, simulation={"replications": 4})
    assert len(simulate(d, population=population_for(d, flat_table(6, 2))).replications) == 8
    d = design(assignment={"balance_on": ["district_id"]})
    with pytest.raises(InputError, match="numeric"):
        simulate(d, population=population_for(d, table))
    d = design(power_curve={"vary": "schools", "values": [50]})
    with pytest.raises(InputError, match="power_curve.values"):
        simulate(d)


def test_unreachable_scheduler_is_an_error_before_work(tmp_path, capsys):
    file = tmp_path / "d.toml"
    file.write_text('[population]\nsynthetic = { schools = 6, seed = 1 }\n')
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        simulate(design_from_dict({"population": {"synthetic": {"schools": 6}}}), executor="dask",
                 scheduler="tcp://127.0.0.1:9", connect_timeout=1.0)
    code = main(["simulate", str(file), "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2 and not (tmp_path / "out").exists()
    assert "--executor dask" in capsys.readouterr().err


def test_impossible_rerandomization_is_reported_before_replications(tmp_path, capsys):
    file = tmp_path / "d.toml"
    file.write_text('[population]\nsynthetic = { schools = 8, seed = 1 }\n[assignment]\nmethod = "rerandomized"\n'
                    'balance_threshold = 0.0001\nmax_draws = 20\n')
    code = main(["simulate", str(file), "--out", str(tmp_path / "out")])
    assert code == 2 and not (tmp_path / "out").exists()
    assert "none of 20 draws" in capsys.readouterr().err


# ---------------------------------------------------------------- the command


def test_cli_writes_every_file_at_once(tmp_path, capsys):
    file = tmp_path / "design.toml"
    file.write_text("""
[population]
synthetic = { schools = 14, mean_size = 20, seed = 3 }
[assignment]
method = "matched_pairs"
[takeup]
principals = 0.9
[simulation]
replications = 30
seed = 2
[power_curve]
vary = "schools"
values = [6, 10, 14]
replications = 20
""")
    out = tmp_path / "out"
    assert main(["simulate", str(file), "--out", str(out), "--workers", "2", "--json"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["assignment.csv", "balance.csv", "replications.csv", "summary.json", "power_curve.csv",
                            "power_curve.png"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary == json.loads(capsys.readouterr().out)
    assert summary["population"]["schools"] == 14
    assignment = pd.read_csv(out / "assignment.csv")
    # Seven pairs of similar schools, one of each pair treated.
    assert (assignment.groupby("block")["arm"].apply(lambda a: sorted(a)) ==
            pd.Series([["control", "treatment"]] * 7, index=sorted(assignment["block"].unique()))).all()
    curve = pd.read_csv(out / "power_curve.csv")
    assert sorted(curve["schools"].unique()) == [6, 10, 14]
    assert (out / "power_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    replications = pd.read_csv(out / "replications.csv")
    assert len(replications) == 30 * 3 and list(replications["replication"].unique()) == list(range(30))
    # A design's relative paths are relative to its file.
    table = tmp_path / "teachers.csv"
    assert main(["synth", "--schools", "6", "--seed", "1", "--out", str(table)]) == 0
    (tmp_path / "files.toml").write_text('[population]\nteachers = "teachers.csv"\n[simulation]\nreplications = 5\n')
    assert main(["simulate", str(tmp_path / "files.toml"), "--out", str(tmp_path / "o2"), "--workers", "1"]) == 0
    assert json.loads((tmp_path / "o2" / "summary.json").read_text())["population"]["schools"] == 6


def test_brute_force_reference_is_itself_right():
    # Four points on a line: pairs (0,1), (2,3) cost 2; any other pairing costs more.
    pts = np.array([[0.0, 0], [1, 0], [10, 0], [11, 0]])
    assert _brute_min_pairs(pts) == pytest.approx(2.0)
    assert sorted(itertools.chain.from_iterable(_min_distance_pairs(pts))) == [0, 1, 2, 3]


def test_teacher_level_repairing_keeps_the_policy_lists_of_teachers_present():
    """Per-draw pairing on the treated teachers: must/do-not-pair entries naming untreated teachers are dropped
    for that draw instead of failing it."""
    whole = design(simulation={"replications": 2})
    pop = load_population(whole)
    assert pop.pairs is not None and len(pop.pairs) > 2
    ids = pop.table.teacher_id
    must = [str(ids[pop.pairs.a[0]]), str(ids[pop.pairs.b[0]])]
    avoid = [str(ids[pop.pairs.a[1]]), str(ids[pop.pairs.b[1]])]
    d = design(assignment={"unit": "teacher"}, pairing={"must_pair": [must], "do_not_pair": [avoid]},
               simulation={"replications": 8, "seed": 3})
    assert d.repairs_each_replication
    result = simulate(d, population=population_for(d, pop.table))
    assert len(result.replications) == 8 * 2
    assert result.replications["estimate"].notna().all()


def test_bundled_sample_design_runs():
    from pathlib import Path

    from matcher.rollouts.design import load_design

    d = load_design(Path(__file__).resolve().parent.parent / "data" / "samples" / "rollout.toml")
    assert d.assignment.method == "matched_pairs" and d.power_curve is not None
    result = simulate(d.replace(replications=4, power_curve=None))
    assert result.summary["population"]["schools"] == 14
    assert (result.assignment["arm"] == "treatment").sum() == 7


def test_pairing_section_problems_are_named_pairing_key():
    found = _problems({"population": {"synthetic": {"schools": 10}}, "pairing": {"mode": "sideways"}})
    assert any("column 'pairing.mode'" in p for p in found), found


def test_design_problems_come_before_the_pairing(monkeypatch):
    """Unknown columns and blocks too small are reported before the engine pairs a single school."""
    import matcher.rollouts.population as population

    def no_pairing(*args, **kwargs):
        raise AssertionError("the engine ran before the design was checked")

    monkeypatch.setattr(population, "pair_teachers", no_pairing)
    for assignment, message in (({"method": "blocked", "blocks": ["region"]}, "unknown school column"),
                                ({"balance_on": ["district_id"]}, "numeric"),
                                ({"method": "matched_pairs", "balance_on": ["nowhere"]}, "unknown school column")):
        with pytest.raises(InputError, match=message):
            simulate(design(assignment=assignment))
    with pytest.raises(InputError, match="power_curve.values"):
        simulate(design(power_curve={"vary": "schools", "values": [50]}))
    with pytest.raises(AssertionError, match="before the design was checked"):  # a good design does get paired
        simulate(design(simulation={"replications": 2}))
