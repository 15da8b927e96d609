"""Names wherever a person reads the pairing: pairs.csv and unmatched.csv beside the ids, explanations and school
pages by name (escaped), namesakes told apart, observation counts, a cross-school pair without the other school's
scores, reasons that never name another school's teacher, re-match diffs, and stored rosters old and new."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from matcher.cli import main
from matcher.pairing.engine import pair_teachers
from matcher.pairing.rematch import rematch
from matcher.pairing.result import PairingResult
from matcher.policy import Policy
from matcher.report.outputs import PAIR_COLUMNS, UNMATCHED_COLUMNS, write_outputs
from matcher.report.school_page import render_school
from matcher.store.codec import merge_rosters, pair_of, roster_of, table_of, unmatched_of

from .reference import make_table
from .strategies import SMALL

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
N = math.nan


def T(tid: str, scores: list[float], **kw: object) -> dict:
    return {"teacher_id": tid, "scores": scores, **kw}


def named(rows: list[dict], names: dict[str, str], schools: dict[str, str] | None = None):
    """make_table's table with teacher names (by id) and school names (by school id)."""
    table = make_table(SMALL, rows)
    return dataclasses.replace(
        table, teacher_name=np.array([names.get(t, "") for t in table.teacher_id], dtype=object),
        school_name=np.array([(schools or {}).get(s, "") for s in table.school_id], dtype=object))


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_named_sample(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The bundled sample with teacher_name and school_name columns (a comma and quotes in some names); returns
    (teacher_id -> name, school_id -> name). Every third teacher has no name; a name's middle initial is its
    school's, so that namesakes are colleagues (told apart by id) and never teachers of two schools."""
    rows = rows_of(SAMPLES / "teachers.csv")
    first = ["Jane", "Tom", "Ana", "Luis", 'Mary "Mo"', "Wei"]
    last = ["Smith", "Lee", "O'Brien, Jr.", "Khan", "Chen"]
    teachers, schools = {}, {}
    for i, r in enumerate(rows):
        initial = chr(ord("A") + int(r["school_id"][-2:]))
        r["teacher_name"] = "" if i % 3 == 2 else f"{first[i % len(first)]} {initial}. {last[i % len(last)]}"
        r["school_name"] = f"{r['school_id'][-2:]} Lincoln Bend School"
        teachers[r["teacher_id"]], schools[r["school_id"]] = r["teacher_name"], r["school_name"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return teachers, schools


# ---- files from the command line -----------------------------------------------------------------------------


def test_pairs_and_unmatched_csv_carry_the_input_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    teachers, schools = write_named_sample(tmp_path / "named.csv")
    out = tmp_path / "out"
    assert main(["pair", str(tmp_path / "named.csv"), "--out", str(out), "--cross-school"]) == 0
    capsys.readouterr()
    with (out / "pairs.csv").open(encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == list(PAIR_COLUMNS) == [
            "school_id", "school_name", "teacher_a", "teacher_a_name", "teacher_b", "teacher_b_name", "value",
            "a_helps_b", "b_helps_a", "focus_indicator", "explanation", "school_b", "school_b_name", "origin",
            "previous", "mode"]
    with (out / "unmatched.csv").open(encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == list(UNMATCHED_COLUMNS) == [
            "school_id", "school_name", "teacher_id", "teacher_name", "reason", "code"]
    pairs, unmatched = rows_of(out / "pairs.csv"), rows_of(out / "unmatched.csv")
    assert pairs and unmatched
    school_of = {r["teacher_id"]: r["school_id"] for r in rows_of(tmp_path / "named.csv")}
    namesakes = Counter((school_of[t], n) for t, n in teachers.items() if n)
    # How a person reads a teacher: the name; "name (id)" where a colleague shares it; the id where none was given.
    label = {t: (f"{n} ({t})" if namesakes[(school_of[t], n)] > 1 else n) if n else t for t, n in teachers.items()}
    assert any(f"({t})" in label[t] for t in teachers) and any(label[t] == teachers[t] != "" for t in teachers)
    for p in pairs:
        assert p["teacher_a_name"] == teachers[p["teacher_a"]] and p["teacher_b_name"] == teachers[p["teacher_b"]]
        assert p["school_name"] == schools[p["school_id"]]
        assert p["school_b_name"] == (schools[p["school_b"]] if p["school_b"] else "")
        for t in (p["teacher_a"], p["teacher_b"]):
            assert label[t] in p["explanation"]
            if label[t] == teachers[t]:
                assert t not in p["explanation"]
    for u in unmatched:
        assert u["teacher_name"] == teachers[u["teacher_id"]] and u["school_name"] == schools[u["school_id"]]
    assert any(p["school_b"] for p in pairs), "the fallback makes pairs across schools on the sample"
    assert any(teachers[p["teacher_a"]] == "" for p in pairs), "some teachers have no name: the id stands alone"
    page = (out / "schools" / "S0001.html").read_text(encoding="utf-8")
    assert "<h1>Suggested teacher pairs for 01 Lincoln Bend School (S0001)</h1>" in page


def test_previous_accepts_the_new_and_the_old_pairs_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_named_sample(tmp_path / "named.csv")
    first = tmp_path / "first"
    assert main(["pair", str(tmp_path / "named.csv"), "--out", str(first)]) == 0
    pairs = rows_of(first / "pairs.csv")
    old = tmp_path / "old.csv"  # the columns pairs.csv had before names
    with old.open("w", newline="", encoding="utf-8") as fh:
        cols = ["school_id", "teacher_a", "teacher_b", "value", "a_helps_b", "b_helps_a", "focus_indicator",
                "explanation", "school_b", "origin", "previous", "mode"]
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(pairs)
    for previous in (first / "pairs.csv", old):
        out = tmp_path / f"again-{previous.stem}"
        assert main(["pair", str(tmp_path / "named.csv"), "--out", str(out), "--previous", str(previous)]) == 0
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert (summary["previous"]["kept"], summary["previous"]["broken"]) == (len(pairs), 0)
    capsys.readouterr()


# ---- explanations and reasons --------------------------------------------------------------------------------

NAMES = {"A": "Jane Smith", "B": "Tom Lee", "C": "Pat Park", "D": "Dana Diaz"}
SCHOOLS = {"S1": "Lincoln Bend Elementary", "S2": "Oak Hill Middle"}


def test_explanation_names_both_teachers_with_their_scores() -> None:
    table = named([T("A", [4.5, 3, 3, 2, 3]), T("B", [2, 3, 3, 4.5, 3])], NAMES, SCHOOLS)
    (p,) = pair_teachers(table, Policy()).pairs
    assert (p.teacher_a, p.teacher_a_name, p.teacher_b, p.teacher_b_name) == ("A", "Jane Smith", "B", "Tom Lee")
    assert (p.school_name, p.school_b, p.school_b_name) == ("Lincoln Bend Elementary", "", "")
    assert p.explanation == (
        "Jane Smith and Tom Lee can learn from each other. Jane Smith can support Tom Lee in i1 (Jane Smith 4.50, "
        "Tom Lee 2.00). Tom Lee can support Jane Smith in i4 (Tom Lee 4.50, Jane Smith 2.00). Suggested focus: i1 "
        "(a reinforcement area for Jane Smith, a refinement area for Tom Lee). Same subject (math). Both teach "
        "grade(s) 5.")


def test_namesakes_in_one_school_are_told_apart_and_unnamed_teachers_keep_their_id() -> None:
    rows = [T("A", [4.5, 3, 3, 2, 3]), T("B", [2, 3, 3, 4.5, 3]), T("C", [3, 3, 3, 3, 3])]
    table = named(rows, {"A": "Jane Smith", "B": "Jane Smith"})
    (p,) = pair_teachers(table, Policy()).pairs
    assert p.explanation.startswith("Jane Smith (A) and Jane Smith (B) can learn from each other.")
    assert table.labels.tolist() == ["Jane Smith (A)", "Jane Smith (B)", "C"]


def test_cross_school_pair_shows_no_scores_and_each_page_only_its_own_teacher(tmp_path: Path) -> None:
    rows = [T("A", [4.5, 3, 3, 3, 3], school_id="S1"), T("B", [2, 3, 3, 3, 3], school_id="S2", subject="art")]
    result = pair_teachers(named(rows, NAMES, SCHOOLS), Policy(cross_school_fallback=True))
    (p,) = result.pairs
    assert (p.origin, p.school_b, p.school_name, p.school_b_name) == ("cross_school", "S2",
                                                                      "Lincoln Bend Elementary", "Oak Hill Middle")
    assert p.explanation == (
        "Jane Smith teaches at Lincoln Bend Elementary (S1), Tom Lee at Oak Hill Middle (S2). Jane Smith can "
        "support Tom Lee in i1. Suggested focus: i1 (a reinforcement area for Jane Smith, a refinement area for "
        "Tom Lee). A cross-school pair within district D1: neither found a partner in their own school.")
    write_outputs(result, tmp_path / "out")
    one = (tmp_path / "out" / "schools" / "S1.html").read_text(encoding="utf-8")
    two = (tmp_path / "out" / "schools" / "S2.html").read_text(encoding="utf-8")
    assert "<h2>Jane Smith &amp; Tom Lee (with a teacher at Oak Hill Middle (S2))" in one
    assert "<h2>Jane Smith &amp; Tom Lee (with a teacher at Lincoln Bend Elementary (S1))" in two
    # Each page: its own teacher's score, never the colleague's (nor their subject).
    assert "<th>Jane Smith (reinforcement area)</th>" in one and "4.50" in one
    assert "Tom Lee (refinement area)" not in one and "2.00" not in one and "Subjects" not in one
    assert "<th>Tom Lee (refinement area)</th>" in two and "2.00" in two
    assert "Jane Smith (reinforcement area)" not in two and "4.50" not in two and "math" not in two


def test_taken_reason_names_colleagues_but_never_a_teacher_of_another_school() -> None:
    # X needs i1; P (strong in i1) is worth more with Q (they help each other), so X is left out: "taken".
    def rows(school_pq: str) -> list[dict]:
        return [T("X", [2, 3, 3, 3, 3], school_id="S1"), T("P", [4.5, 3, 3, 2, 3], school_id=school_pq),
                T("Q", [2, 3, 3, 4.5, 3], school_id=school_pq)]
    names = {"X": "Xena Ward", "P": "Pat Park", "Q": "Quinn Ode"}
    same = pair_teachers(named(rows("S1"), names, SCHOOLS), Policy())
    assert [(u.teacher_id, u.teacher_name, u.school_name, u.code) for u in same.unmatched] == [
        ("X", "Xena Ward", "Lincoln Bend Elementary", "taken")]
    assert same.unmatched[0].reason == ("Every possible partner is taken by a pairing worth as much or more to the "
                                        "school: Pat Park (value 1) is paired with Quinn Ode (value 2).")
    across = pair_teachers(named(rows("S2"), names, SCHOOLS), Policy(scope="district"))
    (u,) = across.unmatched
    assert u.reason == ("Every possible partner is taken by a pairing worth as much or more to the school: a "
                        "teacher at Oak Hill Middle (S2) (value 1) is paired with a teacher at Oak Hill Middle (S2) "
                        "(value 2).")


def test_rematch_diff_names_who_left() -> None:
    rows = [T("A", [4.5, 4.0, 3.0, 2.0, 3.0]), T("B", [2.0, 2.5, 3.0, 4.5, 3.0]),
            T("C", [3.0, 3.0, 4.0, 3.0, 3.0]), T("D", [3.0, 3.0, 2.0, 3.0, 3.0])]
    out = rematch(named(rows, NAMES), Policy(), "S1", [("A", "B"), ("C", "D")], remove=["D"])
    assert out.broken == ({"teacher_a": "C", "teacher_b": "D", "reason": "Dana Diaz left the school",
                           "teacher_a_name": "Pat Park", "teacher_b_name": "Dana Diaz"},)
    both = rematch(named(rows, NAMES), Policy(), "S1", [("A", "B"), ("C", "D")], remove=["C", "D"])
    assert both.broken[0]["reason"] == "Pat Park and Dana Diaz left the school"


# ---- observations --------------------------------------------------------------------------------------------


def several_observations(aggregate: str = "mean"):
    """A and B, where A's i1 score is the aggregate of 3 observations and B's i1 of 2; the rest one each."""
    table = named([T("A", [13 / 3, 4.5, 3, 2, 3]), T("B", [2, 2, 3, 4.5, 3]), T("C", [3, 3, 3, 3, N])], NAMES)
    n_obs = (~np.isnan(table.scores)).astype(np.int32)
    n_obs[0, 0], n_obs[1, 0] = 3, 2
    return dataclasses.replace(table, n_obs=n_obs, aggregate=aggregate)


def test_summary_and_page_say_how_many_observations_a_score_rests_on(tmp_path: Path) -> None:
    result = pair_teachers(several_observations(), Policy())
    assert result.summary["observations"] == {
        "aggregate": "mean", "teachers": 3, "scores": 14, "scores_from_several_observations": 2,
        "teachers_observed_more_than_once": 2, "most_observations_per_score": 3,
        "mean_observations_per_score": round(17 / 14, 2)}
    write_outputs(result, tmp_path / "out")
    page = (tmp_path / "out" / "schools" / "S1.html").read_text(encoding="utf-8")
    # A supports B in i1 (A's 4.33 from 3 observations, B's 2.00 from 2) and i2 (one observation each).
    assert "A score is the mean of the teacher's observations of that indicator" in page
    assert ("<tr><td>i1</td><td class=reinforce>4.33 (mean of 3 observations)</td>"
            "<td class=refine>2.00 (mean of 2 observations)</td></tr>"
            "<tr><td>i2</td><td class=reinforce>4.50</td><td class=refine>2.00</td></tr>") in page
    flat = pair_teachers(make_table(SMALL, [T("A", [4.5, 3, 3, 2, 3]), T("B", [2, 3, 3, 4.5, 3])]), Policy())
    assert flat.summary["observations"]["scores_from_several_observations"] == 0
    write_outputs(flat, tmp_path / "flat")
    assert "observations" not in (tmp_path / "flat" / "schools" / "S1.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("aggregate", ["mean", "median", "latest"])
def test_a_score_from_several_observations_shows_their_number(aggregate: str) -> None:
    table = named([T("A", [4.5, 3, 3, 3, 3]), T("B", [10 / 3, 3, 3, 3, 3]), T("C", [2, 3, 3, 3, 3])], NAMES)
    n_obs = (~np.isnan(table.scores)).astype(np.int32)
    n_obs[0, 0], n_obs[2, 0] = 4, 3
    table = dataclasses.replace(table, n_obs=n_obs, aggregate=aggregate)
    result = pair_teachers(table, Policy(aggregate=aggregate))  # type: ignore[arg-type]
    (p,) = result.pairs
    assert (p.teacher_a, p.teacher_b) == ("A", "C")
    html = render_school(result, "S1", list(result.pairs), list(result.unmatched), 3)
    assert (f"<tr><td>i1</td><td class=reinforce>4.50 ({aggregate} of 4 observations)</td>"
            f"<td class=refine>2.00 ({aggregate} of 3 observations)</td></tr>") in html
    assert f"A score is the {aggregate} of the teacher's observations" in html
    assert result.summary["observations"]["aggregate"] == aggregate


# ---- escaping ------------------------------------------------------------------------------------------------


def test_names_with_markup_and_quotes_are_escaped_on_the_page(tmp_path: Path) -> None:
    names = {"A": "<script>alert(1)</script>", "B": 'Tom "the Bard" Lee', "C": "Ann & Bo"}
    rows = [T("A", [4.5, 3, 3, 2, 3]), T("B", [2, 3, 3, 4.5, 3]), T("C", [3, 3, 3, 3, 3])]
    result = pair_teachers(named(rows, names, {"S1": '<b>Lincoln</b> "Bend"'}), Policy())
    write_outputs(result, tmp_path / "out")
    page = (tmp_path / "out" / "schools" / "S1.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "<b>" not in page
    assert "<h1>Suggested teacher pairs for &lt;b&gt;Lincoln&lt;/b&gt; &quot;Bend&quot; (S1)</h1>" in page
    assert "<h2>&lt;script&gt;alert(1)&lt;/script&gt; &amp; Tom &quot;the Bard&quot; Lee" in page
    assert "<td>Ann &amp; Bo</td>" in page  # the unmatched teacher, by name
    # The CSV keeps the names as given (a CSV is data, not markup).
    assert rows_of(tmp_path / "out" / "pairs.csv")[0]["teacher_a_name"] == "<script>alert(1)</script>"


# ---- stored rosters ------------------------------------------------------------------------------------------


def test_roster_round_trip_keeps_names_counts_aggregates_and_extras() -> None:
    table = several_observations()
    table = dataclasses.replace(
        table, email=np.array(["a@x.org", "", ""], dtype=object), role=np.array(["teacher", "coach", ""], dtype=object),
        supervisor_id=np.array(["", "A", ""], dtype=object),
        extras=(("room", np.array(["101", "", "7"], dtype=object)),),
        other_scores=(("median", table.scores + 0.5),))
    rows = np.arange(len(table))
    roster = roster_of(table, rows)
    back = table_of(SMALL, [("S1", roster)], school_names={"S1": "Lincoln Bend Elementary"})
    for name in ("teacher_id", "teacher_name", "email", "role", "supervisor_id", "n_obs"):
        assert np.array_equal(getattr(back, name), getattr(table, name)), name
    assert np.array_equal(back.scores, table.scores, equal_nan=True)
    assert back.aggregate == "mean" and [a for a, _ in back.other_scores] == ["median"]
    assert np.array_equal(back.other_scores[0][1], table.scores + 0.5, equal_nan=True)
    assert [(c, v.tolist()) for c, v in back.extras] == [("room", ["101", "", "7"])]
    assert back.school_label("S1") == "Lincoln Bend Elementary (S1)"
    # One observation per score: no counts or other aggregates are stored (they are implied by the scores).
    plain = roster_of(make_table(SMALL, [T("Z", [3, 3, 3, 3, N])]), np.arange(1))
    assert "n_obs" not in plain and "other_scores" not in plain and "teacher_name" not in plain


def test_rosters_and_pairs_stored_before_names_still_load_and_render() -> None:
    old_roster = {"row": [0, 1], "teacher_id": ["A", "B"], "district_id": ["D1", "D1"], "subject": ["math", "math"],
                  "grades": [32, 32], "grades_text": ["5", "5"], "years": [5.0, None], "opt_out": [False, False],
                  "scores": [[4.5, 3, 3, 2, 3], [2, 3, 3, 4.5, None]]}
    table = table_of(SMALL, [("S1", old_roster)])
    assert table.labels.tolist() == ["A", "B"] and table.n_obs.tolist() == [[1] * 5, [1, 1, 1, 1, 0]]
    assert table.aggregate == "mean" and table.school_label("S1") == "S1"
    old_pair = {"school_id": "S1", "teacher_a": "A", "teacher_b": "B", "value": 2.0, "a_helps_b": ["i1"],
                "b_helps_a": ["i4"], "focus_indicator": "i1", "explanation": "A and B can learn from each other.",
                "school_b": "", "origin": "optimized", "previous": ""}
    old_unmatched = {"school_id": "S1", "teacher_id": "C", "reason": "Opted out of the program.", "code": "opted_out"}
    pair, left = pair_of(old_pair), unmatched_of(old_unmatched)
    assert (pair.teacher_a_name, pair.school_b_name, left.teacher_name) == ("", "", "")
    result = PairingResult((pair,), (left,), {"mode": "mutual", "rubric": "small", "weak_below": 3,
                                              "strong_at_least": 4}, Policy(), table)
    html = render_school(result, "S1", [pair], [left], 3)
    assert "<h1>Suggested teacher pairs for S1</h1>" in html and "<h2>A &amp; B<span" in html
    assert "<td>C</td><td>Opted out of the program.</td>" in html


def test_merged_roster_fills_what_one_side_lacks() -> None:
    old = roster_of(several_observations(), np.arange(3))
    added = roster_of(make_table(SMALL, [T("E", [3, N, 3, 3, 3])]), np.arange(1))
    merged = merge_rosters(old, added, {"C"})
    assert merged["teacher_id"] == ["A", "B", "E"] and merged["row"] == [0, 1, 3]
    assert merged["teacher_name"] == ["Jane Smith", "Tom Lee", ""]
    assert merged["n_obs"][2] == [1, 0, 1, 1, 1] and merged["n_obs"][0][0] == 3
    table = table_of(SMALL, [("S1", merged)])
    assert table.labels.tolist() == ["Jane Smith", "Tom Lee", "E"]
