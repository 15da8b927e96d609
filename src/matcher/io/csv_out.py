"""CSV text for files a person opens in a spreadsheet, with formula cells neutralised (OWASP's rule for CSV
injection): a text cell that starts with "=", "+", "-", "@", a tab or a carriage return would be run as a formula
by Excel, LibreOffice or Google Sheets, so it is written with a leading single quote, which they show as text.

A cell of apostrophes followed by such a character gets one more apostrophe, so `formula_safe` is reversible:
`plain_cell` gives back the exact text, and the readers of our own files (a pairs.csv given back as --previous)
use it. Numbers, and text that is a plain number ("-3", "+1.5"), are written as they are. The machine-readable
JSON (summary.json, the API's JSON) is never changed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

FORMULA_START = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
# A cell that formula_safe may change starts with a formula character or an apostrophe. In a row's text cells
# joined with a leading "\0" before each, every cell's start follows a "\0", so a row without a match holds no such
# cell (a match elsewhere only costs the cell-by-cell check).
_MAYBE_FORMULA = re.compile("\0['=+@\t\r-]")


def _needs_quote(text: str) -> bool:
    rest = text.lstrip("'")
    return bool(rest) and rest[0] in FORMULA_START and not _NUMBER.fullmatch(rest)


def formula_safe(value: Any) -> Any:
    """The value as a spreadsheet should see it: formula-looking text gets a leading single quote."""
    if isinstance(value, str) and value and _needs_quote(value):
        return "'" + value
    return value


def plain_cell(text: str) -> str:
    """Undo formula_safe: the exact text a cell of one of our CSV files stands for."""
    if text.startswith("'") and _needs_quote(text[1:]):
        return text[1:]
    return text


def _safe_row(row: Sequence[Any]) -> Sequence[Any]:
    """The row with every cell passed through formula_safe; the row itself when no cell would change (checked in
    one pass over its text)."""
    try:
        text = "\0" + "\0".join(row)
    except TypeError:  # not all text: cell by cell
        return [formula_safe(v) for v in row]
    return [formula_safe(v) for v in row] if _MAYBE_FORMULA.search(text) else row


def _line(row: Sequence[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


@cache
def _quoting() -> Callable[[str], bool] | None:
    """Whether this Python's csv.writer quotes a text cell, where its rule for text is just "a cell holding one of
    these characters is quoted, its quotes doubled" (which characters count differs between versions: "\\r" for
    one); None where the writer does anything else with the probes."""
    chars = [chr(i) for i in range(128)] + ["\x85", "\xa0", "\u2028", "\u2029", "\ufeff"]
    special = tuple(c for c in chars if _line([f"a{c}b", "x"]) != f"a{c}b,x\n")
    if len(special) == 3:  # the usual rule (",", '"', "\\n"): plain "in", far faster than a pattern
        x, y, z = special

        def quoted(v: str) -> bool:
            return x in v or y in v or z in v
    else:
        def quoted(v: str) -> bool:
            return any(c in v for c in special)
    for v in ["", " ", " a ", "1.5", "-3", "'=x", *chars, *(f"{c}{c}a{c}" for c in chars)]:
        cell = '"' + v.replace('"', '""') + '"' if quoted(v) else v
        if _line([v, v]) != f"{cell},{cell}\n":
            return None
    return quoted


def _text_columns(columns: Sequence[Sequence[Any]]) -> list[Sequence[str]] | None:
    """The columns as csv.writer writes their cells, formula cells neutralised, a column at a time (a statewide
    pairs.csv has half a million cells, and a column without a cell to change is checked in one pass); None
    unless every cell is text and there are two columns or more."""
    quoted = _quoting()
    if quoted is None or len(columns) < 2:
        return None
    out: list[Sequence[str]] = []
    for column in columns:
        try:
            text = "\0" + "\0".join(column)
        except TypeError:
            return None
        if _MAYBE_FORMULA.search(text):
            column = [formula_safe(v) for v in column]
            text = "\0".join(column)
        if quoted(text):
            column = ['"' + v.replace('"', '""') + '"' if quoted(v) else v for v in column]
        out.append(column)
    return out


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A whole CSV file (header first, "\\n" line ends) with every cell passed through formula_safe."""
    rows = [r if isinstance(r, (list, tuple)) else list(r) for r in rows]  # a row may be any iterable: read once
    width = len(rows[0]) if rows else 0
    if width >= 2 and all(len(r) == width for r in rows):
        return csv_columns(header, list(zip(*rows, strict=True)))
    return _written(header, rows)


def csv_columns(header: Sequence[str], columns: Sequence[Sequence[Any]]) -> str:
    """csv_text(header, zip(*columns)) for one or more columns of one length, from the columns: a text cell is
    written as csv.writer writes it, but a column at a time."""
    text = _text_columns(columns)
    if text is None:
        return _written(header, list(zip(*columns, strict=True)))
    return _line(header) + "\n".join(map(",".join, zip(*text, strict=True))) + "\n"


def _written(header: Sequence[str], rows: list[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(map(_safe_row, rows))
    return buf.getvalue()
