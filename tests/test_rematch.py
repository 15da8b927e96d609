"""A principal's re-match: each stability level against brute force on small schools."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.errors import InputError
from matcher.pairing.engine import pair_teachers
from matcher.pairing.rematch import rematch
from matcher.policy import Policy

from .checks import check_pairing
from .reference import Ref, brute_force, make_table
from .strategies import SMALL, teacher_rows


def _setup(rows, data):
    table = make_table(SMALL, rows)
    first = pair_teachers(table, Policy())
    current = [(p.teacher_a, p.teacher_b) for p in first.pairs]
    return table, current


def _key(table, a: str, b: str) -> tuple[int, int]:
    i, j = table.index[a], table.index[b]
    return min(i, j), max(i, j)


@given(rows=teacher_rows(min_size=2, max_size=9, schools=1), data=st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_balanced_keeps_every_pair_it_can_and_stays_optimal(rows, data) -> None:
    table, current = _setup(rows, data)
    if not current:
        return
    refused = data.draw(st.sampled_from(current))
    out = rematch(table, Policy(), "S1", current, forbid=[refused], stability="balanced")
    pol = Policy(do_not_pair=(refused,))
    ref = Ref(table, pol)
    check_pairing(out.result, Ref(out.result.teachers, pol))
    assert refused not in {(p.teacher_a, p.teacher_b) for p in out.result.pairs}
    prev = {_key(table, a, b) for a, b in current}
    best_value, best_kept, *_ = brute_force(ref, list(range(len(table))), prev)
    assert out.result.summary["total_value"] == best_value
    assert len(out.kept) == best_kept
    assert any(d["reason"] == "refused by the principal" for d in out.broken)


@given(rows=teacher_rows(min_size=2, max_size=9, schools=1), data=st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_keep_untouched_changes_only_what_the_request_frees(rows, data) -> None:
    table, current = _setup(rows, data)
    if not current:
        return
    refused = data.draw(st.sampled_from(current))
    out = rematch(table, Policy(), "S1", current, forbid=[refused], stability="keep_untouched")
    untouched = [p for p in current if p != refused]
    assert set(untouched) <= set(out.kept)
    # The freed and unpaired teachers are re-paired optimally among themselves.
    busy = {x for p in untouched for x in p}
    free = [i for i, t in enumerate(table.teacher_id) if t not in busy]
    ref = Ref(table, Policy(do_not_pair=(refused,)))
    rest = sum(p.value for p in out.result.pairs if p.teacher_a not in busy)
    assert rest == brute_force(ref, free)[0]


@given(rows=teacher_rows(min_size=2, max_size=9, schools=1), data=st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_full_equals_a_fresh_solve(rows, data) -> None:
    table, current = _setup(rows, data)
    if not current:
        return
    refused = data.draw(st.sampled_from(current))
    out = rematch(table, Policy(), "S1", current, forbid=[refused], stability="full")
    fresh = pair_teachers(table, Policy(do_not_pair=(refused,)))
    assert out.result.summary["total_value"] == fresh.summary["total_value"]


def test_remove_and_keep() -> None:
    from .test_policy_options import SCHOOL

    table = make_table(SMALL, SCHOOL)
    current = [("A", "B"), ("C", "D")]
    out = rematch(table, Policy(), "S1", current, remove=["D"])
    assert ("A", "B") in out.kept
    assert out.broken == ({"teacher_a": "C", "teacher_b": "D", "reason": "D left the school", "teacher_a_name": "",
                           "teacher_b_name": ""},)  # no names in this table: the ids stand alone
    assert "D" not in set(out.result.teachers.teacher_id)
    kept = rematch(table, Policy(), "S1", current, keep=[("A", "B")], forbid=[("C", "D")])
    assert ("A", "B") in kept.kept and kept.diff()["broken"][0]["reason"] == "refused by the principal"


def test_bad_requests_name_the_field() -> None:
    from .test_policy_options import SCHOOL

    table = make_table(SMALL, SCHOOL)
    with pytest.raises(InputError) as err:
        rematch(table, Policy(), "S1", [], remove=["Z"], forbid=[("A", "Y")])
    assert {(p.column, p.value) for p in err.value.problems} == {("remove", "Z"), ("forbid", "Y")}
    with pytest.raises(InputError, match="stability"):
        rematch(table, Policy(), "S1", [], stability="sometimes")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no teachers"):
        rematch(table, Policy(), "S9", [])
