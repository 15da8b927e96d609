"""Refuse request bodies over the size limit with 413, whether or not the client announces the length; and what
reading one dataset upload may cost (the readers' limits and a deadline)."""

from __future__ import annotations

import ctypes
import json
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import DeadlineError
from ..io.limits import ReadLimits, reading_under, with_deadline


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    # Raised inside the route's body read; the app's handler answers 413.
                    raise HTTPException(413, self._message())
            return msg

        await self.app(scope, counted, send)

    def _message(self) -> str:
        return f"the request body is over the {self.max_bytes / (1024 * 1024):g} MB limit (MATCHER_MAX_UPLOAD_MB)"

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": "too_large", "message": self._message(), "problems": []}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


# ---- dataset uploads: what reading one may cost ------------------------------------------------------------------
# Measured on the 2-core reference machine (benchmarks/uploads.py): within these every upload under the 64 MB body
# limit is answered in about 10 s (MATCHER_UPLOAD_SECONDS) at most, and in 500 MB of server memory. The statewide
# observation export (70,147 teachers x 4 observations, 33 columns, 280,588 rows, 49 MB) reads in about 4 s.
UPLOAD_MAX_ROWS = 2_000_000  # data rows of one uploaded file (a long score file has one per score)
UPLOAD_MAX_CELLS = 14_000_000  # rows x header columns of one uploaded file (statewide exports: 9.3 and 11.6 million)
UPLOAD_MAX_TEXT_BYTES = 150 << 20  # its text as held in memory (the statewide export: about 50 MB)
UPLOAD_MAX_UNPACKED_BYTES = 160 << 20  # an uploaded Excel workbook, unpacked
UPLOAD_MAX_SHEET_CELLS = 3_000_000  # an uploaded workbook's sheet, from A1 to its last cell (~90,000 rows x 33)
MAX_JSON_ROWS_BYTES = 8 << 20  # teachers sent as JSON rows; a larger dataset is uploaded as a file
DEADLINE_GRACE_SECONDS = 2.0  # past the deadline, the answer goes out without waiting for the reader to stop


def upload_limits(seconds: float) -> ReadLimits:
    """The readers' limits for one upload, with its deadline starting now."""
    return with_deadline(ReadLimits(max_rows=UPLOAD_MAX_ROWS, max_cells=UPLOAD_MAX_CELLS,
                                    max_text_bytes=UPLOAD_MAX_TEXT_BYTES,
                                    max_unpacked_bytes=UPLOAD_MAX_UNPACKED_BYTES,
                                    max_sheet_cells=UPLOAD_MAX_SHEET_CELLS,
                                    excel_hint="upload the sheet as CSV UTF-8 (read much faster, and within the "
                                               f"limits up to {UPLOAD_MAX_CELLS:,} cells)"), seconds)


T = TypeVar("T")


async def within_deadline(seconds: float, work: Callable[[], T]) -> T:
    """Run `work` (reading an upload) in a worker thread under the upload limits and a deadline `seconds` from now.

    The readers look at the clock between chunks of work and raise DeadlineError once it has passed, so the
    thread stops there; should a reader be inside one long step, the answer (DeadlineError) goes out
    DEADLINE_GRACE_SECONDS later all the same, and the thread stops at its next look (its result is dropped)."""
    lim = upload_limits(seconds)

    def bounded() -> T:
        try:
            with reading_under(lim):
                return work()
        finally:
            _give_back_memory()

    try:
        with anyio.fail_after(seconds + DEADLINE_GRACE_SECONDS):
            return await anyio.to_thread.run_sync(bounded, abandon_on_cancel=True)
    except TimeoutError:
        raise DeadlineError(seconds) from None


def _give_back_memory() -> None:
    """Return the memory the reading freed to the system (glibc keeps a worker thread's freed memory in that
    thread's arena, so storing the table in another thread would otherwise add to it)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def deadline_response(exc: DeadlineError) -> JSONResponse:
    """503 in the API's error format: the upload was not read in time, and nothing was stored."""
    message = (f"{exc}: reading and checking an upload may take {exc.seconds:g} s (MATCHER_UPLOAD_SECONDS). Send a "
               "smaller file (e.g. one district), or an Excel sheet as CSV UTF-8, which reads much faster")
    return JSONResponse({"error": "unavailable", "message": message, "problems": []}, 503)
