"""Read and validate teacher files (wide, or long scores beside a roster) into a TeacherTable."""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, Problem
from ..rubric import Rubric
from .grades import parse_grades

REQUIRED = ("teacher_id", "school_id", "subject", "grades", "years_experience")
OPTIONAL = ("opt_out", "district_id")
LONG_COLUMNS = ("teacher_id", "indicator", "score")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0", ""}


@dataclass(frozen=True, eq=False)
class TeacherTable:
    """Teachers as integer-indexed arrays; row i of every array is teacher i."""

    rubric: Rubric
    teacher_id: np.ndarray  # str objects
    school_id: np.ndarray
    district_id: np.ndarray  # "" when not given
    subject: np.ndarray  # lower-cased
    grades: np.ndarray  # int64 bitmask (see io.grades); 0 = unknown
    grades_text: np.ndarray
    years: np.ndarray  # float, nan = unknown
    opt_out: np.ndarray  # bool
    scores: np.ndarray  # float (n, k), nan = not observed
    source: str = ""
    warnings: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.teacher_id)

    @cached_property
    def index(self) -> dict[str, int]:
        """teacher_id -> row."""
        return {t: i for i, t in enumerate(self.teacher_id.tolist())}


def _read_csv(path: Path, problems: list[Problem], numeric: tuple[str, ...] = ()) -> pd.DataFrame | None:
    """Every column as text, except `numeric` columns, parsed as floats where they are clean (blank = NaN)."""
    name = str(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), None)
    except OSError as exc:
        problems.append(Problem(name, f"cannot read the file: {exc.strerror or exc}"))
        return None
    except UnicodeDecodeError:
        problems.append(Problem(name, "not UTF-8 text; save the file as UTF-8 CSV"))
        return None
    if not header or not any(h.strip() for h in header):
        problems.append(Problem(name, "empty file: expected a header row and at least one data row"))
        return None
    header = [h.strip() for h in header]
    dupes = sorted({h for h in header if header.count(h) > 1})
    for h in dupes:
        problems.append(Problem(name, "column appears more than once", row=1, column=h))
    for i, h in enumerate(header):
        if not h:
            problems.append(Problem(name, f"column {i + 1} has an empty name", row=1))
    if dupes or not all(header):
        return None
    try:
        nums = [c for c in numeric if c in header]
        df = pd.read_csv(path, dtype={c: str for c in header if c not in nums}, keep_default_na=False,
                         na_values={c: [""] for c in nums}, encoding="utf-8-sig", skipinitialspace=True)
    except pd.errors.ParserError as exc:
        problems.append(Problem(name, f"malformed CSV: {exc}"))
        return None
    df.columns = header
    if len(df) == 0:
        problems.append(Problem(name, "empty file: the header has no data rows under it"))
        return None
    return df


def _numbers(df: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """(values with nan for blank/invalid, mask of non-blank cells that are not numbers)."""
    if pd.api.types.is_float_dtype(df[col]) or pd.api.types.is_integer_dtype(df[col]):
        vals = df[col].to_numpy(dtype=float, copy=True)
        bad = np.isinf(vals)
        vals[bad] = np.nan
        return vals, bad
    raw = df[col].astype(str).str.strip().replace("nan", "")
    vals = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, copy=True)
    bad = np.isnan(vals) & (raw != "").to_numpy()
    bad |= np.isinf(vals)
    vals[np.isinf(vals)] = np.nan
    return vals, bad


def _check_roster(df: pd.DataFrame, name: str, problems: list[Problem], allow_indicators: tuple[str, ...],
                  rubric: Rubric) -> None:
    cols = list(df.columns)
    for c in REQUIRED:
        if c not in cols:
            problems.append(Problem(name, "missing required column", row=1, column=c))
    known = set(REQUIRED) | set(OPTIONAL) | set(allow_indicators)
    for c in cols:
        if c not in known:
            close = difflib.get_close_matches(c, list(rubric.indicators) + list(REQUIRED + OPTIONAL), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else (
                f"; the {rubric.name} rubric's indicators are: {', '.join(rubric.indicators)}")
            problems.append(Problem(name, f"unknown column (not a roster field nor an indicator of the "
                                          f"{rubric.name} rubric){hint}", row=1, column=c))


def _roster_fields(df: pd.DataFrame, name: str, problems: list[Problem]) -> dict[str, np.ndarray]:
    n = len(df)
    lines = np.arange(2, n + 2)
    out: dict[str, np.ndarray] = {}
    for col in ("teacher_id", "school_id"):
        vals = df[col].str.strip().to_numpy(dtype=object) if col in df else np.full(n, "", dtype=object)
        if col in df:
            for i in np.flatnonzero(vals == ""):
                problems.append(Problem(name, "must not be blank", row=int(lines[i]), column=col, value=""))
        out[col] = vals
    ids = pd.Series(out["teacher_id"])
    dup = ids.duplicated(keep="first") & (ids != "")
    first_line = dict(zip(ids[~ids.duplicated(keep="first")], lines[~ids.duplicated(keep="first").to_numpy()],
                          strict=True))
    for i in np.flatnonzero(dup.to_numpy()):
        problems.append(Problem(name, f"duplicate teacher_id (first seen on row {first_line[ids.iloc[i]]})",
                                row=int(lines[i]), column="teacher_id", value=str(ids.iloc[i])))
    out["district_id"] = (df["district_id"].str.strip().to_numpy(dtype=object) if "district_id" in df
                          else np.full(n, "", dtype=object))
    out["subject"] = (df["subject"].str.strip().str.lower().to_numpy(dtype=object) if "subject" in df
                      else np.full(n, "", dtype=object))
    grades_text = df["grades"].str.strip() if "grades" in df else pd.Series([""] * n)
    masks = np.zeros(n, dtype=np.int64)
    for text, idx in grades_text.groupby(grades_text).groups.items():
        if text == "":
            continue
        try:
            masks[np.asarray(grades_text.index.get_indexer(idx))] = parse_grades(text)
        except ValueError:
            for i in grades_text.index.get_indexer(idx):
                problems.append(Problem(name, 'not a grade list; use a grade ("3"), "K", "PK", a range ("6-8") '
                                              'or a list ("9;10")', row=int(lines[i]), column="grades", value=text))
    out["grades"] = masks
    out["grades_text"] = grades_text.to_numpy(dtype=object)
    if "years_experience" in df:
        years, bad = _numbers(df, "years_experience")
        bad |= years < 0
        for i in np.flatnonzero(bad):
            problems.append(Problem(name, "must be a number of years >= 0 (or blank if unknown)",
                                    row=int(lines[i]), column="years_experience",
                                    value=str(df["years_experience"].iloc[i])))
        out["years"] = years
    else:
        out["years"] = np.full(n, np.nan)
    opt = np.zeros(n, dtype=bool)
    if "opt_out" in df:
        low = df["opt_out"].str.strip().str.lower()
        opt = low.isin(_TRUE).to_numpy()
        for i in np.flatnonzero(~(low.isin(_TRUE) | low.isin(_FALSE)).to_numpy()):
            problems.append(Problem(name, "must be true/false (or yes/no, 1/0, blank)", row=int(lines[i]),
                                    column="opt_out", value=df["opt_out"].iloc[i]))
    out["opt_out"] = opt
    return out


def _check_scores(scores: np.ndarray, rubric: Rubric, name: str, problems: list[Problem],
                  lines: np.ndarray, columns: list[str], raw: list[np.ndarray]) -> None:
    out = (scores < rubric.scale_min) | (scores > rubric.scale_max)
    for i, j in zip(*np.nonzero(out), strict=True):
        problems.append(Problem(name, f"score outside the rubric scale {rubric.scale_min:g} to "
                                      f"{rubric.scale_max:g}", row=int(lines[i]), column=columns[j],
                                value=str(raw[j][i])))


def read_teachers(path: str | Path, rubric: Rubric, roster: str | Path | None = None) -> TeacherTable:
    """Read a wide teacher CSV, or (with roster) a long score file; raise InputError listing every problem."""
    path = Path(path)
    if roster is not None:
        return _read_long(path, Path(roster), rubric)
    problems: list[Problem] = []
    name = str(path)
    df = _read_csv(path, problems, rubric.indicators + ("years_experience",))
    if df is None:
        raise InputError(problems)
    if set(LONG_COLUMNS) <= set(df.columns) and "school_id" not in df.columns:
        raise InputError([Problem(name, "this looks like a long score file (teacher_id, indicator, score); "
                                        "pass the roster with --roster ROSTER.csv")])
    _check_roster(df, name, problems, rubric.indicators, rubric)
    fields = _roster_fields(df, name, problems)
    n = len(df)
    lines = np.arange(2, n + 2)
    scores = np.full((n, len(rubric.indicators)), np.nan)
    warnings: list[str] = []
    raw_cols: list[np.ndarray] = []
    for j, ind in enumerate(rubric.indicators):
        if ind not in df:
            warnings.append(f"{name}: no column for indicator {ind!r}; treated as not observed for everyone")
            raw_cols.append(np.full(n, "", dtype=object))
            continue
        vals, bad = _numbers(df, ind)
        for i in np.flatnonzero(bad):
            problems.append(Problem(name, "not a number (leave the cell blank if not observed)",
                                    row=int(lines[i]), column=ind, value=str(df[ind].iloc[i])))
        scores[:, j] = vals
        raw_cols.append(df[ind].astype(str).to_numpy(dtype=object))
    _check_scores(scores, rubric, name, problems, lines, list(rubric.indicators), raw_cols)
    if problems:
        raise InputError(problems)
    return _table(rubric, fields, scores, name, warnings)


def _table(rubric: Rubric, f: dict[str, np.ndarray], scores: np.ndarray, name: str,
           warnings: list[str]) -> TeacherTable:
    return TeacherTable(rubric=rubric, teacher_id=f["teacher_id"], school_id=f["school_id"],
                        district_id=f["district_id"], subject=f["subject"], grades=f["grades"],
                        grades_text=f["grades_text"], years=f["years"], opt_out=f["opt_out"], scores=scores,
                        source=name, warnings=tuple(warnings))


def _read_long(path: Path, roster_path: Path, rubric: Rubric) -> TeacherTable:
    problems: list[Problem] = []
    rname, sname = str(roster_path), str(path)
    roster = _read_csv(roster_path, problems)
    long = _read_csv(path, problems)
    if roster is None or long is None:
        raise InputError(problems)
    _check_roster(roster, rname, problems, (), rubric)
    fields = _roster_fields(roster, rname, problems)
    for c in LONG_COLUMNS:
        if c not in long:
            problems.append(Problem(sname, "missing required column of a long score file", row=1, column=c))
    for c in long.columns:
        if c not in LONG_COLUMNS:
            problems.append(Problem(sname, "unknown column; a long score file has teacher_id, indicator, score",
                                    row=1, column=c))
    n = len(roster)
    scores = np.full((n, len(rubric.indicators)), np.nan)
    if all(c in long for c in LONG_COLUMNS):
        lines = np.arange(2, len(long) + 2)
        tid = long["teacher_id"].str.strip()
        ind = long["indicator"].str.strip()
        vals, bad = _numbers(long, "score")
        row_of = {t: i for i, t in enumerate(fields["teacher_id"].tolist())}
        col_of = {c: j for j, c in enumerate(rubric.indicators)}
        ri = tid.map(row_of)
        ci = ind.map(col_of)
        for i in np.flatnonzero(ri.isna().to_numpy()):
            problems.append(Problem(sname, f"teacher_id not in the roster {rname}", row=int(lines[i]),
                                    column="teacher_id", value=tid.iloc[i]))
        for i in np.flatnonzero(ci.isna().to_numpy()):
            close = difflib.get_close_matches(ind.iloc[i], rubric.indicators, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(Problem(sname, f"unknown indicator for the {rubric.name} rubric{hint}",
                                    row=int(lines[i]), column="indicator", value=ind.iloc[i]))
        for i in np.flatnonzero(bad):
            problems.append(Problem(sname, "not a number", row=int(lines[i]), column="score",
                                    value=long["score"].iloc[i]))
        oob = (vals < rubric.scale_min) | (vals > rubric.scale_max)
        for i in np.flatnonzero(oob):
            problems.append(Problem(sname, f"score outside the rubric scale {rubric.scale_min:g} to "
                                           f"{rubric.scale_max:g}", row=int(lines[i]), column="score",
                                    value=long["score"].iloc[i]))
        ok = (~ri.isna() & ~ci.isna()).to_numpy()
        key = pd.Series(list(zip(tid, ind, strict=True)))
        dup = key.duplicated(keep="first").to_numpy() & ok
        for i in np.flatnonzero(dup):
            problems.append(Problem(sname, "second score for the same teacher and indicator; average the "
                                           "observations into one score", row=int(lines[i]),
                                    column="indicator", value=ind.iloc[i]))
        good = ok & ~np.isnan(vals) & ~oob
        scores[ri[good].astype(int).to_numpy(), ci[good].astype(int).to_numpy()] = vals[good]
    if problems:
        raise InputError(problems)
    return _table(rubric, fields, scores, f"{sname} + {rname}", [])
