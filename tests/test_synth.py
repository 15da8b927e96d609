"""Tests for the seeded synthetic district generator."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matcher.errors import InputError
from matcher.io.grades import parse_grades
from matcher.rubric import Rubric, bundled
from matcher.synth import FRAMEWORK_FOCUS, LPP_FOCUS, SCHOOL_FIELDS, TEACHER_FIELDS, generate_district, write_district

TEAM = bundled("team")
DANIELSON = bundled("danielson")


@pytest.fixture(scope="module")
def district() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_district(120, 35, seed=11)


def _scores(teachers: pd.DataFrame, rubric: Rubric) -> np.ndarray:
    return teachers[list(rubric.indicators)].to_numpy(dtype=float)


def test_same_seed_gives_identical_csv_bytes(tmp_path: Path) -> None:
    write_district(tmp_path / "a.csv", 30, 25, seed=5, schools_path=tmp_path / "sa.csv")
    write_district(tmp_path / "b.csv", 30, 25, seed=5, schools_path=tmp_path / "sb.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "sa.csv").read_bytes() == (tmp_path / "sb.csv").read_bytes()


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    write_district(tmp_path / "a.csv", 30, 25, seed=5, schools_path=tmp_path / "sa.csv")
    write_district(tmp_path / "b.csv", 30, 25, seed=6, schools_path=tmp_path / "sb.csv")
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "sa.csv").read_bytes() != (tmp_path / "sb.csv").read_bytes()


def test_frames_are_deterministic_and_do_not_touch_global_random_state() -> None:
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    t1, s1 = generate_district(10, 20, seed=3)
    assert np.random.random() == before
    t2, s2 = generate_district(10, 20, seed=3)
    pd.testing.assert_frame_equal(t1, t2)
    pd.testing.assert_frame_equal(s1, s2)


def test_columns_exactly_as_specified(district: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    teachers, schools = district
    assert list(teachers.columns) == [*TEACHER_FIELDS, *TEAM.indicators]
    assert list(schools.columns) == list(SCHOOL_FIELDS)
    assert TEACHER_FIELDS == ("teacher_id", "school_id", "subject", "grades", "years_experience", "opt_out",
                              "district_id")
    dan, _ = generate_district(5, 10, seed=1, rubric=DANIELSON)
    assert list(dan.columns) == [*TEACHER_FIELDS, *DANIELSON.indicators]


def test_ids_unique_well_formed_and_consistent(district: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    teachers, schools = district
    assert teachers["teacher_id"].is_unique
    assert schools["school_id"].is_unique
    assert teachers["teacher_id"].str.fullmatch(r"T\d{6}").all()
    assert schools["school_id"].str.fullmatch(r"S\d{4}").all()
    assert schools["district_id"].str.fullmatch(r"D\d{3}").all()
    assert set(teachers["school_id"]) <= set(schools["school_id"])
    # every school has staff, and a teacher's district is the district of the teacher's school
    assert set(teachers["school_id"]) == set(schools["school_id"])
    district_of = schools.set_index("school_id")["district_id"]
    assert (teachers["district_id"].to_numpy() == district_of[teachers["school_id"]].to_numpy()).all()
    assert (schools["superintendent"] == "Supt-" + schools["district_id"]).all()


def test_scores_within_scale_or_blank_with_two_decimals(district: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    teachers, _ = district
    for rubric, frame in ((TEAM, teachers), (DANIELSON, generate_district(60, 30, seed=2, rubric=DANIELSON)[0])):
        s = _scores(frame, rubric)
        seen = s[~np.isnan(s)]
        assert ((seen >= rubric.scale_min) & (seen <= rubric.scale_max)).all()
        assert np.allclose(seen, np.round(seen, 2))
        assert 0.02 < np.isnan(s).mean() < 0.12  # ~3% single blanks plus ~5% of teachers without the last domain
        last = [rubric.indicators.index(i) for i in rubric.domains[-1][1]]
        whole_domain_blank = np.isnan(s[:, last]).all(1).mean()
        assert 0.02 < whole_domain_blank < 0.09
        # averages over 1..4 observations: halves and thirds occur
        frac = np.round(seen % 1, 2)
        assert {0.0, 0.5, 0.33, 0.67} <= set(frac.tolist())


@pytest.mark.parametrize("rubric", [TEAM, DANIELSON], ids=["team", "danielson"])
def test_share_of_weak_and_strong_scores_is_realistic(rubric: Rubric) -> None:
    teachers, _ = generate_district(150, 35, seed=8, rubric=rubric)
    s = _scores(teachers, rubric)
    seen = s[~np.isnan(s)]
    assert 0.10 <= (seen < rubric.weak_below).mean() <= 0.25
    assert 0.15 <= (seen >= rubric.strong_at_least).mean() <= 0.35


def test_harder_indicators_score_lower() -> None:
    teachers, _ = generate_district(100, 35, seed=4)
    means = teachers[list(TEAM.indicators)].mean()
    hard = means[["questioning", "thinking", "problem_solving", "academic_feedback"]]
    assert hard.max() < means.drop(hard.index).median()


def test_custom_continuous_rubric_is_calibrated() -> None:
    rubric = Rubric("pct", 0, 100, 60, 85, (("all", ("a", "b", "c")), ("extra", ("d", "e"))))
    teachers, _ = generate_district(40, 30, seed=1, rubric=rubric)
    seen = _scores(teachers, rubric)
    seen = seen[~np.isnan(seen)]
    assert ((seen >= 0) & (seen <= 100)).all()
    assert 0.10 <= (seen < 60).mean() <= 0.25


def test_grades_parse_and_fit_the_school(district: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    teachers, schools = district
    assert teachers["grades"].str.fullmatch(r"(PK|K|\d{1,2})([-;](PK|K|\d{1,2}))*").all()
    span = schools.set_index("school_id")[["grade_min", "grade_max"]]
    for sid, grades in zip(teachers["school_id"], teachers["grades"], strict=True):
        mask = parse_grades(grades)
        lo, hi = span.loc[sid]
        allowed = sum(1 << (g + 1) for g in range(lo, hi + 1))
        assert mask and mask & ~allowed == 0, (sid, grades)
    assert {"K", "3", "6-8", "9-12"} <= set(teachers["grades"])
    assert teachers["grades"].str.contains(";").any()


def test_subjects_fit_school_levels(district: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    teachers, schools = district
    level = teachers["school_id"].map(schools.set_index("school_id")["level"])
    elem = teachers[level == "elementary"]["subject"]
    assert set(elem) <= {"elementary", "arts", "physical_education", "special_education", "ell"}
    assert (elem == "elementary").mean() > 0.6
    sec = teachers[level.isin(["middle", "high"])]["subject"]
    assert "elementary" not in set(sec)
    assert "cte" not in set(teachers[level == "middle"]["subject"])
    core = sec.isin(["math", "english", "science", "social_studies"]).mean()
    assert 0.5 < core < 0.8


def test_teacher_attributes(district: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    teachers, _ = district
    years = teachers["years_experience"]
    assert years.between(0, 40).all() and years.dtype.kind == "i"
    assert years.median() < years.mean()  # right-skewed
    assert (years < 5).mean() > 0.2
    assert teachers["opt_out"].dtype == bool
    assert 0.003 < teachers["opt_out"].mean() < 0.05


def test_school_attributes(district: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    teachers, schools = district
    assert set(schools["level"]) <= {"early_childhood", "elementary", "middle", "high", "k8", "k12"}
    assert (schools["grade_min"] <= schools["grade_max"]).all()
    assert schools["grade_min"].between(-1, 12).all() and schools["grade_max"].between(-1, 12).all()
    assert schools["latitude"].between(35.0, 36.6).all()
    assert schools["longitude"].between(-90.0, -81.7).all()
    assert set(schools["role"]) == {"host", "partner", "either"}
    codes = set(FRAMEWORK_FOCUS) | set(LPP_FOCUS)
    for strengths, needs in zip(schools["strengths"], schools["needs"], strict=True):
        s, n = strengths.split(";"), needs.split(";")
        assert 1 <= len(s) <= 3 and 1 <= len(n) <= 3
        assert set(s) <= codes and set(n) <= codes and not set(s) & set(n)
    for col in ("pct_poverty", "pct_ell", "pct_swd"):
        assert schools[col].between(0, 1).all()
    size = teachers.groupby("school_id").size().reindex(schools["school_id"]).to_numpy()
    ratio = schools["enrollment"].to_numpy() / size
    assert ((ratio > 8) & (ratio < 23)).all()
    district_of = schools.set_index("school_id")["district_id"]
    for sid, prior in zip(schools["school_id"], schools["prior_partners"], strict=True):
        others = [p for p in prior.split(";") if p]
        assert len(others) <= 2 and sid not in others
        assert all(district_of[p] == district_of[sid] for p in others)
        assert all(sid in schools.set_index("school_id").loc[p, "prior_partners"].split(";") for p in others)


def test_districts_are_skewed_and_geographically_clustered() -> None:
    _, schools = generate_district(650, 30, seed=9)
    sizes = schools["district_id"].value_counts()
    assert 40 <= len(sizes) <= 60
    assert sizes.max() >= 4 * sizes.median()
    spread = schools.groupby("district_id")[["latitude", "longitude"]].std().mean()
    overall = schools[["latitude", "longitude"]].std()
    assert (spread < overall / 3).all()


def test_pilot_district() -> None:
    teachers, schools = generate_district(14, 30, seed=1)
    assert len(schools) == 14 and schools["district_id"].nunique() == 1
    assert 14 * 30 * 0.8 < len(teachers) < 14 * 30 * 1.2
    assert {"elementary", "middle", "high"} <= set(schools["level"])


def test_explicit_district_count() -> None:
    _, schools = generate_district(40, 20, seed=1, n_districts=5)
    assert schools["district_id"].nunique() == 5


def test_bad_arguments_are_reported_together() -> None:
    with pytest.raises(InputError) as err:
        generate_district(0, -1, seed=1, n_districts=0)
    assert {p.column for p in err.value.problems} == {"n_schools", "mean_size", "n_districts"}


def test_statewide_size_and_speed(tmp_path: Path) -> None:
    start = time.perf_counter()
    n_teachers, n_schools = write_district(tmp_path / "t.csv", 1800, 39, seed=2024,
                                           schools_path=tmp_path / "s.csv")
    elapsed = time.perf_counter() - start
    assert n_schools == 1800
    assert abs(n_teachers - 70_000) <= 7_000
    assert elapsed < 5.0
    schools = pd.read_csv(tmp_path / "s.csv")
    level_share = schools["level"].value_counts(normalize=True)
    assert 0.45 < level_share["elementary"] < 0.65
    assert 110 <= schools["district_id"].nunique() <= 170


def test_write_district_is_atomic_and_returns_counts(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "teachers.csv"
    schools_out = tmp_path / "sub" / "schools.csv"
    out.parent.mkdir()
    out.write_text("old contents\n")
    mode = out.stat().st_mode & 0o777
    counts = write_district(out, 12, 20, seed=3, schools_path=schools_out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["schools.csv", "teachers.csv"]
    teachers = pd.read_csv(out, dtype=str, keep_default_na=False)
    schools = pd.read_csv(schools_out, dtype=str, keep_default_na=False)
    assert counts == (len(teachers), len(schools)) and counts[1] == 12
    assert set(teachers["opt_out"]) <= {"true", "false"}
    assert (teachers[list(TEAM.indicators)] == "").any().any()  # blanks are empty cells
    assert out.stat().st_mode & 0o777 == mode  # not the 0600 of a temp file


def test_failed_write_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "teachers.csv"
    out.write_text("old contents\n")

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        write_district(out, 5, 10, seed=1)
    assert [p.name for p in tmp_path.iterdir()] == ["teachers.csv"]
    assert out.read_text() == "old contents\n"


def test_weak_share_makes_a_denser_district_and_is_checked() -> None:
    """--weak-share moves the share of scores below weak_below to the asked value; the strong share stays."""
    rubric = bundled("team")
    t, _ = generate_district(120, 30, 4, weak_share=0.3)
    s = t[list(rubric.indicators)].to_numpy(dtype=float)
    observed = s[~np.isnan(s)]
    assert abs((observed < rubric.weak_below).mean() - 0.3) < 0.03
    assert abs((observed >= rubric.strong_at_least).mean() - 0.25) < 0.04
    with pytest.raises(InputError, match="weak_share"):
        generate_district(5, 10, 1, weak_share=0.9)
