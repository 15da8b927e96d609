"""Encode teachers and a policy as integer arrays: each teacher's refinement and reinforcement areas (score
thresholds, each teacher's own lowest and highest scores, or the areas the file names), what each pair is worth,
which pairs the rules allow, and the soft preferences used to break ties."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, Problem
from ..io.grades import grade_distance
from ..io.teachers import TeacherTable
from ..policy import Policy

FIXED_POINT = 1000  # value units per point when weights are fractional or gaps are sized
GAP_EPSILON = 1e-9  # scores compared against min_gap with this tolerance (4.1 - 3.1 is 0.9999999999999996)
# Elements of one block of the cover test under relative and designated areas (a school's (helper, reinforcement
# area) rows x learners at once; a larger pool, up to the 8,000 teachers district scope allows, in blocks of helpers
# x learners, indicator by indicator), so memory stays bounded: a few arrays of this many elements.
CHUNK = 1 << 22
AREAS = ("thresholds", "relative", "designated")


@dataclass(frozen=True, eq=False)
class Scoring:
    """Each teacher's refinement and reinforcement areas, indicator weights and the value's fixed-point scale.

    Helper u covers learner v on indicator i (u can support v in i) when i is a reinforcement area of u and a
    refinement area of v; under relative and designated areas also u's score on i must be at least min_gap above
    v's (designated: where both scores exist; a missing score leaves the designation alone to decide). covers() is
    that test, and everything that counts or lists covered indicators goes through it.
    """

    weak: np.ndarray  # (n, k) bool: refinement areas (thresholds: score below weak_below; missing: neither)
    strong: np.ndarray  # (n, k) bool: reinforcement areas (thresholds: score at least strong_at_least)
    weights: np.ndarray  # (k,) float
    scale: int  # value units per value point
    weak_below: float
    strong_at_least: float
    gap_size: bool
    areas: str = "thresholds"  # thresholds, relative or designated
    min_gap: float | None = None  # None: no gap rule (thresholds, where the thresholds themselves set the gap)
    areas_per_teacher: int | None = None  # relative: k

    def covers(self, scores: np.ndarray, helpers: np.ndarray | int, learners: np.ndarray | int,
               indicator: np.ndarray | int | None = None) -> np.ndarray:
        """Whether each helper can support each learner, per indicator (bool).

        helpers and learners are teacher indices (or index arrays) broadcast against each other: two (p,) arrays
        give p pairs, (h, 1) and (1, l) every helper with every learner. The result has the broadcast shape plus
        a last axis of the rubric's indicators; with `indicator` (an index, or an index array broadcast with the
        teachers) only the broadcast shape, for that indicator."""
        gap = None
        if indicator is None:
            strong, weak = self.strong[helpers], self.weak[learners]
            if self.min_gap is not None:
                gap = scores[helpers] - scores[learners]
        else:
            strong, weak = self.strong[helpers, indicator], self.weak[learners, indicator]
            if self.min_gap is not None:
                gap = scores[helpers, indicator] - scores[learners, indicator]
        return self._cover_test(strong, weak, gap)

    def _cover_test(self, reinforce: np.ndarray | bool, refine: np.ndarray, gap: np.ndarray | None) -> np.ndarray:
        """The cover test on gathered arrays (broadcast together): the helper's reinforcement area, the learner's
        refinement area, and (relative, designated) the helper's score minus the learner's (gap) at least min_gap."""
        out = reinforce & refine
        if self.min_gap is not None:
            with np.errstate(invalid="ignore"):
                # NaN (a score missing on either side) compares false, so it never blocks: the designation decides.
                out &= ~(gap < self.min_gap - GAP_EPSILON)
        return out

    def _points(self, covered: np.ndarray, scores: np.ndarray, helpers: np.ndarray, learners: np.ndarray,
                indicator: np.ndarray | int | None = None) -> np.ndarray:
        """Value points of covered indicators (0 elsewhere), covered shaped as covers() gives it for the same
        arguments: the weight, times the gap with weigh_gap_size (a designated area without both scores counts its
        weight, as a gap of one point)."""
        w = self.weights if indicator is None else self.weights[indicator]
        if not self.gap_size:
            return self._points_of(covered, w, None)
        if indicator is None:
            gap = scores[helpers] - scores[learners]
        else:
            gap = scores[helpers, indicator] - scores[learners, indicator]
        return self._points_of(covered, w, gap)

    def _points_of(self, covered: np.ndarray, w: np.ndarray | float, gap: np.ndarray | None) -> np.ndarray:
        if not self.gap_size:
            return np.where(covered, w, 0.0)
        return np.where(covered, w * np.where(np.isnan(gap), 1.0, gap), 0.0)

    def help_units(self, scores: np.ndarray, helpers: np.ndarray, learners: np.ndarray) -> np.ndarray:
        """(len(helpers), len(learners)) value units of what each helper offers each learner (integers)."""
        if self.min_gap is None:  # thresholds: no gap rule, so a product of the area matrices
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
        return self._gap_rule_units(scores, np.asarray(helpers), np.asarray(learners))

    def _gap_rule_units(self, scores: np.ndarray, helpers: np.ndarray, learners: np.ndarray) -> np.ndarray:
        """help_units under relative and designated areas. A helper's points are summed indicator by indicator, in
        the rubric's order, before rounding to units, whichever way the pool is worked through."""
        h, n_l = len(helpers), len(learners)
        out = np.zeros((h, n_l), dtype=np.int64)
        # (helper, indicator) for every reinforcement area that counts, helper by helper, indicators in order
        hu, hj = np.nonzero(self.strong[helpers] & (self.weights > 0))
        if not len(hu) or not n_l:
            return out
        if len(hu) * n_l <= CHUNK:  # a school: every (helper, reinforcement area) against every learner at once
            # (rows of the learners' transposed arrays: the same test as covers(), gathered faster)
            gap = scores[helpers[hu], hj][:, None] - scores[learners].T[hj]
            covered = self._cover_test(True, self.weak[learners].T[hj], gap)
            pts = self._points_of(covered, self.weights[hj][:, None], gap)
            starts = np.flatnonzero(np.r_[True, hu[1:] != hu[:-1]])
            out[hu[starts]] = np.rint(self.scale * np.add.reduceat(pts, starts, axis=0))  # row by row, in order
            return out
        # A large pool: blocks of helpers; within a block, indicator by indicator, only the helpers with it as a
        # reinforcement area against the learners with it as a refinement area.
        k = len(self.weights)
        learn = [np.flatnonzero(self.weak[learners, j]) if self.weights[j] > 0 else np.zeros(0, dtype=np.int64)
                 for j in range(k)]
        rows = max(1, CHUNK // n_l)
        for start in range(0, h, rows):
            block = helpers[start:start + rows]
            acc = np.zeros((len(block), n_l))
            for j in range(k):
                li = learn[j]
                hi = np.flatnonzero(self.strong[block, j]) if len(li) else li
                if not len(hi):
                    continue
                hs, ls = block[hi][:, None], learners[li][None, :]
                acc[np.ix_(hi, li)] += self._points(self.covers(scores, hs, ls, j), scores, hs, ls, j)
            out[start:start + rows] = np.rint(self.scale * acc)
        return out

    def counted(self, scores: np.ndarray, helpers: np.ndarray | int, learners: np.ndarray | int) -> np.ndarray:
        """The covered indicators that add to the value (a weight above 0 and, with weigh_gap_size, a gap above 0:
        under min_gap = 0 an equal score is covered but worth nothing), as covers() shapes them: the indicators
        a pair lists."""
        covered = self.covers(scores, helpers, learners)
        if self.min_gap is None:  # thresholds: a covered gap is at least strong_at_least - weak_below > 0
            return covered & (self.weights > 0)
        return covered & (self._points(covered, scores, np.asarray(helpers), np.asarray(learners)) > 0)

    def indicator_units(self, scores: np.ndarray, helper: int, learner: int) -> np.ndarray:
        """(k,) value points of each indicator the helper covers for the learner (0 where not covered)."""
        return self._points(self.covers(scores, helper, learner), scores, np.asarray(helper), np.asarray(learner))


def relative_areas(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(refinement, reinforcement) areas, (n, indicators) bool, under relative areas: among each teacher's observed
    indicators, every one scored at or below their k-th lowest score, and every one at or above their k-th highest
    (ties included; all observed ones for a teacher with fewer than k)."""
    n = len(scores)
    observed = ~np.isnan(scores)
    count = observed.sum(axis=1)
    kk = np.minimum(k, count)
    ordered = np.sort(scores, axis=1)  # NaN last
    rows = np.arange(n)
    low = ordered[rows, np.maximum(kk - 1, 0)] if scores.shape[1] else np.full(n, np.nan)
    high = ordered[rows, np.maximum(count - kk, 0)] if scores.shape[1] else np.full(n, np.nan)
    with np.errstate(invalid="ignore"):
        refine = observed & (scores <= low[:, None])
        reinforce = observed & (scores >= high[:, None])
    return refine, reinforce


def _designated_areas(table: TeacherTable, source: str) -> tuple[np.ndarray, np.ndarray]:
    """(refinement, reinforcement) areas as the teachers file names them."""
    shape = table.scores.shape
    have = {"reinforcement_areas": table.reinforcement_areas is not None,
            "refinement_areas": table.refinement_areas is not None}
    if len(table) and not all(have.values()):
        missing = [c for c, ok in have.items() if not ok]
        what = "has neither column" if len(missing) == 2 else f"has no {missing[0]} column"
        raise InputError([Problem(table.source or "the teachers file",
                                  f"areas = 'designated' takes each teacher's reinforcement and refinement areas from "
                                  f"the columns reinforcement_areas and refinement_areas (indicators separated by "
                                  f"';', on each teacher's or each observation's row), and this file {what}; add "
                                  f"them, or choose areas = 'relative' or 'thresholds' (policy: {source})",
                                  column=", ".join(missing), value="areas = 'designated'")])
    refine = table.refinement_areas if table.refinement_areas is not None else np.zeros(shape, dtype=bool)
    reinforce = table.reinforcement_areas if table.reinforcement_areas is not None else np.zeros(shape, dtype=bool)
    return refine.astype(bool, copy=True), reinforce.astype(bool, copy=True)


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
    if policy.areas not in AREAS:
        problems.append(Problem(source, f"must be one of {', '.join(AREAS)}", column="areas", value=policy.areas))
    if policy.areas != "thresholds":
        if policy.areas_per_teacher < 1:
            problems.append(Problem(source, "must be a whole number >= 1", column="areas_per_teacher",
                                    value=str(policy.areas_per_teacher)))
        if not policy.min_gap >= 0:
            problems.append(Problem(source, "must be a number >= 0", column="min_gap", value=str(policy.min_gap)))
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
    integral = (bool(np.all(weights == np.round(weights))) and float(policy.preference_weight).is_integer()
                and float(policy.two_way_weight).is_integer())
    scale = 1 if integral and not policy.weigh_gap_size else FIXED_POINT
    s = table.scores
    if policy.areas == "relative":
        weak, strong = relative_areas(s, policy.areas_per_teacher)
        return Scoring(weak, strong, weights, scale, weak_below, strong_at, policy.weigh_gap_size, "relative",
                       float(policy.min_gap), policy.areas_per_teacher)
    if policy.areas == "designated":
        weak, strong = _designated_areas(table, source)
        return Scoring(weak, strong, weights, scale, weak_below, strong_at, policy.weigh_gap_size, "designated",
                       float(policy.min_gap))
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
