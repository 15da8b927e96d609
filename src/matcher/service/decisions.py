"""Principals' decisions on a run's schools (pairs refused, pairs kept, teachers removed), read from each school's
revisions in order, and carried into a later run started from that run (service.runs) or into a later re-match of
the same run (service.rematch)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from ..io.teachers import TeacherTable
from ..pairing.result import Pair

KINDS = ("refused", "kept", "removed")
IdPair = tuple[str, str]


@dataclass(frozen=True)
class Decision:
    """One decision still in force: a refused or kept pair (two teachers) or a removed teacher (one), with the
    revision that made it: its run, number, time and the label of the key that asked."""

    school_id: str
    kind: str  # refused | kept | removed
    teacher_ids: tuple[str, ...]
    teacher_names: tuple[str, ...]
    made_at: str  # ISO 8601
    made_by: str  # the key's label, never its id
    pairing_id: str
    revision: int

    @classmethod
    def of(cls, d: Mapping[str, Any]) -> Decision:
        """A decision as a run's summary["carried"] lists it."""
        return cls(d["school_id"], d["kind"], tuple(d["teacher_ids"]), tuple(d.get("teacher_names") or ()),
                   d["made_at"], d["made_by"], d["pairing_id"], int(d["revision"]))


@dataclass(frozen=True)
class Revision:
    """A saved re-match of one school: what was asked, when and by whom (the key's label)."""

    revision: int
    made_at: datetime | str
    made_by: str
    request: Mapping[str, Any]


def standing(school_id: str, pairing_id: str, revisions: Iterable[Revision], latest_pairs: Iterable[Sequence[str]],
             inherited: Sequence[Decision] = (), names: Mapping[str, str] | None = None) -> list[Decision]:
    """The school's decisions still in force after its revisions, in order (after any `inherited` from an earlier
    run, which come first as if made before them).

    A later request undoes an earlier decision: keeping a refused pair lifts the refusal, and refusing a kept pair
    ends the keeping; adding a removed teacher back ends the removal; removing a teacher, or keeping them with
    someone else, ends their kept pair. A kept pair that a later re-match ended without being asked to keep it
    (a re-suggestion of the whole school) is no longer in `latest_pairs` and is not carried either: the school's
    newest revision is what the principal last saw."""
    names = names or {}
    refused: dict[frozenset[str], Decision] = {}
    kept: dict[frozenset[str], Decision] = {}
    removed: dict[str, Decision] = {}
    for d in inherited:
        if d.school_id != school_id:
            continue
        box: dict[Any, Decision] = {"refused": refused, "kept": kept, "removed": removed}[d.kind]
        box[frozenset(d.teacher_ids) if d.kind != "removed" else d.teacher_ids[0]] = d
    for rev in sorted(revisions, key=lambda r: r.revision):
        req = rev.request or {}
        at = rev.made_at.isoformat() if isinstance(rev.made_at, datetime) else str(rev.made_at)

        def made(kind: str, ids: Sequence[str], rev: Revision = rev, at: str = at) -> Decision:
            return Decision(school_id, kind, tuple(ids), tuple(names.get(t, "") for t in ids), at, rev.made_by,
                            pairing_id, rev.revision)

        for pr in req.get("forbid") or ():
            key = frozenset(pr)
            kept.pop(key, None)
            refused.pop(key, None)  # refused again: the newest revision is the one to cite
            refused[key] = made("refused", pr)
        for pr in req.get("keep") or ():
            key = frozenset(pr)
            refused.pop(key, None)
            for other in [k for k in kept if k & key]:
                del kept[other]
            kept[key] = made("kept", pr)
        for t in req.get("remove") or ():
            for other in [k for k in kept if t in k]:
                del kept[other]
            removed.pop(t, None)
            removed[t] = made("removed", [t])
        for row in req.get("add") or ():
            removed.pop(str(row.get("teacher_id", "")), None)
    now = {frozenset(p) for p in latest_pairs}
    return [*refused.values(), *(d for k, d in kept.items() if k in now), *removed.values()]


def _names(ids: Sequence[str], names: Sequence[str]) -> list[str]:
    return [n or t for t, n in zip(ids, list(names) + [""] * len(ids), strict=False)]


@dataclass(frozen=True)
class Carry:
    """What a new run does with the decisions of the run it starts from: the refused pairs it adds to
    do_not_pair, the kept pairs it asks the engine to keep (where still allowed), the teachers it leaves out."""

    decisions: tuple[Decision, ...]
    do_not_pair: tuple[IdPair, ...]
    keep: tuple[IdPair, ...]
    drop: frozenset[str]
    not_applied: Mapping[int, str]  # position in decisions -> why it does not hold (known before the run)

    def rows(self, table: TeacherTable) -> np.ndarray:
        """The table's rows the run pairs: all but the teachers a carried removal leaves out."""
        return np.array([i for i, t in enumerate(table.teacher_id.tolist()) if t not in self.drop], dtype=np.int64)

    def dropped_by_school(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for d in self.decisions:
            if d.kind == "removed" and d.teacher_ids[0] in self.drop:
                out.setdefault(d.school_id, set()).add(d.teacher_ids[0])
        return out

    def report(self, table: TeacherTable, pairs: Sequence[Pair], summary: Mapping[str, Any]) -> list[dict[str, Any]]:
        """summary["carried"]: each decision, whether it held, and why not where it did not. table, pairs and
        summary: the run's (its teachers after the drop; the engine's reasons for kept pairs it could not keep)."""
        formed = {frozenset((p.teacher_a, p.teacher_b)) for p in pairs}
        not_kept = {frozenset((d["teacher_a"], d["teacher_b"])): d["reason"]
                    for d in (summary.get("kept_on_request") or {}).get("not_held", ())}
        index = table.index
        out = []
        for n, d in enumerate(self.decisions):
            ids = list(d.teacher_ids)
            names = [str(table.teacher_name[index[t]]) if t in index and table.teacher_name[index[t]] else
                     (d.teacher_names[i] if i < len(d.teacher_names) else "") for i, t in enumerate(ids)]
            why = self.not_applied.get(n, "")
            if not why and d.kind == "kept" and frozenset(ids) not in formed:
                why = not_kept.get(frozenset(ids)) or "the run did not keep it"
            if not why and d.kind == "refused" and frozenset(ids) in formed:  # cannot happen: a do-not-pair entry
                why = "the pair was formed again"
            out.append({"school_id": d.school_id, "kind": d.kind, "teacher_ids": ids, "teacher_names": names,
                        "made_at": d.made_at, "made_by": d.made_by, "pairing_id": d.pairing_id,
                        "revision": d.revision, "held": not why, "reason": why})
        return out


def _here(ids: Sequence[str], names: Sequence[str], present: set[str]) -> str:
    """Why a decision on these teachers does not apply in their school any more ("" when all are there)."""
    gone = [n for t, n in zip(ids, names, strict=True) if t not in present]
    if not gone:
        return ""
    if len(gone) == 1:
        return f"{gone[0]} is no longer in this school"
    return f"{' and '.join(gone)} are no longer in this school"


def plan(decisions: Sequence[Decision], table: TeacherTable) -> Carry:
    """What to carry into a run on `table` (the new dataset's teachers). Each decision applies within its school
    only: a refusal where both teachers are still there, a kept pair where both are, a removal where the new
    data still lists the teacher in that school."""
    school_of = dict(zip(table.teacher_id.tolist(), table.school_id.tolist(), strict=True))
    do_not, keep, drop = [], [], set()
    not_applied: dict[int, str] = {}
    for n, d in enumerate(decisions):
        ids = list(d.teacher_ids)
        present = {t for t in ids if school_of.get(t) == d.school_id}
        names = _names(ids, d.teacher_names)
        if d.kind == "removed":
            t = ids[0]
            if t in present:
                drop.add(t)
            elif t in school_of:
                not_applied[n] = "the new teacher data lists this teacher at another school"
            else:
                not_applied[n] = "no longer in the teacher data"
            continue
        why = _here(ids, names, present)
        if why:
            not_applied[n] = why
        elif d.kind == "refused":
            do_not.append((ids[0], ids[1]))
        else:
            keep.append((ids[0], ids[1]))
    # A pair with a teacher a removal leaves out is not formed anyway: a refusal holds (and carries on, should
    # the teacher come back), a kept pair cannot stay.
    for n, d in enumerate(decisions):
        out = [nm for t, nm in zip(d.teacher_ids, _names(list(d.teacher_ids), d.teacher_names), strict=True)
               if t in drop]
        if d.kind == "kept" and n not in not_applied and out:
            not_applied[n] = f"{' and '.join(out)} stay{'s' if len(out) == 1 else ''} removed from this school"
    do_not = [p for p in do_not if not set(p) & drop]
    keep = [p for p in keep if not set(p) & drop]
    return Carry(tuple(decisions), tuple(dict.fromkeys(do_not)), tuple(dict.fromkeys(keep)), frozenset(drop),
                 not_applied)
