"""Real state exports read unchanged: one row per classroom observation (scores aggregated over the observations
that scored them, checked against an independent computation), labelled headers, a column map, names, extra
columns, Excel workbooks with leading-zero ids, and every disagreement or bad cell located by file, sheet, row,
column and value."""

from __future__ import annotations

import csv
import datetime as dt
import statistics
from collections import defaultdict
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from matcher.cli import main
from matcher.errors import InputError, Problem
from matcher.io.columns import column_map_from_dict
from matcher.io.teachers import read_teachers
from matcher.rubric import load_rubric
from matcher.synth import generate_observations, indicator_header, write_district, write_observations

TEAM = load_rubric("team")
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
IND = TEAM.indicators


def one(problems: list[Problem], **where: object) -> Problem:
    hits = [p for p in problems if all(getattr(p, k) == v for k, v in where.items())]
    assert len(hits) == 1, f"expected one problem with {where}, got {hits}; all: {problems}"
    return hits[0]


def problems_of(path: Path, **kw: object) -> list[Problem]:
    with pytest.raises(InputError) as info:
        read_teachers(path, TEAM, **kw)  # type: ignore[arg-type]
    return info.value.problems


# An export as a state's observation system writes it: labelled headers, names, several rows per teacher (each
# observation scoring some indicators), dates, an observer and a column the program does not use.
HEADER = ["District ID", "School ID", "School Name", "Teacher ID", "First Name", "Last Name", "Subject",
          "Grade(s)", "Years of Experience", "Observation Date", "Observer", "Observation Type",
          "Standards & Objectives", "Questioning", "Thinking", "Academic Feedback", "Respectful Culture"]
COLS = ["standards_and_objectives", "questioning", "thinking", "academic_feedback", "respectful_culture"]
ROWS = [
    # teacher 000101 (3 observations; the second leaves thinking blank, the third scores only two indicators)
    ["0190", "0042", "Lincoln Bend Elementary School", "000101", "Maria", "Garcia", "Math", "3", "12",
     "2025-09-15", "Dr. Obs", "Announced", "4", "2", "5", "3", "4"],
    ["0190", "0042", "Lincoln Bend Elementary School", "000101", "Maria", "Garcia", "Math", "3", "12",
     "11/03/2025", "Dr. Obs", "Unannounced", "5", "2", "", "4", "4"],
    ["0190", "0042", "Lincoln Bend Elementary School", "000101", "", "", "", "", "",
     "2026-02-02", "Ms. Lee", "Unannounced", "", "3", "", "", "5"],
    # teacher 000102 (2 observations; on the latest date two observations: their mean is the latest score)
    ["0190", "0042", "Lincoln Bend Elementary School", "000102", "James", "Smith", "English", "4", "2",
     "2025-10-01", "Dr. Obs", "Announced", "2", "4", "2", "2", "3"],
    ["0190", "0042", "Lincoln Bend Elementary School", "000102", "James", "Smith", "English", "4", "2",
     "2026-01-20", "Dr. Obs", "Unannounced", "1", "5", "2", "3", "3"],
    ["0190", "0042", "Lincoln Bend Elementary School", "000102", "James", "Smith", "English", "4", "2",
     "2026-01-20", "Ms. Lee", "Unannounced", "3", "4", "1", "2", "3"],
    # teacher 000203 in another school, one observation
    ["0190", "0107", "Duck River Middle School", "000203", "Aisha", "Okafor", "Science", "6-8", "7",
     "2025-12-05", "Mr. Park", "Announced", "3", "4", "4", "2", "2"],
]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def expected(rows: list[list[str]], how: str) -> dict[tuple[str, str], tuple[float, int]]:
    """(teacher, indicator) -> (score, observations), computed independently with the statistics module."""
    obs: dict[tuple[str, str], list[tuple[dt.date, float]]] = defaultdict(list)
    for r in rows:
        rec = dict(zip(HEADER, r, strict=True))
        day = rec["Observation Date"]
        date = dt.date.fromisoformat(day) if "-" in day else dt.datetime.strptime(day, "%m/%d/%Y").date()
        for h, ind in zip(HEADER[12:], COLS, strict=True):
            if rec[h] != "":
                obs[(rec["Teacher ID"], ind)].append((date, float(rec[h])))
    out = {}
    for key, items in obs.items():
        values = [v for _, v in items]
        if how == "mean":
            score = statistics.fmean(values)
        elif how == "median":
            score = statistics.median(values)
        else:
            newest = max(d for d, _ in items)
            score = statistics.fmean([v for d, v in items if d == newest])
        out[key] = (score, len(values))
    return out


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "export.csv", HEADER, ROWS)


@pytest.mark.parametrize("how", ["mean", "median", "latest"])
def test_observation_rows_aggregate_like_an_independent_computation(export: Path, how: str) -> None:
    table = read_teachers(export, TEAM, aggregate=how)
    assert list(table.teacher_id) == ["000101", "000102", "000203"]  # text, leading zeros kept, file order
    assert table.aggregate == how
    want = expected(ROWS, how)
    for (tid, ind), (score, n) in want.items():
        i, j = table.index[tid], IND.index(ind)
        assert table.scores[i, j] == pytest.approx(score, abs=1e-12), (tid, ind)
        assert table.n_obs[i, j] == n
    observed = {(t, ind) for t in table.teacher_id for ind in IND if not np.isnan(table.scores[table.index[t],
                                                                                              IND.index(ind)])}
    assert observed == set(want)  # every other indicator is "not observed"
    # the other aggregates travel with the table, so a policy may choose another one later
    other = "mean" if how != "mean" else "median"
    again = table.aggregated(other)
    for (tid, ind), (score, _) in expected(ROWS, other).items():
        assert again.scores[again.index[tid], IND.index(ind)] == pytest.approx(score, abs=1e-12)


def test_labelled_headers_names_and_roster_fields(export: Path) -> None:
    table = read_teachers(export, TEAM)
    i = table.index["000101"]
    # blank roster cells on a teacher's third row agree with the first two
    assert (table.teacher_name[i], table.subject[i], table.grades_text[i], table.years[i]) == \
        ("Maria Garcia", "math", "3", 12.0)
    assert (table.school_id[i], table.district_id[i]) == ("0042", "0190")
    assert table.school_label("0042") == "Lincoln Bend Elementary School (0042)"
    assert table.school_label("0107") == "Duck River Middle School (0107)"
    assert dict(table.extras)["Observation Type"].tolist() == ["Announced; Unannounced", "Announced; Unannounced",
                                                               "Announced"]
    assert any("'Observation Type'" in w and "extras" in w for w in table.warnings)
    assert any("no column for 14 indicator(s)" in w for w in table.warnings)


def test_rows_of_a_teacher_that_disagree_name_both_rows(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][1] = "0043"  # the second observation of 000101 in another school
    rows[4][7] = "5"  # 000102 teaches grade 4 on row 5, grade 5 on row 6
    rows[5][4] = "Jim"  # and is called James on rows 5 and 6, Jim on row 7
    path = write_csv(tmp_path / "x.csv", HEADER, rows)
    probs = problems_of(path)
    p = one(probs, column="School ID")
    assert (p.file, p.row, p.value) == (str(path), 3, "0043") and "row 2" in p.message and "'0042'" in p.message
    p = one(probs, column="Grade(s)")
    assert (p.row, p.value) == (6, "5") and "row 5" in p.message
    p = one(probs, column="First Name")
    assert (p.row, p.value) == (7, "Jim") and "row 5" in p.message
    assert len(probs) == 3


def test_names_differing_only_in_case_and_spaces_agree(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][4], rows[1][5] = "MARIA ", "garcia"
    table = read_teachers(write_csv(tmp_path / "x.csv", HEADER, rows), TEAM)
    assert table.teacher_name[0] == "Maria Garcia"  # the first spelling


def test_exact_repeated_row_counts_once(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", HEADER, [*ROWS, ROWS[0]])
    table = read_teachers(path, TEAM)
    assert table.n_obs[0, IND.index("questioning")] == 3
    assert table.scores[0, IND.index("questioning")] == pytest.approx(statistics.fmean([2, 2, 3]))
    assert any("repeat an earlier row exactly" in w and "rows 9" in w for w in table.warnings)


def test_latest_needs_dates(tmp_path: Path) -> None:
    header = [h for h in HEADER if h != "Observation Date"]
    rows = [[c for h, c in zip(HEADER, r, strict=True) if h != "Observation Date"] for r in ROWS]
    path = write_csv(tmp_path / "x.csv", header, rows)
    assert read_teachers(path, TEAM).aggregates == ("mean", "median")
    p = one(problems_of(path, aggregate="latest"), column="observation_date")
    assert "latest" in p.message
    with pytest.raises(InputError, match="observation_date"):
        read_teachers(path, TEAM).aggregated("latest")
    dated = [list(r) for r in ROWS]
    dated[3][9] = ""
    dated[4][9] = "14/14/2025"
    path = write_csv(tmp_path / "y.csv", HEADER, dated)
    probs = problems_of(path, aggregate="latest")
    assert one(probs, value="14/14/2025").row == 6 and "not a date" in one(probs, value="14/14/2025").message
    assert one(probs, row=5).column == "Observation Date" and "latest" in one(probs, row=5).message


def test_two_headers_for_one_field_name_both(tmp_path: Path) -> None:
    header = [*HEADER, "teacher_id", "Name"]
    rows = [[*r, r[3], "x"] for r in ROWS]
    probs = problems_of(write_csv(tmp_path / "x.csv", header, rows))
    p = one(probs, column="teacher_id")
    assert "'Teacher ID' (column 4)" in p.message and "'teacher_id' (column 18)" in p.message
    assert p.row == 1
    assert len(probs) == 1  # "Name" is the teacher's name, and first + last names are not needed beside it


def test_column_map_renames_and_drops(tmp_path: Path) -> None:
    header = ["Staff Code", "Building", "Subject", "Grades", "Experience", "SSN", "Q1 Questioning"]
    rows = [["00017", "0042", "math", "5", "3", "123-45-6789", "2"], ["00018", "0042", "math", "5", "9", "", "4"]]
    path = write_csv(tmp_path / "x.csv", header, rows)
    probs = problems_of(path)
    assert {p.column for p in probs if "missing required column" in p.message} == {"teacher_id", "school_id"}
    cmap = column_map_from_dict({"columns": {"Staff Code": "teacher_id", "building": "school_id", "SSN": "",
                                             "Q1 Questioning": "questioning"}}, "map.toml")
    table = read_teachers(path, TEAM, columns=cmap, strict=True)
    assert list(table.teacher_id) == ["00017", "00018"] and list(table.school_id) == ["0042", "0042"]
    assert table.scores[:, IND.index("questioning")].tolist() == [2.0, 4.0]
    assert table.extras == ()  # the dropped column is not kept anywhere
    bad = column_map_from_dict({"Building": "school_code_x"}, "map.toml")
    p = one(problems_of(path, columns=bad), file="map.toml")
    assert (p.column, p.value) == ("Building", "school_code_x")


def test_strict_refuses_extras(export: Path) -> None:
    p = one(problems_of(export, strict=True), column="Observation Type")
    assert p.row == 1 and "unknown column" in p.message


def test_a_file_with_no_indicator_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", HEADER[:12], [r[:12] for r in ROWS])
    p = one(problems_of(path), row=1)
    assert "no column is an indicator of the TEAM General Educator rubric" in p.message


def test_first_and_last_name_make_the_name(export: Path) -> None:
    table = read_teachers(export, TEAM)
    assert list(table.teacher_name) == ["Maria Garcia", "James Smith", "Aisha Okafor"]
    assert list(table.labels) == ["Maria Garcia", "James Smith", "Aisha Okafor"]


def test_two_teachers_of_a_school_with_one_name_are_told_apart(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    for r in rows[3:6]:
        r[4], r[5] = "MARIA ", " garcia"  # the same name as a person reads it
    table = read_teachers(write_csv(tmp_path / "x.csv", HEADER, rows), TEAM)
    assert list(table.labels) == ["Maria Garcia (000101)", "MARIA garcia (000102)", "Aisha Okafor"]


# ---- Excel ---------------------------------------------------------------------------------------------------------

def write_xlsx(path: Path, header: list[str], rows: list[list[object]], *, title: bool = False,
               sheet: str = "Observations", before: str | None = None) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    if before is not None:
        ws.title = before
        ws.append(["not this sheet"])
        ws = book.create_sheet(sheet)
    else:
        ws.title = sheet
    if title:
        ws.append(["TEAM observations export, 2025-26"])
        ws.append([])
    ws.append(header)
    for r in rows:
        ws.append(r)
    book.save(path)
    return path


def test_xlsx_reads_like_the_csv_with_leading_zeros(tmp_path: Path, export: Path) -> None:
    typed: list[list[object]] = []
    for r in ROWS:
        cells: list[object] = list(r)
        cells[9] = dt.date.fromisoformat(r[9]) if "-" in r[9] else r[9]  # a real date cell
        cells[12:] = [float(c) if c else None for c in r[12:]]  # scores as numbers
        typed.append(cells)
    path = write_xlsx(tmp_path / "export.xlsx", HEADER, typed, title=True)
    a, b = read_teachers(export, TEAM, aggregate="latest"), read_teachers(path, TEAM, aggregate="latest")
    assert list(b.teacher_id) == ["000101", "000102", "000203"] and list(b.school_id) == list(a.school_id)
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.n_obs, b.n_obs)
    assert list(a.teacher_name) == list(b.teacher_name)
    assert any("header is on row 3" in w for w in b.warnings)


def test_xlsx_ids_stored_as_numbers_read_as_displayed(tmp_path: Path) -> None:
    rows: list[list[object]] = [list(r) for r in ROWS]
    for r in rows:
        r[1] = int(str(r[1]))  # 42, shown as 0042 by the cell format below
        r[3] = int(str(r[3]))  # 101, shown as 000101
    path = write_xlsx(tmp_path / "n.xlsx", HEADER, rows)
    book = openpyxl.load_workbook(path)
    ws = book.active
    for row in ws.iter_rows(min_row=2):
        row[1].number_format = "0000"
        row[3].number_format = "000000"
    book.save(path)
    table = read_teachers(path, TEAM)
    assert list(table.school_id) == ["0042", "0042", "0107"]
    assert list(table.teacher_id) == ["000101", "000102", "000203"]
    assert any("stored identifiers as numbers" in w and "'School ID'" in w for w in table.warnings)


def test_xlsx_sheet_choice_and_problems_name_the_sheet(tmp_path: Path) -> None:
    rows: list[list[object]] = [list(r) for r in ROWS]
    rows[2][13] = "high"  # a score that is not a number, on sheet row 4
    path = write_xlsx(tmp_path / "s.xlsx", HEADER, rows, sheet="Scores", before="Cover")
    with pytest.raises(InputError) as info:
        read_teachers(path, TEAM)  # the first sheet holds no teachers
    assert "missing required column" in str(info.value)
    p = one(problems_of(path, sheet="Scores"), column="Questioning")
    assert (p.file, p.row, p.value) == (f"{path}, sheet 'Scores'", 4, "high")
    p = one(problems_of(path, sheet="Nope"), column="sheet")
    assert "'Cover', 'Scores'" in p.message


def test_not_a_workbook_and_old_xls_are_explained(tmp_path: Path) -> None:
    fake = tmp_path / "x.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    assert "not a readable Excel workbook" in one(problems_of(fake), file=str(fake)).message
    old = tmp_path / "x.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    assert ".xls" in one(problems_of(old), file=str(old)).message


# ---- the long format with several observations -------------------------------------------------------------------

def test_long_file_with_repeated_scores(tmp_path: Path) -> None:
    roster = write_csv(tmp_path / "roster.csv", ["Teacher ID", "School ID", "Teacher Name", "Subject", "Grades",
                                                 "Years Experience"],
                       [["007", "0042", "Ana Ruiz", "math", "5", "4"], ["008", "0042", "Ben Cole", "math", "5", "9"]])
    scores = write_csv(tmp_path / "scores.csv", ["Teacher ID", "Indicator", "Score", "Observation Date"], [
        ["007", "Questioning", "2", "2025-09-01"], ["007", "questioning", "3", "2025-12-01"],
        ["007", "Standards & Objectives", "4", "2025-09-01"], ["008", "thinking", "5", "2025-10-10"],
        ["007", "questioning", "4", "2025-12-01"]])
    table = read_teachers(scores, TEAM, roster)
    q, so = IND.index("questioning"), IND.index("standards_and_objectives")
    assert table.scores[0, q] == pytest.approx(3.0) and table.n_obs[0, q] == 3 and table.scores[0, so] == 4.0
    assert table.aggregated("latest").scores[0, q] == pytest.approx(3.5)
    assert table.aggregated("median").scores[0, q] == pytest.approx(3.0)
    assert list(table.teacher_name) == ["Ana Ruiz", "Ben Cole"]
    assert table.source == f"{scores} + {roster}"


# ---- end to end: the pairing uses exactly the aggregated scores -----------------------------------------------------

def test_pairing_an_export_equals_pairing_its_independently_averaged_wide_file(tmp_path: Path) -> None:
    """The observation export of a synthetic district, averaged here with pandas, paired as a wide file: the
    same pairs, values and reasons as pairing the export itself."""
    frame, _ = generate_observations(6, 20, seed=5)
    export = tmp_path / "obs.csv"
    write_observations([export], 6, 20, seed=5)
    labels = {indicator_header(i): i for i in IND}
    wide = frame.rename(columns={**labels, "Teacher ID": "teacher_id", "School ID": "school_id",
                                 "District ID": "district_id", "Subject": "subject", "Grades": "grades",
                                 "Years Experience": "years_experience", "Opt Out": "opt_out"})
    roster = wide.groupby("teacher_id", sort=False)[["school_id", "district_id", "subject", "grades",
                                                     "years_experience", "opt_out"]].first()
    means = wide.groupby("teacher_id", sort=False)[list(IND)].mean()  # NaN-skipping mean per indicator
    averaged = roster.join(means).reset_index()
    averaged["teacher_name"] = (frame.groupby("Teacher ID", sort=False)["Teacher First Name"].first() + " "
                                + frame.groupby("Teacher ID", sort=False)["Teacher Last Name"].first()).to_numpy()
    averaged["school_name"] = frame.groupby("Teacher ID", sort=False)["School Name"].first().to_numpy()
    wide_path = tmp_path / "wide.csv"
    averaged.to_csv(wide_path, index=False, float_format="%.17g")
    assert main(["pair", str(export), "--out", str(tmp_path / "a")]) == 0
    assert main(["pair", str(wide_path), "--out", str(tmp_path / "b")]) == 0
    a = (tmp_path / "a" / "pairs.csv").read_text(encoding="utf-8")
    b = (tmp_path / "b" / "pairs.csv").read_text(encoding="utf-8")
    assert a == b and a.count("\n") > 20


def test_the_bundled_export_averages_to_the_bundled_wide_file() -> None:
    wide = read_teachers(SAMPLES / "teachers.csv", TEAM)
    for name in ("observations.csv", "observations.xlsx"):
        obs = read_teachers(SAMPLES / name, TEAM)
        assert list(obs.teacher_id) == list(wide.teacher_id)
        np.testing.assert_array_equal(np.round(obs.scores, 2), wide.scores)  # the wide file rounds to 2 decimals
        assert obs.n_obs.max() == 4 and (obs.n_obs[~np.isnan(wide.scores)] >= 1).all()
        assert (obs.teacher_name != "").all() and len(obs.school_names) == 14


def test_synth_observations_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["synth", "--schools", "3", "--mean-size", "8", "--seed", "9", "--out", str(tmp_path / "t.csv"),
            "--observations", str(tmp_path / "o.csv"), "--observations", str(tmp_path / "o.xlsx")]
    assert main(args) == 0
    assert "observations of those teachers" in capsys.readouterr().out
    first = (tmp_path / "o.xlsx").read_bytes()
    assert main(args) == 0
    assert (tmp_path / "o.xlsx").read_bytes() == first  # same seed, same bytes
    frame = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False)
    assert {"Teacher ID", "Teacher First Name", "School Name", "Observation Date", "Standards and Objectives"} <= \
        set(frame.columns)
    assert main(["synth", "--schools", "2", "--out", str(tmp_path / "u.csv"), "--observations",
                 str(tmp_path / "o.json")]) == 2


def test_cli_reads_an_xlsx_export_with_a_column_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_district(tmp_path / "w.csv", 2, 10, 4)
    frame = pd.read_csv(tmp_path / "w.csv", dtype=str, keep_default_na=False).rename(
        columns={"teacher_id": "Staff Code"})
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Export"
    ws.append(list(frame.columns))
    for r in frame.itertuples(index=False):
        ws.append(list(r))
    book.save(tmp_path / "w.xlsx")
    (tmp_path / "map.toml").write_text('"Staff Code" = "teacher_id"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["pair", str(tmp_path / "w.xlsx"), "--out", str(out), "--sheet", "Export", "--columns",
                 str(tmp_path / "map.toml"), "--strict"]) == 0
    assert main(["pair", str(tmp_path / "w.csv"), "--out", str(tmp_path / "csv")]) == 0
    assert (out / "pairs.csv").read_bytes() == (tmp_path / "csv" / "pairs.csv").read_bytes()
    capsys.readouterr()
    assert main(["pair", str(tmp_path / "w.xlsx"), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'w.xlsx'}, sheet 'Export', row 1, column 'teacher_id'" in err and "missing" in err
    assert not (tmp_path / "x").exists()


# ---- hostile files: bounded work, text kept as text -----------------------------------------------------------------

def test_thousands_of_columns_are_refused_before_the_rows_are_read(tmp_path: Path) -> None:
    header = ["teacher_id", "school_id", "subject", "grades", "years_experience", "questioning"]
    path = write_csv(tmp_path / "wide.csv", header + [f"c{i}" for i in range(5000)],
                     [["T1", "S1", "math", "5", "3", "2"] + ["x"] * 5000])
    p = one(problems_of(path), row=1)
    assert "5,006 columns" in p.message and "2,000" in p.message
    ok = write_csv(tmp_path / "ok.csv", header + [f"c{i}" for i in range(300)],
                   [["T1", "S1", "math", "5", "3", "2"] + ["x"] * 300,
                    ["T2", "S1", "math", "5", "3", "4"] + ["y"] * 300])
    table = read_teachers(ok, TEAM)
    assert len(table.extras) == 300 and dict(table.extras)["c7"].tolist() == ["x", "y"]
    warning = next(w for w in table.warnings if "extras" in w)
    assert "300 column(s)" in warning and "and 280 more" in warning and len(warning) < 1000


def test_ids_and_names_with_punctuation_and_markup_stay_text(tmp_path: Path) -> None:
    header = ["teacher_id", "school_id", "teacher_name", "school_name", "subject", "grades", "years_experience",
              "questioning"]
    rows = [["../T1", "S/1", '<script>alert("x")</script>', "=HYPERLINK(\"http://x\")", "math", "5", "3", "2"],
            ["T=2", "S/1", "O'Neil, \"Pat\"", "", "math", "5", "3", "4"]]
    table = read_teachers(write_csv(tmp_path / "h.csv", header, rows), TEAM)
    assert list(table.teacher_id) == ["../T1", "T=2"] and list(table.school_id) == ["S/1", "S/1"]
    assert list(table.teacher_name) == ['<script>alert("x")</script>', "O'Neil, \"Pat\""]
    assert table.school_label("S/1") == "=HYPERLINK(\"http://x\") (S/1)"
    long_id = write_csv(tmp_path / "l.csv", header, [["T" * 250, "S1", "", "", "math", "5", "3", "2"]])
    p = one(problems_of(long_id), column="teacher_id")
    assert "longer than 200 characters" in p.message and len(p.value or "") < 50


def test_not_observed_in_words_is_blank_and_problems_read_down_the_file(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[0][13] = "N/A"  # questioning of 000101's first observation
    rows[3][14] = "na"
    table = read_teachers(write_csv(tmp_path / "x.csv", HEADER, rows), TEAM)
    q = IND.index("questioning")
    assert table.n_obs[0, q] == 2 and table.scores[0, q] == pytest.approx(2.5)
    assert any("2 score cell(s) marked as not observed" in w for w in table.warnings)
    rows[5][8] = "ten"  # row 7
    rows[1][14] = "high"  # row 3
    probs = problems_of(write_csv(tmp_path / "y.csv", HEADER, rows))
    assert [p.row for p in probs] == [3, 7]


def test_a_workbook_that_unpacks_too_large_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "bomb.xlsx", HEADER, [list(r) for r in ROWS])
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")  # the first central-directory entry: its uncompressed size is at +24
    data[central + 24:central + 28] = (2**32 - 1).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    p = one(problems_of(path), file=str(path))
    assert "unpacks to" in p.message and "over the limit" in p.message
