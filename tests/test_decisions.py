"""Principals' decisions that last: the re-match's default keeps every pair the request leaves alone (Hypothesis,
against brute force for the rest), and a school's revisions read in order give the decisions still in force, which
a later run carries where they still apply."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.pairing.rematch import rematch
from matcher.policy import Policy
from matcher.service.decisions import Decision, Revision, plan, standing

from .reference import Ref, brute_force, make_table
from .strategies import SMALL, teacher_rows


@given(rows=teacher_rows(min_size=2, max_size=10, schools=1), data=st.data())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_default_rematch_keeps_every_untouched_pair(rows, data) -> None:
    table = make_table(SMALL, rows)
    ids = [str(t) for t in table.teacher_id]
    ref = Ref(table, Policy())
    edges = [(a, b) for a in range(len(ids)) for b in range(a + 1, len(ids))
             if ref.allowed(a, b) and ref.pair_units(a, b) > 0]
    # What the principal saw: any matching of allowed pairs (an earlier revision need not be today's optimum).
    used: set[int] = set()
    current = []
    for a, b in data.draw(st.permutations(edges)):
        if a not in used and b not in used and data.draw(st.booleans()):
            current.append((ids[a], ids[b]))
            used |= {a, b}
    # A random request: refuse some shown pairs, remove some teachers, keep some allowed pairs.
    forbid = data.draw(st.lists(st.sampled_from(current), unique=True, max_size=2)) if current else []
    # (A teacher of a refused pair who also leaves is the service's to sort out: it refuses the pair no longer.)
    remove = data.draw(st.lists(st.sampled_from([t for t in ids if t not in {x for p in forbid for x in p}]),
                                unique=True, max_size=2)) if len(ids) > 2 * len(forbid) else []
    keep: list[tuple[str, str]] = []
    for a, b in data.draw(st.lists(st.sampled_from(edges), max_size=2)) if edges else []:
        pr = (ids[a], ids[b])
        if pr in forbid or set(pr) & set(remove) or set(pr) & {x for p in keep for x in p}:
            continue
        keep.append(pr)
    out = rematch(table, Policy(), "S1", current, forbid=forbid, keep=keep, remove=remove)  # the default
    touched = set(remove) | {x for p in keep for x in p}
    untouched = [p for p in current if p not in forbid and not set(p) & touched]
    formed = {frozenset((p.teacher_a, p.teacher_b)) for p in out.result.pairs}
    assert {frozenset(p) for p in untouched} <= formed
    assert set(untouched) <= set(out.kept)
    assert {frozenset(p) for p in keep} <= formed
    assert not {frozenset(p) for p in forbid} & formed
    assert not {x for p in formed for x in p} & set(remove)
    # Only the teachers the request frees (and those without a pair) are paired again, optimally among themselves.
    held = {frozenset(p) for p in [*untouched, *keep]}
    busy = {x for p in held for x in p}
    free = [i for i, t in enumerate(ids) if t not in busy and t not in remove]
    rest = sum(p.value for p in out.result.pairs if frozenset((p.teacher_a, p.teacher_b)) not in held)
    assert rest == brute_force(Ref(table, Policy(do_not_pair=tuple(forbid))), free)[0]


AT = datetime(2026, 9, 3, 14, 5, tzinfo=UTC)


def _rev(n: int, **request) -> Revision:
    return Revision(n, AT.replace(day=n), f"Principal {n}", request)


def _kinds(decisions: list[Decision]) -> list[tuple[str, tuple[str, ...], int]]:
    return [(d.kind, d.teacher_ids, d.revision) for d in decisions]


def test_a_later_revision_undoes_an_earlier_decision() -> None:
    revs = [_rev(1, forbid=[["A", "B"]], keep=[["C", "D"]], remove=["E"]),
            _rev(2, keep=[["A", "B"]]),  # the refusal is lifted
            _rev(3, add=[{"teacher_id": "E", "subject": "math"}]),  # E is back
            _rev(4, remove=["C"], forbid=[["F", "G"]])]  # C left: C and D are no longer kept together
    out = standing("S1", "run1", revs, latest_pairs=[("A", "B"), ("H", "I")], names={"A": "Ana Diaz"})
    assert _kinds(out) == [("refused", ("F", "G"), 4), ("kept", ("A", "B"), 2), ("removed", ("C",), 4)]
    assert out[1].teacher_names == ("Ana Diaz", "") and out[1].made_by == "Principal 2"
    assert out[1].made_at == "2026-09-02T14:05:00+00:00" and out[1].pairing_id == "run1"
    # Refusing a kept pair ends the keeping; keeping a teacher with someone else ends their other kept pair.
    revs = [_rev(1, keep=[["A", "B"], ["C", "D"]]), _rev(2, forbid=[["B", "A"]]), _rev(3, keep=[["C", "E"]])]
    out = standing("S1", "run1", revs, latest_pairs=[("C", "E"), ("C", "D")])
    assert _kinds(out) == [("refused", ("B", "A"), 2), ("kept", ("C", "E"), 3)]
    # A kept pair a later re-match ended (the whole school suggested again) is not what the principal last saw.
    out = standing("S1", "run1", [_rev(1, keep=[["A", "B"]]), _rev(2, stability="full")], latest_pairs=[("A", "C")])
    assert out == []
    # Revisions are read in their order, whatever order they come in.
    out = standing("S1", "run1", [_rev(2, keep=[["A", "B"]]), _rev(1, forbid=[["A", "B"]])], [("A", "B")])
    assert _kinds(out) == [("kept", ("A", "B"), 2)]


def test_inherited_decisions_come_first_and_can_be_undone() -> None:
    old = [Decision("S1", "refused", ("A", "B"), ("Ana", "Ben"), "2026-07-01T10:00:00+00:00", "P", "run0", 1),
           Decision("S1", "removed", ("E",), ("Eve",), "2026-07-01T10:00:00+00:00", "P", "run0", 1),
           Decision("S2", "refused", ("X", "Y"), ("", ""), "2026-07-01T10:00:00+00:00", "Q", "run0", 1)]
    assert _kinds(standing("S1", "run1", [], [], old)) == [("refused", ("A", "B"), 1), ("removed", ("E",), 1)]
    out = standing("S1", "run1", [_rev(1, keep=[["A", "B"]])], [("A", "B")], old)
    assert _kinds(out) == [("kept", ("A", "B"), 1), ("removed", ("E",), 1)]
    assert out[1].pairing_id == "run0"  # where it was made, not where it was last carried


def test_plan_applies_each_decision_within_its_school_only() -> None:
    rows = [{"teacher_id": t, "school_id": s, "scores": [3] * 5} for t, s in
            (("A", "S1"), ("B", "S1"), ("C", "S1"), ("D", "S2"), ("E", "S1"), ("F", "S2"), ("G", "S1"))]
    table = dataclasses.replace(make_table(SMALL, rows), teacher_name=np.array(
        ["Ana", "Ben", "Cy", "Dee", "Eve", "Fay", "Gus"], dtype=object))
    at = "2026-09-03T10:00:00+00:00"
    ds = [Decision("S1", "refused", ("A", "B"), ("Ana", "Ben"), at, "P", "r", 1),
          Decision("S1", "refused", ("C", "D"), ("Cy", "Dee"), at, "P", "r", 1),  # D moved to S2
          Decision("S1", "kept", ("E", "G"), ("Eve", "Gus"), at, "P", "r", 1),
          Decision("S1", "kept", ("C", "Z"), ("Cy", "Zed"), at, "P", "r", 1),  # Z left the data
          Decision("S1", "removed", ("C",), ("Cy",), at, "P", "r", 1),  # still listed in S1: stays out
          Decision("S1", "removed", ("F",), ("Fay",), at, "P", "r", 1),  # now at S2: comes back
          Decision("S1", "removed", ("Q",), ("Quin",), at, "P", "r", 1),
          Decision("S1", "refused", ("C", "E"), ("Cy", "Eve"), at, "P", "r", 1),  # C stays out: holds anyway
          Decision("S1", "kept", ("C", "G"), ("Cy", "Gus"), at, "P", "r", 1)]  # C stays out: cannot stay
    carry = plan(ds, table)
    assert carry.do_not_pair == (("A", "B"),) and carry.keep == (("E", "G"),) and carry.drop == {"C"}
    assert carry.not_applied == {1: "Dee is no longer in this school", 3: "Zed is no longer in this school",
                                 5: "the new teacher data lists this teacher at another school",
                                 6: "no longer in the teacher data", 8: "Cy stays removed from this school"}
    assert list(table.subset(carry.rows(table)).teacher_id) == ["A", "B", "D", "E", "F", "G"]
    assert carry.dropped_by_school() == {"S1": {"C"}}
    report = carry.report(table.subset(carry.rows(table)), [], {"kept_on_request": {"not_held": [
        {"teacher_a": "E", "teacher_b": "G", "reason": "the new scores give neither teacher a reinforcement area "
                                                      "in the other's refinement areas"}]}})
    assert [(r["kind"], r["held"]) for r in report] == [("refused", True), ("refused", False), ("kept", False),
                                                         ("kept", False), ("removed", True), ("removed", False),
                                                         ("removed", False), ("refused", True), ("kept", False)]
    assert report[2]["reason"].startswith("the new scores give neither")
    assert report[0] == {"school_id": "S1", "kind": "refused", "teacher_ids": ["A", "B"],
                         "teacher_names": ["Ana", "Ben"], "made_at": at, "made_by": "P", "pairing_id": "r",
                         "revision": 1, "held": True, "reason": ""}
