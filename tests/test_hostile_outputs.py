"""Hostile ids and cells in what the CLI writes: report files that never collide and always have a valid name,
formula cells neutralised in every CSV a person opens (and read back exactly), and a run's pair lists that
constrain only the schools they name."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from matcher.cli import main
from matcher.io.csv_out import csv_text, formula_safe, plain_cell
from matcher.io.file_keys import file_key
from matcher.io.teachers import read_teachers
from matcher.pairing.engine import pair_teachers
from matcher.pairing.rematch import rematch
from matcher.policy import Policy
from matcher.rubric import bundled

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"

# Ids that used to write one file for several schools, or no valid file at all.
HOSTILE_SCHOOLS = ["A B", "A/B", "A_B", "A.B", "a_b", "a b", "..", ".", "../../etc", "CON", "con", "Con.1",
                   "~", "x~y", "=HYPERLINK(\"http://x\")", "<b>S</b>", "S'1", "École Nº 5", "S0001", "S0001 "]


def test_keys_of_plain_ids_are_the_ids() -> None:
    for sid in ("S0001", "0042", "TN-0123", "LINCOLN_HS", "S.1"):
        assert file_key(sid) == sid


def test_keys_never_collide_even_without_case_and_are_valid_file_names() -> None:
    ids = HOSTILE_SCHOOLS + [f"S{i}/{j}" for i in range(50) for j in ("a", "A", "_", " ")] + ["x" * 200, "X" * 200]
    keys = [file_key(s) for s in ids]
    assert len({k.casefold() for k in keys}) == len(set(ids))  # also on a case-insensitive file system
    for k in keys:
        assert re.fullmatch(r"[A-Za-z0-9_.~-]+", k), k
        assert k not in (".", "..") and not k.startswith(".")
        assert k.split(".")[0].upper() not in ("CON", "PRN", "AUX", "NUL") or "~" in k
        assert len(k) <= 100 or "~" in k and len(k) <= 53
    assert file_key("A/B") == file_key("A/B")  # depends on the id alone
    assert file_key("A/B").startswith("A-B~")


@pytest.mark.parametrize("text", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\tx", "\rx", "'=x", "''+x",
                                  "=HYPERLINK(\"http://x\",\"y\")"])
def test_formula_cells_are_quoted_and_read_back_exactly(text: str) -> None:
    safe = formula_safe(text)
    assert safe.startswith("'") and safe[1:] == text
    assert plain_cell(safe) == text


@pytest.mark.parametrize("text", ["S0001", "-3", "+1.5", "'quoted", "a=b", "", "Anne-Marie"])
def test_other_cells_are_left_alone(text: str) -> None:
    assert formula_safe(text) == text
    assert plain_cell(text) == text


def test_csv_text_quotes_text_cells_only() -> None:
    rows = list(csv.reader(io.StringIO(csv_text(("a", "b", "c"), [("=cmd|' /C calc'!A0", -1.5, "@x")]))))
    assert rows == [["a", "b", "c"], ["'=cmd|' /C calc'!A0", "-1.5", "'@x"]]


def _hostile_teachers(tmp_path: Path) -> Path:
    """The bundled sample, its 14 schools renamed to hostile ids (and some teachers to formula-looking ids and
    names), ids written exactly (dtype str keeps leading zeros and spaces)."""
    df = pd.read_csv(SAMPLES / "teachers.csv", dtype=str, keep_default_na=False)
    schools = sorted(df.school_id.unique())
    rename = dict(zip(schools, HOSTILE_SCHOOLS[:len(schools)], strict=True))
    df["school_id"] = df.school_id.map(rename)
    first = df.index[df.school_id == "A B"]
    df.loc[first[0], "teacher_id"] = "=HYPERLINK(\"http://x\",\"click\")"
    df.loc[first[1], "teacher_id"] = "@SUM(1+1)"
    df.insert(2, "teacher_name", [f"Teacher {i}" for i in range(len(df))])
    df.loc[first[2], "teacher_name"] = "+cmd|' /C calc'!A0"
    path = tmp_path / "hostile.csv"
    df.to_csv(path, index=False)
    return path


def test_cli_writes_one_report_per_school_and_neutralised_csv(tmp_path: Path) -> None:
    teachers = _hostile_teachers(tmp_path)
    out = tmp_path / "out"
    assert main(["pair", str(teachers), "--out", str(out)]) == 0
    table = read_teachers(teachers, bundled("team"))
    schools = sorted(set(table.school_id.tolist()))
    pages = sorted(p.name for p in (out / "schools").iterdir())
    assert len(pages) == len(schools) == 14
    assert pages == sorted(f"{file_key(s)}.html" for s in schools)
    for s in schools:  # each page is its own school's
        page = (out / "schools" / f"{file_key(s)}.html").read_text(encoding="utf-8")
        heading = re.search(r"<h1>Suggested teacher pairs for (.*?)</h1>", page)
        assert heading and html.unescape(heading.group(1)) == s
    text = (out / "pairs.csv").read_text(encoding="utf-8")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@") or (c[:1] == "-" and not re.fullmatch(r"-\d+", c))]
    assert any(c.startswith("'=HYPERLINK") for c in cells) and any(c == "'@SUM(1+1)" for c in cells)
    unmatched = (out / "unmatched.csv").read_text(encoding="utf-8")
    assert not [c for row in csv.reader(io.StringIO(unmatched)) for c in row if c[:1] in ("=", "+", "@")]


def test_pairs_csv_read_back_as_previous_keeps_formula_ids(tmp_path: Path) -> None:
    teachers = _hostile_teachers(tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["pair", str(teachers), "--out", str(first)]) == 0
    assert main(["pair", str(teachers), "--previous", str(first / "pairs.csv"), "--out", str(second)]) == 0
    previous = json.loads((second / "summary.json").read_text())["previous"]
    pairs = pd.read_csv(first / "pairs.csv", dtype=str, keep_default_na=False)
    assert "'=HYPERLINK(\"http://x\",\"click\")" in set(pairs.teacher_a) | set(pairs.teacher_b)
    assert previous["previous_pairs"] == previous["kept"] == len(pairs)  # the quoted ids were read back exactly


def test_a_runs_lists_do_not_block_or_leak_into_another_schools_rematch() -> None:
    table = read_teachers(SAMPLES / "teachers.csv", bundled("team"))
    s1 = [str(t) for t in table.teacher_id[table.school_id == "S0001"]]
    s2 = [str(t) for t in table.teacher_id[table.school_id == "S0002"]]
    first = pair_teachers(table, Policy())
    in_s1 = [(p.teacher_a, p.teacher_b) for p in first.pairs if p.school_id == "S0001"]
    policy = Policy(do_not_pair=(in_s1[0], (s1[0], s2[0])), must_pair=(in_s1[1],))
    run = pair_teachers(table, policy)
    current = [(p.teacher_a, p.teacher_b) for p in run.pairs if p.school_id == "S0003" and not p.school_b]
    change = rematch(table, policy, "S0003", current, forbid=[current[0]])
    assert frozenset(current[0]) not in {frozenset((p.teacher_a, p.teacher_b)) for p in change.result.pairs}
    # The school that holds a listed pair still honours it.
    own = [(p.teacher_a, p.teacher_b) for p in run.pairs if p.school_id == "S0001" and not p.school_b]
    again = {frozenset((p.teacher_a, p.teacher_b)) for p in rematch(table, policy, "S0001", own,
                                                                    stability="full").result.pairs}
    assert frozenset(in_s1[0]) not in again and frozenset(in_s1[1]) in again


def _many_schools(tmp_path: Path, copies: int) -> Path:
    """The sample's schools file repeated under new ids: every pair of schools is a candidate link, so the count
    of schools must be bounded before any pair is made (36,000 schools once took 24 GB)."""
    df = pd.read_csv(SAMPLES / "schools.csv", dtype=str, keep_default_na=False)
    parts = [df.assign(school_id=df.school_id + f"-{k}") for k in range(copies)]
    path = tmp_path / "many.csv"
    pd.concat(parts).to_csv(path, index=False)
    return path


def test_networks_among_too_many_schools_are_refused_before_any_work(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from matcher.networks.model import MAX_SCHOOLS

    n = len(pd.read_csv(SAMPLES / "schools.csv"))
    path = _many_schools(tmp_path, MAX_SCHOOLS // n + 1)
    assert main(["networks", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"at most {MAX_SCHOOLS:,}" in err and not (tmp_path / "out").exists()
