"""Encode teachers and a policy as integer arrays: who is weak/strong where, what each pair is worth, which
pairs the rules allow, and the soft preferences used to break ties."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, Problem
from ..io.grades import grade_distance
from ..io.teachers import TeacherTable
from ..policy import Policy

FIXED_POINT = 1000  # value units per point when weights are fractional or gaps are sized


@dataclass(frozen=True, eq=False)
class Scoring:
    """Weak/strong flags per teacher and indicator, indicator weights and the value's fixed-point scale."""

    weak: np.ndarray  # (n, k) bool; a missing score is neither weak nor strong
    strong: np.ndarray
    weights: np.ndarray  # (k,) float
    scale: int  # value units per value point
    weak_below: float
    strong_at_least: float
    gap_size: bool

    def help_units(self, scores: np.ndarray, helpers: np.ndarray, learners: np.ndarray) -> np.ndarray:
        """(len(helpers), len(learners)) value units of what each helper offers each learner (integers)."""
        s_h, s_l = self.strong[helpers], self.weak[learners]
        if not self.gap_size:
            if self.scale == 1:
                return (s_h.astype(np.int64) * self.weights.astype(np.int64)) @ s_l.T.astype(np.int64)
            return np.rint(self.scale * ((s_h * self.weights) @ s_l.T)).astype(np.int64)
        sh = np.nan_to_num(scores[helpers])
        sl = np.nan_to_num(scores[learners])
        hw = s_h * self.weights
        gap = (hw * sh) @ s_l.T - hw @ (s_l * sl).T
        return np.rint(self.scale * gap).astype(np.int64)

    def indicator_units(self, scores: np.ndarray, helper: int, learner: int) -> np.ndarray:
        """(k,) value units of each indicator the helper covers for the learner (0 where not covered)."""
        covered = self.strong[helper] & self.weak[learner]
        g = np.nan_to_num(scores[helper] - scores[learner]) if self.gap_size else 1.0
        return np.where(covered, self.weights * g, 0.0)


def build_scoring(table: TeacherTable, policy: Policy, source: str = "policy") -> Scoring:
    rubric = table.rubric
    weak_below = rubric.weak_below if policy.weak_below is None else policy.weak_below
    strong_at = rubric.strong_at_least if policy.strong_at_least is None else policy.strong_at_least
    problems: list[Problem] = []
    for key, value in (("weak_below", weak_below), ("strong_at_least", strong_at)):
        if not rubric.scale_min <= value <= rubric.scale_max + 1e-9:
            problems.append(Problem(source, f"threshold outside the {rubric.name} scale "
                                            f"{rubric.scale_min:g} to {rubric.scale_max:g}", column=key,
                                    value=str(value)))
    if weak_below > strong_at:
        problems.append(Problem(source, "weak_below must not exceed strong_at_least", column="weak_below",
                                value=f"{weak_below} > {strong_at}"))
    domains = {d for d, _ in rubric.domains}
    dw = dict(policy.domain_weights)
    iw = dict(policy.indicator_weights)
    for d in dw:
        if d not in domains:
            problems.append(Problem(source, f"unknown domain of the {rubric.name} rubric ({', '.join(domains)})",
                                    column=f"domain_weights.{d}", value=d))
    for i in iw:
        if i not in rubric.indicators:
            problems.append(Problem(source, f"unknown indicator of the {rubric.name} rubric",
                                    column=f"indicator_weights.{i}", value=i))
    if problems:
        raise InputError(problems)
    weights = np.array([iw.get(i, 1.0) * dw.get(rubric.domain_of(i), 1.0) for i in rubric.indicators])
    integral = bool(np.all(weights == np.round(weights))) and float(policy.preference_weight).is_integer()
    scale = 1 if integral and not policy.weigh_gap_size else FIXED_POINT
    s = table.scores
    with np.errstate(invalid="ignore"):
        weak = s < weak_below
        strong = s >= strong_at
    # Equal thresholds would make a score both; a teacher's score cannot be a refinement and a reinforcement.
    strong &= ~weak
    return Scoring(weak, strong, weights, scale, weak_below, strong_at, policy.weigh_gap_size)


# Reasons a candidate pair is refused by a hard rule, in the order they are checked (used in explanations).
RULES = ("opt_out", "do_not_pair", "subject", "grade", "grade_distance", "distance")


@dataclass(frozen=True, eq=False)
class Group:
    """One pool of teachers that may pair among themselves (a school, a district, or a fallback pool)."""

    members: np.ndarray  # global teacher indices
    help: np.ndarray  # (m, m) value units member i offers member j (after the experience rule)
    help_raw: np.ndarray  # (m, m) the same before the experience rule
    allowed: np.ndarray  # (m, m) bool: every hard rule passes
    soft: np.ndarray  # (m, m) int: soft-preference score in 0..2 (symmetric)
    refused: dict[str, np.ndarray]  # rule -> (m, m) bool, where that rule refuses an otherwise useful pair


def build_group(table: TeacherTable, scoring: Scoring, policy: Policy, members: np.ndarray,
                forbidden: set[tuple[int, int]], other_school_only: bool = False,
                km: np.ndarray | None = None) -> Group:
    """Matrices for one pool. km: (m, m) distances between the members' schools, when a limit applies."""
    m = len(members)
    help_raw = scoring.help_units(table.scores, members, members)
    np.fill_diagonal(help_raw, 0)
    help_ = help_raw
    if policy.max_junior_years is not None:
        help_ = help_raw.copy()
        yrs = table.years[members]
        junior = (yrs[None, :] - yrs[:, None]) > policy.max_junior_years  # helper i much junior to learner j
        help_[junior] = 0
    useful = (help_ > 0) | (help_.T > 0)
    refused: dict[str, np.ndarray] = {}
    allowed = useful.copy()

    def refuse(rule: str, mask: np.ndarray) -> None:
        nonlocal allowed
        hit = mask & useful
        if hit.any():
            refused[rule] = hit
            allowed &= ~mask

    if policy.respect_opt_out:
        opt = table.opt_out[members]
        refuse("opt_out", opt[:, None] | opt[None, :])
    if forbidden:
        pos = {int(g): i for i, g in enumerate(members.tolist())}
        mask = np.zeros((m, m), dtype=bool)
        for a, b in forbidden:
            if a in pos and b in pos:
                mask[pos[a], pos[b]] = mask[pos[b], pos[a]] = True
        refuse("do_not_pair", mask)
    subj = table.subject[members]
    same_subject = subj[:, None] == subj[None, :]
    if policy.subject == "require_same":
        refuse("subject", ~same_subject)
    grades = table.grades[members]
    need_distance = policy.grade != "any" or policy.max_grade_distance is not None
    dist = grade_distance(grades[:, None], grades[None, :]) if need_distance else None
    if policy.grade == "require_same" and dist is not None:
        refuse("grade", dist > 0)
    if policy.max_grade_distance is not None and dist is not None:
        refuse("grade_distance", dist > policy.max_grade_distance)
    if other_school_only:
        sch = table.school_id[members]
        allowed &= sch[:, None] != sch[None, :]
    if km is not None and policy.fallback_max_km is not None:
        refuse("distance", km > policy.fallback_max_km)
    np.fill_diagonal(allowed, False)
    soft = np.zeros((m, m), dtype=np.int64)
    if policy.subject == "prefer_same":
        soft += same_subject
    elif policy.subject == "prefer_cross":
        soft += ~same_subject
    if dist is not None and policy.grade == "prefer_same":
        soft += dist == 0
    elif dist is not None and policy.grade == "prefer_cross":
        soft += dist > 0
    return Group(members, help_, help_raw, allowed, soft, refused)
