"""CSV files as text: the shared reader behind every input file (teachers, schools, pair lists, facilitators),
with the file line of every record so that each problem can name its row."""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem
from .limits import check_time, limits


def read_csv_text(path: Path, problems: list[Problem], numeric: tuple[str, ...] = ()) -> pd.DataFrame | None:
    """Every column as text, except `numeric` columns, parsed as floats where they are clean (blank = NaN).

    Bounded work: lines over the line limit and headers over the column limit are refused before any row is split
    into cells, the header is checked in one pass, and the rows are read in chunks (DeadlineError when time is up)."""
    name = str(path)
    try:
        scan = scan_lines(path, name, problems)
        if scan is None:
            return None
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            header_lines = reader.line_num
    except OSError as exc:
        problems.append(Problem(name, f"cannot read the file: {exc.strerror or exc}"))
        return None
    except UnicodeDecodeError:
        problems.append(Problem(name, "not UTF-8 text; save the file as UTF-8 CSV", row=_bad_utf8_line(path)))
        return None
    except csv.Error as exc:
        problems.append(Problem(name, f"malformed CSV: {exc}", row=1))
        return None
    if not header or not any(h.strip() for h in header):
        problems.append(Problem(name, "empty file: expected a header row and at least one data row"))
        return None
    if too_wide(name, len(header), 1, problems):
        return None
    header = [h.strip() for h in header]
    counts = Counter(header)
    dupes = sorted(h for h, k in counts.items() if k > 1 and h)
    for h in dupes[:MAX_NAMED_COLUMNS]:
        problems.append(Problem(name, "column appears more than once", row=1, column=h))
    if len(dupes) > MAX_NAMED_COLUMNS:
        problems.append(Problem(name, f"... and {len(dupes) - MAX_NAMED_COLUMNS:,} more columns that appear more "
                                      "than once", row=1))
    empty = [i for i, h in enumerate(header) if not h]
    for i in empty[:MAX_NAMED_COLUMNS]:
        problems.append(Problem(name, f"column {i + 1} has an empty name", row=1))
    if len(empty) > MAX_NAMED_COLUMNS:
        problems.append(Problem(name, f"... and {len(empty) - MAX_NAMED_COLUMNS:,} more columns with an empty name",
                                row=1))
    if dupes or empty:
        return None
    nums = [c for c in numeric if c in counts]
    try:
        df = read_frame(path, name, problems, skiprows=header_lines, names=header,
                        text=[c for c in header if c not in nums], numeric=nums)
    except UnicodeDecodeError:  # past the part the header check decoded
        problems.append(Problem(name, "not UTF-8 text; save the file as UTF-8 CSV", row=_bad_utf8_line(path)))
        return None
    if df is None:
        return None
    if len(df) == 0:
        problems.append(Problem(name, "empty file: the header has no data rows under it"))
        return None
    df.attrs["lines"] = _record_lines(path, len(df), header_lines, scan)
    return df


MAX_NAMED_COLUMNS = 20  # header problems of one kind listed one by one; the rest are counted
CHUNK_ROWS = 50_000  # rows parsed between two looks at the clock


def too_wide(name: str, width: int, row: int, problems: list[Problem]) -> bool:
    """A header over the column limit is a problem (and nothing else of the file is read)."""
    lim = limits().max_columns
    if width <= lim:
        return False
    problems.append(Problem(name, f"the header has {width:,} columns; at most {lim:,} are read (an export has one "
                                  "column per field, and per indicator: tens, not thousands)", row=row))
    return True


def read_frame(path: Path, name: str, problems: list[Problem], *, skiprows: int, names: list[Any],
               text: list[Any], numeric: list[Any], header_width: int | None = None) -> pd.DataFrame | None:
    """The rows under the header, `text` columns as str and `numeric` ones as floats where clean, read in chunks of
    CHUNK_ROWS (the clock is looked at between two); None after adding problems (rows longer than the header, too
    many rows, malformed CSV)."""
    lim = limits()
    width = header_width or len(names)
    most = min(lim.max_rows, lim.max_cells // max(width, 1))
    chunks = []
    rows = 0
    text_bytes = path.stat().st_size  # the characters of every text cell, at most
    try:
        with pd.read_csv(path, header=None, names=names, skiprows=skiprows, index_col=False,
                         dtype={c: str for c in text}, keep_default_na=False, na_values={c: [""] for c in numeric},
                         encoding="utf-8-sig", skipinitialspace=True, chunksize=CHUNK_ROWS) as reader:
            for chunk in reader:
                check_time()
                rows += len(chunk)
                text_bytes += _text_bytes(chunk)
                if text_bytes > lim.max_text_bytes:
                    problems.append(Problem(name, f"the cells of the first {rows:,} data rows already hold more than "
                                                  f"{lim.max_text_bytes / 2**20:,.0f} MB of text (columns whose "
                                                  "every cell differs, say); split the file or leave out columns "
                                                  "that are not needed"))
                    return None
                if rows > most:
                    problems.append(Problem(name, f"more than {most:,} data rows; at most {lim.max_rows:,} rows and "
                                                  f"{lim.max_cells:,} cells (rows x {width:,} columns) are read from "
                                                  "one file: split it (by district, say) or leave out columns that "
                                                  "are not needed"))
                    return None
                chunks.append(chunk)
    except pd.errors.EmptyDataError:
        pass
    except (pd.errors.ParserError, ValueError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            raise
        long_rows, more = _long_records(path, width)
        long_rows = [(line, k) for line, k in long_rows if line > skiprows]
        for line, k in long_rows:
            problems.append(Problem(name, f"row has {k} cells but the header has {width} columns", row=line))
        if more:
            problems.append(Problem(name, f"... and {more:,} more rows with more cells than the header has columns"))
        if not long_rows:
            problems.append(Problem(name, f"malformed CSV: {exc}"))
        return None
    if not chunks:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in names})
    if len(chunks) == 1:
        return chunks[0]
    # Joined a column at a time, each column's chunks let go as soon as it is joined: the table is never held
    # twice over.
    parts: dict[Any, list[Any]] = {c: [ch[c] for ch in chunks] for c in names}
    del chunks, chunk
    out = {}
    for c in names:
        out[c] = pd.concat(parts.pop(c), ignore_index=True)
    return pd.DataFrame(out, copy=False)


def _text_bytes(chunk: pd.DataFrame) -> int:
    """About what a chunk's text cells take in memory besides their characters: a pointer per cell and an object
    per distinct text (the parser holds equal cells of a chunk as one object). The characters themselves are
    counted once for the whole file, by its size."""
    total = 0
    for c in chunk.columns:
        col = chunk[c]
        if not pd.api.types.is_float_dtype(col):
            total += 8 * len(col) + 56 * len(pd.unique(col.to_numpy(dtype=object, na_value=None)))
    return total


@dataclass(frozen=True)
class LineScan:
    """What one pass over a file's bytes found: its physical lines (a last line without a newline counts)."""

    lines: int


def scan_lines(path: Path, name: str, problems: list[Problem]) -> LineScan | None:
    """Count the file's lines, refusing (None, with a problem) a line over the line limit before anything splits
    it into cells: a header of one huge line, or a file that is not CSV at all."""
    lim = limits()
    line, start_of_line, offset, last = 1, 0, 0, b"\n"
    with path.open("rb") as fh:
        while True:
            check_time()
            block = fh.read(SCAN_BYTES)
            if not block:
                break
            arr = np.frombuffer(block, dtype=np.uint8)
            ends = np.flatnonzero(arr == 10) + offset
            starts = np.concatenate(([start_of_line], ends[:-1] + 1)) if len(ends) else np.array([], dtype=np.int64)
            if len(ends):
                lengths = ends - starts
                over = np.flatnonzero(lengths > lim.max_line_bytes)
                if len(over):
                    at = line + int(over[0])
                    problems.append(_header_columns(path, name) if at == 1 else
                                    _long_line(name, at, int(lengths[over[0]]), lim.max_line_bytes))
                    return None
                line += len(ends)
                start_of_line = int(ends[-1]) + 1
            offset += len(block)
            if offset - start_of_line > lim.max_line_bytes:
                problems.append(_header_columns(path, name) if line == 1 else
                                _long_line(name, line, None, lim.max_line_bytes))
                return None
            last = block[-1:]
    return LineScan(line - (1 if last == b"\n" else 0))


def _header_columns(path: Path, name: str) -> Problem:
    """The problem of a first line over the line limit: its columns when they are too many (the commas of the
    line are counted, never split into cells), else its length."""
    lim = limits()
    size = commas = 0
    with path.open("rb") as fh:
        while block := fh.read(SCAN_BYTES):
            check_time()
            end = block.find(b"\n")
            part = block if end < 0 else block[:end]
            size += len(part)
            commas += part.count(b",")
            if end >= 0:
                break
    if commas + 1 > lim.max_columns:
        return Problem(name, f"the header has {commas + 1:,} columns ({size:,} bytes); at most {lim.max_columns:,} are "
                             "read (an export has one column per field, and per indicator: tens, not thousands)", row=1)
    return _long_line(name, 1, size, lim.max_line_bytes)


SCAN_BYTES = 1 << 23


def _long_line(name: str, line: int, length: int | None, limit: int) -> Problem:
    size = f"{length:,} bytes long" if length is not None else f"longer than {limit:,} bytes"
    what = "the header" if line == 1 else "a line"
    return Problem(name, f"{what} is {size}; a line may have at most {limit:,} bytes (is this a CSV file with one "
                         "row per line?)", row=line)


def _long_records(path: Path, width: int) -> tuple[list[tuple[int, int]], int]:
    """(file line, number of cells) of the first MAX_SHOWN records with more cells than the header, and how many
    more there are."""
    out: list[tuple[int, int]] = []
    more = 0
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, skipinitialspace=True)
            prev = 0
            for k, rec in enumerate(reader):
                if k % 20_000 == 0:
                    check_time()
                start, prev = prev + 1, reader.line_num
                if len(rec) > width:
                    if len(out) < MAX_SHOWN:
                        out.append((start, len(rec)))
                    else:
                        more += 1
    except (csv.Error, UnicodeDecodeError):
        return out, more
    return out, more


MAX_SHOWN = 100  # rows listed for one kind of problem; the rest are counted in one more problem


class FileProblems(list[Problem]):
    """Problems as a reader finds them, at most MAX_SHOWN per file and column; the rest are only counted and
    `finished()` adds one problem per column saying how many more there are. A file whose every row is wrong then
    costs about as much to read as one that is right."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: Counter[tuple[str, str | None]] = Counter()
        self.more: Counter[tuple[str, str | None]] = Counter()

    def append(self, p: Problem) -> None:
        key = (p.file, p.column)
        if p.row is None or self.shown[key] < MAX_SHOWN:
            self.shown[key] += 1
            super().append(p)
        else:
            self.more[key] += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.append(p)

    def full(self, file: str, column: str | None) -> bool:
        """This column's problems are no longer listed (only counted): spare the work of describing them."""
        return self.shown[(file, column)] >= MAX_SHOWN

    def finished(self) -> list[Problem]:
        return [*self, *(Problem(file, f"... and {k:,} more rows with problems in this column", column=column)
                         for (file, column), k in self.more.items())]


def report_rows(problems: list[Problem], file: str, lines: np.ndarray, rows: np.ndarray, column: str, message: str,
                value_of: Callable[[int], str]) -> None:
    """A problem for each of `rows` (indices into the file's records), at most MAX_SHOWN of them, then one problem
    counting the rest; values are looked up for the rows listed only."""
    for i in rows[:MAX_SHOWN].tolist():
        problems.append(Problem(file, message, row=int(lines[i]), column=column, value=value_of(i)))
    if len(rows) > MAX_SHOWN:
        problems.append(Problem(file, f"... and {len(rows) - MAX_SHOWN:,} more rows with the same problem "
                                      f"({message})", column=column))


def too_long(values: np.ndarray, limit: int) -> np.ndarray:
    """Mask of the texts longer than limit (each distinct text measured once)."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    if not len(uniques):
        return np.zeros(len(values), dtype=bool)
    lengths = np.fromiter((len(str(u)) for u in uniques.tolist()), dtype=np.int64, count=len(uniques))
    return np.append(lengths > limit, False)[codes]


def _bad_utf8_line(path: Path) -> int | None:
    """The line of the first bytes that are not UTF-8 (read in blocks: a file is never decoded whole)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0
    with path.open("rb") as fh:
        while True:
            block = fh.read(SCAN_BYTES)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                return newlines + block.count(b"\n", 0, max(exc.start, 0)) + 1
            if not block:
                return None
            newlines += block.count(b"\n")


def _record_lines(path: Path, n: int, skip: int = 1, scan: LineScan | None = None) -> np.ndarray:
    """The file line on which each of the n data records after the first `skip` lines starts (header = line 1).

    pandas skips blank lines and a quoted cell may span lines, so record i is not always on line skip + 1 + i."""
    plain = np.arange(skip + 1, skip + 1 + n)
    if scan is None:
        with path.open("rb") as fh:
            lines = sum(block.count(b"\n") for block in iter(lambda: fh.read(SCAN_BYTES), b""))
        size = path.stat().st_size
        if size:
            with path.open("rb") as fh:
                fh.seek(size - 1)
                lines += fh.read(1) != b"\n"
        scan = LineScan(lines)
    if scan.lines == skip + n:
        return plain  # one line per record, no blank lines
    out = np.empty(n, dtype=np.int64)
    k = 0
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            prev = 0
            for i, rec in enumerate(reader):
                if i % 20_000 == 0:
                    check_time()
                start, prev = prev + 1, reader.line_num
                if start > skip and not (not rec or (len(rec) == 1 and not rec[0].strip())):
                    if k == n:
                        return plain
                    out[k] = start
                    k += 1
    except csv.Error:
        return plain
    return out if k == n else plain


def file_lines(df: pd.DataFrame) -> np.ndarray:
    """File line of each row of a frame read by read_csv_text."""
    lines = df.attrs.get("lines")
    return lines if lines is not None and len(lines) == len(df) else np.arange(2, len(df) + 2)


def cell_text(df: pd.DataFrame, col: str, i: int) -> str:
    """Cell text for a problem report (a number pandas parsed is shown without a spurious ".0")."""
    v = df[col].iloc[i]
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return ""
        text = repr(float(v))
        return text[:-2] if text.endswith(".0") else text
    return str(v)


def number_cells(df: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """(values with nan for blank/invalid, mask of non-blank cells that are not numbers)."""
    if pd.api.types.is_float_dtype(df[col]) or pd.api.types.is_integer_dtype(df[col]):
        vals = df[col].to_numpy(dtype=float, copy=True)
        bad = np.isinf(vals)
        vals[bad] = np.nan
        return vals, bad
    codes, text = text_codes(df[col])
    vals_u, bad_u = parse_numbers(text)
    return vals_u[codes], bad_u[codes]


def text_codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, text): a column's cells as indices into its distinct cells' stripped text; a blank cell (and the
    text "nan") is "", at the last index. An export repeats a few values down a column, so everything done to
    the text is done once per distinct value."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    text = [_as_text(v) for v in uniques.tolist()]
    table = np.array([*("" if t == "nan" else t for t in text), ""], dtype=object)
    return np.where(codes < 0, len(table) - 1, codes), table


def _as_text(v: object) -> str:
    if isinstance(v, float):
        text = repr(v)
        return text[:-2] if text.endswith(".0") else text
    return str(v).strip()


def parse_numbers(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, bad) of texts: NaN where blank or not a number; bad marks the non-blank ones that are not (or are
    infinite)."""
    vals = pd.to_numeric(pd.Series(text, dtype=object), errors="coerce").to_numpy(dtype=float, copy=True)
    bad = (np.isnan(vals) & (text != "")) | np.isinf(vals)
    vals[np.isinf(vals)] = np.nan
    return vals, bad
