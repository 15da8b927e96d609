"""A principal's re-match of one school: refuse or keep pairs, drop teachers, and disturb the rest as little as
the chosen stability asks, with a reason for every change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, get_args

import numpy as np

from ..errors import InputError, Problem
from ..io.teachers import TeacherTable
from ..policy import Policy, Stability
from .engine import pair_teachers
from .result import PairingResult

STABILITIES: tuple[Stability, ...] = get_args(Stability)


@dataclass(frozen=True)
class Rematch:
    """The school's new pairing and what changed against the pairs the principal saw."""

    result: PairingResult
    kept: tuple[tuple[str, str], ...]
    broken: tuple[dict[str, str], ...]  # teacher_a, teacher_b, reason, teacher_a_name, teacher_b_name
    new: tuple[tuple[str, str], ...]
    value_cost: float | None = None  # keep_untouched: value given up against re-pairing the school afresh

    def diff(self) -> dict[str, Any]:
        return {"kept": [list(p) for p in self.kept], "broken": list(self.broken), "new": [list(p) for p in self.new]}


def rematch(table: TeacherTable, policy: Policy, school_id: str, current: Sequence[tuple[str, str]], *,
            forbid: Sequence[tuple[str, str]] = (), keep: Sequence[tuple[str, str]] = (),
            remove: Sequence[str] = (), stability: Stability = "keep_untouched") -> Rematch:
    """Re-pair one school after a principal's request.

    table: the school's current roster and scores (teachers added by the request already in it; other schools'
    rows are ignored). current: the school's pairs the principal saw. forbid: pairs never to form again;
    keep: pairs that must stay (or form); remove: teachers who leave.

    keep_untouched: every current pair the request does not touch stays, and only the teachers it frees (and any
    unpaired ones) are re-paired. balanced: every current pair stays unless breaking it raises the school's value
    (the previous-run tie-break, which is exact). full: the school is solved again from scratch.
    """
    if stability not in STABILITIES:
        raise InputError([Problem("rematch", f"must be one of {', '.join(STABILITIES)}", column="stability",
                                  value=str(stability))])
    rows = np.flatnonzero(table.school_id == school_id)
    if len(rows) == 0:
        raise InputError([Problem("rematch", "no teachers in this school", column="school_id", value=school_id)])
    known = {str(t) for t in table.teacher_id[rows]}
    problems = [Problem("rematch", "not a teacher of this school", column=col, value=x)
                for col, ids in (("remove", list(remove)), ("forbid", [x for p in forbid for x in p]),
                                 ("keep", [x for p in keep for x in p]))
                for x in ids if x not in known]
    if problems:
        raise InputError(problems)
    gone = set(remove)
    school = table.subset(np.array([i for i in rows if table.teacher_id[i] not in gone], dtype=np.int64))
    forbidden = {frozenset(p) for p in forbid}
    must = list(dict.fromkeys(tuple(p) for p in keep))
    # The run's own lists constrain this school only where they name two of its teachers (they may name any
    # school's teachers, and a principal is never told about those).
    own = policy.lists_within(known - gone)
    # The engine's previous_stability does the rest: keep_untouched holds every shown pair still allowed (a refused
    # pair is on the do-not-pair list, a removed teacher is gone, a kept pair's teachers are must-paired), so only
    # the teachers the request frees are re-paired, and it prices that against re-pairing the school afresh.
    new_policy = own.replace(scope="school", cross_school_fallback=False, previous_stability=stability,
                             # a refused pair with a teacher who leaves has nothing left to refuse
                             do_not_pair=own.do_not_pair + tuple(tuple(p) for p in forbid if not gone & set(p)),
                             must_pair=own.must_pair + tuple(must))
    previous = list(current) if stability != "full" else None
    result = pair_teachers(school, new_policy, previous=previous, previous_source="the pairs shown")
    now = {frozenset((p.teacher_a, p.teacher_b)): (p.teacher_a, p.teacher_b) for p in result.pairs}
    before = {frozenset(p): p for p in current}
    kept = tuple(before[k] for k in before if k in now)
    new = tuple(now[k] for k in now if k not in before)
    index, labels = table.index, table.labels

    def name(t: str) -> str:
        return str(table.teacher_name[index[t]]) if t in index else ""

    def label(t: str) -> str:
        return str(labels[index[t]]) if t in index else t

    broken = []
    reasons = {}
    if stability != "full":
        reasons = {frozenset((d["teacher_a"], d["teacher_b"])): d["reason"]
                   for d in result.summary["previous"]["broken_pairs"]}
    for k, (a, b) in before.items():
        if k in now:
            continue
        if k in forbidden:
            why = "refused by the principal"
        elif gone & k:
            why = f"{' and '.join(label(t) for t in sorted(gone & k))} left the school"
        else:
            why = reasons.get(k, "re-solved from scratch (stability full)")
        broken.append({"teacher_a": a, "teacher_b": b, "reason": why, "teacher_a_name": name(a),
                       "teacher_b_name": name(b)})
    cost = result.summary["previous"].get("value_cost") if stability == "keep_untouched" else None
    return Rematch(result, kept, tuple(broken), new, cost)
