"""The shortcuts that make a statewide `matcher pair` write its ~30,000 files quickly give exactly what the plain
ways give: CSV text a column at a time (csv.writer's, formula cells neutralised), the usual pair's handout key in one
step, a teacher's own areas from cached rows, and the same files from one process as from two."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.io.csv_out import csv_text, formula_safe
from matcher.io.file_keys import file_key
from matcher.io.teachers import read_teachers
from matcher.pairing.engine import pair_teachers
from matcher.pairing.model import build_scoring
from matcher.policy import Policy
from matcher.report.handouts import Handouts, handout_key
from matcher.report.outputs import write_outputs
from matcher.rubric import bundled
from matcher.synth import write_district

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
CELL_CHARS = st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "\n", "\0", "a", "1", ".", ",", '"', " ", "é",
                              "\u2028", "😀", "·"])
TEXT = st.text(CELL_CHARS, max_size=6)
CELL = st.one_of(TEXT, TEXT, TEXT, st.sampled_from([1, -2.5, None, 3.0, math.nan]))


def plain_csv(header: Any, rows: list[Any]) -> str:
    """What csv_text stands for: csv.writer, every cell through formula_safe."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows([formula_safe(v) for v in row] for row in rows)
    return buf.getvalue()


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 5), st.lists(st.lists(TEXT, min_size=0, max_size=5), max_size=5), st.booleans(),
       st.lists(st.lists(CELL, max_size=4), max_size=4))
def test_csv_text_is_csv_writer_with_formula_cells_neutralised(width: int, ragged: list[list[str]], text_only: bool,
                                                               mixed: list[list[Any]]) -> None:
    even = [(row + ["x"] * width)[:width] for row in ragged]
    for rows in (even, ragged, mixed) if not text_only else (even,):
        assert csv_text(("a", "b"), rows) == plain_csv(("a", "b"), rows)
        assert csv_text(("a", "b"), [iter(r) for r in rows]) == plain_csv(("a", "b"), rows)  # rows read once


def plain_handout_key(teacher_a: str, teacher_b: str) -> str:
    """handout_key's definition, without its shortcut."""
    if (file_key(teacher_a) == teacher_a and file_key(teacher_b) == teacher_b
            and not any("--" in x or x.startswith("-") or x.endswith("-") for x in (teacher_a, teacher_b))):
        return file_key(f"{teacher_a}--{teacher_b}")
    return file_key(json.dumps([teacher_a, teacher_b]))


ID_PARTS = st.sampled_from(list("AB0-._a ~/") + ["CON", "NUL", "COM1", "LPT9", "AUX", "PRN", "--", "X" * 45])


@settings(max_examples=1000, deadline=None)
@given(st.lists(ID_PARTS, max_size=6).map("".join), st.lists(ID_PARTS, max_size=6).map("".join))
def test_handout_key_shortcut_is_the_definition(teacher_a: str, teacher_b: str) -> None:
    assert handout_key.__wrapped__(teacher_a, teacher_b) == plain_handout_key(teacher_a, teacher_b)


@pytest.mark.parametrize("pair", [("T000012", "T000340"), ("CON", "X"), ("CON.1", "X"), ("A.CON", "B"),
                                  ("COM1.A", "B"), ("X" * 49, "Y" * 49), ("X" * 49, "Y" * 50), ("A-", "B"),
                                  ("A", "-B"), ("A--B", "C"), ("A", "B--C"), ("", "B"), ("A", "")])
def test_handout_key_edges(pair: tuple[str, str]) -> None:
    assert handout_key.__wrapped__(*pair) == plain_handout_key(*pair)


def plain_own_areas(pages: Handouts, teacher_id: str, refining: tuple[str, ...]) -> tuple[list[str], bool]:
    """Handouts._own_areas as first written: the scores' numbers, one teacher at a time."""
    t = pages.t
    i = t.index.get(teacher_id)
    if i is None:
        return [], False
    inds = t.rubric.indicators
    row = t.scores[i].tolist()
    skip = {pages.col[x] for x in refining}
    js = [j for j, on in enumerate(build_scoring(t, pages.policy).strong[i].tolist()) if on and j not in skip]
    strong = bool(js)
    if not strong:
        seen = [j for j, x in enumerate(row) if x == x and j not in skip]
        if not seen:
            return [], False
        top = max(row[j] for j in seen)
        js = [j for j in seen if row[j] == top]
    best = sorted(js, key=lambda j: -row[j])[:4]
    return [inds[j] for j in sorted(best)], strong


@pytest.mark.parametrize("policy", [Policy(), Policy(areas="relative", areas_per_teacher=6),
                                    Policy(strong_at_least=2.0, weak_below=1.5)])
def test_own_areas_are_the_plain_computation(policy: Policy) -> None:
    table = read_teachers(SAMPLES / "teachers.csv", bundled("team"))
    rng = np.random.default_rng(3)
    scores = np.round(table.scores)  # many ties
    scores[rng.random(scores.shape) < 0.3] = np.nan
    scores[:3] = np.nan  # teachers with no score at all
    for t in (table, dataclasses.replace(table, scores=scores)):
        pages = Handouts(t, policy)
        inds = t.rubric.indicators
        for k, tid in enumerate([*t.teacher_id.tolist()[:150], "not a teacher"]):
            refining = tuple(x for x in inds if rng.random() < (0.0, 0.1, 0.5)[k % 3])
            assert pages._own_areas(tid, refining) == plain_own_areas(pages, tid, refining), (tid, refining)


def test_one_process_and_two_write_the_same_files(tmp_path: Path) -> None:
    write_district(tmp_path / "teachers.csv", n_schools=120, mean_size=5, seed=11)  # 100+ schools: forked
    table = read_teachers(tmp_path / "teachers.csv", bundled("team"))
    result = pair_teachers(table, Policy(cross_school_fallback=True))
    assert any(p.school_b for p in result.pairs)
    write_outputs(result, tmp_path / "one", workers=1, handout_scores=True)
    write_outputs(result, tmp_path / "two", workers=2, handout_scores=True)
    one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*"))
    assert len([p for p in one if p.parts[0] == "schools"]) == 120 + 1
    assert one == sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*"))
    assert len([p for p in one if p.parts[0] == "handouts" and p.suffix == ".html"]) >= len(result.pairs)
    for p in one:
        a, b = tmp_path / "one" / p, tmp_path / "two" / p
        assert a.stat().st_mode == b.stat().st_mode
        if a.is_file():
            assert a.read_bytes() == b.read_bytes()
