"""Pairing policy: who may pair with whom and what a pair is worth (defaults = the IPI policy)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from .config_files import read_settings
from .errors import InputError, Problem

Mode = Literal["mutual", "one_way"]
Affinity = Literal["any", "prefer_same", "require_same", "prefer_cross"]
Scope = Literal["school", "district", "all"]
Aggregate = Literal["mean", "median", "latest"]
Areas = Literal["thresholds", "relative", "designated"]
Stability = Literal["keep_untouched", "balanced", "full"]
IdPair = tuple[str, str]


@dataclass(frozen=True)
class Policy:
    """Every knob of the pairing; the defaults are PRODUCT.md's IPI policy."""

    mode: Mode = "mutual"
    max_targets_per_partner: int = 1  # one-way mode: K targets per partner
    weak_below: float | None = None  # None: the rubric's default threshold
    strong_at_least: float | None = None
    indicator_weights: tuple[tuple[str, float], ...] = ()
    domain_weights: tuple[tuple[str, float], ...] = ()
    weigh_gap_size: bool = False  # a covered indicator counts (partner score - target score) times its weight
    scope: Scope = "school"
    subject: Affinity = "any"
    grade: Affinity = "any"
    max_grade_distance: int | None = None
    max_junior_years: float | None = None  # a partner may not be this many years junior to the teacher helped
    preference_weight: float = 0.0  # 0: soft preferences only break ties among optimal pairings
    do_not_pair: tuple[IdPair, ...] = ()
    must_pair: tuple[IdPair, ...] = ()  # one-way mode: (partner, target)
    respect_opt_out: bool = True
    cross_school_fallback: bool = False
    fallback_max_km: float | None = None
    solver: str = "auto"
    time_limit_seconds: float | None = None  # per pool, one-way only; beyond it the answer is reported unproven
    aggregate: Aggregate = "mean"  # a teacher's score over several observations: mean, median or latest (by date)
    # Which indicators are a teacher's reinforcement and refinement areas: score thresholds (IPI), each teacher's
    # own k highest and k lowest scores (relative), or the areas named in the file (designated).
    areas: Areas = "thresholds"
    areas_per_teacher: int = 3  # relative: k
    min_gap: float = 1.0  # relative and designated: u supports v on i only when u's score is this far above v's
    two_way_weight: float = 0.0  # 0: pairs where each can support the other only break ties among optimal pairings
    # A re-run with earlier pairs: keep every one still allowed (keep_untouched), keep them unless breaking one
    # raises the value (balanced), or ignore them in the objective (full).
    previous_stability: Stability = "keep_untouched"

    def replace(self, **changes: Any) -> Policy:
        return dataclasses.replace(self, **changes)

    def lists_within(self, teachers: set[str] | frozenset[str]) -> Policy:
        """The policy with do_not_pair and must_pair cut to the entries whose two teachers are both among
        `teachers`: the lists constrain only the teachers they name, so a part of the data (one school's re-match,
        a rollout's draw) is neither refused for, nor told about, entries on other teachers."""
        if not (self.do_not_pair or self.must_pair):
            return self
        return self.replace(**{k: tuple(p for p in getattr(self, k) if p[0] in teachers and p[1] in teachers)
                               for k in ("do_not_pair", "must_pair")})

    @property
    def soft_preferences(self) -> bool:
        return self.subject in ("prefer_same", "prefer_cross") or self.grade in ("prefer_same", "prefer_cross")


_FIELDS = {f.name: f for f in dataclasses.fields(Policy)}
_CHOICES: dict[str, Any] = {"mode": Mode, "subject": Affinity, "grade": Affinity, "scope": Scope,
                            "aggregate": Aggregate, "areas": Areas, "previous_stability": Stability}


def _pairs(value: Any, key: str, source: str, problems: list[Problem]) -> tuple[IdPair, ...]:
    out: list[IdPair] = []
    if not isinstance(value, list):
        problems.append(Problem(source, "must be a list of [teacher_id, teacher_id] pairs", column=key,
                                value=repr(value)))
        return ()
    for item in value:
        if (isinstance(item, list | tuple) and len(item) == 2 and all(isinstance(x, str | int) for x in item)
                and str(item[0]).strip() and str(item[1]).strip()):
            out.append((str(item[0]).strip(), str(item[1]).strip()))
        else:
            problems.append(Problem(source, "each entry must be [teacher_id, teacher_id]", column=key,
                                    value=repr(item)))
    return tuple(out)


def _weights(value: Any, key: str, source: str, problems: list[Problem]) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, dict):
        problems.append(Problem(source, "must be a table of name = weight", column=key, value=repr(value)))
        return ()
    out = []
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
            problems.append(Problem(source, "weights must be numbers >= 0", column=f"{key}.{k}", value=repr(v)))
        else:
            out.append((str(k), float(v)))
    return tuple(out)


def policy_from_dict(data: dict[str, Any], source: str = "policy", base: Policy | None = None) -> Policy:
    """Build a Policy from plain settings (a policy file, CLI flags, an API body), collecting every problem."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _FIELDS:
            problems.append(Problem(source, f"unknown setting; known settings: {', '.join(_FIELDS)}",
                                    column=key, value=repr(value)))
            continue
        if key in ("do_not_pair", "must_pair"):
            values[key] = _pairs(value, key, source, problems)
        elif key in ("indicator_weights", "domain_weights"):
            values[key] = _weights(value, key, source, problems)
        elif key in _CHOICES:
            allowed = get_args(_CHOICES[key])
            if value not in allowed:
                problems.append(Problem(source, f"must be one of {', '.join(allowed)}", column=key,
                                        value=repr(value)))
            else:
                values[key] = value
        elif key in ("weigh_gap_size", "respect_opt_out", "cross_school_fallback"):
            if not isinstance(value, bool):
                problems.append(Problem(source, "must be true or false", column=key, value=repr(value)))
            else:
                values[key] = value
        elif key == "solver":
            from .pairing.solvers import MATCHING_SOLVERS

            names = ("auto", *MATCHING_SOLVERS)
            if value not in names:
                problems.append(Problem(source, f"must be a solver name: one of {', '.join(names)}", column=key,
                                        value=repr(value)))
            else:
                values[key] = value
        elif key in ("max_targets_per_partner", "max_grade_distance", "areas_per_teacher"):
            lowest = 0 if key == "max_grade_distance" else 1
            if value is None and key == "max_grade_distance":
                values[key] = None
            elif isinstance(value, bool) or not isinstance(value, int) or value < lowest:
                problems.append(Problem(source, f"must be a whole number >= {lowest}", column=key,
                                        value=repr(value)))
            else:
                values[key] = value
        else:  # optional non-negative numbers
            if value is None and key not in ("preference_weight", "two_way_weight", "min_gap"):
                values[key] = None
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                problems.append(Problem(source, "must be a number >= 0", column=key, value=repr(value)))
            else:
                values[key] = float(value)
    if problems:
        raise InputError(problems)
    policy = (base or Policy()).replace(**values)
    if (policy.weak_below is not None and policy.strong_at_least is not None
            and policy.weak_below > policy.strong_at_least):
        raise InputError([Problem(source, "weak_below must not exceed strong_at_least", column="weak_below",
                                  value=f"{policy.weak_below} > {policy.strong_at_least}")])
    return policy


def load_policy(path: str | Path | None, base: Policy | None = None) -> Policy:
    if path is None:
        return base or Policy()
    return policy_from_dict(read_settings(path), str(path), base)


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    """JSON-ready settings (the inverse of policy_from_dict), for summaries and storage."""
    out: dict[str, Any] = {}
    for name in _FIELDS:
        v = getattr(policy, name)
        if name in ("indicator_weights", "domain_weights"):
            v = dict(v)
        elif name in ("do_not_pair", "must_pair"):
            v = [list(p) for p in v]
        out[name] = v
    return out
