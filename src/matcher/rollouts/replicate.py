"""One simulated trial: draw the assignment, draw take-up, run the pairing engine where the program runs, draw the
students' outcomes, estimate. Replication r's numbers depend only on (design, population, seed, r): its random
streams come from SeedSequence(seed, spawn_key=(r,)), so any executor and any number of workers give the same.

Outcomes are simulated as class means, which is exact in distribution for the estimators here (they use class
and school means only): with school, teacher and student variance shares icc_school, icc_teacher and
1 - icc_school - icc_teacher, a class of m students has mean
    x = a_school + a_teacher + a_class,  y = r x + sqrt(1 - r^2) (b_school + b_teacher + b_class) + effect,
where every a and b is normal with its level's variance (the class terms' divided by m) and r^2 is the baseline
score's R squared at every level. The effect on a teacher's students is the sum of the target effect (when the
teacher gets a partner; by areas covered if given), the partner effect (when they support another) and the
spillover (when the program runs in their school).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, MatcherError, Problem
from ..pairing.engine import pair_teachers
from .assignment import Blocks, block_codes, draw_blocked, matched_pairs, smd
from .design import Design
from .estimators import Data, Estimate, complier_iv, difference_in_means, method_for, regression, ri_adjustment
from .population import PairArrays, Population, pair_arrays
from .randomization import Space, coefficients, draw_space, enumerate_space, invert, pair_coefficients, space_size

# One row per replication and estimator. p_value, ci_low and ci_high are the estimator's inference (the summary
# names it); ri_* are randomization inference's (empty when analysis.randomization is false).
COLUMNS = ("replication", "estimator", "estimand", "truth", "estimate", "se", "df", "p_value", "ci_low", "ci_high",
           "ri_p_value", "ri_ci_low", "ri_ci_high", "treated_units", "draws", "max_abs_smd",
           "targets_in_treated_arm", "targets_paired", "paired_target_share")


class RerandomizationError(MatcherError):
    pass


@dataclass(frozen=True, eq=False)
class Prepared:
    """Everything fixed across replications (sent once to each worker)."""

    design: Design
    pop: Population
    blocks: Blocks  # over the assignment units
    balance: np.ndarray  # units x balance covariates
    balance_names: tuple[str, ...]
    ri_space: Space | None = None  # the whole assignment space, when small enough to enumerate

    @property
    def teacher_level(self) -> bool:
        return self.design.assignment.unit == "teacher"

    @property
    def paired(self) -> bool:
        """A matched-pair design of schools: the difference in means is the pair-difference estimator."""
        return self.design.assignment.method == "matched_pairs" and not self.teacher_level

    def method(self, estimator: str) -> str:
        a = self.design.analysis
        return method_for(estimator, a.inference, self.paired, a.randomization, self.ri_space is not None)

    def level(self, estimator: str) -> float:
        """The test's exact level at alpha: alpha, except for randomization inference over an enumerated space,
        whose p-values move in steps of 1/K: at most floor(alpha K) / K (6/128 for 7 matched pairs at 5%)."""
        alpha = self.design.analysis.alpha
        if self.method(estimator) != "randomization" or self.ri_space is None:
            return alpha
        k = len(self.ri_space.weights)
        return float(np.floor(alpha * k + 1e-9) / k)

    @property
    def ri_enumerated(self) -> str | None:
        """How randomization inference re-draws: None when off, else a phrase for the summary."""
        a = self.design.analysis
        if not a.randomization:
            return None
        if self.ri_space is not None:
            return f"every one of the {len(self.ri_space.weights):,} possible assignments (exact)"
        return f"{a.ri_draws:,} Monte Carlo re-draws of the assignment per replication"


def prepare(design: Design, pop: Population, source: str | None = None, match: bool = True) -> Prepared:
    """Check the design's columns against the population and set up blocks (InputError before any draw).
    match=False skips forming matched pairs (for a check only)."""
    a = design.assignment
    source = source or design.source
    problems: list[Problem] = []
    units = pop.teacher_covariates if a.unit == "teacher" else pop.schools
    what = "teacher" if a.unit == "teacher" else "school"
    for key, names in (("blocks", a.blocks), ("balance_on", a.balance_on)):
        for name in names:
            if name not in units.columns or name == "school_id":
                known = [c for c in units.columns if c != "school_id"]
                problems.append(Problem(source, f"unknown {what} column; known: {', '.join(known)}",
                                        column=f"assignment.{key}", value=name))
            elif key == "balance_on" and not pd.api.types.is_numeric_dtype(units[name]):
                problems.append(Problem(source, "balance is checked on numeric columns only",
                                        column=f"assignment.{key}", value=name))
    if problems:
        raise InputError(problems)
    if a.unit == "teacher":
        labels = pop.schools["school_id"].astype(str).tolist()
        blocks = Blocks(pop.teacher_school, labels)
    else:
        blocks = block_codes(pop.schools, a.blocks)
        if a.method == "matched_pairs":
            if match:
                blocks = matched_pairs(pop.schools[list(a.balance_on)], blocks)
        else:
            blocks = _small_blocks(blocks, a.small_blocks, pop.n_schools, source, ", ".join(a.blocks))
    if pop.n_schools < 2:
        raise InputError([Problem(source, "a trial needs at least 2 schools", column="population",
                                  value=str(pop.n_schools))])
    balance = units[list(a.balance_on)].to_numpy(dtype=float) if a.balance_on else np.zeros((len(units), 0))
    space = None
    if design.analysis.randomization and match and \
            space_size(blocks.codes, blocks.count, a.treated_share) <= design.analysis.ri_draws:
        rerandomized = a.method == "rerandomized"
        try:
            space = enumerate_space(blocks.codes, blocks.count, a.treated_share,
                                    balance if rerandomized else None, a.balance_threshold if rerandomized else None)
        except ValueError:  # no acceptable assignment: the first draw reports the re-randomization error
            space = None
    return Prepared(design, pop, blocks, balance, tuple(a.balance_on), space)


def _small_blocks(blocks: Blocks, rule: str, n_schools: int, source: str, columns: str) -> Blocks:
    """Blocks of fewer than 2 schools cannot have both arms: an error, or (small_blocks = "pool") one block."""
    sizes = np.bincount(blocks.codes, minlength=blocks.count)
    small = np.flatnonzero(sizes < 2)
    if not len(small):
        return blocks
    if rule == "pool" and sizes[small].sum() >= 2 and len(small) < blocks.count:
        keep = np.flatnonzero(sizes >= 2)
        new = np.full(blocks.count, len(keep), dtype=np.int64)
        new[keep] = np.arange(len(keep))
        return Blocks(new[blocks.codes], [blocks.labels[b] for b in keep] + ["pooled small blocks"])
    names = [blocks.labels[b] for b in small]
    shown = ", ".join(repr(s) for s in names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    hint = ("block on fewer columns" if rule == "pool" else
            'set assignment.small_blocks = "pool" to randomize them together, or block on fewer columns')
    raise InputError([Problem(source, f"{len(names)} of {blocks.count} blocks have fewer than 2 of the {n_schools} "
                                      f"schools, so they cannot have both arms: {shown}; {hint}",
                              column="assignment.blocks", value=columns)])


def _streams(design: Design, r: int) -> list[np.random.Generator]:
    """Assignment, take-up, outcomes, randomization inference's re-draws (a fourth child: the first three are
    as they were before it existed)."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(design.seed, spawn_key=(r,)).spawn(4)]


def redraws(prep: Prepared, rng: np.random.Generator) -> Space:
    """The assignments randomization inference compares the observed one with: the whole space when it was
    enumerated, else analysis.ri_draws draws by the design's own procedure (randomization.draw_space)."""
    if prep.ri_space is not None:
        return prep.ri_space
    a = prep.design.assignment
    rerandomized = a.method == "rerandomized"
    try:
        return draw_space(rng, prep.blocks.codes, prep.blocks.count, a.treated_share, prep.design.analysis.ri_draws,
                          prep.balance if rerandomized else None, a.balance_threshold if rerandomized else None,
                          a.max_draws)
    except ValueError as exc:
        raise RerandomizationError(str(exc)) from None


def randomization_tests(prep: Prepared, data: Data, space: Space) -> dict[str, tuple[float, float, float]]:
    """Each estimator's (p-value, interval low, interval high) by randomization inference (randomization.invert).
    Estimators with the same adjustment (the regression and the complier effect) share one pass over the re-drawn
    assignments: the outcome's column is re-estimated once."""
    a = prep.design.analysis
    groups: dict[str, list[tuple[str, np.ndarray]]] = {}
    for name in prep.design.estimators:
        kind, second = ri_adjustment(name, data, prep.paired)
        groups.setdefault(kind, []).append((name, second))
    observed = data.z[None, :] > 0
    out = {}
    for kind, members in groups.items():
        Y = np.column_stack([data.y, *(second for _, second in members)])
        if kind == "pairs":
            coef = pair_coefficients(Y, space.Z, data.w, data.blocks)
            obs = pair_coefficients(Y, observed, data.w, data.blocks)[0]
        else:
            blocks = data.blocks if kind == "blocks" else np.zeros(len(data.y), dtype=np.int64)
            x = data.x if kind == "blocks" and a.covariate else None
            coef = coefficients(Y, space.Z, data.w, blocks, x)
            obs = coefficients(Y, observed, data.w, blocks, x)[0]
        for j, (name, _) in enumerate(members, start=1):
            ri = invert(coef[:, 0], coef[:, j], float(obs[0]), float(obs[j]), space.weights, space.exact, a.alpha)
            out[name] = (ri.p_value, ri.ci_low, ri.ci_high)
    return out


def assign(prep: Prepared, rng: np.random.Generator) -> tuple[np.ndarray, int, float]:
    """(treated per unit, draws taken, largest |SMD| of the balance covariates)."""
    a = prep.design.assignment
    draws = a.max_draws if a.method == "rerandomized" else 1
    best = np.inf
    for k in range(1, draws + 1):
        z = draw_blocked(rng, prep.blocks.codes, prep.blocks.count, a.treated_share)
        worst = float(np.nanmax(np.abs(smd(prep.balance, z)))) if prep.balance.shape[1] else 0.0
        if a.method != "rerandomized" or worst <= a.balance_threshold:
            return z, k, worst
        best = min(best, worst)
    raise RerandomizationError(f"none of {draws:,} draws had every |standardized mean difference| within "
                               f"{a.balance_threshold}; the best was {best:.3f}: raise assignment.balance_threshold "
                               "or assignment.max_draws")


def _pairs_for(prep: Prepared, eligible: np.ndarray) -> PairArrays:
    """The engine's pairing of the eligible teachers (each school on its own, as in the trial)."""
    rows = np.flatnonzero(eligible)
    if len(rows) < 2:
        return PairArrays(*(np.zeros(0, dtype=np.int64),) * 4)
    sub = prep.pop.table.subset(rows)
    policy = prep.pop.policy.lists_within(set(sub.teacher_id.tolist()))  # the draw may leave listed teachers out
    return pair_arrays(pair_teachers(sub, policy), sub, rows)


def teacher_effects(prep: Prepared, pairs: PairArrays, active: np.ndarray,
                    program: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(effect on each teacher's students, areas covered for each teacher as a target in an active pair)."""
    o = prep.design.outcome
    n = len(prep.pop.table)
    received = np.zeros(n, dtype=np.int64)
    np.maximum.at(received, pairs.b[active], pairs.cover_ab[active])
    np.maximum.at(received, pairs.a[active], pairs.cover_ba[active])
    gives = np.zeros(n, dtype=bool)
    gives[pairs.a[active & (pairs.cover_ab > 0)]] = True
    gives[pairs.b[active & (pairs.cover_ba > 0)]] = True
    by_areas = np.zeros(int(received.max(initial=0)) + 1)
    for c in range(1, len(by_areas)):
        by_areas[c] = o.effect_by_areas[min(c, len(o.effect_by_areas)) - 1] if o.effect_by_areas else o.effect_target
    tau = by_areas[received] + o.effect_partner * gives + o.spillover * program[prep.pop.teacher_school]
    return tau, received


def outcomes(prep: Prepared, rng: np.random.Generator, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(class mean outcome, class mean baseline score) per teacher."""
    o = prep.design.outcome
    ts = prep.pop.teacher_school
    rho_e = 1.0 - o.icc_school - o.icc_teacher
    school = rng.standard_normal((2, prep.pop.n_schools)) * np.sqrt(o.icc_school)
    teacher = rng.standard_normal((4, len(ts)))
    a = school[0][ts] + teacher[0] * np.sqrt(o.icc_teacher) + teacher[1] * np.sqrt(rho_e / o.students_per_teacher)
    b = school[1][ts] + teacher[2] * np.sqrt(o.icc_teacher) + teacher[3] * np.sqrt(rho_e / o.students_per_teacher)
    r = np.sqrt(o.covariate_r2)
    return r * a + np.sqrt(1.0 - o.covariate_r2) * b + tau, a


def school_outcomes(prep: Prepared, rng: np.random.Generator, school_tau: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(school mean outcome, school mean baseline score): the mean of a school's n classes of m students, drawn
    at once. Its teacher part is normal with variance icc_teacher / n and its student part icc_student / (n m),
    so this has exactly the distribution of the mean of `outcomes` over the school, at a fraction of the cost."""
    o = prep.design.outcome
    n = prep.pop.teachers_per_school.astype(float)
    rho_e = 1.0 - o.icc_school - o.icc_teacher
    sd = np.sqrt(o.icc_teacher / n + rho_e / (n * o.students_per_teacher))
    z = rng.standard_normal((4, len(n)))
    a = z[0] * np.sqrt(o.icc_school) + z[1] * sd
    b = z[2] * np.sqrt(o.icc_school) + z[3] * sd
    r = np.sqrt(o.covariate_r2)
    return r * a + np.sqrt(1.0 - o.covariate_r2) * b + school_tau, a


def replicate(prep: Prepared, r: int) -> list[tuple]:
    """Replication r: one row per estimator (see COLUMNS)."""
    d = prep.design
    pop = prep.pop
    ts = pop.teacher_school
    rng_assign, rng_take, rng_out, rng_ri = _streams(d, r)
    z_unit, draws, worst = assign(prep, rng_assign)
    implements = rng_take.random(pop.n_schools) < d.takeup.principals
    opted = rng_take.random(len(ts)) < d.takeup.teachers
    if prep.teacher_level:
        z_teacher = z_unit
        program = implements & (np.bincount(ts, z_teacher, minlength=pop.n_schools) > 0)
        offered = z_teacher & implements[ts]
    else:
        z_teacher = z_unit[ts]
        program = z_unit & implements
        offered = program[ts]
    if pop.pairs is not None and not prep.teacher_level:
        pairs = pop.pairs
        active = offered[pairs.a] & opted[pairs.a] & opted[pairs.b]
    elif d.takeup.teachers_decide == "before_pairing":
        pairs = _pairs_for(prep, offered & opted)
        active = np.ones(len(pairs), dtype=bool)
    else:
        pairs = _pairs_for(prep, offered)
        active = opted[pairs.a] & opted[pairs.b]
    tau, received = teacher_effects(prep, pairs, active, program)
    m = float(d.outcome.students_per_teacher)
    if prep.teacher_level:
        y, x = outcomes(prep, rng_out, tau)
        data = Data(y, z_teacher.astype(float), (offered & opted).astype(float), x, np.full(len(ts), m),
                    ts, ts)
        unit_tau = tau
    else:
        count = pop.teachers_per_school
        unit_tau = np.bincount(ts, tau, minlength=pop.n_schools) / count
        y, x = school_outcomes(prep, rng_out, unit_tau)
        data = Data(y, z_unit.astype(float), program.astype(float), x, count * m, prep.blocks.codes,
                    np.arange(pop.n_schools))
    treated = data.z > 0
    compliers = data.d > 0
    itt = float(np.average(unit_tau[treated], weights=data.w[treated])) if treated.any() else float("nan")
    cace = float(np.average(unit_tau[compliers], weights=data.w[compliers])) if compliers.any() else float("nan")
    targets = pop.targets & z_teacher
    paired_targets = int((targets & (received > 0)).sum())
    common = (int(treated.sum()), draws, worst, int(targets.sum()), paired_targets,
              paired_targets / max(int(z_teacher.sum()), 1))
    tests = randomization_tests(prep, data, redraws(prep, rng_ri)) if d.analysis.randomization else {}
    rows = []
    for name in d.estimators:
        est = estimate(prep, name, data)
        estimand, truth = ("cace", cace) if name == "complier_iv" else ("itt", itt)
        ri = (float("nan"),) * 3
        if name in tests and np.isfinite(est.estimate):
            ri = tests[name]
            if prep.method(name) == "randomization":
                est = est._replace(p_value=ri[0], ci_low=ri[1], ci_high=ri[2])
        rows.append((r, name, estimand, truth, *est, *ri, *common))
    return rows


def estimate(prep: Prepared, name: str, data: Data) -> Estimate:
    a = prep.design.analysis
    method = prep.method(name)
    if name == "difference_in_means":
        return difference_in_means(data, a.alpha, method, prep.paired)
    if name == "regression":
        return regression(data, a.alpha, a.covariate, method)
    return complier_iv(data, a.alpha, a.covariate, method)


def run_chunk(prep: Prepared, start: int, stop: int) -> list[tuple]:
    """Replications start..stop-1, in order."""
    out: list[tuple] = []
    for r in range(start, stop):
        out.extend(replicate(prep, r))
    return out


def first_draw(prep: Prepared) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replication 0's assignment table and balance table (its draw is the one replication 0 analyses)."""
    from .assignment import balance_table

    d = prep.design
    rng_assign, rng_take, _, _ = _streams(d, 0)
    z, draws, _ = assign(prep, rng_assign)
    implements = rng_take.random(prep.pop.n_schools) < d.takeup.principals
    pop = prep.pop
    if prep.teacher_level:
        table = pd.DataFrame({"teacher_id": pop.table.teacher_id, "school_id": pop.table.school_id,
                              "arm": np.where(z, "treatment", "control"),
                              "school_implements": implements[pop.teacher_school]})
        covariates = pop.teacher_covariates
    else:
        table = pd.DataFrame({"school_id": pop.schools["school_id"],
                              "block": np.asarray(prep.blocks.labels, dtype=object)[prep.blocks.codes],
                              "arm": np.where(z, "treatment", "control"),
                              "implements": np.where(z, implements, False),
                              "teachers": pop.schools["teachers"]})
        covariates = pop.schools
    for name in prep.balance_names:
        if name not in table:
            table[name] = covariates[name].to_numpy()
    balance = balance_table(covariates[list(prep.balance_names)], z, d.assignment.balance_threshold)
    balance.attrs["draws"] = draws
    return table, balance
