"""`matcher pair` and `matcher synth` end to end through cli.main: outputs, --json, --previous, and bad input that
exits 2 leaving the output folder exactly as it was."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from matcher.cli import main
from matcher.rubric import load_rubric

TEAM = load_rubric("team")
PAIR_COLUMNS = {"school_id", "teacher_a", "teacher_b", "value", "a_helps_b", "b_helps_a", "focus_indicator",
                "explanation"}


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry under folder (relative path -> bytes; None for folders)."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def pair(teachers: Path, out: Path, *extra: str) -> int:
    return main(["pair", str(teachers), "--out", str(out), *extra])


@pytest.fixture
def teachers(tmp_path: Path, district: tuple[Path, Path]) -> Path:
    """A private copy of the district's teacher file (tests may corrupt it)."""
    path = tmp_path / "teachers.csv"
    path.write_bytes(district[0].read_bytes())
    return path


@pytest.fixture
def good_run(tmp_path: Path, teachers: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "out"
    assert pair(teachers, out) == 0
    capsys.readouterr()
    return out


# ---- a good run ---------------------------------------------------------------------------------------------------


def test_outputs_of_a_good_run(good_run: Path, teachers: Path) -> None:
    df = pd.read_csv(teachers, dtype=str, keep_default_na=False)
    pairs = read_rows(good_run / "pairs.csv")
    unmatched = read_rows(good_run / "unmatched.csv")
    summary = json.loads((good_run / "summary.json").read_text(encoding="utf-8"))

    assert pairs, "a synthetic district of this size has pairs"
    assert PAIR_COLUMNS <= set(pairs[0])
    assert {"school_id", "teacher_id", "reason"} <= set(unmatched[0])

    # Every teacher is in exactly one pair or listed exactly once as unmatched.
    seen = Counter([p["teacher_a"] for p in pairs] + [p["teacher_b"] for p in pairs]
                   + [u["teacher_id"] for u in unmatched])
    assert set(seen) == set(df["teacher_id"])
    assert set(seen.values()) == {1}
    school_of = dict(zip(df["teacher_id"], df["school_id"], strict=True))
    for p in pairs:
        assert school_of[p["teacher_a"]] == school_of[p["teacher_b"]] == p["school_id"]
        assert float(p["value"]) == len([x for x in (p["a_helps_b"] + ";" + p["b_helps_a"]).split(";") if x])
        assert p["focus_indicator"] in TEAM.indicators
        assert p["explanation"]
    for u in unmatched:
        assert u["school_id"] == school_of[u["teacher_id"]]
        assert u["reason"].strip()

    # Opted-out teachers are unmatched, with an opt-out reason.
    opted = set(df.loc[df["opt_out"] == "true", "teacher_id"])
    assert opted
    reasons = {u["teacher_id"]: u for u in unmatched}
    for t in opted:
        assert t in reasons
        assert "opt" in reasons[t]["reason"].lower()
        assert reasons[t].get("code", "opted_out") == "opted_out"

    assert summary["total_value"] == pytest.approx(sum(float(p["value"]) for p in pairs))
    assert summary["n_pairs"] == len(pairs)
    assert summary["n_teachers"] == len(df)
    assert summary["n_schools"] == df["school_id"].nunique()
    assert summary["optimal"] is True
    assert isinstance(summary["solve_seconds"], int | float) and summary["solve_seconds"] >= 0
    assert "previous" not in summary  # only with --previous


def test_one_page_per_school_scoped_to_that_school(good_run: Path, teachers: Path) -> None:
    df = pd.read_csv(teachers, dtype=str, keep_default_na=False)
    pairs = read_rows(good_run / "pairs.csv")
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (good_run / "schools").iterdir()}
    assert set(pages) == set(df["school_id"])
    assert all(p.suffix == ".html" for p in (good_run / "schools").iterdir())
    ids = set(df["teacher_id"])
    for school, html in pages.items():
        own = set(df.loc[df["school_id"] == school, "teacher_id"])
        mentioned = set(re.findall(r"[A-Za-z0-9_]+", html)) & ids
        assert mentioned <= own, f"{school}'s page names teachers of other schools: {mentioned - own}"
        for p in pairs:
            if p["school_id"] == school:
                assert p["teacher_a"] in html and p["teacher_b"] in html


def _without_indicator_names(text: str) -> str:
    for ind in TEAM.indicators:
        text = text.replace(ind, " ").replace(ind.replace("_", " "), " ")
    return text


def test_neutral_wording(good_run: Path) -> None:
    pairs = read_rows(good_run / "pairs.csv")
    unmatched = read_rows(good_run / "unmatched.csv")
    texts = [p.read_text(encoding="utf-8") for p in (good_run / "schools").glob("*.html")]
    texts += [p["explanation"] for p in pairs] + [u["reason"] for u in unmatched]
    for text in texts:
        clean = _without_indicator_names(text).lower()
        assert not re.search(r"\bweak", clean), re.search(r".{60}\bweak.{60}", clean, re.S)
        assert "weakest" not in clean and "low performer" not in clean
    pages_with_pairs = {p["school_id"] for p in pairs}
    for sid in pages_with_pairs:
        html = (good_run / "schools" / f"{sid}.html").read_text(encoding="utf-8").lower()
        assert "refinement area" in html and "reinforcement area" in html
    assert any("refinement area" in p["explanation"] and "reinforcement area" in p["explanation"] for p in pairs)


def test_json_prints_the_summary(tmp_path: Path, teachers: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert pair(teachers, out, "--json") == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_previous_run_is_kept(tmp_path: Path, good_run: Path, teachers: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    again = tmp_path / "again"
    assert pair(teachers, again, "--previous", str(good_run / "pairs.csv"), "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    n = summary["n_pairs"]
    assert n == len(read_rows(good_run / "pairs.csv"))
    assert (summary["previous"]["kept"], summary["previous"]["broken"], summary["previous"]["new"]) == (n, 0, 0)
    assert {p["previous"] for p in read_rows(again / "pairs.csv")} == {"kept"}
    assert summary == json.loads((again / "summary.json").read_text(encoding="utf-8"))


def test_previous_run_counts_broken_pairs(tmp_path: Path, good_run: Path, teachers: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    first = read_rows(good_run / "pairs.csv")
    leaver = first[0]["teacher_a"]
    df = pd.read_csv(teachers, dtype=str, keep_default_na=False)
    smaller = tmp_path / "september.csv"
    df[df["teacher_id"] != leaver].to_csv(smaller, index=False)
    assert pair(smaller, tmp_path / "sept", "--previous", str(good_run / "pairs.csv"), "--json") == 0
    s = json.loads(capsys.readouterr().out)
    pv = s["previous"]
    assert pv["broken"] >= 1
    assert pv["kept"] + pv["broken"] == len(first)
    assert pv["kept"] + pv["new"] == s["n_pairs"]
    assert any(leaver in json.dumps(b) for b in pv["broken_pairs"])


def test_rerun_replaces_outputs_and_keeps_other_files(tmp_path: Path, good_run: Path, teachers: Path) -> None:
    (good_run / "notes.txt").write_text("mine", encoding="utf-8")
    (good_run / "schools" / "OLD_SCHOOL.html").write_text("stale", encoding="utf-8")
    assert pair(teachers, good_run, "--json") == 0
    assert (good_run / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not (good_run / "schools" / "OLD_SCHOOL.html").exists()
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name or ".old-" in p.name] == []


# ---- must-pair conflicts ------------------------------------------------------------------------------------------


def test_must_pair_across_schools_is_infeasible(tmp_path: Path, teachers: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    df = pd.read_csv(teachers, dtype=str, keep_default_na=False)
    a = df["teacher_id"].iloc[1]
    b = df.loc[df["school_id"] != df["school_id"].iloc[1], "teacher_id"].iloc[0]
    must = tmp_path / "must.csv"
    must.write_text(f"teacher_a,teacher_b\n{a},{b}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert pair(teachers, out, "--must-pair", str(must)) == 2
    err = capsys.readouterr().err
    assert a in err and b in err and "different school" in err
    assert not out.exists()


def test_teacher_in_two_must_pairs_is_infeasible(tmp_path: Path, teachers: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    df = pd.read_csv(teachers, dtype=str, keep_default_na=False)
    school = df["school_id"].value_counts().index[0]
    a, b, c = df.loc[(df["school_id"] == school) & (df["opt_out"] != "true"), "teacher_id"].iloc[:3]
    must = tmp_path / "must.csv"
    must.write_text(f"teacher_a,teacher_b\n{a},{b}\n{c},{a}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert pair(teachers, out, "--must-pair", str(must)) == 2
    err = capsys.readouterr().err
    assert re.search(rf"{a}\b.*another must-pair", err), err
    assert not out.exists()


# ---- bad input: exit 2, the problem located on stderr, the output folder untouched --------------------------------


def _corrupt_score(tmp: Path, teachers: Path) -> tuple[list[str], list[str]]:
    df = pd.read_csv(teachers, dtype=str, keep_default_na=False)
    df.loc[3, "questioning"] = "7"
    df.to_csv(teachers, index=False)
    return [], [str(teachers), "row 5", "'questioning'", "'7'"]


def _missing_column(tmp: Path, teachers: Path) -> tuple[list[str], list[str]]:
    pd.read_csv(teachers, dtype=str, keep_default_na=False).drop(columns=["school_id"]).to_csv(teachers, index=False)
    return [], [str(teachers), "row 1", "'school_id'"]


def _empty_file(tmp: Path, teachers: Path) -> tuple[list[str], list[str]]:
    teachers.write_bytes(b"")
    return [], [str(teachers), "empty"]


def _disagreeing_rows(tmp: Path, teachers: Path) -> tuple[list[str], list[str]]:
    # A teacher's second row (another observation) in another school.
    df = pd.read_csv(teachers, dtype=str, keep_default_na=False)
    df.loc[6, "teacher_id"] = df.loc[2, "teacher_id"]
    df.loc[6, "school_id"] = "S_ELSEWHERE"
    df.to_csv(teachers, index=False)
    return [], [str(teachers), "row 8", "'school_id'", "'S_ELSEWHERE'", "row 4"]


def _unknown_must_pair(tmp: Path, teachers: Path) -> tuple[list[str], list[str]]:
    tid = pd.read_csv(teachers, dtype=str, keep_default_na=False)["teacher_id"].iloc[0]
    must = tmp / "must.csv"
    must.write_text(f"teacher_a,teacher_b\n{tid},T_GHOST\n", encoding="utf-8")
    return ["--must-pair", str(must)], [str(must), "row 2", "'teacher_b'", "'T_GHOST'"]


def _unknown_do_not_pair(tmp: Path, teachers: Path) -> tuple[list[str], list[str]]:
    dnp = tmp / "dnp.csv"
    dnp.write_text("teacher_a,teacher_b\nT_NOBODY,T_GHOST\n", encoding="utf-8")
    return ["--do-not-pair", str(dnp)], [str(dnp), "row 2", "'teacher_a'", "'T_NOBODY'"]


def _bad_policy(tmp: Path, teachers: Path) -> tuple[list[str], list[str]]:
    policy = tmp / "policy.toml"
    policy.write_text('mode = "sideways"\n', encoding="utf-8")
    return ["--policy", str(policy)], [str(policy), "'mode'", "sideways"]


def _policy_names_unknown_indicator(tmp: Path, teachers: Path) -> tuple[list[str], list[str]]:
    policy = tmp / "policy.toml"
    policy.write_text("[indicator_weights]\nquestionning = 2\n", encoding="utf-8")
    return ["--policy", str(policy)], [str(policy), "indicator_weights.questionning"]


def _policy_must_pair_unknown_teacher(tmp: Path, teachers: Path) -> tuple[list[str], list[str]]:
    policy = tmp / "policy.json"
    tid = pd.read_csv(teachers, dtype=str, keep_default_na=False)["teacher_id"].iloc[1]
    policy.write_text(json.dumps({"must_pair": [[tid, "T_NOWHERE"]]}), encoding="utf-8")
    return ["--policy", str(policy)], [str(policy), "'must_pair'", "T_NOWHERE"]


def _bad_rubric(tmp: Path, teachers: Path) -> tuple[list[str], list[str]]:
    rubric = tmp / "rubric.toml"
    rubric.write_text('scale_min = 1\nscale_max = 5\nweak_below = 3\nstrong_at_least = 4\n'
                      '[domains]\na = ["thinking", "thinking"]\n', encoding="utf-8")
    return ["--rubric", str(rubric)], [str(rubric), "thinking", "twice"]


def _bad_schools(tmp: Path, teachers: Path) -> tuple[list[str], list[str]]:
    schools = tmp / "schools.csv"
    schools.write_text("school_id,latitude,longitude\nS0001,95,-86.7\n", encoding="utf-8")
    return ["--schools", str(schools)], [str(schools), "row 2", "'latitude'", "'95'"]


def _bad_long(tmp: Path, teachers: Path) -> tuple[list[str], list[str]]:
    df = pd.read_csv(teachers, dtype=str, keep_default_na=False)
    roster = tmp / "roster.csv"
    df[["teacher_id", "school_id", "subject", "grades", "years_experience"]].to_csv(roster, index=False)
    pd.DataFrame({"teacher_id": [df["teacher_id"].iloc[0], "T_UNKNOWN"], "indicator": ["thinking", "thinking"],
                  "score": ["2", "4"]}).to_csv(teachers, index=False)
    return ["--roster", str(roster)], [str(teachers), "row 3", "'teacher_id'", "'T_UNKNOWN'"]


def _bad_flag_value(tmp: Path, teachers: Path) -> tuple[list[str], list[str]]:
    return ["--weak-below", "4", "--strong-at-least", "3"], ["weak_below"]


CORRUPTIONS = [_corrupt_score, _missing_column, _empty_file, _disagreeing_rows, _unknown_must_pair,
               _unknown_do_not_pair, _bad_policy, _policy_names_unknown_indicator, _policy_must_pair_unknown_teacher,
               _bad_rubric, _bad_schools, _bad_long, _bad_flag_value]


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("existing", [False, True], ids=["new_dir", "existing_dir"])
def test_bad_input_exits_2_and_leaves_the_output_folder_alone(
        tmp_path: Path, teachers: Path, capsys: pytest.CaptureFixture[str], corrupt, existing: bool) -> None:
    out = tmp_path / "out"
    if existing:
        assert pair(teachers, out) == 0
        (out / "notes.txt").write_text("mine", encoding="utf-8")
    before = snapshot(out) if existing else None
    parent_before = sorted(p.name for p in tmp_path.iterdir())
    capsys.readouterr()

    extra, expected = corrupt(tmp_path, teachers)
    parent_before = sorted(set(parent_before) | {p.name for p in tmp_path.iterdir()})  # + the corrupt inputs
    assert pair(teachers, out, *extra) == 2
    captured = capsys.readouterr()
    for text in expected:
        assert text in captured.err, f"{text!r} not in stderr:\n{captured.err}"
    assert captured.out == ""
    if existing:
        assert snapshot(out) == before
    else:
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == parent_before  # no staging folders left behind


def test_all_problems_of_all_files_in_one_run(tmp_path: Path, teachers: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _, first = _corrupt_score(tmp_path, teachers)
    must = tmp_path / "must.csv"
    must.write_text("teacher_a,teacher_b\nT1,T2\nT3,\n", encoding="utf-8")  # a blank cell on line 3
    second = [str(must), "row 3", "'teacher_b'"]
    extra2, third = _bad_policy(tmp_path, teachers)
    assert pair(teachers, tmp_path / "out", "--must-pair", str(must), *extra2) == 2
    err = capsys.readouterr().err
    assert all(t in err for t in first + second + third), err
    assert "3 problem(s)" in err


def test_out_is_an_existing_file(tmp_path: Path, teachers: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.write_text("not a folder", encoding="utf-8")
    assert pair(teachers, out) == 2
    assert str(out) in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "not a folder"


def test_out_parent_missing(tmp_path: Path, teachers: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "no" / "such" / "out"
    assert pair(teachers, out) == 2
    assert "parent" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()


# ---- synth --------------------------------------------------------------------------------------------------------


def test_synth_writes_a_deterministic_district(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    schools = tmp_path / "schools.csv"
    assert main(["synth", "--schools", "3", "--mean-size", "6", "--seed", "5", "--out", str(a),
                 "--schools-out", str(schools)]) == 0
    assert main(["synth", "--schools", "3", "--mean-size", "6", "--seed", "5", "--out", str(b)]) == 0
    assert main(["synth", "--schools", "3", "--mean-size", "6", "--seed", "6", "--out", str(c)]) == 0
    capsys.readouterr()
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    df = pd.read_csv(a, dtype=str, keep_default_na=False)
    assert df["school_id"].nunique() == 3
    assert len(pd.read_csv(schools)) == 3
    # The synthetic file is valid input for `matcher pair`.
    assert pair(a, tmp_path / "out", "--schools", str(schools)) == 0


def test_synth_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.csv"
    assert main(["synth", "--schools", "0", "--out", str(out)]) == 2
    assert "--schools" in capsys.readouterr().err
    assert not out.exists()
