"""What one input file may cost to read: the readers' size limits, and for an upload a deadline, checked as the
readers go so that the work stops when time is up (the readers raise DeadlineError).

The limits hold for the command line and the API alike; the API reads uploads under tighter ones
(`upload_limits`): a deadline, and a smaller Excel workbook, so that any upload is answered within seconds and a
few hundred MB."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from ..errors import DeadlineError

MAX_COLUMNS = 2_000  # an export has tens of columns; a wider header is refused before its rows are read
MAX_LINE_BYTES = 1 << 20  # a longer line (a header of one huge line, say) is refused before it is split into cells
MAX_ROWS = 2_000_000  # data rows of one file
MAX_CELLS = 60_000_000  # rows x header columns of one file (a statewide observation export has about 10 million)
MAX_TEXT_BYTES = 2 << 30  # the text of one file's cells as held in memory (distinct cells of a chunk of rows once)
MAX_ID_LENGTH = 200  # the database keeps ids in 200 characters (SQLite would not enforce it)
MAX_UNPACKED_BYTES = 1 << 30  # an Excel workbook unpacks to at most this (its parts' real sizes, not declared ones)
MAX_SHEET_CELLS = 12_000_000  # the rectangle from A1 to a sheet's last cell; the Excel reader holds all of it (a
# statewide observation export is about 9 million cells, read in about 1 GB)
MAX_ZIP_ENTRIES = 10_000  # parts of one workbook


@dataclass(frozen=True)
class ReadLimits:
    """Limits of one read; `deadline` is a time.monotonic() instant (None: no deadline), `seconds` what it allows."""

    max_columns: int = MAX_COLUMNS
    max_line_bytes: int = MAX_LINE_BYTES
    max_rows: int = MAX_ROWS
    max_cells: int = MAX_CELLS
    max_text_bytes: int = MAX_TEXT_BYTES
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES
    max_sheet_cells: int = MAX_SHEET_CELLS
    excel_hint: str = ""  # said when a workbook is over a limit, e.g. that CSV is read within the limits
    deadline: float | None = None
    seconds: float | None = None


_DEFAULT = ReadLimits()
_LIMITS: ContextVar[ReadLimits | None] = ContextVar("matcher_read_limits", default=None)


def limits() -> ReadLimits:
    """The limits the current read is under."""
    return _LIMITS.get() or _DEFAULT


@contextmanager
def reading_under(lim: ReadLimits) -> Iterator[ReadLimits]:
    """Read under `lim` within the block (in this thread or task only)."""
    token = _LIMITS.set(lim)
    try:
        yield lim
    finally:
        _LIMITS.reset(token)


def with_deadline(lim: ReadLimits, seconds: float) -> ReadLimits:
    """`lim` with a deadline `seconds` from now."""
    return replace(lim, deadline=time.monotonic() + seconds, seconds=seconds)


def check_time() -> None:
    """Raise DeadlineError when the current read's deadline has passed (cheap: call it between chunks of work)."""
    lim = limits()
    if lim.deadline is not None and time.monotonic() > lim.deadline:
        raise DeadlineError(lim.seconds or 0.0)


def time_left() -> float | None:
    """Seconds until the deadline (None without one)."""
    lim = limits()
    return None if lim.deadline is None else lim.deadline - time.monotonic()
