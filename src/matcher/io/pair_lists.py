"""Lists of teacher pairs from CSV: last run's pairs.csv (--previous), must-pair and do-not-pair lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError, Problem
from .csv_out import plain_cell
from .csvfile import FileProblems, file_lines, read_csv_text, report_rows, text_codes
from .limits import MAX_ID_LENGTH
from .table import TeacherTable

PAIR_FIELDS = ("teacher_a", "teacher_b")


def read_pair_file(path: str | Path) -> list[tuple[int, str, str]]:
    """(row, teacher_a, teacher_b) for each data row; needs columns teacher_a and teacher_b."""
    problems = FileProblems()  # at most MAX_SHOWN per column, the rest counted
    name = str(path)
    df = read_csv_text(Path(path), problems)
    if df is None:
        raise InputError(problems.finished())
    for c in PAIR_FIELDS:
        if c not in df:
            problems.append(Problem(name, "missing required column of a pair list", row=1, column=c))
    if problems:
        raise InputError(problems)
    # plain_cell: a pairs.csv of ours given back holds formula-looking ids with a leading quote (io.csv_out).
    a = df["teacher_a"].str.strip().map(plain_cell).to_numpy(dtype=object)
    b = df["teacher_b"].str.strip().map(plain_cell).to_numpy(dtype=object)
    out = []
    lines = file_lines(df)
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        row = int(lines[i])
        for col, val in (("teacher_a", x), ("teacher_b", y)):
            if val == "":
                problems.append(Problem(name, "must not be blank", row=row, column=col, value=""))
            elif len(val) > MAX_ID_LENGTH:
                problems.append(Problem(name, f"longer than {MAX_ID_LENGTH} characters (an id may have at most that "
                                              "many)", row=row, column=col, value=val))
        if x and y and x == y:
            problems.append(Problem(name, "a teacher cannot be paired with themself", row=row, column="teacher_b",
                                    value=y))
        out.append((row, str(x), str(y)))
    if problems:
        raise InputError(problems.finished())
    return out


def check_pair_ids(table: TeacherTable, rows: list[tuple[int, str, str]], path: str | Path) -> list[Problem]:
    """Problems for every pair-list row that names a teacher who is not in the teacher file."""
    problems = []
    index = table.index
    for row, a, b in rows:
        for col, x in (("teacher_a", a), ("teacher_b", b)):
            if x not in index:
                problems.append(Problem(str(path), f"names a teacher who is not in {table.source}", row=row,
                                        column=col, value=x))
    return problems


def read_school_coords(path: str | Path, names: dict[str, str] | None = None) -> dict[str, tuple[float, float]]:
    """school_id -> (latitude, longitude) from a schools file; every bad cell is reported. With `names`, the
    file's school names (its name column, where given) are added to that dict."""
    problems = FileProblems()  # at most MAX_SHOWN per column, the rest counted
    name = str(path)
    df = read_csv_text(Path(path), problems)
    if df is None:
        raise InputError(problems.finished())
    for c in ("school_id", "latitude", "longitude"):
        if c not in df:
            problems.append(Problem(name, "missing required column", row=1, column=c))
    if problems:
        raise InputError(problems.finished())
    out: dict[str, tuple[float, float]] = {}
    lines = file_lines(df)
    for col, lim in (("latitude", 90.0), ("longitude", 180.0)):
        codes, text = text_codes(df[col])
        vals = np.array([_num(t) for t in text.tolist()], dtype=float)[codes]  # each distinct cell parsed once
        report_rows(problems, name, lines, np.flatnonzero(~(np.abs(vals) <= lim)), col,
                    f"must be a number between -{lim:g} and {lim:g}", lambda i, c=col: str(df[c].iloc[i]))
        df[col + "_v"] = vals
    lat, lon = df["latitude_v"].to_numpy().tolist(), df["longitude_v"].to_numpy().tolist()
    school_names = df["name"].str.strip().tolist() if "name" in df else None
    for i, sid in enumerate(df["school_id"].str.strip().tolist()):
        if not sid:
            problems.append(Problem(name, "must not be blank", row=int(lines[i]), column="school_id", value=""))
        elif len(sid) > MAX_ID_LENGTH:
            problems.append(Problem(name, f"longer than {MAX_ID_LENGTH} characters (an id may have at most that "
                                          "many)", row=int(lines[i]), column="school_id", value=sid))
        elif sid in out:
            problems.append(Problem(name, "duplicate school_id", row=int(lines[i]), column="school_id", value=sid))
        else:
            out[sid] = (float(lat[i]), float(lon[i]))
            if names is not None and school_names is not None and school_names[i]:
                names[sid] = school_names[i]
    if problems:
        raise InputError(problems.finished())
    return out


def _num(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")
