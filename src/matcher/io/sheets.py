"""Read a table as people export it (a CSV file or an Excel workbook) into cells, with the row each record came
from: the header is found under any title rows, identifiers keep their leading zeros, and every problem can name
its file, sheet, row and column.

Excel workbooks are read with python-calamine (a maintained Rust reader, about ten times faster than openpyxl on a
statewide export); openpyxl is asked only for the display format of identifiers that Excel stored as numbers (a
school "0042" typed into a cell formatted "0000" is the number 42 in the file).

Reading is bounded (io.limits): a CSV file's lines and header width are checked before any row is split into
cells and its rows are parsed in chunks; a workbook is unpacked and sized once before calamine, which holds a
sheet's every cell from A1 to the last, is asked to parse it, and its rows become columns a chunk at a time.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DeadlineError, Problem
from .csvfile import SCAN_BYTES, _bad_utf8_line, _record_lines, read_frame, scan_lines, too_wide
from .limits import MAX_ZIP_ENTRIES, check_time, limits

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
HEADER_SEARCH_ROWS = 10  # title rows an export may put above its header
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
        widest = limits().max_columns
        for i in filled:
            if len(rows[i]) <= widest and is_header([c.strip() for c in rows[i]]):
                return i
    return filled[0]


def _skipped_warning(name: str, header_row: int) -> tuple[str, ...]:
    if header_row <= 1:
        return ()
    return (f"{name}: the header is on row {header_row}; the rows above it were skipped",)


# ---- CSV ---------------------------------------------------------------------------------------------------------

def _read_csv_sheet(path: Path, problems: list[Problem], is_header: Callable[[list[str]], bool] | None,
                    layout: Callable[[list[str]], Layout] | None) -> Sheet | None:
    name = str(path)
    scan = scan_lines(path, name, problems)  # refuses a line over the limit before any is split into cells
    if scan is None:
        return None
    first: list[list[str]] = []
    ends: list[int] = []  # file line on which each of the first records ends
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            for rec in reader:
                first.append(rec)
                ends.append(reader.line_num)
                if len(first) > 4 * HEADER_SEARCH_ROWS or len(rec) > limits().max_columns:
                    break  # a row that wide is refused as a header, or is a row longer than the header
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
    header_row = (ends[h - 1] + 1) if h else 1
    if too_wide(name, len(first[h]), header_row, problems):
        return None
    header = [c.strip() for c in first[h]]
    del first
    skip = ends[h]  # lines up to the end of the header record
    plan = layout(header) if layout else Layout()
    m = len(header)
    check_time()
    try:
        df = read_frame(path, name, problems, skiprows=skip, names=list(range(m)),
                        text=[j for j in range(m) if j not in plan.numeric], numeric=sorted(plan.numeric))
    except UnicodeDecodeError:  # past the part the header check decoded
        problems.append(Problem(name, "not UTF-8 text; save the file as UTF-8 CSV", row=_bad_utf8_line(path)))
        return None
    if df is None:
        return None
    text_cols = [j for j in range(m) if j not in plan.numeric]
    if text_cols and df[text_cols].isna().any().any():  # rows shorter than the header
        df = df.fillna({j: "" for j in text_cols})
    return Sheet(name, header, df, _record_lines(path, len(df), skip, scan), header_row,
                 _skipped_warning(name, header_row))


# ---- Excel -------------------------------------------------------------------------------------------------------

def _read_excel(path: Path, problems: list[Problem], sheet: str | None,
                is_header: Callable[[list[str]], bool] | None,
                layout: Callable[[list[str]], Layout] | None) -> Sheet | None:
    import python_calamine

    name = str(path)
    if not _workbook_within_limits(path, name, problems):
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
        check_time()
        ws = book.get_sheet_by_name(sheet_name)
        check_time()
        head: list[list[Any]] = ws.to_python(skip_empty_area=False, nrows=4 * HEADER_SEARCH_ROWS)
    except DeadlineError:
        raise
    except Exception as exc:  # calamine raises its own error types for damaged workbooks
        problems.append(Problem(name, f"not a readable Excel workbook (.xlsx): {exc}"))
        return None
    where = f"{name}, sheet {sheet_name!r}"
    head_text = [[_text(c) for c in r] for r in head]
    h = _pick_header(head_text, is_header)
    if h is None or ws.start is None:
        problems.append(Problem(where, "empty sheet: expected a header row and at least one data row"))
        return None
    if too_wide(where, len(head_text[h]), h + 1, problems):
        return None
    header = [c.strip() for c in head_text[h]]
    plan = layout(header) if layout else Layout()
    m = len(header)
    body = _excel_body(ws, h + 1, max(m, ws.total_width), m, plan, where, problems)
    del ws
    book.close()
    if body is None:
        return None
    data, lines, numbers_in_ids = body
    warnings = list(_skipped_warning(where, h + 1))
    if numbers_in_ids:
        _display_ids(path, sheet_name, lines, numbers_in_ids, data)
        warnings.append(f"{where}: Excel stored identifiers as numbers in column(s) "
                        f"{', '.join(repr(header[j]) for j in numbers_in_ids)}; they were read as Excel displays "
                        "them (format the column as Text to be sure)")
    frame = pd.DataFrame(data, columns=list(range(m)))
    return Sheet(where, header, frame, lines, h + 1, tuple(warnings))


EXCEL_CHUNK_ROWS = 20_000  # rows turned into columns at a time (the clock is looked at between two)


def _excel_body(ws: Any, skip: int, width: int, m: int, plan: Layout, where: str, problems: list[Problem]
                ) -> tuple[dict[int, Any], np.ndarray, list[int]] | None:
    """The sheet's rows under the header as columns (blank rows skipped), read EXCEL_CHUNK_ROWS at a time so that
    no more than a chunk of cells is ever held as Python objects; text repeated down a column (a teacher's
    roster on each of their observations) is held once. (data, sheet row of each record, identifier columns
    holding numbers), or None after adding problems for cells beyond the header."""
    left = ws.start[1] if ws.start is not None else 0  # iter_rows leaves out the empty columns left of the data
    parts: list[list[np.ndarray]] = [[] for _ in range(m)]
    line_parts: list[np.ndarray] = []
    pools: list[dict[str, str]] = [{} for _ in range(m)]
    numbers_in_ids: set[int] = set()
    beyond: dict[int, tuple[int, Any]] = {}  # column past the header -> (sheet row, value) of its first cell
    chunk: list[list[Any]] = []

    def flush(first_row: int) -> None:
        if not chunk:
            return
        check_time()
        wide = max(map(len, chunk))
        grid = np.full((len(chunk), width), "", dtype=object)
        cells = np.empty((len(chunk), wide), dtype=object)
        if wide:
            cells[:] = chunk if min(map(len, chunk)) == wide else [r + [""] * (wide - len(r)) for r in chunk]
        chunk.clear()
        grid[:, left:left + wide] = cells[:, :width - left]
        del cells
        grid[np.equal(grid, None)] = ""
        keep = np.flatnonzero((grid != "").any(axis=1))
        if len(keep) < len(grid):
            grid = grid[keep]
        line_parts.append(keep.astype(np.int64) + first_row + 1)
        for j in range(m, width):
            if j not in beyond:
                filled = np.flatnonzero(grid[:, j] != "")
                if len(filled):
                    beyond[j] = (int(keep[filled[0]]) + first_row + 1, grid[filled[0], j])
        for j in range(m):
            col = grid[:, j]
            kinds = set(map(type, col))
            if j in plan.numeric:
                parts[j].append(_numeric_column(col, kinds))
            else:
                parts[j].append(_pooled_text(col if kinds <= {str} else [_text(c) for c in col], pools[j]))
                if j in plan.ids and kinds & {float, int}:
                    numbers_in_ids.add(j)

    at = -1
    for at, row in enumerate(ws.iter_rows()):
        if at >= skip:
            chunk.append(row)
            if len(chunk) >= EXCEL_CHUNK_ROWS:
                flush(at + 1 - len(chunk))
    flush(at + 1 - len(chunk))
    for j, (row, value) in sorted(beyond.items()):
        problems.append(Problem(where, f"cell under no header: the header has {m} columns", row=row,
                                column=_column_letter(j), value=_text(value)))
    if beyond:
        return None
    lines = np.concatenate(line_parts) if line_parts else np.zeros(0, dtype=np.int64)
    data: dict[int, Any] = {}
    for j in range(m):
        data[j] = _joined(parts[j], j in plan.numeric)
    return data, lines, sorted(numbers_in_ids)


def _pooled_text(col: Any, pool: dict[str, str]) -> np.ndarray:
    """Text cells as an object array in which equal texts are one object (held once for the whole column)."""
    codes, uniques = pd.factorize(np.asarray(col, dtype=object))
    shared = np.array([pool.setdefault(u, u) for u in uniques.tolist()] + [""], dtype=object)
    return shared[codes]


def _joined(parts: list[np.ndarray], numeric: bool) -> np.ndarray:
    """A column from its chunks; a numeric column that has text in some chunk is text throughout (as it would be
    read at once)."""
    if not parts:
        return np.zeros(0, dtype=float if numeric else object)
    if numeric and any(p.dtype == object for p in parts):
        parts = [p if p.dtype == object else np.array(["" if np.isnan(v) else _text(v) for v in p.tolist()],
                                                       dtype=object) for p in parts]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


# ---- a workbook's size, before it is parsed ----------------------------------------------------------------------

def _workbook_within_limits(path: Path, name: str, problems: list[Problem]) -> bool:
    """Refuse a workbook the Excel reader cannot hold within the limits, before it is parsed: over the unpacked
    limit (each part is unpacked once here: a part that unpacks to more than its header says fails its check), or
    a sheet whose cells span a rectangle over the cell limit (the reader holds every cell from A1 to the last one,
    so one cell at XFD1048576 would ask for 17 billion)."""
    lim = limits()
    hint = lim.excel_hint or "export the sheet as CSV UTF-8"
    entries = _zip_entry_count(path)
    if entries is not None and entries > MAX_ZIP_ENTRIES:
        problems.append(Problem(name, f"the workbook has {entries:,} parts; an Excel workbook has a few (at most "
                                      f"{MAX_ZIP_ENTRIES:,} are read); {hint}"))
        return False
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            declared = sum(i.file_size for i in infos)
            if declared > lim.max_unpacked_bytes:
                problems.append(_unpacked_problem(name, declared, lim.max_unpacked_bytes, hint))
                return False
            total = 0
            for info in infos:
                refs = _CellRefs() if info.filename.lower().startswith("xl/worksheets/") else None
                with z.open(info) as fh:
                    while block := fh.read(SCAN_BYTES):
                        check_time()
                        total += len(block)
                        if total > lim.max_unpacked_bytes:
                            problems.append(_unpacked_problem(name, None, lim.max_unpacked_bytes, hint))
                            return False
                        if refs is not None:
                            refs.feed(block)
                if refs is not None:
                    rows, cols = refs.finish()
                    if rows * cols > lim.max_sheet_cells:
                        sheet = info.filename.rsplit("/", 1)[-1]
                        problems.append(Problem(name, f"a sheet ({sheet}) spans {rows:,} rows x {cols:,} columns "
                                                      f"({rows * cols:,} cells from A1 to its last cell); at most "
                                                      f"{lim.max_sheet_cells:,} cells are read from a workbook "
                                                      f"(delete stray cells far from the table, or {hint})"))
                        return False
    except DeadlineError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError,
            zlib.error) as exc:
        problems.append(Problem(name, f"not a readable Excel workbook (.xlsx): {exc}"))
        return False
    return True


def _unpacked_problem(name: str, size: int | None, limit: int, hint: str) -> Problem:
    size_text = f"{size / 2**20:,.0f} MiB" if size is not None else "more"
    return Problem(name, f"the workbook unpacks to {size_text}, over the limit of {limit / 2**20:,.0f} MiB; {hint}")


def _zip_entry_count(path: Path) -> int | None:
    """The number of parts a zip's end record declares (read before zipfile lists them all), or None."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - (1 << 16) - 22))
            tail = fh.read()
    except OSError:
        return None
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    count = int.from_bytes(tail[at + 10:at + 12], "little")
    if count == 0xFFFF:  # zip64: the count is in the zip64 end record
        z64 = tail.rfind(b"PK\x06\x06", 0, at)
        if z64 >= 0 and z64 + 40 <= len(tail):
            return int.from_bytes(tail[z64 + 32:z64 + 40], "little")
        return None
    return count


_SPACE = np.zeros(256, dtype=bool)
_SPACE[[32, 9, 10, 13]] = True
_ENDS_NAME = _SPACE.copy()  # what may follow an element's name: a space, ">" or "/"
_ENDS_NAME[[ord(">"), ord("/")]] = True
_OPENS = np.zeros(256, dtype=bool)  # what comes right before an element's name: "<", or a prefix's ":"
_OPENS[[ord("<"), ord(":")]] = True
_PAD = 16  # bytes a cell reference or tag may need past its start


class _CellRefs:
    """The rectangle a sheet's cells span, from the sheet XML in blocks, at numpy speed: the largest row and
    column of every reference (r="XFD1048576"), and for cells and rows written without one, how far they can
    reach (a row of k cells without references is k columns wide)."""

    def __init__(self) -> None:
        self.tail = b""
        self.max_row = self.max_col = 0
        self.rows = self.row_refs = 0
        self.cells_in_row = self.max_cells_in_row = 0
        self.cells = self.cell_refs = 0

    def feed(self, block: bytes, final: bool = False) -> None:
        data = self.tail + block
        n = len(data)
        end = n if final else n - _PAD  # tags starting at or past `end` wait for the next block
        if end <= 1:
            self.tail = data
            return
        arr = np.frombuffer(data + b"\0" * _PAD, dtype=np.uint8)
        # Only the bytes "c" and "r" can start what is looked for: find those, then look around them.
        c_at = np.flatnonzero(arr[1:end] == ord("c")) + 1
        c_at = c_at[_OPENS[arr[c_at - 1]] & _ENDS_NAME[arr[c_at + 1]]]
        r_at = np.flatnonzero(arr[1:end] == ord("r")) + 1
        before, after = arr[r_at - 1], arr[r_at + 1]
        ref_at = r_at[_SPACE[before] & (after == ord("=")) & ((arr[r_at + 2] == 34) | (arr[r_at + 2] == 39))] + 3
        row_at = r_at[_OPENS[before] & (after == ord("o")) & (arr[r_at + 2] == ord("w")) & _ENDS_NAME[arr[r_at + 3]]]
        self._count_cells(c_at, row_at)
        if len(ref_at):
            self._refs(arr, ref_at)
        self.tail = data[end - 1:] if not final else b""

    def _count_cells(self, cell_at: np.ndarray, row_at: np.ndarray) -> None:
        self.cells += len(cell_at)
        self.rows += len(row_at)
        if not len(row_at):
            self.cells_in_row += len(cell_at)
        else:
            per_row = np.bincount(np.searchsorted(row_at, cell_at), minlength=len(row_at) + 1)
            self.max_cells_in_row = max(self.max_cells_in_row, self.cells_in_row + int(per_row[0]),
                                        int(per_row[1:-1].max(initial=0)))
            self.cells_in_row = int(per_row[-1])
        self.max_cells_in_row = max(self.max_cells_in_row, self.cells_in_row)

    def _refs(self, arr: np.ndarray, at: np.ndarray) -> None:
        col = np.zeros(len(at), dtype=np.int64)
        letters = np.zeros(len(at), dtype=np.int64)
        going = np.ones(len(at), dtype=bool)
        for k in range(4):
            ch = arr[at + k].astype(np.int64)
            up = ch & ~32  # a..z as A..Z
            is_letter = going & (up >= 65) & (up <= 90)
            col = np.where(is_letter, col * 26 + (up - 64), col)
            letters += is_letter
            going &= is_letter
        col[letters > 3] = 1 << 40  # past XFD: no sheet is that wide
        row = np.zeros(len(at), dtype=np.int64)
        going = np.ones(len(at), dtype=bool)
        digits = np.zeros(len(at), dtype=np.int64)
        for k in range(9):
            ch = arr[np.minimum(at + letters + k, len(arr) - 1)].astype(np.int64)
            is_digit = going & (ch >= 48) & (ch <= 57)
            row = np.where(is_digit, row * 10 + (ch - 48), row)
            digits += is_digit
            going &= is_digit
        row[digits > 8] = 1 << 40
        is_cell = letters > 0
        self.cell_refs += int(is_cell.sum())
        self.row_refs += int((~is_cell & (digits > 0)).sum())
        self.max_col = max(self.max_col, int(col.max(initial=0)))
        self.max_row = max(self.max_row, int(row.max(initial=0)))

    def finish(self) -> tuple[int, int]:
        """(rows, columns) the sheet can span, at most."""
        self.feed(b"", final=True)
        rows = self.max_row + max(0, self.rows - self.row_refs)
        cols = self.max_col + (self.max_cells_in_row if self.cells > self.cell_refs else 0)
        return max(rows, self.rows), max(cols, 1 if self.cells else 0)


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
        for k, row in enumerate(ws.iter_rows(min_col=lo + 1, max_col=hi + 1)):
            if k % 2_000 == 0:
                check_time()
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


def write_frame_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a pandas DataFrame as the CSV file a person would export from it, so that every reader reads a frame
    with the checks and messages it gives a file (the frame itself is not changed).

    The header is the column names (a named index, as after `set_index("teacher_id")`, comes first as columns);
    each cell is the text a spreadsheet shows, as for a workbook's cells (42.0 is "42", a date 2025-10-14, True
    "true"; NaN, None, NA and NaT blank; a list or tuple its items joined by "; "). Row i of the frame (by
    position) is line i + 2 of the file, the header being line 1, unless a cell of an earlier row holds a line
    break."""
    if any(name is not None for name in frame.index.names):
        frame = frame.reset_index()
    columns: list[list[str]] = []
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        try:
            codes, uniques = pd.factorize(col, use_na_sentinel=True)
        except TypeError:  # unhashable cells (lists): each converted on its own
            columns.append([_frame_cell(v) for v in col.tolist()])
            continue
        table = np.array([*(_frame_cell(v) for v in uniques.tolist()), ""], dtype=object)  # code -1: blank
        columns.append(table[codes].tolist())
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([_frame_cell(c) for c in frame.columns])
        w.writerows(zip(*columns, strict=True))
    return path


def _frame_cell(v: Any) -> str:
    """A DataFrame cell as write_frame_csv writes it."""
    if isinstance(v, set | frozenset):
        v = sorted(v, key=str)
    if isinstance(v, list | tuple | np.ndarray):
        return "; ".join(_frame_cell(x) for x in v)
    if isinstance(v, np.datetime64):
        v = pd.Timestamp(v)
    elif isinstance(v, np.generic):
        v = v.item()
    if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return ""
    return _text(v)
