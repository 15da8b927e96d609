"""Seeded synthetic districts: realistic teacher score and school files for tests, demos and benchmarks.
One ``numpy.random.Generator`` per call drives everything, so the same arguments give the same files."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import ndtr

from .errors import InputError, Problem
from .focus import FRAMEWORK_FOCUS, LPP_FOCUS
from .io.atomic import write_text_atomic
from .rubric import Rubric, bundled

TEACHER_FIELDS = ("teacher_id", "school_id", "subject", "grades", "years_experience", "opt_out", "district_id")
SCHOOL_FIELDS = ("school_id", "name", "district_id", "level", "grade_min", "grade_max", "latitude", "longitude",
                 "role", "strengths", "needs", "enrollment", "pct_poverty", "pct_ell", "pct_swd",
                 "superintendent", "prior_partners")

LEVELS = ("early_childhood", "elementary", "middle", "high", "k8", "k12")
# Shares of the schools drawn freely; every district of 3+ schools also gets one elementary, middle and high
# school first, which brings the statewide mix to about 55% / 20% / 20%.
_LEVEL_P = np.array([0.01, 0.60, 0.18, 0.17, 0.025, 0.015])
_LEVEL_SIZE = {"early_childhood": 0.35, "elementary": 0.85, "middle": 1.1, "high": 1.75, "k8": 1.0, "k12": 0.9}
# (grade_min, grade_max) choices per level with their probabilities; PK = -1, K = 0.
_LEVEL_GRADES: dict[str, tuple[tuple[tuple[int, int], ...], tuple[float, ...]]] = {
    "early_childhood": (((-1, 0), (-1, 2)), (0.7, 0.3)),
    "elementary": (((0, 5), (-1, 5), (0, 4)), (0.75, 0.15, 0.10)),
    "middle": (((6, 8), (5, 8), (7, 8)), (0.85, 0.10, 0.05)),
    "high": (((9, 12), (10, 12)), (0.95, 0.05)),
    "k8": (((0, 8), (-1, 8)), (0.8, 0.2)),
    "k12": (((0, 12), (-1, 12)), (0.85, 0.15)),
}
_LEVEL_WORD = {"early_childhood": "Early Learning Center", "elementary": "Elementary School",
               "middle": "Middle School", "high": "High School", "k8": "K-8 School", "k12": "School"}
_NAME_A = ("Oak", "Maple", "Cedar", "Hickory", "Magnolia", "Dogwood", "Willow", "Poplar", "Walnut", "Chestnut",
           "Cumberland", "Harpeth", "Duck River", "Elk", "Clinch", "Holston", "Caney Fork", "Stones River",
           "Lookout", "Signal", "Smoky", "Ridgeview", "Lakeview", "Fairview", "Riverside", "Pleasant",
           "Union", "Liberty", "Franklin", "Jackson", "Lincoln", "Washington", "Madison", "Sequoyah", "Crockett",
           "Boone", "Polk", "Sevier", "Hardin", "Wilson", "Meadow", "Spring", "Mill", "Stone", "Pine")
_NAME_B = ("", "Creek", "Hill", "Valley", "Park", "Grove", "Heights", "Station", "Springs", "Crossing", "Hollow",
           "Bend", "Point", "Ridge", "Forest", "Landing", "Mountain", "Gap")

_ELEM_SPECIALS = ("arts", "physical_education", "special_education", "ell")
_ELEM_SPECIALS_P = np.array([0.30, 0.27, 0.30, 0.13])
_CORE = ("math", "english", "science", "social_studies")
_SECONDARY = _CORE + ("world_languages", "arts", "physical_education", "special_education", "cte")
_MIDDLE_P = np.array([0.20, 0.20, 0.16, 0.14, 0.05, 0.07, 0.07, 0.11, 0.0])
_HIGH_P = np.array([0.18, 0.18, 0.15, 0.13, 0.06, 0.06, 0.06, 0.10, 0.08])
_GRADE_NAME = {-1: "PK", 0: "K"}

# Score model, in units of the spread of a teacher's true indicator score: teacher effect, teacher-by-indicator
# effect and school effect (quality plus rater leniency) add up to variance 1; each observation adds noise.
_SD_TEACHER, _SD_TXI = 0.72, 0.55
_SD_SCHOOL = float(np.sqrt(1.0 - _SD_TEACHER**2 - _SD_TXI**2))
_SD_OBS = 0.6
_W_NOVICE = 0.35  # share of the teacher effect explained by being early-career (novices score lower)
_N_OBS_P = np.array([0.25, 0.30, 0.25, 0.20])  # 1..4 observations, marginal over experience
MAX_OBSERVATIONS = 6  # TEAM: 2 to 6 observations a year
_TARGET_WEAK, _TARGET_STRONG = 0.165, 0.25  # shares of scores below weak_below / at or above strong_at_least
_P_BLANK, _P_DOMAIN_BLANK, _P_OPT_OUT = 0.03, 0.05, 0.02
# Indicator difficulty by name (TEAM, Danielson and similar rubrics): higher-order instruction scores lowest.
_HARD = ("question", "thinking", "problem_solving", "feedback", "discussion", "using_assessment")
_MODERATE = ("grouping", "assessment", "student_work", "flexib", "differentiat", "engag")
_EASY = ("respect", "rapport", "culture", "expectation", "content_knowledge", "professionalism", "records",
         "physical_space", "procedures", "behavior", "environment")


def generate_district(n_schools: int, mean_size: float, seed: int, rubric: Rubric | None = None,
                      n_districts: int | None = None, observations_per_teacher: int | None = None,
                      weak_share: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (teachers, schools) frames for ``n_schools`` schools of about ``mean_size`` teachers each.

    Columns are those of the teacher and school CSV files (scores: one float column per rubric indicator, NaN
    when not observed; opt_out: bool). ``n_districts`` defaults to about one district per 13 schools.
    ``weak_share``: the expected share of scores below the rubric's weak_below (default 0.165; a larger share makes
    a district denser in refinement areas, hence in candidate pairs)."""
    teachers, schools, _ = _district(n_schools, mean_size, seed, rubric or bundled("team"), n_districts,
                                     observations_per_teacher, weak_share)
    return teachers, schools


def _district(n_schools: int, mean_size: float, seed: int, rubric: Rubric, n_districts: int | None,
              per_teacher: int | None = None, weak_share: float | None = None
              ) -> tuple[pd.DataFrame, pd.DataFrame, tuple[np.ndarray, np.ndarray]]:
    """generate_district's frames and the observations behind the scores ((n, k, slots) and each teacher's
    count)."""
    _check_args(n_schools, mean_size, n_districts, per_teacher, weak_share)
    rng = np.random.default_rng(seed)
    n_d = min(n_schools, n_districts if n_districts is not None else max(1, round(n_schools / 13)))
    schools, quality = _schools(rng, n_schools, n_d, mean_size)
    teachers, obs, n_obs = _teachers(rng, schools, quality, rubric, per_teacher,
                                     _TARGET_WEAK if weak_share is None else weak_share)
    enrollment = teachers.groupby("school_id", sort=False).size().reindex(schools["school_id"]).to_numpy()
    schools["enrollment"] = np.rint(enrollment * rng.normal(15.0, 1.5, n_schools).clip(9, 22)).astype(np.int64)
    return teachers, schools[list(SCHOOL_FIELDS)], (obs, n_obs)


def write_district(path: str | Path, n_schools: int, mean_size: float, seed: int,
                   schools_path: str | Path | None = None, rubric: Rubric | None = None,
                   observations_per_teacher: int | None = None, weak_share: float | None = None) -> tuple[int, int]:
    """Write the teacher CSV (and the schools CSV when ``schools_path`` is given) atomically.

    Returns (n_teachers, n_schools)."""
    teachers, schools = generate_district(n_schools, mean_size, seed, rubric,
                                          observations_per_teacher=observations_per_teacher, weak_share=weak_share)
    out = teachers.copy()
    out["opt_out"] = np.where(teachers["opt_out"].to_numpy(), "true", "false")
    _write_atomic(out, Path(path))
    if schools_path is not None:
        _write_atomic(schools, Path(schools_path))
    return len(teachers), len(schools)


# Observation-level export: names, dates and observers come from a second random stream, so the wide file of the
# same seed is unchanged and equals the export's observations averaged (to its 2 decimals).
_FIRST = ("Maria", "James", "Aisha", "Wei", "Olga", "Luis", "Grace", "Tomas", "Nia", "Samuel", "Emily", "Jamal",
          "Sofia", "Daniel", "Priya", "Michael", "Hannah", "Carlos", "Leah", "Andre", "Mei", "Robert", "Fatima",
          "Ethan", "Rosa", "David", "Keisha", "Noah", "Elena", "Marcus", "Julia", "Tyrone", "Anna", "Kevin", "Lucia",
          "Brian", "Amara", "Joseph", "Chloe", "Omar", "Rachel", "Diego", "Megan", "Isaac", "Tanya", "Paul", "Yuki",
          "Steven", "Imani", "Gabriel", "Laura", "Victor", "Kayla", "Hector", "Sarah", "Darnell", "Ingrid", "Eric",
          "Beatriz", "Caleb")
_LAST = ("Garcia", "Smith", "Okafor", "Chen", "Ivanova", "Hernandez", "O'Neil", "Muller", "Johnson", "Lee",
         "Williams", "Brown", "Jones", "Miller", "Davis", "Rodriguez", "Martinez", "Wilson", "Anderson", "Taylor",
         "Thomas", "Moore", "Jackson", "Martin", "Thompson", "White", "Lopez", "Harris", "Clark", "Lewis", "Walker",
         "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell",
         "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Torres", "Parker", "Collins", "Edwards",
         "Stewart", "Nguyen", "Patel", "Kim", "Washington", "Brooks", "Price", "Ramirez", "Bennett", "Wood", "Ross",
         "Hughes", "Foster", "Sanders", "Reyes", "Cruz", "Diaz", "Okonkwo", "Haddad", "Kowalski", "Yamamoto")
_SMALL_WORDS = {"and", "of", "for", "with", "to", "in", "on", "the", "a", "an"}
_YEAR_START, _YEAR_DAYS = np.datetime64("2025-08-18"), 266  # a school year of observations, to early May


def indicator_header(indicator: str) -> str:
    """How an export labels an indicator: "standards_and_objectives" -> "Standards and Objectives"."""
    words = indicator.split("_")
    return " ".join(w if (i and w in _SMALL_WORDS) or w[:1].isdigit() else w.capitalize()
                    for i, w in enumerate(words))


def generate_observations(n_schools: int, mean_size: float, seed: int, rubric: Rubric | None = None,
                          observations_per_teacher: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(observations, schools): one row per classroom observation of every teacher of generate_district's
    district (same seed), as a state's observation system exports it: labelled headers, teacher and school
    names, emails, observation dates, observers and the observation type. Each teacher's observations average
    to generate_district's scores (which round them to 2 decimals). observations_per_teacher: every teacher
    observed that many times (1 to 6; default: 1 to 4, more for new teachers), in both files alike."""
    rubric = rubric or bundled("team")
    teachers, schools, (obs, n_obs) = _district(n_schools, mean_size, seed, rubric, None, observations_per_teacher)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    n = len(teachers)
    first = rng.choice(np.array(_FIRST, dtype=object), n)
    last = rng.choice(np.array(_LAST, dtype=object), n)
    school_pos = pd.Index(schools["school_id"]).get_indexer(teachers["school_id"])
    observers = np.array([f"{t} {rng.choice(_LAST)}" for t in rng.choice(["Dr.", "Ms.", "Mr."], 2 * len(schools))],
                         dtype=object).reshape(len(schools), 2)
    row_t = np.repeat(np.arange(n), n_obs)
    row_o = np.arange(len(row_t)) - np.repeat(np.cumsum(n_obs) - n_obs, n_obs)
    # observation o of k falls in the o-th of k equal windows of the school year (weekdays only)
    k = n_obs[row_t]
    day = np.floor((row_o + rng.uniform(0.1, 0.9, len(row_t))) * _YEAR_DAYS / k).astype(np.int64)
    dates = np.busday_offset(_YEAR_START, np.floor(day * 5 / 7).astype(np.int64), roll="forward")
    k_ind = len(rubric.indicators)
    blank = teachers[list(rubric.indicators)].isna().to_numpy()[row_t]
    values = obs[row_t, :, row_o].reshape(len(row_t), k_ind).astype(float)
    values[blank] = np.nan
    school_name = schools["name"].to_numpy(dtype=object)[school_pos]
    email_user = np.char.lower(np.char.add(np.char.add(first.astype(str), "."),
                                           np.char.replace(last.astype(str), "'", "")))
    out = pd.DataFrame({
        "District ID": teachers["district_id"].to_numpy()[row_t],
        "School ID": teachers["school_id"].to_numpy()[row_t],
        "School Name": school_name[row_t],
        "Teacher ID": teachers["teacher_id"].to_numpy()[row_t],
        "Teacher First Name": first[row_t],
        "Teacher Last Name": last[row_t],
        "Email": np.char.add(email_user, "@k12.example")[row_t],
        "Subject": teachers["subject"].to_numpy()[row_t],
        "Grades": teachers["grades"].to_numpy()[row_t],
        "Years Experience": teachers["years_experience"].to_numpy()[row_t],
        "Opt Out": np.where(teachers["opt_out"].to_numpy()[row_t], "Yes", "No"),
        "Observation Date": np.datetime_as_string(dates, unit="D"),
        "Observer": observers[school_pos[row_t], (row_o > 0).astype(int)],
        "Observation Type": np.where(row_o == 0, "Announced", "Unannounced"),
    })
    whole = _integer_scale(rubric.scale_min, rubric.scale_max)
    for j, ind in enumerate(rubric.indicators):
        col = values[:, j]
        out[indicator_header(ind)] = pd.array(np.where(np.isnan(col), None, np.rint(col)), dtype="Int64") \
            if whole else np.round(col, 2)
    return out, schools


def write_observations(paths: list[str | Path], n_schools: int, mean_size: float, seed: int,
                       rubric: Rubric | None = None, observations_per_teacher: int | None = None) -> int:
    """Write the observation export to each path (.csv, or .xlsx with a title row above the header, as exports
    often have) atomically; returns the number of observation rows."""
    frame, _ = generate_observations(n_schools, mean_size, seed, rubric, observations_per_teacher)
    for p in map(Path, paths):
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.suffix.lower() == ".xlsx":
            _write_xlsx(frame, p, f"{(rubric or bundled('team')).name} observation export (synthetic), "
                                  f"school year 2025-26")
        else:
            _write_atomic(frame, p)
    return len(frame)


def _write_xlsx(frame: pd.DataFrame, path: Path, title: str) -> None:
    import openpyxl

    from .io.atomic import replaced_atomically

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Observations")
    sheet.append([title])
    sheet.append([])
    sheet.append(list(frame.columns))
    cols = [frame[c].tolist() for c in frame.columns]
    for row in zip(*cols, strict=True):
        sheet.append([None if v is pd.NA or (isinstance(v, float) and v != v) else
                      int(v) if isinstance(v, np.integer) else v for v in row])
    book.properties.created = _EXPORTED
    with replaced_atomically(path) as tmp:
        book.save(tmp)
        _fix_timestamps(tmp)


_EXPORTED = dt.datetime(2026, 6, 30)


def _fix_timestamps(path: Path) -> None:
    """The same seed gives the same bytes: the workbook's save time and its zip entries' times are made fixed."""
    with zipfile.ZipFile(path) as z:
        parts = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    stamp = _EXPORTED.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>",
                              data)
            info = zipfile.ZipInfo(name, _EXPORTED.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def _check_args(n_schools: int, mean_size: float, n_districts: int | None, per_teacher: int | None = None,
                weak_share: float | None = None) -> None:
    problems = []
    if weak_share is not None and (isinstance(weak_share, bool) or not isinstance(weak_share, int | float)
                                   or not 0.01 <= weak_share <= 0.6):
        problems.append(Problem("synth", "must be a share of scores between 0.01 and 0.6", column="weak_share",
                                value=repr(weak_share)))
    if per_teacher is not None and (isinstance(per_teacher, bool) or not isinstance(per_teacher, int | np.integer)
                                    or not 1 <= per_teacher <= MAX_OBSERVATIONS):
        problems.append(Problem("synth", f"must be a whole number from 1 to {MAX_OBSERVATIONS}",
                                column="observations_per_teacher", value=repr(per_teacher)))
    if isinstance(n_schools, bool) or not isinstance(n_schools, int | np.integer) or n_schools < 1:
        problems.append(Problem("synth", "must be a whole number of at least 1", column="n_schools",
                                value=repr(n_schools)))
    if isinstance(mean_size, bool) or not isinstance(mean_size, int | float) or not 1 <= mean_size <= 1000:
        problems.append(Problem("synth", "must be a number of teachers between 1 and 1000", column="mean_size",
                                value=repr(mean_size)))
    if n_districts is not None and (isinstance(n_districts, bool) or not isinstance(n_districts, int | np.integer)
                                    or n_districts < 1):
        problems.append(Problem("synth", "must be a whole number of at least 1", column="n_districts",
                                value=repr(n_districts)))
    if problems:
        raise InputError(problems)


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, frame.to_csv(index=False, lineterminator="\n"))


# --- schools ----------------------------------------------------------------------------------------------

def _ids(prefix: str, n: int, width: int) -> list[str]:
    w = max(width, len(str(n)))
    return [f"{prefix}{i:0{w}d}" for i in range(1, n + 1)]


def _district_levels(rng: np.random.Generator, n: int) -> list[str]:
    if n == 1:
        return ["k12"]
    if n == 2:
        return ["k8", "high"]
    drawn = rng.choice(len(LEVELS), size=n - 3, p=_LEVEL_P)
    levels = ["elementary", "middle", "high"] + [LEVELS[i] for i in drawn]
    return sorted(levels, key=LEVELS.index)


def _schools(rng: np.random.Generator, n_schools: int, n_d: int, mean_size: float
             ) -> tuple[pd.DataFrame, np.ndarray]:
    """The schools frame (without enrollment) with a 'size' column, and each school's quality effect."""
    weights = rng.lognormal(0.0, 1.2, n_d)
    counts = 1 + rng.multinomial(n_schools - n_d, weights / weights.sum())
    district_ids = _ids("D", n_d, 3)
    rows: dict[str, list] = {k: [] for k in ("district_id", "level", "grade_min", "grade_max", "latitude",
                                             "longitude", "strengths", "needs", "pct_poverty", "pct_ell")}
    size_factor: list[float] = []
    used_names: set[str] = set()
    names: list[str] = []
    for d, n in enumerate(counts.tolist()):
        rural, urban = n <= 5, n > 20
        levels = _district_levels(rng, n)
        # where: a centre inside a Tennessee-like box, schools within a few km (rural districts spread wider)
        if rural:
            radius = rng.uniform(15, 30)
        elif urban:
            radius = rng.uniform(5, 12) + 0.8 * np.sqrt(n)
        else:
            radius = rng.uniform(10, 20)
        lat0 = rng.uniform(35.0 + radius / 111, 36.6 - radius / 111)
        km_lon = 111 * np.cos(np.radians(lat0))
        lon0 = rng.uniform(-90.0 + radius / km_lon, -81.7 - radius / km_lon)
        r = radius * np.sqrt(rng.uniform(0.02, 1.0, n))
        angle = rng.uniform(0, 2 * np.pi, n)
        rows["latitude"] += np.round(np.clip(lat0 + r * np.sin(angle) / 111, 35.0, 36.6), 5).tolist()
        rows["longitude"] += np.round(np.clip(lon0 + r * np.cos(angle) / km_lon, -90.0, -81.7), 5).tolist()
        rows["district_id"] += [district_ids[d]] * n
        rows["level"] += levels
        for lv in levels:
            spans, probs = _LEVEL_GRADES[lv]
            g0, g1 = spans[rng.choice(len(spans), p=probs)]
            rows["grade_min"].append(g0)
            rows["grade_max"].append(g1)
            for _ in range(20):
                name = f"{rng.choice(_NAME_A)} {rng.choice(_NAME_B)}".strip() + f" {_LEVEL_WORD[lv]}"
                if name not in used_names:
                    break
            used_names.add(name)
            names.append(name)
        # who: rural districts have small schools, poorer students; cities have more English learners
        district_size = 0.5 * rng.lognormal(0, 0.35) if rural else 1.1 if urban else 0.9
        size_factor += [_LEVEL_SIZE[lv] * district_size for lv in levels]
        poverty = rng.beta(4, 5) + (0.08 if rural else 0.0)
        ell = rng.beta(1.2, 20) * (2.0 if urban else 0.6 if rural else 1.0)
        rows["pct_poverty"] += np.round(np.clip(poverty + rng.normal(0, 0.08, n), 0.02, 0.98), 3).tolist()
        rows["pct_ell"] += np.round(np.clip(ell * rng.lognormal(0, 0.4, n), 0.0, 0.9), 3).tolist()
        # what: focus areas from one taxonomy per district, strengths and needs disjoint
        codes = FRAMEWORK_FOCUS if rng.random() < 0.7 else LPP_FOCUS
        for _ in range(n):
            k_s = int(rng.integers(1, 4))
            k_n = min(int(rng.integers(1, 4)), len(codes) - k_s)
            picked = [codes[i] for i in rng.permutation(len(codes))[:k_s + k_n]]
            rows["strengths"].append(";".join(picked[:k_s]))
            rows["needs"].append(";".join(picked[k_s:]))

    school_ids = _ids("S", n_schools, 4)
    mult = np.array(size_factor) * rng.lognormal(0.0, 0.3, n_schools)
    lo = max(1, min(4, round(mean_size)))
    size = np.clip(np.rint(mean_size * mult / mult.mean()), lo, max(lo, round(4 * mean_size))).astype(np.int64)
    quality = rng.standard_normal(n_schools)
    # stronger schools apply as hosts more often, weaker ones as partners
    logits = np.stack([0.8 * quality, np.log(0.45 / 0.25) - 0.8 * quality, np.full(n_schools, np.log(1.2))], 1)
    p = np.exp(logits)
    p /= p.sum(1, keepdims=True)
    role = np.array(["host", "partner", "either"])[(rng.random(n_schools)[:, None] > p.cumsum(1)).sum(1)]
    district = np.array(rows["district_id"])
    frame = pd.DataFrame({
        "school_id": school_ids, "name": names, **{k: rows[k] for k in ("district_id", "level", "grade_min",
                                                                          "grade_max", "latitude", "longitude")},
        "role": role, "strengths": rows["strengths"], "needs": rows["needs"], "enrollment": 0,
        "pct_poverty": rows["pct_poverty"], "pct_ell": rows["pct_ell"],
        "pct_swd": np.round(np.clip(rng.normal(0.135, 0.03, n_schools), 0.03, 0.4), 3),
        "superintendent": [f"Supt-{d}" for d in rows["district_id"]],
        "prior_partners": _prior_partners(rng, school_ids, district), "size": size,
    })
    return frame, quality


def _prior_partners(rng: np.random.Generator, school_ids: list[str], district: np.ndarray) -> list[str]:
    """Symmetric 'worked together before' links inside districts; at most 2 per school, most have none."""
    links: list[set[int]] = [set() for _ in school_ids]
    starts = np.flatnonzero(np.r_[True, district[1:] != district[:-1]])
    ends = np.r_[starts[1:], len(district)]
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        n = b - a
        if n < 2:
            continue
        for _ in range(int(rng.binomial(n, 0.2))):
            i, j = (a + rng.choice(n, 2, replace=False)).tolist()
            if len(links[i]) < 2 and len(links[j]) < 2:
                links[i].add(j)
                links[j].add(i)
    return [";".join(school_ids[j] for j in sorted(s)) for s in links]


# --- teachers ---------------------------------------------------------------------------------------------

def _grade_name(g: int) -> str:
    return _GRADE_NAME.get(g, str(g))


def _span(lo: int, hi: int) -> str:
    """"3", "9;10" for two adjacent grades, "6-8" for three or more."""
    if lo == hi:
        return _grade_name(lo)
    if hi == lo + 1:
        return f"{_grade_name(lo)};{_grade_name(hi)}"
    return f"{_grade_name(lo)}-{_grade_name(hi)}"


def _split(n: int, weights: np.ndarray) -> np.ndarray:
    """n split in proportion to weights (largest remainder), at least 1 each when n allows."""
    raw = n * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    out[np.argsort(out - raw, kind="stable")[: n - out.sum()]] += 1
    while n >= len(out) and (out == 0).any():
        out[np.argmax(out)] -= 1
        out[np.argmin(out)] += 1
    return out


def _elementary_staff(rng: np.random.Generator, grades: list[int], n: int) -> tuple[list[str], list[str]]:
    """Self-contained classroom teachers (one grade each, combined grades when there are few) plus specials."""
    n_spec = int(round(n * 0.22)) if n >= 5 else int(n >= 4)
    n_class = n - n_spec
    if n_class >= len(grades):
        per = np.full(len(grades), n_class // len(grades))
        per[rng.choice(len(grades), n_class % len(grades), replace=False)] += 1
        cls = [_grade_name(g) for g, k in zip(grades, per.tolist(), strict=True) for _ in range(k)]
    else:
        cls = [_span(int(c[0]), int(c[-1])) for c in np.array_split(np.array(grades), n_class)]
    spec = [_ELEM_SPECIALS[i] for i in rng.choice(len(_ELEM_SPECIALS), n_spec, p=_ELEM_SPECIALS_P)]
    whole = _span(grades[0], grades[-1])
    return ["elementary"] * n_class + spec, cls + [whole] * n_spec


def _secondary_staff(rng: np.random.Generator, grades: list[int], n: int, high: bool
                     ) -> tuple[list[str], list[str]]:
    """Departmentalised staff: every core subject first (one teacher each in tiny schools), then by share."""
    if n <= len(_CORE):
        subjects = [_CORE[i] for i in rng.permutation(len(_CORE))[:n]]
    else:
        extra = rng.choice(len(_SECONDARY), n - len(_CORE), p=_HIGH_P if high else _MIDDLE_P)
        subjects = list(_CORE) + [_SECONDARY[i] for i in extra]
    u = rng.random(n)
    single = rng.integers(0, len(grades), n)
    out = []
    for s, ui, gi in zip(subjects, u.tolist(), single.tolist(), strict=True):
        core = s in _CORE
        if len(grades) == 1 or (core and ui < 0.5) or (not core and ui < 0.3):
            out.append(_grade_name(grades[gi]))
        elif core and ui < 0.75:
            g = grades[min(gi, len(grades) - 2)]
            out.append(_span(g, g + 1))
        else:
            out.append(_span(grades[0], grades[-1]))
    return subjects, out


def _staff(rng: np.random.Generator, level: str, g0: int, g1: int, n: int) -> tuple[list[str], list[str]]:
    top = 4 if level == "middle" else 5  # a 5-8 middle school teaches grade 5 by subject
    bands = [(list(range(g0, min(g1, top) + 1)), 1.0, "elementary"),
             (list(range(max(g0, top + 1), min(g1, 8) + 1)), 1.3, "middle"),
             (list(range(max(g0, 9), g1 + 1)), 1.4, "high")]
    bands = [b for b in bands if b[0]]
    counts = _split(n, np.array([len(g) * w for g, w, _ in bands]))
    subjects: list[str] = []
    grades: list[str] = []
    for (gs, _, kind), k in zip(bands, counts.tolist(), strict=True):
        if k == 0:
            continue
        s, g = _elementary_staff(rng, gs, k) if kind == "elementary" else \
            _secondary_staff(rng, gs, k, kind == "high")
        subjects += s
        grades += g
    return subjects, grades


def _teachers(rng: np.random.Generator, schools: pd.DataFrame, quality: np.ndarray, rubric: Rubric,
              per_teacher: int | None = None, weak_share: float = _TARGET_WEAK
              ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    subjects: list[str] = []
    grades: list[str] = []
    for level, g0, g1, n in zip(schools["level"].tolist(), schools["grade_min"].tolist(),
                                schools["grade_max"].tolist(), schools["size"].tolist(), strict=True):
        s, g = _staff(rng, level, g0, g1, n)
        subjects += s
        grades += g
    size = schools.pop("size").to_numpy()
    school_idx = np.repeat(np.arange(len(schools)), size)
    n = len(school_idx)
    years = np.clip(np.floor(rng.gamma(1.3, 9.0, n)), 0, 40).astype(np.int64)
    frame = pd.DataFrame({
        "teacher_id": _ids("T", n, 6),
        "school_id": schools["school_id"].to_numpy()[school_idx],
        "subject": subjects,
        "grades": grades,
        "years_experience": years,
        "opt_out": rng.random(n) < _P_OPT_OUT,
        "district_id": schools["district_id"].to_numpy()[school_idx],
    })
    scores, obs, n_obs = _scores(rng, rubric, years, quality[school_idx], per_teacher, weak_share)
    return pd.concat([frame, pd.DataFrame(scores, columns=list(rubric.indicators))], axis=1), obs, n_obs


# --- scores -----------------------------------------------------------------------------------------------

def _difficulty(indicator: str) -> float:
    name = indicator.lower()
    for words, offset in ((_HARD, -0.45), (_MODERATE, -0.2), (_EASY, 0.2)):
        if any(w in name for w in words):
            return offset
    return 0.0


def _integer_scale(lo: float, hi: float) -> bool:
    """Observations are whole rubric levels on a 1..5 or 1..4 style scale; continuous otherwise."""
    return float(lo).is_integer() and float(hi).is_integer() and hi - lo <= 10


def _shares(center: float, spread: float, lo: float, hi: float, weak: float, strong: float,
            offsets: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """Expected shares of scores below weak and at or above strong, by Gauss-Hermite quadrature."""
    z, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / w.sum()
    true = center + spread * (offsets[:, None] + z[None, :])  # (distinct offsets, nodes)
    sd = spread * _SD_OBS
    below = above = 0.0
    if _integer_scale(lo, hi):
        edges = np.arange(lo, hi) + 0.5
        cdf = ndtr((edges - true[..., None]) / sd)
        p = np.diff(np.concatenate([np.zeros(true.shape + (1,)), cdf, np.ones(true.shape + (1,))], -1), axis=-1)
        dist = p
        for k, pk in enumerate(_N_OBS_P, start=1):
            if k > 1:  # distribution of the sum of k observations
                new = np.zeros(dist.shape[:-1] + (dist.shape[-1] + p.shape[-1] - 1,))
                for c in range(p.shape[-1]):
                    new[..., c:c + dist.shape[-1]] += dist * p[..., c:c + 1]
                dist = new
            avg = np.round((k * lo + np.arange(dist.shape[-1])) / k, 2)
            below += pk * float(counts @ (dist[..., avg < weak].sum(-1) @ w))
            above += pk * float(counts @ (dist[..., avg >= strong].sum(-1) @ w))
    else:
        for k, pk in enumerate(_N_OBS_P, start=1):
            sdk = sd / np.sqrt(k)
            below += pk * float(counts @ (ndtr((weak - true) / sdk) @ w))
            above += pk * float(counts @ ((1 - ndtr((strong - true) / sdk)) @ w))
    return below, above


@cache
def _calibration(lo: float, hi: float, weak: float, strong: float, offsets: tuple[float, ...],
                 weak_share: float = _TARGET_WEAK) -> tuple[float, float]:
    """(centre, spread) of true scores on the rubric's scale that hit the target weak and strong shares."""
    uniq, cnt = np.unique(np.array(offsets), return_counts=True)
    counts = cnt / cnt.sum()
    span = hi - lo

    def centre(spread: float) -> float:
        return brentq(lambda c: _shares(c, spread, lo, hi, weak, strong, uniq, counts)[0] - weak_share,
                      lo - span, hi + span, xtol=1e-5 * span)

    def excess_strong(spread: float) -> float:
        return _shares(centre(spread), spread, lo, hi, weak, strong, uniq, counts)[1] - _TARGET_STRONG

    try:
        spread = brentq(excess_strong, 0.02 * span, span, xtol=1e-5 * span)
    except ValueError:  # the targets cannot both be met (e.g. weak_below == strong_at_least)
        spread = 0.15 * span
    return centre(spread), spread


def _scores(rng: np.random.Generator, rubric: Rubric, years: np.ndarray, school_effect: np.ndarray,
            per_teacher: int | None = None, weak_share: float = _TARGET_WEAK
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indicator scores, averages of 1-4 observations of a true score (NaN where not observed), with the
    observations themselves ((n, k, 4), zero past each teacher's count) and each teacher's count."""
    lo, hi = rubric.scale_min, rubric.scale_max
    difficulty = tuple(_difficulty(i) for i in rubric.indicators)
    centre, spread = _calibration(lo, hi, rubric.weak_below, rubric.strong_at_least, difficulty, weak_share)
    n, k = len(years), len(difficulty)
    novice = -np.exp(-years / 3.0)
    novice = (novice - novice.mean()) / novice.std() if n > 1 and novice.std() > 0 else np.zeros(n)
    teacher = np.sqrt(1 - _W_NOVICE**2) * rng.standard_normal(n) + _W_NOVICE * novice
    offsets = np.array(difficulty) + rng.normal(0.0, 0.05, k)
    true = centre + spread * (offsets[None, :] + _SD_TEACHER * teacher[:, None] + _SD_SCHOOL * school_effect[:, None]
                              + _SD_TXI * rng.standard_normal((n, k)))
    # apprentice teachers (under 3 years) are observed more often
    p_obs = np.where((years < 3)[:, None], [0.02, 0.08, 0.25, 0.65], [0.3, 0.35, 0.25, 0.1])
    n_obs = 1 + (rng.random(n)[:, None] > p_obs.cumsum(1)).sum(1).clip(0, 3)
    slots = 4
    if per_teacher is not None:  # the draw above is still made, so the default stream stays as it was
        n_obs = np.full(n, per_teacher)
        slots = max(4, per_teacher)
    obs = true[:, :, None] + spread * _SD_OBS * rng.standard_normal((n, k, slots))
    if _integer_scale(lo, hi):
        obs = np.rint(obs)
    np.clip(obs, lo, hi, out=obs)
    obs *= np.arange(slots)[None, None, :] < n_obs[:, None, None]
    scores = np.round(obs.sum(-1) / n_obs[:, None], 2)
    scores[rng.random((n, k)) < _P_BLANK] = np.nan
    if len(rubric.domains) > 1:
        last = [rubric.indicators.index(i) for i in rubric.domains[-1][1]]
        scores[np.ix_(rng.random(n) < _P_DOMAIN_BLANK, last)] = np.nan
    return scores, obs, n_obs
