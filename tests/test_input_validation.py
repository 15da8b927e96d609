"""Bad input: every problem is reported at once, each with the file, row (file line, header = 1), column and value."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matcher.errors import InputError, Problem
from matcher.io.pair_lists import check_pair_ids, read_pair_file, read_school_coords
from matcher.io.teachers import read_teachers
from matcher.policy import load_policy
from matcher.rubric import load_rubric
from matcher.synth import write_district

TEAM = load_rubric("team")
ROSTER_COLUMNS = ["teacher_id", "school_id", "subject", "grades", "years_experience", "opt_out", "district_id"]


def frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def problems_of(path: Path, rubric: str = "team", roster: Path | None = None) -> list[Problem]:
    with pytest.raises(InputError) as info:
        read_teachers(path, load_rubric(rubric), roster)
    assert info.value.problems, "an InputError must carry its problems"
    return info.value.problems


def one(problems: list[Problem], **where: object) -> Problem:
    """The single problem whose attributes equal `where` (fails listing them all otherwise)."""
    hits = [p for p in problems if all(getattr(p, k) == v for k, v in where.items())]
    assert len(hits) == 1, f"expected one problem with {where}, got {hits}; all problems: {problems}"
    return hits[0]


def row(i: int) -> int:
    """File line of data-frame row i (header is line 1)."""
    return i + 2


@pytest.fixture
def wide(district: tuple[Path, Path]) -> pd.DataFrame:
    return frame(district[0])


# ---- wide teacher file --------------------------------------------------------------------------------------------


def test_clean_file_is_accepted(district: tuple[Path, Path], wide: pd.DataFrame) -> None:
    table = read_teachers(district[0], TEAM)
    assert len(table) == len(wide)
    assert table.warnings == ()


def test_missing_required_column(tmp_path: Path, wide: pd.DataFrame) -> None:
    path = write(wide.drop(columns=["subject", "grades"]), tmp_path / "t.csv")
    probs = problems_of(path)
    for col in ("subject", "grades"):
        p = one(probs, column=col)
        assert (p.file, p.row) == (str(path), 1)
        assert "missing" in p.message
    assert len(probs) == 2


def test_repeated_teacher_id_in_another_school_names_both_rows(tmp_path: Path, wide: pd.DataFrame) -> None:
    # A teacher may have several rows (one per observation), but their roster fields must agree.
    dup = wide["teacher_id"].iloc[2]
    wide.loc[9, "teacher_id"] = dup
    wide.loc[9, "school_id"] = "S9999"
    path = write(wide, tmp_path / "t.csv")
    p = one(problems_of(path), column="school_id")
    assert (p.file, p.row, p.value) == (str(path), row(9), "S9999")
    assert f"row {row(2)}" in p.message and dup in p.message and wide["school_id"].iloc[2] in p.message


@pytest.mark.parametrize("value", ["6", "0", "5.5", "-1", "0.99"])
def test_score_outside_team_scale(tmp_path: Path, wide: pd.DataFrame, value: str) -> None:
    wide.loc[4, "questioning"] = value
    path = write(wide, tmp_path / "t.csv")
    probs = problems_of(path)
    p = one(probs, column="questioning")
    assert (p.file, p.row, p.value) == (str(path), row(4), value)
    assert "scale" in p.message and "1" in p.message and "5" in p.message
    assert len(probs) == 1


def test_scale_edges_and_fractions_are_valid(tmp_path: Path, wide: pd.DataFrame) -> None:
    wide.loc[0, "questioning"], wide.loc[1, "questioning"], wide.loc[2, "thinking"] = "1", "5", "4.5"
    wide.loc[3, "thinking"] = ""  # not observed
    table = read_teachers(write(wide, tmp_path / "t.csv"), TEAM)
    j, k = TEAM.indicators.index("questioning"), TEAM.indicators.index("thinking")
    assert (table.scores[0, j], table.scores[1, j], table.scores[2, k]) == (1.0, 5.0, 4.5)
    assert np.isnan(table.scores[3, k])


def test_danielson_scale_is_one_to_four(tmp_path: Path) -> None:
    dan = load_rubric("danielson")
    path = tmp_path / "danielson.csv"
    write_district(path, 2, 6, 3, rubric=dan)
    df = frame(path)
    ind = dan.indicators[3]
    df.loc[1, ind] = "4.5"
    probs = problems_of(write(df, path), rubric="danielson")
    p = one(probs, column=ind)
    assert (p.file, p.row, p.value) == (str(path), row(1), "4.5")
    assert "4" in p.message
    assert len(probs) == 1
    # The same score is fine on TEAM's 1 to 5 scale.
    team_df = frame(_team_file(tmp_path))
    team_df.loc[1, "thinking"] = "4.5"
    read_teachers(write(team_df, tmp_path / "team.csv"), TEAM)


def _team_file(tmp_path: Path) -> Path:
    path = tmp_path / "team_base.csv"
    write_district(path, 2, 6, 3)
    return path


def test_non_numeric_score(tmp_path: Path, wide: pd.DataFrame) -> None:
    wide.loc[3, "assessment"] = "high"
    wide.loc[5, "assessment"] = ""  # a blank beside a bad cell in the same column is still "not observed"
    path = write(wide, tmp_path / "t.csv")
    probs = problems_of(path)
    p = one(probs, column="assessment")
    assert (p.file, p.row, p.value) == (str(path), row(3), "high")
    assert "number" in p.message
    assert len(probs) == 1


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path, wide: pd.DataFrame) -> None:
    wide.loc[1, "questioning"] = "7"
    wide.loc[4, "grades"] = "abc"
    wide.loc[6, "years_experience"] = "-2"
    path = write(wide, tmp_path / "t.csv")
    probs = problems_of(path)
    assert len(probs) == 3, probs
    assert {(p.row, p.column, p.value) for p in probs} == {
        (row(1), "questioning", "7"), (row(4), "grades", "abc"), (row(6), "years_experience", "-2")}
    assert all(p.file == str(path) for p in probs)


def test_unknown_indicator_column_with_did_you_mean(tmp_path: Path, wide: pd.DataFrame) -> None:
    path = write(wide.rename(columns={"questioning": "questionning"}), tmp_path / "t.csv")
    # By default an unknown column is kept as an extra, with a warning that suggests the indicator.
    table = read_teachers(path, TEAM)
    assert table.extras[0][0] == "questionning"
    assert any("'questionning' (did you mean 'questioning'?)" in w for w in table.warnings), table.warnings
    with pytest.raises(InputError) as info:
        read_teachers(path, TEAM, strict=True)
    probs = info.value.problems
    p = one(probs, column="questionning")
    assert (p.file, p.row) == (str(path), 1)
    assert "unknown" in p.message and "did you mean 'questioning'" in p.message


def test_unknown_column_far_from_anything_lists_the_indicators(tmp_path: Path, wide: pd.DataFrame) -> None:
    wide["zzz"] = "1"
    path = write(wide, tmp_path / "t.csv")
    with pytest.raises(InputError) as info:
        read_teachers(path, TEAM, strict=True)
    p = one(info.value.problems, column="zzz")
    assert p.row == 1 and "standards_and_objectives" in p.message


def test_absent_indicator_column_is_accepted_with_a_warning(tmp_path: Path, wide: pd.DataFrame) -> None:
    path = write(wide.drop(columns=["thinking"]), tmp_path / "t.csv")
    table = read_teachers(path, TEAM)
    assert len(table) == len(wide)
    assert np.isnan(table.scores[:, TEAM.indicators.index("thinking")]).all()
    assert any("thinking" in w for w in table.warnings)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    p = one(problems_of(path), file=str(path))
    assert "empty" in p.message


def test_header_only_file(tmp_path: Path, wide: pd.DataFrame) -> None:
    path = tmp_path / "header.csv"
    path.write_text(",".join(wide.columns) + "\n", encoding="utf-8")
    p = one(problems_of(path), file=str(path))
    assert "empty" in p.message or "no data" in p.message


@pytest.mark.parametrize("column", ["teacher_id", "school_id"])
def test_blank_ids(tmp_path: Path, wide: pd.DataFrame, column: str) -> None:
    wide.loc[3, column] = "  "
    path = write(wide, tmp_path / "t.csv")
    p = one(problems_of(path), column=column)
    assert (p.file, p.row, p.value) == (str(path), row(3), "")
    assert "blank" in p.message


def test_bad_grades(tmp_path: Path, wide: pd.DataFrame) -> None:
    for i, g in ((1, "13"), (2, "5-3"), (5, "abc")):
        wide.loc[i, "grades"] = g
    wide.loc[6, "grades"] = "PK-2"
    wide.loc[7, "grades"] = "9;10"
    path = write(wide, tmp_path / "t.csv")
    probs = problems_of(path)
    assert {(p.row, p.value) for p in probs if p.column == "grades"} == {(row(1), "13"), (row(2), "5-3"),
                                                                         (row(5), "abc")}
    assert len(probs) == 3


@pytest.mark.parametrize("value", ["-1", "ten", "3..5"])
def test_bad_years_experience(tmp_path: Path, wide: pd.DataFrame, value: str) -> None:
    wide.loc[2, "years_experience"] = value
    path = write(wide, tmp_path / "t.csv")
    probs = problems_of(path)
    p = one(probs, column="years_experience")
    assert (p.file, p.row, p.value) == (str(path), row(2), value)
    assert len(probs) == 1


def test_bad_opt_out(tmp_path: Path, wide: pd.DataFrame) -> None:
    wide.loc[4, "opt_out"] = "maybe"
    wide.loc[5, "opt_out"] = "Yes"
    path = write(wide, tmp_path / "t.csv")
    probs = problems_of(path)
    p = one(probs, column="opt_out")
    assert (p.file, p.row, p.value) == (str(path), row(4), "maybe")
    assert len(probs) == 1


def test_duplicate_header_column(tmp_path: Path, wide: pd.DataFrame) -> None:
    path = tmp_path / "t.csv"
    cols = list(wide.columns)
    cols[cols.index("thinking")] = "questioning"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        w.writerows(wide.itertuples(index=False))
    p = one(problems_of(path), column="questioning")
    assert (p.file, p.row) == (str(path), 1)
    assert "more than once" in p.message


def test_rows_are_file_lines_even_after_blank_lines(tmp_path: Path, wide: pd.DataFrame) -> None:
    wide.loc[4, "questioning"] = "9"
    text = wide.to_csv(index=False).splitlines()
    path = tmp_path / "t.csv"
    # Header, two data rows, a blank line, then the rest: data row 4 is now on line 7.
    path.write_text("\n".join(text[:3] + [""] + text[3:]) + "\n", encoding="utf-8")
    p = one(problems_of(path), column="questioning")
    assert (p.row, p.value) == (7, "9")


@pytest.mark.parametrize("at", [3, 200], ids=["near_top", "far_down"])
def test_not_utf8_names_the_line(tmp_path: Path, at: int) -> None:
    path = tmp_path / "t.csv"
    big = tmp_path / "big.csv"
    write_district(big, 6, 40, 1)
    df = frame(big)
    assert len(df) > at
    df.loc[at - 2, "subject"] = "français"
    df.to_csv(path, index=False, encoding="latin-1")  # an Excel "CSV" in the Windows code page
    p = one(problems_of(path), file=str(path))
    assert p.row == at and "UTF-8" in p.message


def test_row_with_too_many_cells(tmp_path: Path, wide: pd.DataFrame) -> None:
    lines = wide.to_csv(index=False).splitlines()
    lines[3] += ",extra"
    lines[6] += ",extra,more"
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    probs = problems_of(path)
    assert [(p.row, str(len(wide.columns) + 1) in p.message) for p in probs] == [(4, True), (7, False)]
    assert all(p.file == str(path) for p in probs)


def test_long_file_without_roster_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("teacher_id,indicator,score\nT1,thinking,3\n", encoding="utf-8")
    p = one(problems_of(path), file=str(path))
    assert "--roster" in p.message


# ---- long format beside a roster ----------------------------------------------------------------------------------


@pytest.fixture
def long_files(tmp_path: Path, wide: pd.DataFrame) -> tuple[Path, Path, pd.DataFrame]:
    roster = write(wide[ROSTER_COLUMNS], tmp_path / "roster.csv")
    long = wide.melt(id_vars=["teacher_id"], value_vars=list(TEAM.indicators), var_name="indicator",
                     value_name="score")
    long = long[long["score"] != ""].sample(frac=1.0, random_state=1).reset_index(drop=True)  # any order
    return write(long, tmp_path / "scores.csv"), roster, long


def test_long_format_gives_the_same_scores_as_wide(district: tuple[Path, Path],
                                                   long_files: tuple[Path, Path, pd.DataFrame]) -> None:
    scores, roster, _ = long_files
    a = read_teachers(district[0], TEAM)
    b = read_teachers(scores, TEAM, roster)
    assert list(a.teacher_id) == list(b.teacher_id)
    assert list(a.school_id) == list(b.school_id)
    np.testing.assert_array_equal(a.opt_out, b.opt_out)
    np.testing.assert_array_equal(a.grades, b.grades)
    np.testing.assert_array_equal(a.scores, b.scores)  # nan where not observed, in the same cells


def test_long_format_bad_rows_all_reported(long_files: tuple[Path, Path, pd.DataFrame]) -> None:
    scores, roster, long = long_files
    long = long.copy()
    long.loc[0, "indicator"] = "questionning"
    long.loc[1, "teacher_id"] = "NOBODY"
    long.loc[2, "score"] = "high"
    long.loc[3, "score"] = "7"
    write(long, scores)
    probs = problems_of(scores, roster=roster)
    name = str(scores)
    p = one(probs, column="indicator", value="questionning")
    assert (p.file, p.row) == (name, row(0)) and "did you mean 'questioning'" in p.message
    p = one(probs, column="teacher_id", value="NOBODY")
    assert (p.file, p.row) == (name, row(1)) and "roster" in p.message
    p = one(probs, column="score", value="high")
    assert (p.file, p.row) == (name, row(2))
    p = one(probs, column="score", value="7")
    assert (p.file, p.row) == (name, row(3)) and "scale" in p.message
    assert len(probs) == 4


def test_long_format_roster_problems_name_the_roster(long_files: tuple[Path, Path, pd.DataFrame]) -> None:
    scores, roster, _ = long_files
    r = frame(roster)
    r.loc[2, "grades"] = "13"
    write(r, roster)
    p = one(problems_of(scores, roster=roster), column="grades")
    assert (p.file, p.row, p.value) == (str(roster), row(2), "13")


# ---- rubric and policy files --------------------------------------------------------------------------------------


def rubric_problems(tmp_path: Path, text: str) -> tuple[str, list[Problem]]:
    path = tmp_path / "rubric.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_rubric(path)
    assert all(p.file == str(path) for p in info.value.problems)
    return str(path), info.value.problems


RUBRIC_OK = 'name = "mini"\nscale_min = 1\nscale_max = 4\nweak_below = 2\nstrong_at_least = 3\n' \
            '[domains]\nplanning = ["plans", "goals"]\nclassroom = ["talk"]\n'


def test_custom_rubric_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(RUBRIC_OK, encoding="utf-8")
    r = load_rubric(path)
    assert r.indicators == ("plans", "goals", "talk") and (r.scale_min, r.scale_max) == (1, 4)


def test_rubric_missing_scale(tmp_path: Path) -> None:
    _, probs = rubric_problems(tmp_path, RUBRIC_OK.replace("scale_min = 1\nscale_max = 4\n", ""))
    assert {p.column for p in probs} >= {"scale_min", "scale_max"}
    assert all("missing" in p.message for p in probs if p.column in ("scale_min", "scale_max"))


def test_rubric_indicator_listed_twice(tmp_path: Path) -> None:
    _, probs = rubric_problems(tmp_path, RUBRIC_OK.replace('["talk"]', '["talk", "plans"]'))
    p = one(probs, value="plans")
    assert p.column == "domains.classroom" and "twice" in p.message


def test_rubric_weak_above_strong(tmp_path: Path) -> None:
    _, probs = rubric_problems(tmp_path, RUBRIC_OK.replace("weak_below = 2", "weak_below = 3.5"))
    p = one(probs, column="weak_below")
    assert "strong_at_least" in p.message


def test_unknown_rubric_name(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_rubric(str(tmp_path / "nope.toml"))
    assert "nope.toml" in info.value.problems[0].file


def policy_problems(tmp_path: Path, text: str, suffix: str = ".toml") -> tuple[str, list[Problem]]:
    path = tmp_path / f"policy{suffix}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_policy(path)
    assert all(p.file == str(path) for p in info.value.problems)
    return str(path), info.value.problems


def test_policy_problems_are_all_reported_with_their_keys(tmp_path: Path) -> None:
    _, probs = policy_problems(tmp_path, 'mode = "both"\nmax_targets_per_partner = "two"\nfoo = 1\n'
                                         'weigh_gap_size = 1\nsubject = "same"\n')
    assert one(probs, column="mode").value == "'both'"
    assert "mutual" in one(probs, column="mode").message
    assert one(probs, column="max_targets_per_partner").value == "'two'"
    assert "unknown" in one(probs, column="foo").message
    assert one(probs, column="weigh_gap_size").value == "1"
    assert "prefer_same" in one(probs, column="subject").message
    assert len(probs) == 5


def test_policy_unknown_solver(tmp_path: Path) -> None:
    _, probs = policy_problems(tmp_path, 'solver = "simplex"\n')
    assert one(probs, column="solver").value == "'simplex'"


@pytest.mark.parametrize(("text", "suffix", "where"), [("mode = mutual\n", ".toml", "line 1"),
                                                       ('{"mode": ', ".json", "line 1")])
def test_policy_invalid_syntax(tmp_path: Path, text: str, suffix: str, where: str) -> None:
    _, probs = policy_problems(tmp_path, text, suffix)
    assert len(probs) == 1 and where in probs[0].message


def test_policy_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes('mode = "mutual"  # réglage\n'.encode("latin-1"))
    with pytest.raises(InputError) as info:
        load_policy(path)
    assert info.value.problems[0].file == str(path) and "UTF-8" in info.value.problems[0].message


def test_valid_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('mode = "one_way"\nmax_targets_per_partner = 2\nsubject = "prefer_same"\n'
                    '[indicator_weights]\nthinking = 2\n', encoding="utf-8")
    p = load_policy(path)
    assert (p.mode, p.max_targets_per_partner, p.subject, p.indicator_weights) == (
        "one_way", 2, "prefer_same", (("thinking", 2.0),))


# ---- pair lists and schools ---------------------------------------------------------------------------------------


def test_pair_list_naming_an_unknown_teacher(tmp_path: Path, district: tuple[Path, Path],
                                             wide: pd.DataFrame) -> None:
    table = read_teachers(district[0], TEAM)
    a, b = wide["teacher_id"].iloc[0], wide["teacher_id"].iloc[1]
    path = tmp_path / "must.csv"
    path.write_text(f"teacher_a,teacher_b\n{a},{b}\nT404,{b}\n{a},GHOST\n", encoding="utf-8")
    rows = read_pair_file(path)
    assert rows == [(2, a, b), (3, "T404", b), (4, a, "GHOST")]
    probs = check_pair_ids(table, rows, path)
    assert {(p.file, p.row, p.column, p.value) for p in probs} == {
        (str(path), 3, "teacher_a", "T404"), (str(path), 4, "teacher_b", "GHOST")}


def test_pair_list_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text("teacher_a,teacher_b\nT1,\nT2,T2\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_pair_file(path)
    probs = info.value.problems
    assert one(probs, row=2).column == "teacher_b"
    assert one(probs, row=3).value == "T2"
    missing = tmp_path / "nocol.csv"
    missing.write_text("teacher,other\nT1,T2\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_pair_file(missing)
    assert {p.column for p in info.value.problems} == {"teacher_a", "teacher_b"}


def test_schools_file_bad_latitude(tmp_path: Path, district: tuple[Path, Path]) -> None:
    schools = frame(district[1])
    assert len(read_school_coords(district[1])) == len(schools)
    schools.loc[1, "latitude"] = "95.5"
    schools.loc[2, "longitude"] = "east"
    path = write(schools, tmp_path / "schools.csv")
    with pytest.raises(InputError) as info:
        read_school_coords(path)
    probs = info.value.problems
    assert one(probs, column="latitude").row == row(1) and one(probs, column="latitude").value == "95.5"
    assert one(probs, column="longitude").row == row(2) and one(probs, column="longitude").value == "east"
    assert len(probs) == 2
