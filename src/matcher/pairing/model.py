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
                if self.scale == 1:  # whole weights: float64 sums of them are exact, and BLAS is fast
                    return np.rint((s_h * self.weights) @ s_l.T.astype(np.float64)).astype(np.int64)
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
                km: np.ndarray | None = None, compact: bool = False) -> Group:
    """Matrices for one pool. km: (m, m) distances between the members' schools, when a limit applies.

    compact (a large pool, pairing.large): the same matrices, built in blocks of rows, with value units in the
    smallest integer type that holds twice the largest (so a pair's value never overflows), and the soft
    preferences a read-only broadcast zero when the policy has none."""
    m = len(members)
    rows = max(1, CHUNK // max(m, 1)) if compact else max(m, 1)
    if compact:
        top = _most_units(scoring, table.rubric.scale_max - table.rubric.scale_min)
        dtype = next(t for t in (np.int8, np.int16, np.int32, np.int64) if 2 * top <= np.iinfo(t).max)
        help_raw = np.empty((m, m), dtype=dtype)
        for s in range(0, m, rows):
            help_raw[s:s + rows] = _help_rows(table, scoring, members, s, min(s + rows, m))
    else:
        help_raw = _help_rows(table, scoring, members, 0, m)
    help_ = help_raw
    if policy.max_junior_years is not None:
        help_ = help_raw.copy()
        yrs = table.years[members]
        for s in range(0, m, rows):
            junior = (yrs[None, :] - yrs[s:s + rows, None]) > policy.max_junior_years  # helper i much junior to j
            help_[s:s + rows][junior] = 0
    allowed = np.zeros((m, m), dtype=bool)
    refused: dict[str, np.ndarray] = {}
    any_soft = policy.subject in ("prefer_same", "prefer_cross") or policy.grade in ("prefer_same", "prefer_cross")
    soft = np.zeros((m, m), dtype=np.int8 if compact else np.int64) if any_soft or not compact else \
        np.broadcast_to(np.int8(0), (m, m))
    pos = {int(g): i for i, g in enumerate(members.tolist())} if forbidden else {}
    for s in range(0, m, rows):
        e = min(s + rows, m)
        useful = (help_[s:e] > 0) | (help_[:, s:e].T > 0)
        ok = useful.copy()
        for rule, mask in _rule_masks(table, policy, members, s, e, forbidden, pos, other_school_only, km):
            hit = mask & useful
            if rule and hit.any():
                refused.setdefault(rule, np.zeros((m, m), dtype=bool))[s:e] = hit
            ok &= ~mask
        ok[np.arange(e - s), np.arange(s, e)] = False
        allowed[s:e] = ok
        if any_soft:
            soft[s:e] = _soft_rows(table, policy, members, s, e)
    return Group(members, help_, help_raw, allowed, soft, refused)


def _most_units(scoring: Scoring, span: float) -> int:
    """An upper bound on the value units one teacher can offer another: every weighted indicator covered, each
    at the largest gap the rubric's scale allows when gaps are weighed."""
    points = float(np.clip(scoring.weights, 0, None).sum()) * (span if scoring.gap_size else 1.0)
    return int(np.ceil(scoring.scale * points)) + 1


def _help_rows(table: TeacherTable, scoring: Scoring, members: np.ndarray, s: int, e: int) -> np.ndarray:
    """Value units rows s..e of the pool offer every member (a teacher offers themself nothing)."""
    out = scoring.help_units(table.scores, members[s:e], members)
    out[np.arange(e - s), np.arange(s, e)] = 0
    return out


def _rule_masks(table: TeacherTable, policy: Policy, members: np.ndarray, s: int, e: int,
                forbidden: set[tuple[int, int]], pos: dict[int, int], other_school_only: bool,
                km: np.ndarray | None) -> list[tuple[str, np.ndarray]]:
    """(rule, mask of the pairs it refuses) for rows s..e of the pool against every member, in RULES order
    ("" for the other-school-only limit of the cross-school fallback, which is not a reason shown)."""
    out: list[tuple[str, np.ndarray]] = []
    rows = members[s:e]
    if policy.respect_opt_out:
        opt = table.opt_out[members]
        out.append(("opt_out", opt[s:e, None] | opt[None, :]))
    if forbidden:
        mask = np.zeros((e - s, len(members)), dtype=bool)
        for a, b in forbidden:
            if a in pos and b in pos:
                for x, y in ((pos[a], pos[b]), (pos[b], pos[a])):
                    if s <= x < e:
                        mask[x - s, y] = True
        out.append(("do_not_pair", mask))
    if policy.subject == "require_same":
        out.append(("subject", table.subject[rows][:, None] != table.subject[members][None, :]))
    if policy.grade != "any" or policy.max_grade_distance is not None:
        dist = grade_distance(table.grades[rows][:, None], table.grades[members][None, :])
        if policy.grade == "require_same":
            out.append(("grade", dist > 0))
        if policy.max_grade_distance is not None:
            out.append(("grade_distance", dist > policy.max_grade_distance))
    if other_school_only:
        out.append(("", table.school_id[rows][:, None] == table.school_id[members][None, :]))
    if km is not None and policy.fallback_max_km is not None:
        out.append(("distance", km[s:e] > policy.fallback_max_km))
    return out


def _soft_rows(table: TeacherTable, policy: Policy, members: np.ndarray, s: int, e: int) -> np.ndarray:
    """Soft-preference scores (0..2) of rows s..e of the pool with every member."""
    rows = members[s:e]
    soft = np.zeros((e - s, len(members)), dtype=np.int64)
    same_subject = table.subject[rows][:, None] == table.subject[members][None, :]
    if policy.subject == "prefer_same":
        soft += same_subject
    elif policy.subject == "prefer_cross":
        soft += ~same_subject
    if policy.grade in ("prefer_same", "prefer_cross"):
        dist = grade_distance(table.grades[rows][:, None], table.grades[members][None, :])
        soft += (dist == 0) if policy.grade == "prefer_same" else (dist > 0)
    return soft
