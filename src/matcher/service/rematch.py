"""A principal's re-match of one school of a stored run, against the revision they saw, saved as the next
revision (or refused with 409 when someone else's was saved first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Engine

from ..errors import ConflictError, InputError, Problem
from ..pairing.rematch import rematch
from ..policy import policy_from_dict
from ..store import repo
from ..store.codec import merge_rosters, pair_dict, pair_of, roster_of, table_of, unmatched_dict
from ..store.keys import Caller
from .datasets import read_rows, rubric_named
from .runs import run_decisions


def rematch_school(engine: Engine, caller: Caller, run_id: str, school_id: str, *, revision: int,
                   forbid: Sequence[Sequence[str]] = (), keep: Sequence[Sequence[str]] = (),
                   remove: Sequence[str] = (), add: Sequence[dict[str, Any]] = (),
                   stability: str = "keep_untouched", request: dict[str, Any] | None = None) -> dict[str, Any]:
    """Returns the new revision: its number, pairs, unmatched teachers and the diff with a reason per change."""
    with engine.connect() as conn:
        run = repo.get_run(conn, run_id)
        if run.status != "succeeded":
            raise ConflictError(f"the run is {run.status}; re-match once it has succeeded", status=run.status)
        current = repo.school_revision(conn, run_id, school_id)
        if revision != current.revision:
            raise ConflictError(f"revision {revision} is outdated: the school is at revision {current.revision}; "
                                "reload it and ask again", revision=current.revision)
        roster = repo.latest_roster(conn, run_id, school_id, current.revision)
        if roster is None:
            roster = repo.school_roster(conn, run.dataset_id, school_id)
        rubric_name = repo.get_dataset(conn, run.dataset_id).rubric
        school_names = repo.school_names(conn, run.dataset_id, [school_id])
        decisions = run_decisions(conn, run, frozenset([school_id]))
    rubric = rubric_named(rubric_name)
    # Pairs refused on this school before (in an earlier re-match, or carried from an earlier run) stay refused,
    # unless this request keeps one (the principal changed their mind). The re-match's policy keeps the entries on
    # teachers still in the school.
    asked = {frozenset(p) for p in keep}
    refused = tuple((d.teacher_ids[0], d.teacher_ids[1]) for d in decisions
                    if d.kind == "refused" and frozenset(d.teacher_ids) not in asked)
    policy = policy_from_dict(run.policy)
    policy = policy.replace(do_not_pair=policy.do_not_pair + refused) if refused else policy
    pairs = [pair_of(d) for d in current.pairs]

    # Pairs with a teacher of another school (the cross-school fallback) belong to both schools: one school's
    # re-match keeps them and leaves their teachers out of the re-pairing.
    cross = [p for p in pairs if p.school_b and p.school_b != p.school_id]
    held = {t for p in cross for t in (p.teacher_a, p.teacher_b)}
    touched = {t for pr in (*forbid, *keep) for t in pr} | set(remove)
    problems = [Problem("request", f"is in a pair across schools ({p.school_id} and {p.school_b}); only the state "
                                   "office can change it", column="teacher_id", value=t)
                for p in cross for t in (p.teacher_a, p.teacher_b) if t in touched]
    for col, items in (("forbid", forbid), ("keep", keep)):
        for i, pr in enumerate(items):
            if len(pr) != 2 or pr[0] == pr[1]:
                problems.append(Problem("request", "a pair is two different teacher ids", row=i, column=col,
                                        value=repr(list(pr))))
    added = None
    if add:
        try:
            extra = read_rows([{**r, "school_id": r.get("school_id", school_id)} for r in add], rubric, "add")
        except InputError as exc:
            problems.extend(exc.problems)
        else:
            known = set(roster["teacher_id"])
            with engine.connect() as conn:
                elsewhere = repo.teachers_elsewhere(conn, run_id, run.dataset_id, school_id, extra.teacher_id)
            for i, (t, s) in enumerate(zip(extra.teacher_id, extra.school_id, strict=True)):
                if s != school_id:
                    problems.append(Problem("add", "a re-match adds teachers to this school only", row=i,
                                            column="school_id", value=str(s)))
                if t in known and t not in set(remove):
                    problems.append(Problem("add", "teacher_id already in this school", row=i,
                                            column="teacher_id", value=str(t)))
                elif t in elsewhere:
                    # Said without the school or the name: the caller may not see them.
                    problems.append(Problem("add", "teacher_id is taken by a teacher of another school; a teacher "
                                                   "who moves here is first removed there (the state office can "
                                                   "do both)", row=i, column="teacher_id", value=str(t)))
            added = roster_of(extra, np.arange(len(extra)))
    if problems:
        raise InputError(problems)
    removed = set(remove)
    new_roster = merge_rosters(roster, added, removed) if (added or removed) else None
    # The library drops removed teachers itself and reports why their pairs broke, so it gets them too.
    working = merge_rosters(roster, added, set()) if added else roster
    table = table_of(rubric, [(school_id, working)], school_names=school_names)
    table = table.subset(np.array([i for i, t in enumerate(table.teacher_id) if t not in held], dtype=np.int64))
    local = [(p.teacher_a, p.teacher_b) for p in pairs if p not in cross]
    # A refused pair with a teacher who leaves in the same request needs no refusing now (the engine would find a
    # teacher it does not know on the list); the request as saved still refuses it, for a later return.
    refusing = [tuple(p) for p in forbid if not set(p) & removed]
    change = rematch(table, policy, school_id, local, forbid=refusing,
                     keep=[tuple(p) for p in keep], remove=list(remove), stability=stability)  # type: ignore[arg-type]
    new_pairs = sorted([*change.result.pairs, *cross], key=lambda q: (q.teacher_a, q.teacher_b))
    made = {(p.teacher_a, p.teacher_b): p for p in change.result.pairs}
    diff = {"kept": [list(p) for p in change.kept], "broken": list(change.broken),
            "new": [{"teacher_a": a, "teacher_b": b, "reason": made[(a, b)].explanation,
                     "teacher_a_name": made[(a, b)].teacher_a_name, "teacher_b_name": made[(a, b)].teacher_b_name}
                    for a, b in change.new]}
    unmatched = list(change.result.unmatched)
    values = {"run_id": run_id, "school_id": school_id, "revision": current.revision + 1,
              "created_by": caller.key_id, "request": request or {}, "diff": diff, "roster": new_roster,
              "value": round(sum(p.value for p in new_pairs), 6), "n_pairs": len(new_pairs),
              "n_unmatched": len(unmatched), "pairs": [pair_dict(p) for p in new_pairs],
              "unmatched": [unmatched_dict(u) for u in unmatched]}
    if not repo.insert_revision(engine, values):
        with engine.connect() as conn:
            now = repo.school_revision(conn, run_id, school_id).revision
        raise ConflictError(f"revision {revision} is outdated: another re-match was saved first and the school is "
                            f"at revision {now}; reload it and ask again", revision=now)
    return {k: v for k, v in values.items() if k not in ("roster", "created_by")}
