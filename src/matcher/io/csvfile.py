"""CSV files as text: the shared reader behind every input file (teachers, schools, pair lists, facilitators),
with the file line of every record so that each problem can name its row."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import Problem


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


def _record_lines(path: Path, n: int, skip: int = 1) -> np.ndarray:
    """The file line on which each of the n data records after the first `skip` lines starts (header = line 1).

    pandas skips blank lines and a quoted cell may span lines, so record i is not always on line skip + 1 + i."""
    plain = np.arange(skip + 1, skip + 1 + n)
    data = path.read_bytes()
    if data.count(b"\n") + (not data.endswith(b"\n")) == skip + n:
        return plain  # one line per record, no blank lines
    out: list[int] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            prev = 0
            for rec in reader:
                start, prev = prev + 1, reader.line_num
                if start > skip and not (not rec or (len(rec) == 1 and not rec[0].strip())):
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
