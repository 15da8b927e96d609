"""Read and validate teacher files (wide, or long scores beside a roster) into a TeacherTable."""

from __future__ import annotations

import csv
import difflib
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, Problem
from ..rubric import Rubric
from .grades import parse_grades
from .table import TeacherTable

REQUIRED = ("teacher_id", "school_id", "subject", "grades", "years_experience")
OPTIONAL = ("opt_out", "district_id", "teacher_name", "school_name", "email", "role", "supervisor_id")
LONG_COLUMNS = ("teacher_id", "indicator", "score")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0", ""}


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
        problems.append(Problem(name, "not UTF-8 text; save the file as UTF-8 CSV", row=_bad_utf8_line(path)))
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
        long_rows = _long_records(path, len(header))
        for line, k in long_rows:
            problems.append(Problem(name, f"row has {k} cells but the header has {len(header)} columns", row=line))
        if not long_rows:
            problems.append(Problem(name, f"malformed CSV: {exc}"))
        return None
    except UnicodeDecodeError:  # past the part the header check decoded
        problems.append(Problem(name, "not UTF-8 text; save the file as UTF-8 CSV", row=_bad_utf8_line(path)))
        return None
    df.columns = header
    if len(df) == 0:
        problems.append(Problem(name, "empty file: the header has no data rows under it"))
        return None
    df.attrs["lines"] = _record_lines(path, len(df))
    return df


def _long_records(path: Path, width: int) -> list[tuple[int, int]]:
    """(file line, number of cells) of every record with more cells than the header."""
    out = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, skipinitialspace=True)
            prev = 0
            for rec in reader:
                start, prev = prev + 1, reader.line_num
                if len(rec) > width:
                    out.append((start, len(rec)))
    except (csv.Error, UnicodeDecodeError):
        return []
    return out


def _bad_utf8_line(path: Path) -> int | None:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1
    return None


def _record_lines(path: Path, n: int) -> np.ndarray:
    """The file line on which each of the n data records starts (header = line 1).

    pandas skips blank lines and a quoted cell may span lines, so record i is not always on line i + 2.
    """
    plain = np.arange(2, n + 2)
    data = path.read_bytes()
    if data.count(b"\n") + (not data.endswith(b"\n")) == n + 1:
        return plain  # as many lines as records + header: one line each, no blank lines
    out: list[int] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            prev = 0
            for n_rec, rec in enumerate(reader):
                start, prev = prev + 1, reader.line_num
                if n_rec > 0 and not (not rec or (len(rec) == 1 and not rec[0].strip())):
                    out.append(start)
    except csv.Error:
        return plain
    return np.asarray(out) if len(out) == n else plain


def _lines(df: pd.DataFrame) -> np.ndarray:
    """File line of each row of a frame read by _read_csv."""
    lines = df.attrs.get("lines")
    return lines if lines is not None and len(lines) == len(df) else np.arange(2, len(df) + 2)


def _cell(df: pd.DataFrame, col: str, i: int) -> str:
    """Cell text for a problem report (a number pandas parsed is shown without a spurious ".0")."""
    v = df[col].iloc[i]
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return ""
        text = repr(float(v))
        return text[:-2] if text.endswith(".0") else text
    return str(v)


def _numbers(df: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """(values with nan for blank/invalid, mask of non-blank cells that are not numbers)."""
    if pd.api.types.is_float_dtype(df[col]) or pd.api.types.is_integer_dtype(df[col]):
        vals = df[col].to_numpy(dtype=float, copy=True)
        bad = np.isinf(vals)
        vals[bad] = np.nan
        return vals, bad
    raw = df[col].fillna("").astype(str).str.strip().replace("nan", "")
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
    lines = _lines(df)
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
    for col in ("teacher_name", "school_name", "email", "role", "supervisor_id"):
        out[col] = (df[col].str.strip().to_numpy(dtype=object) if col in df else np.full(n, "", dtype=object))
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
                                    value=_cell(df, "years_experience", i)))
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
                  lines: np.ndarray, columns: list[str], df: pd.DataFrame) -> None:
    out = (scores < rubric.scale_min) | (scores > rubric.scale_max)
    for i, j in zip(*np.nonzero(out), strict=True):
        problems.append(Problem(name, f"score outside the rubric scale {rubric.scale_min:g} to "
                                      f"{rubric.scale_max:g}", row=int(lines[i]), column=columns[j],
                                value=_cell(df, columns[j], int(i))))


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
    lines = _lines(df)
    scores = np.full((n, len(rubric.indicators)), np.nan)
    warnings: list[str] = []
    for j, ind in enumerate(rubric.indicators):
        if ind not in df:
            warnings.append(f"{name}: no column for indicator {ind!r}; treated as not observed for everyone")
            continue
        vals, bad = _numbers(df, ind)
        for i in np.flatnonzero(bad):
            problems.append(Problem(name, "not a number (leave the cell blank if not observed)",
                                    row=int(lines[i]), column=ind, value=_cell(df, ind, int(i))))
        scores[:, j] = vals
    _check_scores(scores, rubric, name, problems, lines, list(rubric.indicators), df)
    if problems:
        raise InputError(problems)
    return _table(rubric, fields, scores, name, warnings)


def _table(rubric: Rubric, f: dict[str, np.ndarray], scores: np.ndarray, name: str,
           warnings: list[str]) -> TeacherTable:
    return TeacherTable(rubric=rubric, teacher_id=f["teacher_id"], school_id=f["school_id"],
                        district_id=f["district_id"], subject=f["subject"], grades=f["grades"],
                        grades_text=f["grades_text"], years=f["years"], opt_out=f["opt_out"], scores=scores,
                        source=name, warnings=tuple(warnings), teacher_name=f["teacher_name"],
                        school_name=f["school_name"], email=f["email"], role=f["role"],
                        supervisor_id=f["supervisor_id"])


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
        lines = _lines(long)
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
