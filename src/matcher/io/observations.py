"""Several rows per teacher: roster fields must agree across a teacher's rows (blank cells agree with anything),
and each indicator's score is aggregated over the observations that scored it: the mean, the median, or the
latest by observation date."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd


def group(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, first): codes[r] is row r's teacher (numbered in order of first appearance); first[t] is the
    first row of teacher t."""
    codes, uniques = pd.factorize(pd.Series(ids, dtype=object), sort=False)
    first = np.empty(len(uniques), dtype=np.int64)
    rows = np.arange(len(codes))
    first[codes[::-1]] = rows[::-1]
    return codes.astype(np.int64), first


@dataclass(frozen=True)
class Agreement:
    """One field over a teacher's rows: the value (the first non-blank), and the rows that disagree with it."""

    value: np.ndarray  # per teacher
    conflicts: np.ndarray  # row indices whose non-blank value differs from their teacher's first one
    first_row: np.ndarray  # per teacher: the row the value comes from (-1 when every row is blank)


def agree(values: np.ndarray, blank: np.ndarray, codes: np.ndarray, n: int, missing: object = "",
          key: Callable[[np.ndarray], np.ndarray] | None = None) -> Agreement:
    """values: one per row; blank: rows that say nothing; missing: the value of a teacher whose rows are all
    blank; key: what counts as the same value (default: equal)."""
    filled = np.flatnonzero(~blank)
    first = np.full(n, -1, dtype=np.int64)
    first[codes[filled][::-1]] = filled[::-1]
    ref_row = first[codes]
    rows = np.flatnonzero((ref_row >= 0) & ~blank)
    differs = np.zeros(len(values), dtype=bool)
    if len(rows):
        # Equal values agree; only the few that differ are compared by key (names: case and spaces aside).
        raw = values[rows] != values[ref_row[rows]]
        if key is not None and raw.any():
            odd = rows[raw]
            raw[raw] = key(values[odd]) != key(values[ref_row[odd]])
        differs[rows] = raw
    value = values[np.maximum(first, 0)].copy()
    value[first < 0] = missing
    return Agreement(value, np.flatnonzero(differs), first)


def text_key(values: np.ndarray) -> np.ndarray:
    """Names compared as a person would: case and runs of spaces do not matter."""
    return np.array([" ".join(str(v).casefold().split()) for v in values.tolist()], dtype=object)


@dataclass(frozen=True)
class Aggregates:
    """Per teacher and indicator: how many observations scored it, and the scores under each aggregate (NaN
    where none did). median and latest are None when no score has two observations; latest also when some
    observation has no date."""

    count: np.ndarray  # int32 (n, k)
    mean: np.ndarray
    median: np.ndarray | None
    latest: np.ndarray | None
    several: bool  # some score has more than one observation


def aggregate(teacher: np.ndarray, indicator: np.ndarray, value: np.ndarray, n: int, k: int,
              date: np.ndarray | None, want: tuple[str, ...] = ("mean", "median", "latest")) -> Aggregates:
    """Aggregate the observations (teacher[i], indicator[i], value[i], date[i]) into (n, k) score tables.

    date: days (NaN where not given), or None without a date column; the latest score is the mean of the
    observations on a teacher's most recent date for that indicator. want: the aggregates to compute besides the
    mean (median and latest cost more than the rest of the aggregation together)."""
    order = np.argsort(indicator, kind="stable")
    cuts = np.searchsorted(indicator[order], np.arange(k + 1))

    def column(j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        seg = order[cuts[j]:cuts[j + 1]]
        return teacher[seg], value[seg], None if date is None else date[seg]

    dated = date is not None and not np.isnan(date).any()
    return aggregate_columns(column, n, k, dated, want)


def aggregate_columns(column: Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray | None]], n: int, k: int,
                      dated: bool, want: tuple[str, ...] = ("mean", "median", "latest")) -> Aggregates:
    """The same, from each indicator's observations in turn: column(j) gives (teacher, value, date or None) of
    indicator j's observations; dated: every observation has a date. Working one indicator at a time keeps the
    memory to a few arrays as long as one column of the file (not one per score of the whole file)."""
    count = np.zeros((n, k), dtype=np.int32)
    mean = np.full((n, k), np.nan)
    for j in range(k):
        t, v, _ = column(j)
        c = np.bincount(t, minlength=n)
        sums = np.bincount(t, weights=v, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean[:, j] = np.where(c > 0, sums / np.maximum(c, 1), np.nan)
        count[:, j] = c
    several = bool(count.size and count.max() > 1)
    median = latest = None
    if several and "median" in want:
        median = np.full((n, k), np.nan)
        for j in range(k):
            t, v, _ = column(j)
            median[:, j] = _median(t, v, count[:, j])
    if several and "latest" in want and dated:
        latest = np.full((n, k), np.nan)
        for j in range(k):
            t, v, d = column(j)
            assert d is not None
            latest[:, j] = _latest(t, v, d, n)
    return Aggregates(count, mean, median, latest, several)


def _median(t: np.ndarray, v: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Per teacher, the median of their values (the mean of the two middle ones for an even count)."""
    out = np.full(len(count), np.nan)
    if not len(t):
        return out
    order = np.lexsort((v, t))
    vs = v[order]
    starts = np.cumsum(count) - count
    has = count > 0
    lo = starts[has] + (count[has] - 1) // 2
    hi = starts[has] + count[has] // 2
    out[has] = (vs[lo] + vs[hi]) / 2
    return out


def _latest(t: np.ndarray, v: np.ndarray, d: np.ndarray, n: int) -> np.ndarray:
    """Per teacher, the mean of their values on their most recent date."""
    newest = np.full(n, -np.inf)
    np.maximum.at(newest, t, d)
    on = d == newest[t]
    c = np.bincount(t[on], minlength=n)
    sums = np.bincount(t[on], weights=v[on], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, sums / np.maximum(c, 1), np.nan)


_MONTHS = {name: i for i, name in enumerate(("january", "february", "march", "april", "may", "june", "july",
                                             "august", "september", "october", "november", "december"), 1)}
_MONTHS.update({name[:3]: i for name, i in list(_MONTHS.items())})
# The date formats besides ISO, as regular expressions (strptime's %m/%d/%Y, %m/%d/%y, %Y/%m/%d, %m-%d-%Y,
# %d-%b-%Y, %d %b %Y, %b %d, %Y and %B %d, %Y), tried in that order; a cell that matches none costs one search.
_DATE_PATTERNS = tuple((re.compile(p, re.IGNORECASE), order) for p, order in (
    (r"(\d{1,2})/(\d{1,2})/(\d{4})", "mdY"), (r"(\d{1,2})/(\d{1,2})/(\d{2})", "mdy"),
    (r"(\d{4})/(\d{1,2})/(\d{1,2})", "Ymd"), (r"(\d{1,2})-(\d{1,2})-(\d{4})", "mdY"),
    (r"(\d{1,2})-([a-z]{3})-(\d{4})", "dbY"), (r"(\d{1,2})\s+([a-z]{3})\s+(\d{4})", "dbY"),
    (r"([a-z]{3})\s+(\d{1,2}),\s+(\d{4})", "bdY"), (r"([a-z]+)\s+(\d{1,2}),\s+(\d{4})", "BdY")))


def _pattern_date(text: str) -> dt.datetime | None:
    for pattern, order in _DATE_PATTERNS:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        parts = dict(zip(order, m.groups(), strict=True))
        if "b" in parts or "B" in parts:
            word = (parts.get("b") or parts["B"]).lower()
            month = _MONTHS.get(word) if ("b" in parts) == (len(word) == 3) else None
        else:
            month = int(parts["m"])
        year = int(parts["Y"]) if "Y" in parts else int(parts["y"]) + (2000 if int(parts["y"]) < 69 else 1900)
        try:
            return dt.datetime(year, month or 0, int(parts["d"]))
        except ValueError:
            continue
    return None


def _one_date(text: str) -> float:
    try:
        d = dt.datetime.fromisoformat(text)
    except ValueError:
        found = _pattern_date(text) if len(text) <= 40 else None
        if found is None:
            return float("nan")
        d = found
    if d.tzinfo is not None:
        d = d.astimezone(dt.UTC).replace(tzinfo=None)
    return d.toordinal() + (d - d.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds() / 86400


def parse_dates(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(days, bad): days since year 1 (with the time of day as a fraction; NaN where blank or bad) and a mask of
    non-blank cells that are not dates (ISO 2025-10-14, US 10/14/2025, or a date and time)."""
    inverse, uniq = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
    parsed = np.array([np.nan if u == "" else _one_date(str(u)) for u in uniq.tolist()], dtype=float)
    days = parsed[inverse] if len(values) else np.zeros(0)
    bad = np.isnan(days) & (values != "")
    return days, bad

