"""Read a table as people export it (a CSV file or an Excel workbook) into cells, with the row each record came
from: the header is found under any title rows, identifiers keep their leading zeros, and every problem can name
its file, sheet, row and column.

Excel workbooks are read with python-calamine (a maintained Rust reader, about ten times faster than openpyxl on a
statewide export); openpyxl is asked only for the display format of identifiers that Excel stored as numbers (a
school "0042" typed into a cell formatted "0000" is the number 42 in the file).
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem
from .csvfile import _bad_utf8_line, _long_records, _record_lines

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
HEADER_SEARCH_ROWS = 10  # title rows an export may put above its header
MAX_UNPACKED_BYTES = 1 << 30  # a workbook that unpacks to more than 1 GiB is refused before it is parsed
MAX_COLUMNS = 2_000  # an export has tens of columns; a header of thousands is refused before the rows are read
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format


@dataclass(frozen=True)
class Layout:
    """What the caller makes of a header: columns to read as numbers, and identifier columns (kept as text
    exactly as displayed)."""

    numeric: frozenset[int] = frozenset()
    ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Sheet:
    """A table's header and records. frame's columns are the header positions 0..m-1; cells are text ("" blank),
    except numeric columns, which hold floats where the cells are numbers (NaN blank) and text otherwise."""

    name: str  # how problems name the table: the path, and the sheet for a workbook
    header: list[str]
    frame: pd.DataFrame
    lines: np.ndarray  # the file line (CSV) or sheet row (Excel) of each record; the header's is header_row
    header_row: int
    warnings: tuple[str, ...] = field(default=())


def is_excel(path: Path) -> bool:
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(4) == _ZIP_MAGIC
    except OSError:
        return False


def read_sheet(path: Path, problems: list[Problem], *, sheet: str | None = None,
               is_header: Callable[[list[str]], bool] | None = None,
               layout: Callable[[list[str]], Layout] | None = None) -> Sheet | None:
    """Read a CSV file or an Excel workbook's sheet (the first, or `sheet`); None after adding problems.

    is_header(cells) picks the header among the first rows (default: the first row that is not blank);
    layout(header) says which columns are numbers and which are identifiers."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        problems.append(Problem(str(path), f"cannot read the file: {exc.strerror or exc}"))
        return None
    if magic == _OLE_MAGIC or path.suffix.lower() == ".xls":
        problems.append(Problem(str(path), "an old Excel .xls workbook: save it as .xlsx (Excel Workbook) or as "
                                           "CSV UTF-8"))
        return None
    if path.suffix.lower() in EXCEL_SUFFIXES or magic == _ZIP_MAGIC:
        return _read_excel(path, problems, sheet, is_header, layout)
    if sheet is not None:
        problems.append(Problem(str(path), "a sheet name applies to Excel workbooks only; this is a CSV file",
                                column="sheet", value=sheet))
        return None
    return _read_csv_sheet(path, problems, is_header, layout)


def _pick_header(rows: Sequence[list[str]], is_header: Callable[[list[str]], bool] | None) -> int | None:
    """Index of the header among the first rows: the first the caller recognises, else the first non-blank."""
    filled = [i for i, r in enumerate(rows) if any(c.strip() for c in r)][:HEADER_SEARCH_ROWS]
    if not filled:
        return None
    if is_header is not None:
        for i in filled:
            if is_header([c.strip() for c in rows[i]]):
                return i
    return filled[0]


def _too_wide(name: str, header: list[str], row: int, problems: list[Problem]) -> bool:
    if len(header) <= MAX_COLUMNS:
        return False
    problems.append(Problem(name, f"the header has {len(header):,} columns; at most {MAX_COLUMNS:,} are read (a "
                                  "teacher file has one column per field and indicator)", row=row))
    return True


def _skipped_warning(name: str, header_row: int) -> tuple[str, ...]:
    if header_row <= 1:
        return ()
    return (f"{name}: the header is on row {header_row}; the rows above it were skipped",)


# ---- CSV ---------------------------------------------------------------------------------------------------------

def _read_csv_sheet(path: Path, problems: list[Problem], is_header: Callable[[list[str]], bool] | None,
                    layout: Callable[[list[str]], Layout] | None) -> Sheet | None:
    name = str(path)
    first: list[list[str]] = []
    ends: list[int] = []  # file line on which each of the first records ends
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            for rec in reader:
                first.append(rec)
                ends.append(reader.line_num)
                if len(first) > 4 * HEADER_SEARCH_ROWS:
                    break
    except UnicodeDecodeError:
        problems.append(Problem(name, "not UTF-8 text; save the file as UTF-8 CSV", row=_bad_utf8_line(path)))
        return None
    except csv.Error as exc:
        problems.append(Problem(name, f"malformed CSV: {exc}"))
        return None
    h = _pick_header(first, is_header)
    if h is None:
        problems.append(Problem(name, "empty file: expected a header row and at least one data row"))
        return None
    header = [c.strip() for c in first[h]]
    header_row = (ends[h - 1] + 1) if h else 1
    if _too_wide(name, header, header_row, problems):
        return None
    skip = ends[h]  # lines up to the end of the header record
    plan = layout(header) if layout else Layout()
    m = len(header)
    try:
        df = pd.read_csv(path, header=None, names=list(range(m)), skiprows=skip, index_col=False,
                         dtype={j: str for j in range(m) if j not in plan.numeric}, keep_default_na=False,
                         na_values={j: [""] for j in plan.numeric}, encoding="utf-8-sig", skipinitialspace=True)
    except pd.errors.EmptyDataError:
        df = pd.DataFrame({j: pd.Series([], dtype=object) for j in range(m)})
    except UnicodeDecodeError:  # past the part the header check decoded
        problems.append(Problem(name, "not UTF-8 text; save the file as UTF-8 CSV", row=_bad_utf8_line(path)))
        return None
    except (pd.errors.ParserError, ValueError) as exc:
        long_rows = [(line, k) for line, k in _long_records(path, m) if line > skip]
        for line, k in long_rows:
            problems.append(Problem(name, f"row has {k} cells but the header has {m} columns", row=line))
        if not long_rows:
            problems.append(Problem(name, f"malformed CSV: {exc}"))
        return None
    text_cols = [j for j in range(m) if j not in plan.numeric]
    if text_cols and df[text_cols].isna().any().any():  # rows shorter than the header
        df = df.fillna({j: "" for j in text_cols})
    return Sheet(name, header, df, _record_lines(path, len(df), skip), header_row, _skipped_warning(name, header_row))


# ---- Excel -------------------------------------------------------------------------------------------------------

def _read_excel(path: Path, problems: list[Problem], sheet: str | None,
                is_header: Callable[[list[str]], bool] | None,
                layout: Callable[[list[str]], Layout] | None) -> Sheet | None:
    import python_calamine

    name = str(path)
    try:
        with zipfile.ZipFile(path) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        problems.append(Problem(name, f"not a readable Excel workbook (.xlsx): {exc}"))
        return None
    if unpacked > MAX_UNPACKED_BYTES:
        problems.append(Problem(name, f"the workbook unpacks to {unpacked / 2**20:,.0f} MiB, over the limit of "
                                      f"{MAX_UNPACKED_BYTES / 2**20:,.0f} MiB; export the sheet as CSV UTF-8"))
        return None
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
        if sheet is not None and sheet not in names:
            problems.append(Problem(name, f"no sheet of this name; the workbook's sheets are: "
                                          f"{', '.join(repr(s) for s in names)}", column="sheet", value=sheet))
            return None
        if not names:
            problems.append(Problem(name, "the workbook has no sheets"))
            return None
        sheet_name = sheet if sheet is not None else names[0]
        rows: list[list[Any]] = book.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for damaged workbooks
        problems.append(Problem(name, f"not a readable Excel workbook (.xlsx): {exc}"))
        return None
    where = f"{name}, sheet {sheet_name!r}"
    head_text = [[_text(c) for c in r] for r in rows[:4 * HEADER_SEARCH_ROWS]]
    h = _pick_header(head_text, is_header)
    if h is None:
        problems.append(Problem(where, "empty sheet: expected a header row and at least one data row"))
        return None
    header = [c.strip() for c in head_text[h]]
    if _too_wide(where, header, h + 1, problems):
        return None
    plan = layout(header) if layout else Layout()
    m = len(header)
    body = rows[h + 1:]
    width = max(m, max(map(len, body), default=0))
    if body and min(map(len, body)) < width:  # calamine's rows are as wide as the sheet; pad any that are not
        body = [r + [""] * (width - len(r)) for r in body]
    grid = np.empty((len(body), width), dtype=object)
    grid[:] = body if body else grid
    grid[np.equal(grid, None)] = ""
    keep = np.flatnonzero((grid != "").any(axis=1))  # blank rows are skipped, as in a CSV
    if len(keep) < len(body):
        grid = grid[keep]
    columns = grid.T
    lines = keep.astype(np.int64) + h + 2
    warnings = list(_skipped_warning(where, h + 1))
    extra = [j for j in range(m, width) if (columns[j] != "").any()]
    for j in extra:
        first = int(np.flatnonzero(columns[j] != "")[0])
        problems.append(Problem(where, f"cell under no header: the header has {m} columns", row=int(lines[first]),
                                column=_column_letter(j), value=_text(columns[j][first])))
    if extra:
        return None
    data: dict[int, Any] = {}
    numbers_in_ids: list[int] = []
    for j in range(m):
        col = columns[j]
        kinds = set(map(type, col))
        if j in plan.numeric:
            data[j] = _numeric_column(col, kinds)
        else:
            data[j] = col if kinds <= {str} else np.array([_text(c) for c in col], dtype=object)
            if j in plan.ids and kinds & {float, int}:
                numbers_in_ids.append(j)
    if numbers_in_ids:
        _display_ids(path, sheet_name, lines, numbers_in_ids, data)
        warnings.append(f"{where}: Excel stored identifiers as numbers in column(s) "
                        f"{', '.join(repr(header[j]) for j in numbers_in_ids)}; they were read as Excel displays "
                        "them (format the column as Text to be sure)")
    frame = pd.DataFrame(data, columns=list(range(m)))
    return Sheet(where, header, frame, lines, h + 1, tuple(warnings))


def _column_letter(j: int) -> str:
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _text(v: Any) -> str:
    """A cell as the text a person sees (numbers without a spurious ".0", dates as YYYY-MM-DD)."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return str(v)


def _numeric_column(col: np.ndarray, kinds: set[type]) -> np.ndarray:
    """Floats where every cell is a number or blank (fast); otherwise text, parsed later with its problems."""
    if kinds <= {float, int, str}:
        arr = col.copy()
        arr[arr == ""] = np.nan
        try:
            return arr.astype(float)
        except (TypeError, ValueError):  # text in a score column: its problems are found later
            pass
    return np.array([_text(c) for c in col], dtype=object)


def _display_ids(path: Path, sheet_name: str, lines: np.ndarray, cols: list[int], data: dict[int, Any]) -> None:
    """Replace numbers in identifier columns by the text Excel shows (e.g. 42 in a cell formatted "0000" is
    "0042"); openpyxl reads the cells' number formats, which calamine does not give."""
    import openpyxl

    wanted = {int(r): i for i, r in enumerate(lines.tolist())}
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = book[sheet_name]
        lo, hi = min(cols), max(cols)
        for row in ws.iter_rows(min_col=lo + 1, max_col=hi + 1):
            for cell in row:
                i, j = wanted.get(getattr(cell, "row", 0)), getattr(cell, "column", None)
                if i is None or j is None or j - 1 not in cols:
                    continue
                v = cell.value
                if isinstance(v, int | float) and not isinstance(v, bool):
                    data[j - 1][i] = _formatted(v, getattr(cell, "number_format", "General") or "General")
    finally:
        book.close()


def _formatted(v: float, fmt: str) -> str:
    """A whole number under a zero-padding format ("0000", "000000") as displayed; otherwise its plain text."""
    text = _text(float(v))
    core = fmt.split(";")[0].strip()
    if core and set(core) == {"0"} and float(v).is_integer() and v >= 0:
        return text.zfill(len(core))
    return text
