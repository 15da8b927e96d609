"""An independent, deliberately plain re-statement of the pairing policy, for checking the engine.

Nothing here imports the engine's model or solvers: values and rules are recomputed from the teacher rows in
pure Python, and optima come from brute force.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from matcher.io.grades import HIGHEST, LOWEST
from matcher.io.teachers import TeacherTable
from matcher.policy import Policy


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

    def gain_units(self, u: int, v: int) -> int:
        """What u offers v, in the engine's fixed-point units (u strong, v weak, summed over indicators)."""
        p, s = self.policy, self.table.scores
        if p.max_junior_years is not None:
            yu, yv = self.table.years[u], self.table.years[v]
            if not (math.isnan(yu) or math.isnan(yv)) and yv - yu > p.max_junior_years:
                return 0
        weak, strong = self.thresholds()
        total = 0.0
        for j in range(s.shape[1]):
            su, sv = s[u, j], s[v, j]
            if math.isnan(su) or math.isnan(sv):
                continue
            if sv < weak and su >= strong and not su < weak:
                total += self.weight(j) * ((su - sv) if p.weigh_gap_size else 1.0)
        return int(round(total * self.scale))

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
    """The lexicographic optimum (value, kept previous pairs, soft score) over all valid pairings of members.

    Mutual: matchings. One-way: every vertex is a partner with up to K targets, a target, or alone.
    With preference_weight > 0 the soft score is folded into the first component, as the policy says.
    """
    p = ref.policy
    pw = p.preference_weight
    n = len(members)

    def edge_key(a: int, b: int) -> tuple:
        units = ref.pair_units(a, b)
        soft = ref.soft(a, b)
        prev = ((a, b) in previous) if p.mode == "one_way" else ((min(a, b), max(a, b)) in previous)
        if pw > 0:
            return (units + int(round(pw * ref.scale * soft)), int(prev), 0)
        return (units, int(prev), soft)

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
                return (0, 0, 0)
            i = (mask & -mask).bit_length() - 1
            rest = mask & ~(1 << i)
            top = best(rest)
            for j in range(i + 1, n):
                if rest >> j & 1 and (i, j) in edges:
                    e, sub = edges[(i, j)], best(rest & ~(1 << j))
                    top = max(top, (e[0] + sub[0], e[1] + sub[1], e[2] + sub[2]))
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
    best_total = (0, 0, 0)

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
                assign(rest, load, (acc[0] + e[0], acc[1] + e[1], acc[2] + e[2]))
                load[pp] -= 1

    for roles in range(2 ** n):  # bit set: partner; others may be targets
        partners = [i for i in range(n) if roles >> i & 1]
        others = [i for i in range(n) if not roles >> i & 1]
        assign(others, {pp: 0 for pp in partners}, (0, 0, 0))
    return best_total


def make_table(rubric, rows: list[dict]) -> TeacherTable:
    """A TeacherTable straight from dicts (scores as a list aligned with the rubric's indicators)."""
    from matcher.io.grades import parse_grades

    n = len(rows)
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
        scores=np.array([r["scores"] for r in rows], dtype=float).reshape(n, len(rubric.indicators)),
        source="generated",
    )
