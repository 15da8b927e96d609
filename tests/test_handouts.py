"""The pair handouts `matcher pair` writes (handouts/<school key>/<pair key>.html): each names exactly its two
teachers, in neutral reciprocal words, with no score unless asked; hostile ids land in distinct safe files with
everything escaped; a pair across schools is in both schools' folders with no score of the other school; the school
page links each handout and says what each value counts."""

from __future__ import annotations

import csv
import html
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.io.file_keys import file_key
from matcher.io.table import TeacherTable
from matcher.io.teachers import read_teachers
from matcher.pairing.engine import pair_teachers
from matcher.pairing.result import PairingResult
from matcher.policy import Policy
from matcher.report.handouts import Handouts, handout_key, handout_path
from matcher.report.outputs import write_outputs
from matcher.report.wording import counts_indicators, total_counts, unit, value_counts
from matcher.rubric import bundled
from matcher.synth import write_observations

from .test_named_outputs import write_named_sample

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
FORBIDDEN = ("weak", "low", "target", "struggling", "deficit")


def visible(page: str) -> str:
    """The text a reader sees: the body without tags, entities decoded, spaces collapsed."""
    body = page.split("<body>", 1)[1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def run(path: Path, policy: Policy | None = None) -> PairingResult:
    table = read_teachers(path, bundled("team"))
    return pair_teachers(table, (policy or Policy()).replace(aggregate="mean"))


def written(result: PairingResult, out: Path, scores: bool = False) -> Path:
    write_outputs(result, out, workers=1, handout_scores=scores)
    return out


@cache
def _synth_export(folder: str) -> Path:
    path = Path(folder) / "synth.csv"
    write_observations([path], n_schools=3, mean_size=30, seed=7)
    return path


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PairingResult]:
    """The bundled observation export (names, several observations), the named sample (namesakes inside schools,
    every third teacher unnamed, pairs across schools) and a generated export with names; and one-way pairs."""
    folder = tmp_path_factory.mktemp("cases")
    write_named_sample(folder / "named.csv")
    synth = _synth_export(str(folder))
    return {"sample": run(SAMPLES / "observations.csv"),
            "named": run(folder / "named.csv", Policy(cross_school_fallback=True)),
            "synth": run(synth),
            "one_way": run(SAMPLES / "observations.csv", Policy(mode="one_way"))}


def label_of(t: TeacherTable, teacher_id: str) -> str:
    return str(t.labels[t.index[teacher_id]])


def handouts_of(result: PairingResult, out: Path) -> list[tuple[str, Any, str]]:
    """(school_id, pair, page) for every handout file the result should have written, each read back."""
    got = []
    for p in result.pairs:
        for s in {p.school_id, p.school_b} - {""}:
            got.append((s, p, (out / handout_path(s, p)).read_text(encoding="utf-8")))
    return got


@pytest.mark.parametrize("case", ["sample", "named", "synth", "one_way"])
def test_a_handout_names_exactly_its_two_teachers(cases: dict[str, PairingResult], case: str,
                                                  tmp_path: Path) -> None:
    result = cases[case]
    t = result.teachers
    out = written(result, tmp_path / "out")
    files = handouts_of(result, out)
    assert len(files) == len(list((out / "handouts").rglob("*.html"))) >= len(result.pairs) > 0
    ids = t.teacher_id.tolist()
    names = [n for n in t.teacher_name.tolist() if n]
    assert case != "named" or len(names) < len(ids)  # some teachers are known by their id alone
    # Every teacher's id and name, as whole words, longest first (a name inside a longer one is not a hit).
    everyone = sorted(set(ids) | set(names), key=len, reverse=True)
    finder = re.compile("|".join(rf"(?<!\w){re.escape(x)}(?!\w)" for x in everyone))
    for school, p, page in files:
        text = visible(page)
        own = (label_of(t, p.teacher_a), label_of(t, p.teacher_b))
        assert all(x in text for x in own), (own, text)
        assert f"<h1>{html.escape(own[0])} &amp; {html.escape(own[1])}</h1>" in page
        # Take out the two teachers as they are named, and the schools; nobody else may be left.
        for x in sorted({*own, *(t.school_label(s) for s in (p.school_id, p.school_b) if s)}, key=len,
                        reverse=True):
            text = text.replace(x, " ")
        assert not finder.findall(text), (school, p.teacher_a, p.teacher_b, finder.findall(text))
        if p.school_b:  # a pair across schools names both schools
            assert t.school_label(p.school_id) in visible(page) and t.school_label(p.school_b) in visible(page)
    if case == "named":
        assert any(p.school_b for p in result.pairs), "the named sample has pairs across schools"
        assert any(re.search(r" \(T\d{6}\)", label_of(t, p.teacher_a) + label_of(t, p.teacher_b))
                   for p in result.pairs), "namesakes: a label with its id"


@pytest.mark.parametrize("case", ["sample", "named", "one_way"])
def test_neutral_reciprocal_words_and_no_scores(cases: dict[str, PairingResult], case: str, tmp_path: Path) -> None:
    result = cases[case]
    t = result.teachers
    col = {c: j for j, c in enumerate(t.rubric.indicators)}
    out = written(result, tmp_path / "out")
    words = re.compile(rf"\b({'|'.join(FORBIDDEN)})", re.IGNORECASE)
    for _, p, page in handouts_of(result, out):
        text = visible(page)
        assert not words.search(text), (words.search(text), text)
        assert "brings" in text and "First steps" in text and "each other at least twice" in text
        # No score: the pair's scores in any spelling are absent, and no digit is left once the names, ids and
        # schools are taken out.
        for who in (p.teacher_a, p.teacher_b):
            for ind in (*p.a_helps_b, *p.b_helps_a):
                x = float(t.scores[t.index[who], col[ind]])
                assert f"{x:.2f}" not in text and f"{x:.1f}" not in text
        rest = text
        for x in (label_of(t, p.teacher_a), label_of(t, p.teacher_b), t.school_label(p.school_id),
                  t.school_label(p.school_b) if p.school_b else ""):
            rest = rest.replace(x, "") if x else rest
        assert not re.search(r"\d", rest), rest
        assert f"{p.value:g} indicator" not in text


def test_one_way_pairs_read_as_both_bringing_something(cases: dict[str, PairingResult], tmp_path: Path) -> None:
    result = cases["one_way"]
    assert result.policy.mode == "one_way" and all(not p.b_helps_a for p in result.pairs)
    out = written(result, tmp_path / "out")
    for _, p, page in handouts_of(result, out):
        text = visible(page)
        a, b = label_of(result.teachers, p.teacher_a), label_of(result.teachers, p.teacher_b)
        assert f"{a} brings strength in" in text and f"{b} brings " in text
        assert f"{b} refines" in text and f"{a} reinforces" in text
        assert "learn from the other" in text


def test_scores_when_asked_only_the_folders_own(cases: dict[str, PairingResult], tmp_path: Path) -> None:
    result = cases["named"]
    t = result.teachers
    col = {c: j for j, c in enumerate(t.rubric.indicators)}
    out = written(result, tmp_path / "out", scores=True)
    across = 0
    for school, p, page in handouts_of(result, out):
        text = visible(page)
        assert "observation scores" in text and value_counts(p.value, result.policy) in text
        for who in (p.teacher_a, p.teacher_b):
            i = t.index[who]
            cells = {f"<td>{float(t.scores[i, col[ind]]):.2f}</td>" for ind in (*p.a_helps_b, *p.b_helps_a)
                     if t.scores[i, col[ind]] == t.scores[i, col[ind]]}
            head = f"<th>{html.escape(label_of(t, who))}</th>"
            if t.school_id[i] == school:
                assert head in page and all(c in page for c in cells)
            else:  # a teacher at another school: named, never a column of scores
                across += 1
                assert head not in page and "another school are not shown" in text
    assert across
    # Without the flag the two copies of a pair across schools are the same page.
    plain = written(result, tmp_path / "plain")
    for p in result.pairs:
        if p.school_b:
            assert (plain / handout_path(p.school_id, p)).read_bytes() == (plain / handout_path(p.school_b, p)
                                                                           ).read_bytes()


def test_the_school_page_links_each_handout_and_says_what_values_count(cases: dict[str, PairingResult],
                                                                         tmp_path: Path) -> None:
    result = cases["named"]
    out = written(result, tmp_path / "out")
    for page_path in (out / "schools").iterdir():
        page = page_path.read_text(encoding="utf-8")
        links = re.findall(r'<a href="([^"]+)">Handout for ', page)
        assert len(links) == page.count("<section class=pair>")
        for link in links:
            assert link.startswith("../handouts/") and (page_path.parent / link).resolve().is_file()
        for v in re.findall(r"<span class=value>([^<]+)</span>", page):
            assert re.fullmatch(r"\d+ indicators? where one can support the other", v), v
    assert sum(len(list(d.iterdir())) for d in (out / "handouts").iterdir()) == \
        len(result.pairs) + sum(1 for p in result.pairs if p.school_b)


def test_value_wording() -> None:
    mutual, one_way = Policy(), Policy(mode="one_way")
    assert value_counts(3, mutual) == "3 indicators where one can support the other"
    assert value_counts(1, mutual) == "1 indicator where one can support the other"
    assert value_counts(3, one_way) == "supports in 3 indicators"
    assert value_counts(1, one_way) == "supports in 1 indicator"
    weighted = Policy(indicator_weights=(("questioning", 1.5),))
    assert not counts_indicators(weighted) and counts_indicators(Policy(domain_weights=(("planning", 0.0),)))
    assert value_counts(4.5, weighted) == "value 4.5: weighted indicators where one can support the other"
    assert value_counts(4.5, weighted.replace(mode="one_way")) == \
        "value 4.5: weighted indicators where one supports the other"
    assert value_counts(4, Policy(domain_weights=(("planning", 2.0),))).startswith("value 4: weighted indicators")
    gaps = Policy(weigh_gap_size=True)
    assert value_counts(3.5, gaps) == ("value 3.5: indicators where one can support the other, each counted by the "
                                       "gap between the two scores")
    assert unit(gaps.replace(indicator_weights=(("questioning", 2.0),))).endswith("and the indicator's weight")
    assert total_counts(12, mutual) == "total value 12: indicators where one can support the other, added up over " \
                                       "the pairs"


# ---- hostile ids ------------------------------------------------------------------------------------------------

HOSTILE_TEACHERS = ["../x", "A/B", "<script>alert(1)</script>", '"q"', "'q'", "CON", "con", "t1", "T1", "..",
                    "a--b", "a", "b--c", "T0001-", "-T0002", "T0001", "T0002", "x" * 150, "X" * 150, "A B", "A_B"]


def test_pair_keys_never_collide_and_are_safe_file_names() -> None:
    pairs = [(a, b) for a in HOSTILE_TEACHERS for b in HOSTILE_TEACHERS if a != b]
    keys = [handout_key(a, b) for a, b in pairs]
    assert len({k.casefold() for k in keys}) == len(pairs)
    for k in keys:
        assert re.fullmatch(r"[A-Za-z0-9_.~-]+", k) and k not in (".", "..") and len(k) <= 160
        assert k.split(".")[0].upper() not in ("CON", "PRN", "AUX", "NUL")
    assert handout_key("T000001", "T000006") == "T000001--T000006"  # plain ids read as they are
    assert handout_key("T0001", "-T0002") != handout_key("T0001-", "T0002")
    assert handout_key("A--B", "C") != handout_key("A", "B--C")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text("Aa-~./ _1", min_size=1, max_size=6), st.text("Aa-~./ _1", min_size=1, max_size=6)),
                min_size=2, max_size=30, unique=True))
def test_pair_keys_are_unique_whatever_the_ids(pairs: list[tuple[str, str]]) -> None:
    assert len({handout_key(a, b).casefold() for a, b in pairs}) == len(pairs)


def _hostile_table(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    rubric = bundled("team")
    rows = []
    for s, school in enumerate(["../x", "A/B", "CON", "a/b", "<b>S</b>"]):
        for i, tid in enumerate(HOSTILE_TEACHERS):
            rows.append({"teacher_id": tid if s == 0 else f"{tid}{s}" if i % 2 else f"{s}{tid}",
                         "school_id": school, "subject": "math", "grades": "7", "years_experience": "5",
                         "teacher_name": ["", "<i>Ann</i> \"Lee\"", "O'Neil & Co", "Ann"][i % 4],
                         **{ind: str(rng.choice([1.5, 2, 3, 4, 4.5])) for ind in rubric.indicators}})
    path = tmp_path / "hostile.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_hostile_ids_and_names_land_in_distinct_escaped_files(tmp_path: Path) -> None:
    result = run(_hostile_table(tmp_path))
    assert len(result.pairs) >= 40
    out = written(result, tmp_path / "out")
    files = sorted(p for p in (out / "handouts").rglob("*") if p.is_file())
    assert len(files) == len(result.pairs)
    assert len({str(f.relative_to(out)).casefold() for f in files}) == len(files)
    for f in files:
        assert f.resolve().is_relative_to((out / "handouts").resolve())
    assert sorted(d.name for d in (out / "handouts").iterdir()) == sorted(
        file_key(s) for s in {p.school_id for p in result.pairs})
    for _, p, page in handouts_of(result, out):
        assert "<script>" not in page and "<i>" not in page and "<b>S" not in page
        for who in (p.teacher_a, p.teacher_b):
            assert html.escape(label_of(result.teachers, who)) in page
    school_pages = "".join(f.read_text(encoding="utf-8") for f in (out / "schools").iterdir())
    for link in re.findall(r'<a href="([^"]+)">', school_pages):
        assert re.fullmatch(r"\.\./handouts/[A-Za-z0-9_.~-]+/[A-Za-z0-9_.~-]+\.html", link)
    with (out / "pairs.csv").open(encoding="utf-8", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == len(result.pairs)


def test_handouts_render_from_a_school_table_as_from_the_state(cases: dict[str, PairingResult]) -> None:
    """The API renders a school's handouts from its own rosters: the same page as from the statewide table."""
    result = cases["sample"]
    t = result.teachers
    whole = Handouts(t, result.policy)
    school = "S0002"
    part = Handouts(t.subset(t.school_id == school), result.policy)
    for p in result.pairs:
        if p.school_id == school:
            assert part.render(p, school) == whole.render(p, school)
