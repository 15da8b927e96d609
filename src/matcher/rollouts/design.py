"""A rollout design: who is in the trial, how units are assigned, who takes the program up, how schools pair
teachers, how student outcomes respond, how the effect is estimated, and how many replications to run.

`load_design(path)` reads a TOML or JSON file, `design_from_dict(data, source)` an API body; both check every
setting before any work starts and report every problem at once, each named by its section and key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..config_files import read_settings
from ..errors import InputError, Problem
from ..policy import Policy, load_policy, policy_from_dict, policy_to_dict

UNITS = ("school", "teacher")
METHODS = ("complete", "blocked", "matched_pairs", "rerandomized")
TEACHERS_DECIDE = ("after_pairing", "before_pairing")
ESTIMATORS = ("difference_in_means", "regression", "complier_iv")
# auto: each estimator's own small-sample inference (estimators.py); the others apply to every estimator.
INFERENCE = ("auto", "cr2", "cr3", "cr1", "randomization")
VARY = ("effect_target", "schools")
TEACHER_BALANCE = ("years", "mean_score", "refinement_areas")
COLUMN_ALIASES = {"district": "district_id", "size band": "size_band", "score quartile": "score_quartile"}


@dataclass(frozen=True)
class PopulationSpec:
    """Either files (teachers CSV, optional schools CSV and long-file roster) or a seeded synthetic district."""

    teachers: str | None = None
    schools: str | None = None
    roster: str | None = None
    rubric: str = "team"
    synthetic_schools: int | None = None
    synthetic_mean_size: float = 39.0
    synthetic_seed: int = 1

    @property
    def synthetic(self) -> bool:
        return self.teachers is None


@dataclass(frozen=True)
class AssignmentSpec:
    unit: str = "school"  # school: cluster-randomized; teacher: within-school (schools are the blocks)
    method: str = "complete"
    blocks: tuple[str, ...] = ()
    treated_share: float = 0.5
    balance_on: tuple[str, ...] = ("teachers", "mean_score", "share_targets")
    balance_threshold: float = 0.1  # largest |standardized mean difference| a re-randomized draw may have
    max_draws: int = 10_000
    small_blocks: str = "error"  # blocks of fewer than 2 schools: error, or pool them into one block


@dataclass(frozen=True)
class TakeupSpec:
    principals: float = 1.0  # share of treated principals who implement
    teachers: float = 1.0  # share of teachers who opt in
    teachers_decide: str = "after_pairing"  # after: a suggested pair goes ahead when both opt in; before: re-pair


@dataclass(frozen=True)
class OutcomeSpec:
    """Standardized student outcome (variance 1 without treatment), simulated as class means."""

    students_per_teacher: int = 25
    icc_school: float = 0.15
    icc_teacher: float = 0.10
    covariate_r2: float = 0.5  # share of the outcome's variance, at every level, explained by the baseline score
    effect_target: float = 0.12  # on students of a target teacher who gets a partner (SD)
    effect_partner: float = 0.0  # on students of a teacher who supports another
    spillover: float = 0.0  # on every student of a school where the program runs
    effect_by_areas: tuple[float, ...] = ()  # effect on a target's students by areas covered: 1, 2, ..., last+


@dataclass(frozen=True)
class AnalysisSpec:
    estimators: tuple[str, ...] = ("difference_in_means", "regression")
    alpha: float = 0.05
    power: float = 0.8  # for the minimum detectable effect size
    covariate: bool = True  # the regression adjusts for the baseline score
    inference: str = "auto"  # the p-values and intervals the diagnosands use (INFERENCE)
    randomization: bool = True  # also randomization-inference p-values and intervals for every estimator
    ri_draws: int = 1000  # assignments re-drawn per replication; a smaller space is enumerated exactly
    check_size: bool = False  # also run the design without any effect, for each estimator's size


@dataclass(frozen=True)
class PowerCurveSpec:
    vary: str = "effect_target"
    values: tuple[float, ...] = ()
    replications: int = 200


@dataclass(frozen=True)
class Design:
    population: PopulationSpec
    assignment: AssignmentSpec = field(default_factory=AssignmentSpec)
    takeup: TakeupSpec = field(default_factory=TakeupSpec)
    policy: Policy = field(default_factory=Policy)
    outcome: OutcomeSpec = field(default_factory=OutcomeSpec)
    analysis: AnalysisSpec = field(default_factory=AnalysisSpec)
    replications: int = 1000
    seed: int = 1
    power_curve: PowerCurveSpec | None = None
    source: str = "design"

    def replace(self, **changes: Any) -> Design:
        return dataclasses.replace(self, **changes)

    @property
    def repairs_each_replication(self) -> bool:
        """Whether the pairing depends on the draw (teacher-level units, or teachers opting in before pairing)."""
        return self.assignment.unit == "teacher" or (
            self.takeup.teachers < 1 and self.takeup.teachers_decide == "before_pairing")

    @property
    def estimators(self) -> tuple[str, ...]:
        """The analysis' estimators, with the complier (IV) estimate added whenever principals may not implement
        or teachers may not opt in."""
        names = self.analysis.estimators
        if (self.takeup.principals < 1 or self.takeup.teachers < 1) and "complier_iv" not in names:
            names = (*names, "complier_iv")
        return names


def design_to_dict(design: Design) -> dict[str, Any]:
    """JSON-ready settings, the inverse of design_from_dict (paths as given)."""
    pop = design.population
    population: dict[str, Any] = (
        {"synthetic": {"schools": pop.synthetic_schools, "mean_size": pop.synthetic_mean_size,
                       "seed": pop.synthetic_seed}, "rubric": pop.rubric} if pop.synthetic else
        {k: v for k, v in (("teachers", pop.teachers), ("schools", pop.schools), ("roster", pop.roster),
                           ("rubric", pop.rubric)) if v is not None})
    out: dict[str, Any] = {
        "population": population,
        "assignment": _plain(design.assignment),
        "takeup": _plain(design.takeup),
        "pairing": policy_to_dict(design.policy),
        "outcome": _plain(design.outcome),
        "analysis": _plain(design.analysis),
        "simulation": {"replications": design.replications, "seed": design.seed},
    }
    if design.power_curve is not None:
        out["power_curve"] = _plain(design.power_curve)
    return out


def _plain(spec: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(spec).items()}


def load_design(path: str | Path) -> Design:
    """Read a design file; relative paths inside it are relative to the file's folder."""
    p = Path(path)
    return design_from_dict(read_settings(p), str(p), base_dir=p.resolve().parent)


class _Reader:
    """Reads one section's keys, recording a Problem (section.key and the value) for each bad one."""

    def __init__(self, data: Any, section: str, source: str, problems: list[Problem], known: tuple[str, ...]):
        self.section, self.source, self.problems = section, source, problems
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.fail("", "must be a table of settings", data)
            data = {}
        for key in data:
            if key not in known:
                self.fail(key, f"unknown setting; known settings: {', '.join(known)}", data[key])
        self.data = data

    def fail(self, key: str, message: str, value: Any = None) -> None:
        column = f"{self.section}.{key}" if key else self.section
        shown = None if value is None else value if isinstance(value, str) else repr(value)
        self.problems.append(Problem(self.source, message, column=column, value=shown))

    def has(self, key: str) -> bool:
        return key in self.data

    def number(self, key: str, default: float, lo: float | None = None, hi: float | None = None,
               lo_open: bool = False, hi_open: bool = False) -> float:
        v = self.data.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int | float):
            self.fail(key, "must be a number", v)
            return default
        v = float(v)
        below = lo is not None and (v <= lo if lo_open else v < lo)
        above = hi is not None and (v >= hi if hi_open else v > hi)
        if below or above:
            lo_txt = "" if lo is None else f"{'>' if lo_open else '>='} {lo:g}"
            hi_txt = "" if hi is None else f"{'<' if hi_open else '<='} {hi:g}"
            self.fail(key, f"must be {' and '.join(t for t in (lo_txt, hi_txt) if t)}", v)
            return default
        return v

    def integer(self, key: str, default: int | None, lo: int, hi: int | None = None) -> int | None:
        v = self.data.get(key, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
            self.fail(key, f"must be a whole number >= {lo}" + (f" and <= {hi:,}" if hi is not None else ""), v)
            return default
        return v

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        v = self.data.get(key, default)
        if v not in allowed:
            self.fail(key, f"must be one of {', '.join(allowed)}", v)
            return default
        return v

    def text(self, key: str) -> str | None:
        v = self.data.get(key)
        if v is not None and (not isinstance(v, str) or not v.strip()):
            self.fail(key, "must be a non-empty text", v)
            return None
        return v

    def flag(self, key: str, default: bool) -> bool:
        v = self.data.get(key, default)
        if not isinstance(v, bool):
            self.fail(key, "must be true or false", v)
            return default
        return v

    def names(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        v = self.data.get(key, list(default))
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            self.fail(key, "must be a list of names", v)
            return default
        return tuple(COLUMN_ALIASES.get(x.strip(), x.strip()) for x in v)

    def numbers(self, key: str, default: tuple[float, ...]) -> tuple[float, ...]:
        v = self.data.get(key, list(default))
        if not isinstance(v, list) or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in v):
            self.fail(key, "must be a list of numbers", v)
            return default
        return tuple(float(x) for x in v)


SMALL_BLOCKS = ("error", "pool")
SECTIONS = ("population", "assignment", "takeup", "pairing", "outcome", "analysis", "simulation", "power_curve")
# The API caps these, since a request's work must stay bounded; the CLI has no cap.
MAX_REPLICATIONS = 1_000_000
MAX_RI_DRAWS = 100_000  # per replication: each is one more fit of every estimator


def design_from_dict(data: dict[str, Any], source: str = "design", base_dir: Path | None = None,
                     max_replications: int = MAX_REPLICATIONS) -> Design:
    """Build and check a Design; every problem is collected and raised together as an InputError."""
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise InputError([Problem(source, "the design must be a table of sections")])
    for key in data:
        if key not in SECTIONS:
            problems.append(Problem(source, f"unknown section; known sections: {', '.join(SECTIONS)}",
                                    column=key))

    population = _population(_Reader(data.get("population"), "population", source, problems,
                                     ("teachers", "schools", "roster", "rubric", "synthetic")), base_dir)
    if "population" not in data:
        problems.append(Problem(source, "missing: give teachers = \"file.csv\" or synthetic = {schools = N, seed = S}",
                                column="population"))

    r = _Reader(data.get("assignment"), "assignment", source, problems,
                ("unit", "method", "blocks", "treated_share", "balance_on", "balance_threshold", "max_draws",
                 "small_blocks"))
    assignment = AssignmentSpec(
        unit=r.choice("unit", "school", UNITS), method=r.choice("method", "complete", METHODS),
        blocks=r.names("blocks", ()), treated_share=r.number("treated_share", 0.5, 0, 1, True, True),
        balance_on=r.names("balance_on", TEACHER_BALANCE if r.data.get("unit") == "teacher"
                           else AssignmentSpec.balance_on),
        balance_threshold=r.number("balance_threshold", 0.1, 0, None, True),
        max_draws=r.integer("max_draws", 10_000, 1, 10_000_000) or 10_000,
        small_blocks=r.choice("small_blocks", "error", SMALL_BLOCKS))
    if assignment.method == "blocked" and not assignment.blocks:
        r.fail("blocks", "a blocked design needs block columns, e.g. blocks = [\"district\", \"level\"]")
    if assignment.method in ("matched_pairs", "rerandomized") and not assignment.balance_on:
        r.fail("balance_on", f"{assignment.method.replace('_', ' ')} needs covariates to "
                             f"{'match' if assignment.method == 'matched_pairs' else 'balance'} on", [])
    if assignment.method == "matched_pairs" and assignment.treated_share != 0.5:
        r.fail("treated_share", "matched pairs put one school of each pair in each arm: the share is 0.5",
               assignment.treated_share)
    if assignment.unit == "teacher" and (assignment.method in ("matched_pairs", "blocked") or assignment.blocks):
        r.fail("method", "teacher-level designs are always blocked by school: use complete or rerandomized, "
                         "without blocks", assignment.method)

    r = _Reader(data.get("takeup"), "takeup", source, problems, ("principals", "teachers", "teachers_decide"))
    takeup = TakeupSpec(principals=r.number("principals", 1.0, 0, 1, True),
                        teachers=r.number("teachers", 1.0, 0, 1, True),
                        teachers_decide=r.choice("teachers_decide", "after_pairing", TEACHERS_DECIDE))

    policy = _policy(data.get("pairing"), source, base_dir, problems)

    r = _Reader(data.get("outcome"), "outcome", source, problems,
                ("students_per_teacher", "icc_school", "icc_teacher", "covariate_r2", "effect_target",
                 "effect_partner", "spillover", "effect_by_areas"))
    outcome = OutcomeSpec(
        students_per_teacher=r.integer("students_per_teacher", 25, 1, 10_000) or 25,
        icc_school=r.number("icc_school", 0.15, 0, 1, hi_open=True),
        icc_teacher=r.number("icc_teacher", 0.10, 0, 1, hi_open=True),
        covariate_r2=r.number("covariate_r2", 0.5, 0, 1, hi_open=True),
        effect_target=r.number("effect_target", 0.12), effect_partner=r.number("effect_partner", 0.0),
        spillover=r.number("spillover", 0.0), effect_by_areas=r.numbers("effect_by_areas", ()))
    if outcome.icc_school + outcome.icc_teacher >= 1:
        r.fail("icc_teacher", "icc_school + icc_teacher must be below 1 (students' own share of the variance)",
               outcome.icc_school + outcome.icc_teacher)

    r = _Reader(data.get("analysis"), "analysis", source, problems,
                ("estimators", "alpha", "power", "covariate", "inference", "randomization", "ri_draws", "check_size"))
    estimators = r.names("estimators", AnalysisSpec.estimators)
    for name in estimators:
        if name not in ESTIMATORS:
            r.fail("estimators", f"unknown estimator; known: {', '.join(ESTIMATORS)}", name)
    if not estimators:
        r.fail("estimators", "name at least one estimator", [])
    analysis = AnalysisSpec(estimators=tuple(dict.fromkeys(e for e in estimators if e in ESTIMATORS)) or
                            AnalysisSpec.estimators,
                            alpha=r.number("alpha", 0.05, 0, 0.5, True, True),
                            power=r.number("power", 0.8, 0, 1, True, True), covariate=r.flag("covariate", True),
                            inference=r.choice("inference", "auto", INFERENCE),
                            randomization=r.flag("randomization", True),
                            ri_draws=r.integer("ri_draws", 1000, 19, MAX_RI_DRAWS) or 1000,
                            check_size=r.flag("check_size", False))
    if analysis.inference == "randomization" and not r.data.get("randomization", True):
        r.fail("randomization", "inference = \"randomization\" needs randomization = true", False)

    r = _Reader(data.get("simulation"), "simulation", source, problems, ("replications", "seed"))
    replications = r.integer("replications", 1000, 2, max_replications) or 1000
    seed = r.integer("seed", 1, 0) or 0

    curve = None
    if data.get("power_curve") is not None:
        r = _Reader(data.get("power_curve"), "power_curve", source, problems, ("vary", "values", "replications"))
        curve = PowerCurveSpec(vary=r.choice("vary", "effect_target", VARY), values=r.numbers("values", ()),
                               replications=r.integer("replications", 200, 2, max_replications) or 200)
        if not curve.values:
            r.fail("values", "give the values to vary, e.g. values = [0.0, 0.05, 0.1, 0.15, 0.2]", [])
        if curve.vary == "schools" and any(v < 2 or v != int(v) for v in curve.values):
            r.fail("values", "numbers of schools must be whole numbers >= 2", list(curve.values))
        if curve.vary == "effect_target" and outcome.effect_by_areas:
            r.fail("vary", "the effect on targets is set by outcome.effect_by_areas; vary schools instead",
                   curve.vary)
    if problems:
        raise InputError(problems)
    assert population is not None
    return Design(population, assignment, takeup, policy, outcome, analysis, replications, seed, curve, source)


def _population(r: _Reader, base_dir: Path | None) -> PopulationSpec | None:
    def path(key: str) -> str | None:
        v = r.text(key)
        if v is None:
            return None
        p = Path(v)
        return str(p if p.is_absolute() or base_dir is None else base_dir / p)

    rubric = r.text("rubric") or "team"
    if rubric not in ("team", "danielson"):  # a rubric file, relative to the design file like the others
        rubric = path("rubric") or "team"
    synthetic = r.data.get("synthetic")
    teachers = path("teachers")
    if (synthetic is None) == (teachers is None):
        r.fail("", "give either teachers = \"file.csv\" or synthetic = {schools = N, mean_size = M, seed = S}")
        return None
    if synthetic is None:
        return PopulationSpec(teachers=teachers, schools=path("schools"), roster=path("roster"),
                              rubric=rubric)
    s = _Reader(synthetic, "population.synthetic", r.source, r.problems, ("schools", "mean_size", "seed"))
    if r.has("schools") or r.has("roster"):
        r.fail("schools", "a synthetic population makes its own schools; give no schools or roster file")
    if not s.has("schools"):
        s.fail("schools", "how many schools: e.g. schools = 1800")
    return PopulationSpec(synthetic_schools=s.integer("schools", 14, 2, 100_000),
                          synthetic_mean_size=s.number("mean_size", 39.0, 2, 500),
                          synthetic_seed=s.integer("seed", 1, 0) or 0, rubric=rubric)


def _policy(data: Any, source: str, base_dir: Path | None, problems: list[Problem]) -> Policy:
    """[pairing]: the settings of a pairing policy, or policy = "file.toml" (then other keys override it)."""
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        problems.append(Problem(source, "must be a table of pairing settings", column="pairing", value=repr(data)))
        return Policy()
    settings = dict(data)
    base = Policy()
    try:
        if "policy" in settings:
            file = settings.pop("policy")
            if not isinstance(file, str):
                raise InputError([Problem(source, "must be a policy file's path", column="pairing.policy",
                                          value=repr(file))])
            p = Path(file)
            base = load_policy(p if p.is_absolute() or base_dir is None else base_dir / p)
        policy = policy_from_dict(settings, source, base)
    except InputError as exc:  # the policy reader names its keys alone: name them in the design's [pairing]
        problems.extend(replace(p, column=f"pairing.{p.column}") if p.file == source and p.column and
                        not p.column.startswith("pairing") else p for p in exc.problems)
        return Policy()
    if policy.scope != "school" or policy.cross_school_fallback:
        problems.append(Problem(source, "a simulated trial pairs teachers within their own school: scope must be "
                                        "school and cross_school_fallback false (a cross-school pair would link "
                                        "a treated school to a control school)", column="pairing.scope",
                                value=repr(policy.scope if policy.scope != "school" else "cross_school_fallback")))
    return policy
