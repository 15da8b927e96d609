"""`simulate(design)`: every replication of the design (and of each power-curve point, and of the design without
any effect when its size is checked), then each estimator's diagnosands with their Monte Carlo errors
(diagnosands.py), flags where size or coverage misses the nominal level, the textbook formula's MDES and power
beside the simulated ones (analytic.py), and the scale of every effect."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, Problem
from .design import Design, OutcomeSpec, design_to_dict
from .diagnosands import diagnose, flags
from .estimators import label
from .executors import EXECUTORS, DaskCluster, Progress, chunks, run_local
from .population import Population, load_population, with_pairs
from .replicate import COLUMNS, Prepared, RerandomizationError, first_draw, prepare
from .scales import analytic_summary, scales_summary


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
        preps, counts, labels, null_at = _prepare_all(design, pop)
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
    estimators = operating_characteristics(main, design, preps[0])
    size = None
    if null_at is not None:
        size = size_check(frames[null_at], design, preps[0], null_at, labels)
        for name, check in size["estimators"].items():
            estimators[name]["flags"] = check["flags"] + estimators[name].get("flags", [])
    summary = {
        "design": design_to_dict(design),
        "population": _population_summary(pop),
        "first_draw": {"draws": int(balance.attrs.get("draws", 1)),
                       "treated_units": int((assignment["arm"] == "treatment").sum()),
                       "units": len(assignment)},
        "estimators": estimators,
        "randomization": preps[0].ri_enumerated,
        "scales": scales_summary(design, main, estimators),
        "analytic": analytic_summary(design, pop, preps[0], estimators),
        **({"size": size} if size is not None else {}),
        "executor": executor, "workers": workers,
        **{k: round(v, 3) for k, v in timings.items()},
        "seconds_per_replication": round(timings["replications_seconds"] / max(sum(counts), 1), 5),
        "elapsed_seconds": round(time.perf_counter() - started, 3),
    }
    curve = None
    curve_rows = None
    if design.power_curve is not None:
        n_curve = len(design.power_curve.values)
        curve, curve_rows = _curve(design, frames[1:1 + n_curve], labels[:n_curve], preps[1:1 + n_curve])
        summary["power_curve"] = _curve_summary(design, curve)
    return RolloutResult(design, assignment, balance, main, summary, curve, curve_rows)


def _no_effect(outcome: OutcomeSpec) -> OutcomeSpec:
    return replace(outcome, effect_target=0.0, effect_partner=0.0, spillover=0.0, effect_by_areas=())


def _null(outcome: OutcomeSpec) -> bool:
    return outcome == _no_effect(outcome)


def _prepare_all(design: Design, pop: Population, check_only: bool = False
                 ) -> tuple[list[Prepared], list[int], list[float], int | None]:
    """The design's Prepared, then one per power-curve point, then the design without any effect when its size
    is checked and no other run has none; all checked before any replication runs (check_only: the checks alone,
    without forming matched pairs). The last item is the index of the run without effect (None: none)."""
    match = not check_only
    preps = [prepare(design, pop, match=match)]
    counts = [design.replications]
    labels: list[float] = []
    curve = design.power_curve
    null_at: int | None = 0 if _null(design.outcome) else None
    if curve is not None:
        _curve_points(design, pop, match, preps, counts, labels)
        if null_at is None and curve.vary == "effect_target":
            zero = [k for k, v in enumerate(curve.values) if v == 0 and _null(_with_effect(design.outcome, 0.0))]
            null_at = 1 + zero[0] if zero else None
    if null_at is None and design.analysis.check_size:
        preps.append(prepare(design.replace(outcome=_no_effect(design.outcome)), pop, match=match))
        counts.append(design.replications)
        null_at = len(preps) - 1
    return preps, counts, labels, null_at


def _curve_points(design: Design, pop: Population, match: bool, preps: list[Prepared], counts: list[int],
                  labels: list[float]) -> None:
    curve = design.power_curve
    assert curve is not None
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


def _finite(g: pd.DataFrame) -> pd.DataFrame:
    """The replications where the estimator could be computed."""
    return g[np.isfinite(g["estimate"]) & np.isfinite(g["se"]) & np.isfinite(g["truth"])]


def operating_characteristics(rows: pd.DataFrame, design: Design, prep: Prepared) -> dict[str, dict[str, Any]]:
    """Per estimator, over its replications (those where it could be computed): the inference it used, every
    diagnosand with its Monte Carlo SE, randomization inference's power and coverage, and coverage flags."""
    out: dict[str, dict[str, Any]] = {}
    a = design.analysis
    for k, name in enumerate(design.estimators):
        g = rows[rows["estimator"] == name]
        ok = _finite(g)
        n = len(ok)
        if n < 2:
            out[name] = {"replications": n, "failed": int(len(g) - n)}
            continue
        method = prep.method(name)
        diag = _diagnose(ok, a.alpha, a.power, float(ok["df"].median()), design.seed + k)
        oc: dict[str, Any] = {
            "estimand": str(ok["estimand"].iloc[0]),
            "inference": method, "inference_label": label(name, method),
            "replications": n, "failed": int(len(g) - n),
            "truth_mean": float(ok["truth"].mean()),
            "mean_estimate": float(ok["estimate"].mean()),
            **diag,
            "df": float(ok["df"].median()),
            "mean_treated_units": float(ok["treated_units"].mean()),
            "mean_targets_in_treated_arm": float(ok["targets_in_treated_arm"].mean()),
            "mean_targets_paired": float(ok["targets_paired"].mean()),
            "targets_paired_share": float(ok["targets_paired"].sum() / max(ok["targets_in_treated_arm"].sum(), 1)),
        }
        if a.randomization:
            ri = ok.assign(p_value=ok["ri_p_value"], ci_low=ok["ri_ci_low"], ci_high=ok["ri_ci_high"])
            rd = _diagnose(ri, a.alpha, a.power, oc["df"], design.seed + k)
            oc["randomization"] = {key: rd[key] for key in ("power", "power_mc_se", "coverage", "coverage_mc_se")}
            oc["randomization"]["infinite_intervals"] = int((~np.isfinite(ok["ri_ci_high"] - ok["ri_ci_low"])).sum())
        oc["level"] = prep.level(name)
        oc["flags"] = [] if _null(design.outcome) else flags(diag, alpha=oc["level"], null=False, replications=n)
        out[name] = oc
    return out


def _diagnose(ok: pd.DataFrame, alpha: float, power: float, df: float, seed: int) -> dict[str, Any]:
    """diagnose() on a frame of replications (its own count of replications left out: the caller has it)."""
    cols = [ok[c].to_numpy(float) for c in ("estimate", "se", "p_value", "ci_low", "ci_high", "truth")]
    diag: dict[str, Any] = diagnose(*cols, alpha=alpha, power=power, df=df, seed=seed)
    diag.pop("replications", None)
    return diag


def size_check(rows: pd.DataFrame, design: Design, prep: Prepared, at: int, labels: list[float]
               ) -> dict[str, Any]:
    """Each estimator's rejection rate without any effect (its size), with its Monte Carlo SE and a flag when it
    misses alpha by more than two Monte Carlo SEs; randomization inference's size beside it."""
    a = design.analysis
    source = ("the design itself (it sets no effect)" if at == 0 else
              "the power curve's point without effect" if at <= len(labels) else
              "a run of the design without any effect (analysis.check_size)")
    out: dict[str, Any] = {"source": source, "alpha": a.alpha, "estimators": {}}
    for k, name in enumerate(design.estimators):
        ok = _finite(rows[rows["estimator"] == name])
        n = len(ok)
        if n < 2:
            continue
        diag = _diagnose(ok, a.alpha, a.power, float(ok["df"].median()), design.seed + 100 + k)
        check: dict[str, Any] = {"replications": n, "size": diag["power"], "size_mc_se": diag["power_mc_se"],
                                 "inference": prep.method(name),
                                 "level": prep.level(name),
                                 "flags": [{**f, "message": f"without any effect: {f['message']}"}
                                           for f in flags(diag, alpha=prep.level(name), null=True, replications=n)]}
        if a.randomization:
            check["randomization_size"] = float((ok["ri_p_value"] < a.alpha).mean())
        out["estimators"][name] = check
    return out


def _curve(design: Design, frames: list[pd.DataFrame], labels: list[float], preps: list[Prepared]
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    assert design.power_curve is not None
    vary = design.power_curve.vary
    rows = []
    for value, frame, prep in zip(labels, frames, preps, strict=True):
        for name, oc in operating_characteristics(frame, prep.design, prep).items():
            if oc.get("replications"):
                rows.append({vary: value, "estimator": name, "inference": oc["inference"],
                             "power": oc["power"], "power_mc_se": oc["power_mc_se"],
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
