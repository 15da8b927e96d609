"""Several rows per teacher: roster fields must agree across a teacher's rows (blank cells agree with anything),
and each indicator's score is aggregated over the observations that scored it: the mean, the median, or the
latest by observation date."""

from __future__ import annotations

import datetime as dt
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
    key = teacher.astype(np.int64) * k + indicator.astype(np.int64)
    count = np.bincount(key, minlength=n * k)
    sums = np.bincount(key, weights=value, minlength=n * k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, sums / np.maximum(count, 1), np.nan)
    median = latest = None
    several = bool(len(count) and count.max() > 1)
    if several and "median" in want:
        s = pd.Series(value)
        med = s.groupby(key, sort=False).median()
        median = np.full(n * k, np.nan)
        median[med.index.to_numpy()] = med.to_numpy()
        median = median.reshape(n, k)
    if several and "latest" in want:
        if date is not None and not np.isnan(date).any():
            newest = pd.Series(date).groupby(key, sort=False).transform("max").to_numpy()
            on = date == newest
            last = pd.Series(value[on]).groupby(key[on], sort=False).mean()
            latest = np.full(n * k, np.nan)
            latest[last.index.to_numpy()] = last.to_numpy()
            latest = latest.reshape(n, k)
    return Aggregates(count.reshape(n, k).astype(np.int32), mean.reshape(n, k), median, latest, several)


_DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%m-%d-%Y", "%d-%b-%Y", "%d %b %Y", "%b %d, %Y", "%B %d, %Y")


def _one_date(text: str) -> float:
    try:
        d = dt.datetime.fromisoformat(text)
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                d = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            return float("nan")
    if d.tzinfo is not None:
        d = d.astimezone(dt.UTC).replace(tzinfo=None)
    return d.toordinal() + (d - d.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds() / 86400


def parse_dates(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(days, bad): days since year 1 (with the time of day as a fraction; NaN where blank or bad) and a mask of
    non-blank cells that are not dates (ISO 2025-10-14, US 10/14/2025, or a date and time)."""
    uniq, inverse = np.unique(values.astype(str), return_inverse=True)
    parsed = np.array([np.nan if u == "" else _one_date(u) for u in uniq.tolist()])
    days = parsed[inverse]
    bad = np.isnan(days) & (values != "")
    return days, bad

