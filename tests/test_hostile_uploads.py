"""Hostile but fair input files (issue 12): every reader does work linear in its input and bounded in memory, and
says which limit a file is over. Headers too wide and lines too long are refused before any row is read, a
workbook whose cells span too large a sheet before it is parsed, problems stop at 1,000 plus a count of the rest,
long values are never echoed back whole, ids over 200 characters are problems in every file, and a read under a
deadline stops when time is up. (What the files cost in time and memory: benchmarks/uploads.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matcher.errors import MAX_PROBLEMS, DeadlineError, InputError, Problem
from matcher.io import csvfile, sheets
from matcher.io.limits import MAX_COLUMNS, MAX_LINE_BYTES, ReadLimits, reading_under, with_deadline
from matcher.io.observations import aggregate_columns, parse_dates
from matcher.io.pair_lists import read_pair_file, read_school_coords
from matcher.io.schools import read_schools
from matcher.io.teachers import read_teachers
from matcher.rubric import load_rubric

TEAM = load_rubric("team")
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
REQUIRED = ["teacher_id", "school_id", "subject", "grades", "years_experience"]


def problems_of(call: object) -> InputError:
    with pytest.raises(InputError) as info:
        call()  # type: ignore[operator]
    return info.value


# ---- wide headers and long lines: refused before the rows are read -----------------------------------------------

def test_a_schools_file_of_20000_columns_is_refused_naming_the_limit(tmp_path: Path) -> None:
    lines = (SAMPLES / "schools.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "wide.csv"
    extra = ",".join(f"x{i}" for i in range(20_000))
    path.write_text(f"{lines[0]},{extra}\n{lines[1]}\n", encoding="utf-8")
    for read in (read_school_coords, read_schools, read_pair_file):
        (p,) = problems_of(lambda r=read: r(path)).problems  # type: ignore[misc]
        assert p.row == 1 and f"{20_000 + len(lines[0].split(',')):,} columns" in p.message
        assert f"at most {MAX_COLUMNS:,}" in p.message


def test_a_teacher_header_of_a_million_columns_is_refused_naming_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(REQUIRED + [f"c{i}" for i in range(1_000_000 - 5)]) + "\nT1,S1,math,5,3\n")
    (p,) = problems_of(lambda: read_teachers(path, TEAM)).problems
    assert p.row == 1 and "1,000,000 columns" in p.message and f"at most {MAX_COLUMNS:,}" in p.message


def test_a_header_that_is_one_huge_line_is_refused_before_it_is_split(tmp_path: Path) -> None:
    path = tmp_path / "line.csv"
    path.write_text("teacher_id," + "x" * 3_000_000 + "\nT1\n", encoding="utf-8")
    for read in (lambda: read_teachers(path, TEAM), lambda: read_schools(path)):
        (p,) = problems_of(read).problems
        assert p.row == 1 and "3,000,011 bytes" in p.message and f"at most {MAX_LINE_BYTES:,} bytes" in p.message


def test_a_long_line_further_down_is_named_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    rows = [",".join(REQUIRED)] + [f"T{i},S1,math,5,3" for i in range(20)]
    rows[7] = "T7,S1," + "m" * (MAX_LINE_BYTES + 5) + ",5,3"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    (p,) = problems_of(lambda: read_teachers(path, TEAM)).problems
    assert p.row == 8 and "a line is" in p.message


def test_rows_and_cells_over_the_limits_are_refused_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("\n".join([",".join(REQUIRED)] + [f"T{i},S1,math,5,3" for i in range(500)]) + "\n")
    with reading_under(ReadLimits(max_rows=200)):
        (p,) = problems_of(lambda: read_teachers(path, TEAM)).problems
    assert "more than 200 data rows" in p.message and "at most 200 rows" in p.message
    with reading_under(ReadLimits(max_cells=1_000)):
        (p,) = problems_of(lambda: read_teachers(path, TEAM)).problems
    assert "more than 200 data rows" in p.message and "1,000 cells (rows x 5 columns)" in p.message
    assert len(read_teachers(path, TEAM)) == 500  # the default limits are far above


def test_chunked_reading_gives_the_same_table(monkeypatch: pytest.MonkeyPatch) -> None:
    for sample in ("observations.csv", "observations.xlsx"):
        whole = read_teachers(SAMPLES / sample, TEAM)
        monkeypatch.setattr(csvfile, "CHUNK_ROWS", 7)
        monkeypatch.setattr(sheets, "EXCEL_CHUNK_ROWS", 5)
        chunked = read_teachers(SAMPLES / sample, TEAM)
        monkeypatch.undo()
        assert list(chunked.teacher_id) == list(whole.teacher_id)
        assert np.array_equal(chunked.scores, whole.scores, equal_nan=True)
        assert np.array_equal(chunked.n_obs, whole.n_obs)
        assert list(chunked.school_name) == list(whole.school_name) and chunked.warnings == whole.warnings


# ---- Excel workbooks: sized before they are parsed ---------------------------------------------------------------

def _xlsx(path: Path, sheet_xml: str) -> Path:
    ns = "http://schemas.openxmlformats.org"
    parts = {
        "[Content_Types].xml": f'<?xml version="1.0"?><Types xmlns="{ns}/package/2006/content-types"><Default '
        f'Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default '
        f'Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
        f'"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        f'"/xl/worksheets/sheet1.xml" ContentType='
        f'"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/relationships"><Relationship '
        f'Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        f'</Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{ns}/'
        f'officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet xmlns="{ns}/spreadsheetml/2006/main">'
                                    f"<sheetData>{sheet_xml}</sheetData></worksheet>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return path


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _rows(n: int) -> str:
    head = "".join(_cell(f"{c}1", h) for c, h in zip("ABCDE", REQUIRED, strict=True))
    body = "".join(f'<row r="{i}">' + "".join(_cell(f"{c}{i}", v) for c, v in
                                              zip("ABCDE", (f"T{i}", "S1", "math", "5", "3"), strict=True)) + "</row>"
                   for i in range(2, n + 2))
    return f'<row r="1">{head}</row>{body}'


def test_a_cell_at_xfd1048576_is_refused_before_the_workbook_is_parsed(tmp_path: Path) -> None:
    """The Excel reader holds every cell from A1 to the last: one far cell once asked it for 17 billion cells and
    killed the process (SIGABRT), so this runs in a process of its own."""
    path = _xlsx(tmp_path / "far.xlsx", _rows(3) + f'<row r="1048576">{_cell("XFD1048576", "x")}</row>')
    code = ("import json, sys\nfrom matcher.errors import InputError\nfrom matcher.io.teachers import read_teachers\n"
            "from matcher.rubric import load_rubric\ntry:\n    read_teachers(sys.argv[1], load_rubric('team'))\n"
            "except InputError as e:\n    print(json.dumps([p.message for p in e.problems]))\n")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    (message,) = json.loads(done.stdout)
    assert "1,048,576 rows x 16,384 columns" in message and "at most 12,000,000 cells" in message


def test_cells_without_references_count_towards_the_sheet(tmp_path: Path) -> None:
    row = "<row>" + '<c t="inlineStr"><is><t>x</t></is></c>' * 30 + "</row>"
    path = _xlsx(tmp_path / "plain.xlsx", _rows(1) + row * 400)
    with reading_under(ReadLimits(max_sheet_cells=5_000)):
        (p,) = problems_of(lambda: read_teachers(path, TEAM)).problems
    assert "402 rows x 35 columns" in p.message and "at most 5,000 cells" in p.message


def test_a_workbook_over_the_unpacked_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "big.xlsx", _rows(20_000))  # 5 MB of sheet in a 0.4 MB file
    with reading_under(ReadLimits(max_unpacked_bytes=1 << 20, excel_hint="send CSV")):
        (p,) = problems_of(lambda: read_teachers(path, TEAM)).problems
    assert "over the limit of 1 MiB" in p.message and "send CSV" in p.message
    assert len(read_teachers(path, TEAM)) == 20_000


def test_a_workbook_whose_sheet_unpacks_to_more_than_it_declares_is_refused(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "liar.xlsx", _rows(2_000))
    name = b"xl/worksheets/sheet1.xml"
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        local, start = z.getinfo(name.decode()).header_offset, z.start_dir
    data[local + 22:local + 26] = (1000).to_bytes(4, "little")  # the local header's uncompressed size
    entry = start
    while data[entry + 46:entry + 46 + len(name)] != name:  # the central directory's entry for the sheet
        entry = data.index(b"PK\x01\x02", entry + 4)
    data[entry + 24:entry + 28] = (1000).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    (p,) = problems_of(lambda: read_teachers(path, TEAM)).problems
    assert "not a readable Excel workbook" in p.message and "CRC" in p.message


# ---- problems: 1,000 at most, values shortened -------------------------------------------------------------------

def test_problems_stop_at_1000_with_one_line_counting_the_rest(tmp_path: Path) -> None:
    rows = [",".join(REQUIRED + list(TEAM.indicators))]
    rows += [f"T{i},S{i % 3},math,grade{i},-{i}," + ",".join(f"x{i}" for _ in TEAM.indicators) for i in range(300)]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    exc = problems_of(lambda: read_teachers(path, TEAM))
    per_kind = 100 + 1  # each column's kind of problem: 100 rows, then a line counting the rest
    found = per_kind * (len(TEAM.indicators) + 2)
    assert len(exc.problems) == MAX_PROBLEMS + 1 and exc.count == found
    last = exc.problems[-1]
    assert last.message.startswith(f"... and {found - MAX_PROBLEMS:,} more problems not listed")
    assert (last.row, last.column) == (None, None)
    assert str(exc).startswith(f"{found:,} problem(s)")
    again = InputError([*exc.problems, Problem("other.csv", "one more")])  # passed on: the count carries over
    assert len(again.problems) == MAX_PROBLEMS + 1 and again.count == found + 1


def test_long_values_are_never_echoed_back_whole() -> None:
    p = Problem("f.csv", "m" * 50_000, row=3, column="c" * 5_000, value="v" * 100_000)
    assert p.value is not None and p.column is not None
    assert len(p.value) < 60 and "100,000 chars" in p.value and p.value.startswith("v" * 32)
    assert len(p.column) < 60 and "5,000 chars" in p.column
    assert len(p.message) < 2_100 and "50,000 chars" in p.message
    assert len(str(p)) < 2_300


def test_ids_over_200_characters_are_problems_in_every_file(tmp_path: Path) -> None:
    long_id = "S" * 100_000
    teachers = tmp_path / "teachers.csv"
    df = pd.read_csv(SAMPLES / "teachers.csv", dtype=str, keep_default_na=False)
    df.loc[4, "school_id"] = long_id
    df.to_csv(teachers, index=False)
    p = next(p for p in problems_of(lambda: read_teachers(teachers, TEAM)).problems if p.column == "school_id")
    assert (p.row, "longer than 200 characters" in p.message) == (6, True)
    assert p.value is not None and "100,000 chars" in p.value and len(p.value) < 60
    schools = tmp_path / "schools.csv"
    sf = pd.read_csv(SAMPLES / "schools.csv", dtype=str, keep_default_na=False)
    sf.loc[2, "school_id"] = long_id
    sf.loc[3, "prior_partners"] = "S0001;" + "P" * 300
    sf.to_csv(schools, index=False)
    for read in (read_schools, read_school_coords):
        found = problems_of(lambda r=read: r(schools)).problems  # type: ignore[misc]
        p = next(p for p in found if p.column == "school_id")
        assert p.row == 4 and "longer than 200 characters" in p.message and "100,000 chars" in (p.value or "")
    assert any(p.column == "prior_partners" and p.row == 5 for p in problems_of(lambda: read_schools(schools)).problems)
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"teacher_a,teacher_b\nT1,{'T' * 5000}\n", encoding="utf-8")
    (p,) = problems_of(lambda: read_pair_file(pairs)).problems
    assert (p.row, p.column) == (2, "teacher_b") and "longer than 200" in p.message and "5,000 chars" in (p.value or "")


def test_many_distinct_problems_of_one_kind_are_listed_100_and_counted(tmp_path: Path) -> None:
    """20,000 distinct unknown indicators: one kind of problem, not 20,000 kinds (each of which once scanned the
    whole file)."""
    roster = tmp_path / "roster.csv"
    roster.write_text("\n".join([",".join(REQUIRED)] + [f"T{i},S1,math,5,3" for i in range(10)]) + "\n")
    scores = tmp_path / "scores.csv"
    scores.write_text("teacher_id,indicator,score\n" + "".join(f"T{i % 10},made_up_{i},3\n" for i in range(20_000)))
    exc = problems_of(lambda: read_teachers(scores, TEAM, roster))
    assert len(exc.problems) == 101 and exc.count == 101
    assert all(p.column == "indicator" for p in exc.problems)
    assert exc.problems[-1].message.startswith("... and 19,900 more rows with the same problem")


def test_a_schools_file_whose_every_row_is_wrong_lists_100_per_column(tmp_path: Path) -> None:
    sf = pd.read_csv(SAMPLES / "schools.csv", dtype=str, keep_default_na=False)
    big = pd.concat([sf] * 200, ignore_index=True)
    big["school_id"] = [f"S{i}" for i in range(len(big))]
    big["latitude"] = "north"
    big["level"] = "college"
    path = tmp_path / "schools.csv"
    big.to_csv(path, index=False)
    exc = problems_of(lambda: read_schools(path))
    by_column = pd.Series([p.column for p in exc.problems]).value_counts()
    assert by_column["latitude"] == 101 and by_column["level"] == 101
    assert any(p.message.startswith(f"... and {len(big) - 100:,} more rows") for p in exc.problems
               if p.column == "latitude")


# ---- the deadline ------------------------------------------------------------------------------------------------

def test_a_read_past_its_deadline_stops_with_deadline_error() -> None:
    with reading_under(with_deadline(ReadLimits(), 0.0)), pytest.raises(DeadlineError) as info:
        read_teachers(SAMPLES / "observations.csv", TEAM)
    assert "took longer than the 0 s allowed" in str(info.value)
    assert len(read_teachers(SAMPLES / "observations.csv", TEAM)) > 0  # outside the block: no deadline


# ---- rewritten steps give the answers they gave --------------------------------------------------------------------

def test_median_and_latest_per_indicator_match_pandas() -> None:
    rng = np.random.default_rng(3)
    n, k, m = 40, 3, 600
    t, j = rng.integers(0, n, m), rng.integers(0, k, m)
    v, d = rng.integers(1, 6, m).astype(float), rng.integers(0, 5, m).astype(float)
    agg = aggregate_columns(lambda c: (t[j == c], v[j == c], d[j == c]), n, k, True)
    frame = pd.DataFrame({"t": t, "j": j, "v": v, "d": d})
    med = frame.groupby(["t", "j"])["v"].median()
    newest = frame.groupby(["t", "j"])["d"].transform("max")
    latest = frame[frame["d"] == newest].groupby(["t", "j"])["v"].mean()
    assert agg.median is not None and agg.latest is not None
    for (ti, ji), x in med.items():
        assert agg.median[ti, ji] == x and agg.latest[ti, ji] == latest[(ti, ji)]
    assert int(agg.count.sum()) == m


def test_dates_are_read_in_every_format_as_before() -> None:
    texts = np.array(["2025-10-14", "10/14/2025", "1/2/25", "2025/10/14", "10-14-2025", "14-Oct-2025", "14 oct 2025",
                      "Oct 14, 2025", "OCTOBER 14, 2025", "2/30/2024", "13/45/2025", "Sept 14, 2025", "", "x"],
                     dtype=object)
    days, bad = parse_dates(texts)
    oct14 = pd.Timestamp("2025-10-14").toordinal()
    assert list(days[:9]) == [oct14, oct14, pd.Timestamp("2025-01-02").toordinal()] + [oct14] * 6
    assert list(bad) == [False] * 9 + [True, True, True, False, True]
