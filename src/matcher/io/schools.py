"""Read and validate a schools file (PRODUCT.md: school_id, name, district_id, level, grade_min, grade_max,
latitude, longitude, role, strengths, needs, and optional population, superintendent and history columns)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, Problem
from ..focus import BUNDLED_FOCUS
from .csvfile import MAX_SHOWN, FileProblems, cell_text, file_lines, number_cells, read_csv_text, report_rows, too_long
from .limits import MAX_ID_LENGTH, check_time

REQUIRED = ("school_id", "name", "district_id", "level", "grade_min", "grade_max", "latitude", "longitude", "role",
            "strengths", "needs")
OPTIONAL = ("enrollment", "pct_poverty", "pct_ell", "pct_swd", "superintendent", "prior_partners", "new_principal",
            "accepts_new_principal", "last_network", "years_in_network", "named_schools", "host_capacity",
            "years_hosting", "school_type", "criteria_rank")
# The year-one criteria a school may rank (criteria_rank: "proximity;population;..."), most important first.
CRITERIA = ("proximity", "population", "superintendent", "worked_together", "named")
ID_COLUMNS = ("school_id", "district_id", "last_network")  # kept in 200 characters, as every id
LEVELS = ("early_childhood", "elementary", "middle", "high", "k8", "k12")
ROLES = ("host", "partner", "either")
_GRADE_WORDS = {"PK": -1, "K": 0, "KG": 0}
_TRUE, _FALSE = {"true", "t", "yes", "y", "1"}, {"false", "f", "no", "n", "0", ""}


@dataclass(frozen=True, eq=False)
class SchoolTable:
    """Schools as integer-indexed arrays; row i of every array is school i."""

    school_id: np.ndarray  # str objects
    name: np.ndarray
    district_id: np.ndarray
    level: np.ndarray
    grade_min: np.ndarray  # int, K = 0, PK = -1
    grade_max: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    role: np.ndarray  # host | partner | either
    strengths: tuple[tuple[str, ...], ...]
    needs: tuple[tuple[str, ...], ...]
    pct_poverty: np.ndarray  # nan when not given
    pct_ell: np.ndarray
    pct_swd: np.ndarray
    superintendent: np.ndarray  # "" when not given
    prior_partners: tuple[frozenset[str], ...]
    new_principal: np.ndarray  # bool
    accepts_new_principal: np.ndarray  # bool (default true)
    last_network: np.ndarray | None = None  # last year's network id ("" for none)
    years_in_network: np.ndarray | None = None  # int years already spent in it (0 when not given)
    named_schools: tuple[frozenset[str], ...] | None = None  # schools it asked to work with
    # Per-school inputs (None when the file has no such column):
    host_capacity: np.ndarray | None = None  # int: partners it can take as a host (0: blank, the policy's default)
    years_hosting: np.ndarray | None = None  # int: years it has hosted a network before (0 when blank)
    school_type: np.ndarray | None = None  # str: e.g. "district", "charter" ("" when blank)
    criteria_rank: tuple[tuple[str, ...], ...] | None = None  # its ranking of CRITERIA, most important first
    source: str = ""

    def __len__(self) -> int:
        return len(self.school_id)

    def subset(self, rows: list[int]) -> SchoolTable:
        """A new table of the given rows, in that order; this one is unchanged."""
        idx = np.asarray(rows, dtype=np.int64)
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                out[f.name] = v[idx]
            elif isinstance(v, tuple):
                out[f.name] = tuple(v[i] for i in rows)
            else:
                out[f.name] = v
        return SchoolTable(**out)


def _codes(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.strip() for c in text.split(";") if c.strip()))


def _grade(text: str) -> float:
    t = text.strip().upper()
    if t in _GRADE_WORDS:
        return float(_GRADE_WORDS[t])
    try:
        g = float(t)
    except ValueError:
        return float("nan")
    return g if g.is_integer() and -1 <= g <= 12 else float("nan")


def coordinates(df: pd.DataFrame, name: str, lines: np.ndarray, problems: list[Problem]) -> dict[str, np.ndarray]:
    """The latitude and longitude columns as floats; every cell that is not a valid coordinate is a problem."""
    coords = {}
    for col, lim in (("latitude", 90.0), ("longitude", 180.0)):
        vals, _ = number_cells(df, col)
        report_rows(problems, name, lines, np.flatnonzero(~(np.abs(vals) <= lim)), col,
                    f"must be a number between -{lim:g} and {lim:g}", lambda i, c=col: cell_text(df, c, i))
        coords[col] = vals
    return coords


def read_schools(path: str | Path, focus_codes: tuple[str, ...] | None = None) -> SchoolTable:
    """Read a schools CSV, raising InputError with every problem (file, row, column, value)."""
    path = Path(path)
    name = str(path)
    codes = set(focus_codes or BUNDLED_FOCUS)
    problems = FileProblems()  # at most MAX_SHOWN per column, the rest counted
    df = read_csv_text(path, problems, ("latitude", "longitude", "pct_poverty", "pct_ell", "pct_swd", "enrollment"))
    if df is None:
        raise InputError(problems.finished())
    for c in REQUIRED:
        if c not in df:
            problems.append(Problem(name, "missing required column", row=1, column=c))
    unknown = [c for c in df.columns if c not in REQUIRED + OPTIONAL]
    for c in unknown[:MAX_SHOWN]:
        close = difflib.get_close_matches(c, REQUIRED + OPTIONAL, n=1)
        problems.append(Problem(name, "unknown column" + (f"; did you mean {close[0]!r}?" if close else ""),
                                row=1, column=c))
    if len(unknown) > MAX_SHOWN:
        problems.append(Problem(name, f"... and {len(unknown) - MAX_SHOWN:,} more unknown columns", row=1))
    if problems:
        raise InputError(problems.finished())
    lines = file_lines(df)
    n = len(df)

    def text(col: str) -> np.ndarray:
        if col not in df:
            return np.full(n, "", dtype=object)
        return np.asarray([str(v).strip() for v in df[col].fillna("")], dtype=object)

    check_time()
    for col in ID_COLUMNS:
        if col in df:
            ids = text(col)
            for i in np.flatnonzero(too_long(ids, MAX_ID_LENGTH)):
                problems.append(Problem(name, f"longer than {MAX_ID_LENGTH} characters (an id may have at most that "
                                              "many)", row=int(lines[i]), column=col, value=ids[i]))
    for col in ("prior_partners", "named_schools"):
        if col in df:
            lists_of_ids = text(col)
            for i in np.flatnonzero(too_long(lists_of_ids, MAX_ID_LENGTH)):
                for c in _codes(lists_of_ids[i]):
                    if len(c) > MAX_ID_LENGTH:
                        problems.append(Problem(name, f"names a school id longer than {MAX_ID_LENGTH} characters",
                                                row=int(lines[i]), column=col, value=c))
    sid = text("school_id")
    seen: dict[str, int] = {}
    for i, s in enumerate(sid):
        if not s:
            problems.append(Problem(name, "must not be blank", row=int(lines[i]), column="school_id", value=""))
        elif s in seen:
            problems.append(Problem(name, f"duplicate school_id (first on row {seen[s]})", row=int(lines[i]),
                                    column="school_id", value=s))
        else:
            seen[s] = int(lines[i])
    level = text("level")
    report_rows(problems, name, lines, np.flatnonzero(~np.isin(level, LEVELS)), "level",
                f"must be one of {', '.join(LEVELS)}", lambda i: level[i])
    role = np.asarray([r.lower() for r in text("role")], dtype=object)
    role_text = text("role")
    report_rows(problems, name, lines, np.flatnonzero(~np.isin(role, ROLES)), "role",
                f"must be one of {', '.join(ROLES)} (what the school applied as)", lambda i: role_text[i])
    grades = {}
    for col in ("grade_min", "grade_max"):
        raw = text(col)
        vals = np.asarray([_grade(t) for t in raw])
        report_rows(problems, name, lines, np.flatnonzero(np.isnan(vals)), col,
                    "must be a grade from -1 (PK) or K (0) to 12", lambda i, r=raw: r[i])
        grades[col] = vals
    gmin, gmax = text("grade_min"), text("grade_max")
    report_rows(problems, name, lines, np.flatnonzero(grades["grade_min"] > grades["grade_max"]), "grade_min",
                "grade_min is above grade_max", lambda i: f"{gmin[i]} > {gmax[i]}")
    coords = coordinates(df, name, lines, problems)
    shares = {}
    for col in ("pct_poverty", "pct_ell", "pct_swd"):
        if col not in df:
            shares[col] = np.full(n, np.nan)
            continue
        vals, bad = number_cells(df, col)
        report_rows(problems, name, lines, np.flatnonzero(bad | (vals < 0) | (vals > 1)), col,
                    "must be a share between 0 and 1 (blank if unknown)", lambda i, c=col: cell_text(df, c, i))
        shares[col] = vals
    lists = {}
    check_time()
    for col in ("strengths", "needs"):
        parsed = [_codes(t) for t in text(col)]
        for i, got in enumerate(parsed):
            for c in got:
                if c not in codes and problems.full(name, col):
                    problems.append(Problem(name, "unknown focus area", row=int(lines[i]), column=col, value=c))
                elif c not in codes:
                    close = [k for k in sorted(codes) if k.startswith(c) or c.startswith(k)][:1] or \
                        difflib.get_close_matches(c, sorted(codes), n=1)
                    problems.append(Problem(name, "unknown focus area" + (f"; did you mean {close[0]!r}?" if close
                                                                          else " (docs/inputs.md lists the codes)"),
                                            row=int(lines[i]), column=col, value=c))
        lists[col] = tuple(parsed)
    check_time()
    for i in range(n):
        if role[i] == "host" and not lists["strengths"][i]:
            problems.append(Problem(name, "a host with no strengths: name the focus areas it can support others in",
                                    row=int(lines[i]), column="strengths", value=""))
        if role[i] == "partner" and not lists["needs"][i]:
            problems.append(Problem(name, "a partner with no needs: name the focus areas it wants to improve in",
                                    row=int(lines[i]), column="needs", value=""))
    flags = {}
    for col, default in (("new_principal", False), ("accepts_new_principal", True)):
        raw = text(col)
        out = np.full(n, default)
        for i, t in enumerate(raw):
            low = t.lower()
            if col in df and low in _TRUE:
                out[i] = True
            elif col in df and low in _FALSE and low != "":
                out[i] = False
            elif col in df and low != "":
                problems.append(Problem(name, "must be true or false", row=int(lines[i]), column=col, value=t))
        flags[col] = out
    prior = tuple(frozenset(_codes(t)) for t in text("prior_partners"))
    # Schools named here may not have applied this year: ids outside the file are kept and simply never met.
    named = tuple(frozenset(_codes(t)) for t in text("named_schools"))
    years = np.zeros(n, dtype=np.int64)
    if "years_in_network" in df:
        raw = text("years_in_network")
        for i, v in enumerate(raw):
            if v and not (v.isascii() and v.isdigit() and len(v) <= 3):
                problems.append(Problem(name, "must be a whole number of years (blank for 0)", row=int(lines[i]),
                                        column="years_in_network", value=v))
            elif v:
                years[i] = int(v)
    counts = {}
    for col, least, what in (("host_capacity", 1, "partners it can take as a host, at least 1 (blank for the "
                                               "policy's default)"),
                             ("years_hosting", 0, "years it has hosted a network, 0 or more (blank for 0)")):
        if col not in df:
            continue
        raw = text(col)
        vals = np.zeros(n, dtype=np.int64)
        for i, v in enumerate(raw):
            if v and not (v.isascii() and v.isdigit() and len(v) <= 3 and int(v) >= least):
                problems.append(Problem(name, f"must be a whole number of {what}", row=int(lines[i]), column=col,
                                        value=v))
            elif v:
                vals[i] = int(v)
        counts[col] = vals
    ranks = None
    if "criteria_rank" in df:
        ranks = tuple(tuple(dict.fromkeys(c.lower() for c in _codes(t))) for t in text("criteria_rank"))
        for i, got in enumerate(ranks):
            for c in got:
                if c not in CRITERIA:
                    close = difflib.get_close_matches(c, CRITERIA, n=1)
                    problems.append(Problem(name, "unknown criterion" + (f"; did you mean {close[0]!r}?" if close
                                                                         else f" (one of {', '.join(CRITERIA)})"),
                                            row=int(lines[i]), column="criteria_rank", value=c))
    if problems:
        raise InputError(problems.finished())
    return SchoolTable(school_id=sid, name=text("name"), district_id=text("district_id"), level=level,
                       grade_min=grades["grade_min"].astype(np.int64), grade_max=grades["grade_max"].astype(np.int64),
                       latitude=coords["latitude"], longitude=coords["longitude"], role=role,
                       strengths=lists["strengths"], needs=lists["needs"], pct_poverty=shares["pct_poverty"],
                       pct_ell=shares["pct_ell"], pct_swd=shares["pct_swd"], superintendent=text("superintendent"),
                       prior_partners=prior, new_principal=flags["new_principal"],
                       accepts_new_principal=flags["accepts_new_principal"], last_network=text("last_network"),
                       years_in_network=years, named_schools=named, host_capacity=counts.get("host_capacity"),
                       years_hosting=counts.get("years_hosting"),
                       school_type=text("school_type") if "school_type" in df else None, criteria_rank=ranks,
                       source=name)
