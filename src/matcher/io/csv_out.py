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
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_START = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


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


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A whole CSV file (header first, "\\n" line ends) with every cell passed through formula_safe."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows([formula_safe(v) for v in row] for row in rows)
    return buf.getvalue()
