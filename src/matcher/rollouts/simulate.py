"""`simulate(design)`: every replication of the design (and of each power-curve point), then the operating
characteristics of each estimator: bias, RMSE, power, coverage, the minimum detectable effect size."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError, Problem
from .design import Design, OutcomeSpec, design_to_dict
from .executors import EXECUTORS, DaskCluster, Progress, chunks, run_local
from .population import Population, load_population, with_pairs
from .replicate import COLUMNS, Prepared, RerandomizationError, first_draw, prepare


@dataclass(frozen=True, eq=False)
class RolloutResult:
    design: Design
    assignment: pd.DataFrame  # replication 0's draw
    balance: pd.DataFrame
    replications: pd.DataFrame  # one row per replication and estimator
    summary: dict[str, Any]
    power_curve: pd.DataFrame | None = None
    curve_replications: pd.DataFrame | None = field(default=None, repr=False)


def simulate(design: Design, *, executor: str = "local", workers: int = 1, scheduler: str | None = None,
             progress: Progress | None = None, population: Population | None = None,
             connect_timeout: float = 10.0) -> RolloutResult:
    """Run the design. Bad settings, an unreachable scheduler or a design the population cannot support raise
    InputError before any replication runs. progress(fraction) is called as replications finish."""
    started = time.perf_counter()
    if executor not in EXECUTORS:
        raise InputError([Problem("command line", "must be local or dask", column="--executor", value=executor)])
    if workers < 1:
        raise InputError([Problem("command line", "must be at least 1", column="--workers", value=str(workers))])
    cluster = DaskCluster(scheduler, workers, connect_timeout) if executor == "dask" else None
    try:
        timings: dict[str, float] = {}
        t = time.perf_counter()
        pop = population if population is not None else load_population(design, workers=workers, pair=False)
        _prepare_all(design, pop, check_only=True)  # every column and block problem, before the pairing
        pop = with_pairs(design, pop, workers)
        timings["population_seconds"] = time.perf_counter() - t
        preps, counts, labels = _prepare_all(design, pop)
        try:
            assignment, balance = first_draw(preps[0])
        except RerandomizationError as exc:
            raise InputError([Problem(design.source, str(exc), column="assignment.balance_threshold",
                                      value=str(design.assignment.balance_threshold))]) from None
        t = time.perf_counter()
        work = chunks(counts, workers)
        if cluster is not None:
            parts = cluster.run(preps, work, progress)
        else:
            parts = run_local(preps, work, workers, progress)
        timings["replications_seconds"] = time.perf_counter() - t
    finally:
        if cluster is not None:
            cluster.__exit__(None, None, None)
    by_point: list[list[tuple]] = [[] for _ in preps]
    for c, rows in zip(work, parts, strict=True):
        by_point[c.point].extend(rows)
    frames = [pd.DataFrame(rows, columns=list(COLUMNS)) for rows in by_point]
    main = frames[0]
    summary = {
        "design": design_to_dict(design),
        "population": _population_summary(pop),
        "first_draw": {"draws": int(balance.attrs.get("draws", 1)),
                       "treated_units": int((assignment["arm"] == "treatment").sum()),
                       "units": len(assignment)},
        "estimators": operating_characteristics(main, design),
        "executor": executor, "workers": workers,
        **{k: round(v, 3) for k, v in timings.items()},
        "seconds_per_replication": round(timings["replications_seconds"] / max(sum(counts), 1), 5),
        "elapsed_seconds": round(time.perf_counter() - started, 3),
    }
    curve = None
    curve_rows = None
    if design.power_curve is not None:
        curve, curve_rows = _curve(design, frames[1:], labels)
        summary["power_curve"] = _curve_summary(design, curve)
    return RolloutResult(design, assignment, balance, main, summary, curve, curve_rows)


def _prepare_all(design: Design, pop: Population, check_only: bool = False
                 ) -> tuple[list[Prepared], list[int], list[float]]:
    """The design's Prepared, then one per power-curve point; all checked before any replication runs
    (check_only: the checks alone, without forming matched pairs)."""
    match = not check_only
    preps = [prepare(design, pop, match=match)]
    counts = [design.replications]
    labels: list[float] = []
    curve = design.power_curve
    if curve is None:
        return preps, counts, labels
    for k, value in enumerate(curve.values):
        if curve.vary == "effect_target":
            point = design.replace(outcome=_with_effect(design.outcome, value))
            preps.append(prepare(point, pop, match=match))
        else:
            n = int(value)
            if n > pop.n_schools:
                raise InputError([Problem(design.source, f"the population has {pop.n_schools} schools",
                                          column="power_curve.values", value=str(n))])
            rng = np.random.default_rng(np.random.SeedSequence(design.seed, spawn_key=(2**32 - 1, k)))
            rows = np.sort(rng.choice(pop.n_schools, size=n, replace=False))
            preps.append(prepare(design, pop.subset(rows), f"{design.source} (power curve, {n} schools)", match))
        counts.append(curve.replications)
        labels.append(value)
    return preps, counts, labels


def _with_effect(outcome: OutcomeSpec, value: float) -> OutcomeSpec:
    return replace(outcome, effect_target=value)


def _population_summary(pop: Population) -> dict[str, Any]:
    out: dict[str, Any] = {"schools": pop.n_schools, "teachers": len(pop.table),
                           "target_teachers": int(pop.targets.sum()), "source": pop.table.source}
    if pop.pairs is not None:
        paired = np.zeros(len(pop.table), dtype=bool)
        paired[pop.pairs.a[pop.pairs.cover_ba > 0]] = True
        paired[pop.pairs.b[pop.pairs.cover_ab > 0]] = True
        out["pairs_if_every_school_took_part"] = len(pop.pairs)
        out["targets_with_a_partner_if_every_school_took_part"] = int((paired & pop.targets).sum())
    return out


def multiplier(alpha: float, power: float, df: float) -> float:
    """Bloom's MDES multiplier: t(1 - alpha/2) + t(power), two-sided, with df degrees of freedom."""
    return float(stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df))


def operating_characteristics(rows: pd.DataFrame, design: Design) -> dict[str, dict[str, Any]]:
    """Per estimator, over its replications (those where it could be computed)."""
    out: dict[str, dict[str, Any]] = {}
    alpha = design.analysis.alpha
    for name in design.estimators:
        g = rows[rows["estimator"] == name]
        ok = g[np.isfinite(g["estimate"]) & np.isfinite(g["se"]) & np.isfinite(g["truth"])]
        n = len(ok)
        if n == 0:
            out[name] = {"replications": 0, "failed": len(g)}
            continue
        err = ok["estimate"] - ok["truth"]
        reject = ok["p_value"] < alpha
        covered = (ok["ci_low"] <= ok["truth"]) & (ok["truth"] <= ok["ci_high"])
        sd = float(ok["estimate"].std(ddof=1)) if n > 1 else float("nan")
        df = float(ok["df"].median())
        power = float(reject.mean())
        out[name] = {
            "estimand": str(ok["estimand"].iloc[0]),
            "replications": n, "failed": int(len(g) - n),
            "truth_mean": float(ok["truth"].mean()),
            "mean_estimate": float(ok["estimate"].mean()), "sd_estimate": sd,
            "bias": float(err.mean()), "bias_mc_se": float(err.std(ddof=1) / np.sqrt(n)) if n > 1 else None,
            "rmse": float(np.sqrt((err ** 2).mean())),
            "power": power, "power_mc_se": float(np.sqrt(power * (1 - power) / n)),
            "coverage": float(covered.mean()),
            "mean_se": float(ok["se"].mean()),
            "df": df,
            "mdes": multiplier(alpha, design.analysis.power, df) * sd if n > 1 else None,
            "mean_treated_units": float(ok["treated_units"].mean()),
            "mean_targets_in_treated_arm": float(ok["targets_in_treated_arm"].mean()),
            "mean_targets_paired": float(ok["targets_paired"].mean()),
            "targets_paired_share": float(ok["targets_paired"].sum() / max(ok["targets_in_treated_arm"].sum(), 1)),
        }
    return out


def _curve(design: Design, frames: list[pd.DataFrame], labels: list[float]
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    assert design.power_curve is not None
    vary = design.power_curve.vary
    rows = []
    for value, frame in zip(labels, frames, strict=True):
        point = design.replace(outcome=_with_effect(design.outcome, value)) if vary == "effect_target" else design
        for name, oc in operating_characteristics(frame, point).items():
            if oc.get("replications"):
                rows.append({vary: value, "estimator": name, "power": oc["power"], "power_mc_se": oc["power_mc_se"],
                             "truth_mean": oc["truth_mean"], "mean_estimate": oc["mean_estimate"],
                             "bias": oc["bias"], "coverage": oc["coverage"], "mdes": oc["mdes"],
                             "replications": oc["replications"]})
    every = pd.concat([f.assign(**{vary: v}) for v, f in zip(labels, frames, strict=True)], ignore_index=True)
    return pd.DataFrame(rows), every


def _curve_summary(design: Design, curve: pd.DataFrame) -> dict[str, Any]:
    """Where each estimator's power first reaches the target, by linear interpolation between points."""
    assert design.power_curve is not None
    vary = design.power_curve.vary
    target = design.analysis.power
    reached: dict[str, float | None] = {}
    for name, g in curve.groupby("estimator", sort=False):
        g = g.sort_values(vary)
        xs, ps = g[vary].to_numpy(float), g["power"].to_numpy(float)
        reached[str(name)] = None
        for i in range(len(xs)):
            if ps[i] >= target:
                if i == 0:
                    reached[str(name)] = float(xs[0])
                else:
                    f = (target - ps[i - 1]) / (ps[i] - ps[i - 1])
                    reached[str(name)] = float(xs[i - 1] + f * (xs[i] - xs[i - 1]))
                break
    return {"vary": vary, "power_target": target, f"{vary}_reaching_power_target": reached}
