"""An independent, deliberately plain re-statement of the pairing policy, for checking the engine.

Nothing here imports the engine's model or solvers: values and rules are recomputed from the teacher rows in
pure Python, and optima come from brute force.

Areas (policy `areas`, issue 13 "Reciprocal areas"), restated from the issue's words:
- thresholds: v's refinement area i when v's score < weak_below, u's reinforcement area when u's >= strong_at_least.
- relative: among a teacher's observed indicators, refinement areas are those scored at or below their k-th lowest
  score, reinforcement areas those at or above their k-th highest (ties included; fewer than k observed: all).
- designated: the indicators the file names (table.reinforcement_areas / table.refinement_areas).
- relative and designated: u supports v on i when i is a reinforcement area of u, a refinement area of v, and
  score_u,i >= score_v,i + min_gap (1e-9 tolerance); designated with a score missing: the designation decides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from matcher.io.grades import HIGHEST, LOWEST
from matcher.io.teachers import TeacherTable
from matcher.policy import Policy

EPS = 1e-9


@dataclass(frozen=True)
class Ref:
    table: TeacherTable
    policy: Policy

    @property
    def scale(self) -> int:
        ws = [self.weight(j) for j in range(len(self.table.rubric.indicators))]
        integral = all(float(w).is_integer() for w in ws) and float(self.policy.preference_weight).is_integer()
        return 1 if integral and not self.policy.weigh_gap_size else 1000

    def thresholds(self) -> tuple[float, float]:
        r, p = self.table.rubric, self.policy
        return (r.weak_below if p.weak_below is None else p.weak_below,
                r.strong_at_least if p.strong_at_least is None else p.strong_at_least)

    def weight(self, j: int) -> float:
        r = self.table.rubric
        ind = r.indicators[j]
        return dict(self.policy.indicator_weights).get(ind, 1.0) * dict(self.policy.domain_weights).get(
            r.domain_of(ind), 1.0)

    def areas(self, t: int) -> tuple[set[int], set[int]]:
        """(reinforcement areas, refinement areas) of teacher t, as indicator positions."""
        cache = self.__dict__.setdefault("_areas_of", {})
        if t not in cache:
            cache[t] = self._areas(t)
        return cache[t]

    def _areas(self, t: int) -> tuple[set[int], set[int]]:
        p, s = self.policy, self.table.scores
        k = s.shape[1]
        if p.areas == "designated":
            reinforce, refine = self.table.reinforcement_areas, self.table.refinement_areas
            return ({j for j in range(k) if reinforce is not None and reinforce[t, j]},
                    {j for j in range(k) if refine is not None and refine[t, j]})
        observed = [(float(s[t, j]), j) for j in range(k) if not math.isnan(s[t, j])]
        if p.areas == "relative":
            if not observed:
                return set(), set()
            ranked = sorted(x for x, _ in observed)
            n = min(p.areas_per_teacher, len(ranked))
            kth_lowest, kth_highest = ranked[n - 1], ranked[len(ranked) - n]
            return {j for x, j in observed if x >= kth_highest}, {j for x, j in observed if x <= kth_lowest}
        weak, strong = self.thresholds()
        return {j for x, j in observed if x >= strong and not x < weak}, {j for x, j in observed if x < weak}

    def supports(self, u: int, v: int, j: int) -> bool:
        """u can support v on indicator j (before the experience rule and weights)."""
        if j not in self.areas(u)[0] or j not in self.areas(v)[1]:
            return False
        if self.policy.areas == "thresholds":
            return True
        su, sv = float(self.table.scores[u, j]), float(self.table.scores[v, j])
        if math.isnan(su) or math.isnan(sv):
            return self.policy.areas == "designated"  # relative areas are observed ones, so never reached there
        return su - sv >= self.policy.min_gap - EPS

    def junior_blocked(self, u: int, v: int) -> bool:
        """The experience rule: u may not support v when u is more than max_junior_years junior."""
        p = self.policy
        if p.max_junior_years is None:
            return False
        yu, yv = self.table.years[u], self.table.years[v]
        return not (math.isnan(yu) or math.isnan(yv)) and yv - yu > p.max_junior_years

    def covered(self, u: int, v: int) -> tuple[str, ...]:
        """The indicators (names, rubric order) u can support v in and that add to the value, as a pair lists them
        (a_helps_b): weight > 0, and with weigh_gap_size a gap > 0 (min_gap = 0 lets equal scores through, worth
        nothing)."""
        if self.junior_blocked(u, v):
            return ()
        inds, s = self.table.rubric.indicators, self.table.scores
        sized = self.policy.weigh_gap_size
        return tuple(inds[j] for j in range(len(inds)) if self.weight(j) > 0 and self.supports(u, v, j)
                     and not (sized and float(s[u, j]) - float(s[v, j]) <= 0))

    def gain_units(self, u: int, v: int) -> int:
        """What u offers v, in the engine's fixed-point units (summed over the indicators u can support v in; with
        weigh_gap_size each counts weight x (score_u - score_v), or its weight alone where a score is missing)."""
        p, s = self.policy, self.table.scores
        if self.junior_blocked(u, v):
            return 0
        total = 0.0
        for j in range(s.shape[1]):
            if not self.supports(u, v, j):
                continue
            gap = float(s[u, j]) - float(s[v, j])
            total += self.weight(j) * ((1.0 if math.isnan(gap) else gap) if p.weigh_gap_size else 1.0)
        return int(round(total * self.scale))

    def two_way(self, a: int, b: int) -> bool:
        """Each of the pair can support the other (mutual mode)."""
        return self.gain_units(a, b) > 0 and self.gain_units(b, a) > 0

    def grade_set(self, i: int) -> set[int]:
        m = int(self.table.grades[i])
        return {g for g in range(LOWEST, HIGHEST + 1) if m >> (g - LOWEST) & 1}

    def grade_gap(self, a: int, b: int) -> int:
        ga, gb = self.grade_set(a), self.grade_set(b)
        if not ga or not gb:
            return HIGHEST - LOWEST + 1
        return min(abs(x - y) for x in ga for y in gb)

    def allowed(self, a: int, b: int) -> bool:
        """Hard rules for the unordered pair (mutual) or either arc (one-way: usefulness checked separately)."""
        t, p = self.table, self.policy
        if a == b:
            return False
        if p.scope == "school" and t.school_id[a] != t.school_id[b]:
            return False
        if p.scope == "district" and (t.district_id[a] or "s" + t.school_id[a]) != (
                t.district_id[b] or "s" + t.school_id[b]):
            return False
        if p.respect_opt_out and (t.opt_out[a] or t.opt_out[b]):
            return False
        ids = (t.teacher_id[a], t.teacher_id[b])
        if ids in p.do_not_pair or ids[::-1] in p.do_not_pair:
            return False
        if p.subject == "require_same" and t.subject[a] != t.subject[b]:
            return False
        if p.grade == "require_same" and self.grade_gap(a, b) > 0:
            return False
        if p.max_grade_distance is not None and self.grade_gap(a, b) > p.max_grade_distance:
            return False
        return True

    def soft(self, a: int, b: int) -> int:
        t, p = self.table, self.policy
        s = 0
        if p.subject == "prefer_same":
            s += t.subject[a] == t.subject[b]
        elif p.subject == "prefer_cross":
            s += t.subject[a] != t.subject[b]
        if p.grade == "prefer_same":
            s += self.grade_gap(a, b) == 0
        elif p.grade == "prefer_cross":
            s += self.grade_gap(a, b) > 0
        return int(s)

    def pair_units(self, a: int, b: int) -> int:
        if self.policy.mode == "one_way":
            return self.gain_units(a, b)
        return self.gain_units(a, b) + self.gain_units(b, a)


def brute_force(ref: Ref, members: list[int], previous: set[tuple[int, int]] = frozenset()) -> tuple:
    """The lexicographic optimum (value, kept previous pairs, two-way pairs, soft score) over all valid pairings of
    members.

    Mutual: matchings. One-way: every vertex is a partner with up to K targets, a target, or alone (no two-way).
    With preference_weight > 0 the soft score, and with two_way_weight > 0 the two-way count, is folded into the
    first component, as the policy says.
    """
    p = ref.policy
    pw, tw = p.preference_weight, p.two_way_weight
    n = len(members)

    def edge_key(a: int, b: int) -> tuple:
        units = ref.pair_units(a, b)
        soft = ref.soft(a, b)
        two = int(p.mode == "mutual" and ref.gain_units(a, b) > 0 and ref.gain_units(b, a) > 0)
        prev = ((a, b) in previous) if p.mode == "one_way" else ((min(a, b), max(a, b)) in previous)
        if pw > 0:
            units, soft = units + int(round(pw * ref.scale * soft)), 0
        if tw > 0:
            units, two = units + int(round(tw * ref.scale * two)), 0
        return (units, int(prev), two, soft)

    if p.mode == "mutual":
        edges = {}
        for i in range(n):
            for j in range(i + 1, n):
                a, b = members[i], members[j]
                if ref.allowed(a, b) and ref.pair_units(a, b) > 0:
                    edges[(i, j)] = edge_key(a, b)

        @cache
        def best(mask: int) -> tuple:
            if mask == 0:
                return (0, 0, 0, 0)
            i = (mask & -mask).bit_length() - 1
            rest = mask & ~(1 << i)
            top = best(rest)
            for j in range(i + 1, n):
                if rest >> j & 1 and (i, j) in edges:
                    e, sub = edges[(i, j)], best(rest & ~(1 << j))
                    top = max(top, tuple(x + y for x, y in zip(e, sub, strict=True)))
            return top

        return best((1 << n) - 1)

    # One-way: enumerate each vertex's role, then the best assignment of targets to partners by brute force.
    k = p.max_targets_per_partner
    arcs = {}
    for i in range(n):
        for j in range(n):
            a, b = members[i], members[j]
            if i != j and ref.allowed(a, b) and ref.gain_units(a, b) > 0:
                arcs[(i, j)] = edge_key(a, b)
    best_total = (0, 0, 0, 0)

    def assign(targets: list[int], load: dict[int, int], acc: tuple) -> None:
        nonlocal best_total
        if not targets:
            best_total = max(best_total, acc)
            return
        t, rest = targets[0], targets[1:]
        assign(rest, load, acc)  # t stays alone
        for pp in load:
            if load[pp] < k and (pp, t) in arcs:
                load[pp] += 1
                e = arcs[(pp, t)]
                assign(rest, load, tuple(x + y for x, y in zip(acc, e, strict=True)))
                load[pp] -= 1

    for roles in range(2 ** n):  # bit set: partner; others may be targets
        partners = [i for i in range(n) if roles >> i & 1]
        others = [i for i in range(n) if not roles >> i & 1]
        assign(others, {pp: 0 for pp in partners}, (0, 0, 0, 0))
    return best_total


def make_table(rubric, rows: list[dict]) -> TeacherTable:
    """A TeacherTable straight from dicts (scores as a list aligned with the rubric's indicators; optional
    "reinforce" and "refine": lists of indicator names, the designated areas, given when any row has them)."""
    from matcher.io.grades import parse_grades

    n = len(rows)
    k = len(rubric.indicators)

    def named(key: str) -> np.ndarray | None:
        if not any(key in r for r in rows):
            return None
        return np.array([[ind in r.get(key, ()) for ind in rubric.indicators] for r in rows], dtype=bool
                        ).reshape(n, k)

    return TeacherTable(
        rubric=rubric,
        teacher_id=np.array([r["teacher_id"] for r in rows], dtype=object),
        school_id=np.array([r.get("school_id", "S1") for r in rows], dtype=object),
        district_id=np.array([r.get("district_id", "D1") for r in rows], dtype=object),
        subject=np.array([r.get("subject", "math") for r in rows], dtype=object),
        grades=np.array([parse_grades(r.get("grades", "5")) for r in rows], dtype=np.int64),
        grades_text=np.array([r.get("grades", "5") for r in rows], dtype=object),
        years=np.array([float(r.get("years", 5)) for r in rows]),
        opt_out=np.array([bool(r.get("opt_out", False)) for r in rows]),
        scores=np.array([r["scores"] for r in rows], dtype=float).reshape(n, k),
        source="generated",
        reinforcement_areas=named("reinforce"),
        refinement_areas=named("refine"),
    )
