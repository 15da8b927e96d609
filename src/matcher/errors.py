"""One exception family for the library: bad input, infeasible requests, solver failures."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_PROBLEMS = 1_000  # an InputError lists at most this many problems, then one line counting the rest
MAX_VALUE_CHARS = 100  # a longer value (or column) is shown by its first SHOWN_CHARS characters and its length
SHOWN_CHARS = 32
MAX_MESSAGE_CHARS = 2_000
_MORE = re.compile(r"^\.\.\. and ([\d,]+) more problems? not listed")


def shorten(text: str, limit: int = MAX_VALUE_CHARS, keep: int = SHOWN_CHARS) -> str:
    """Text as a problem shows it: whole when short, else its first `keep` characters and its length (a
    100,000-character cell is never echoed back)."""
    if len(text) <= limit:
        return text
    return f"{text[:keep]}... ({len(text):,} chars)"


class MatcherError(Exception):
    """Base class of every error the library raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can."""

    file: str
    message: str
    row: int | None = None  # 1-based line number in the file (the header is line 1)
    column: str | None = None
    value: str | None = None

    def __post_init__(self) -> None:
        for name, limit in (("value", MAX_VALUE_CHARS), ("column", MAX_VALUE_CHARS), ("file", MAX_MESSAGE_CHARS),
                            ("message", MAX_MESSAGE_CHARS)):
            text = getattr(self, name)
            if text is not None and len(text) > limit:
                object.__setattr__(self, name, shorten(text, limit, SHOWN_CHARS if limit == MAX_VALUE_CHARS
                                                       else limit // 2))

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        if self.value is not None:
            where += f", value {self.value!r}"
        return f"{where}: {self.message}"


class InputError(MatcherError):
    """The input is invalid; carries every problem found, not just the first: at most MAX_PROBLEMS of them, then
    one problem that counts the rest ("... and 1,234 more problems not listed"). `omitted` is that count."""

    def __init__(self, problems: Iterable[Problem]):
        kept: list[Problem] = []
        omitted = 0
        for p in problems:
            more = _MORE.match(p.message) if p.row is None and p.column is None else None
            if more:  # the count line of an InputError whose problems are passed on
                omitted += int(more.group(1).replace(",", ""))
            elif len(kept) < MAX_PROBLEMS:
                kept.append(p)
            else:
                omitted += 1
        if omitted:
            file = kept[-1].file if kept else "input"
            kept.append(Problem(file, f"... and {omitted:,} more problem{'s' if omitted > 1 else ''} not listed "
                                      f"(at most {MAX_PROBLEMS:,} are listed; fix these and read the file again)"))
        self.problems = kept
        self.omitted = omitted
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = f"{len(kept) - 1 + omitted:,}" if omitted else f"{len(kept)}"
        super().__init__(f"{count} problem(s) in the input:\n{lines}")

    @property
    def count(self) -> int:
        """Every problem found, the ones not listed too."""
        return len(self.problems) - (1 if self.omitted else 0) + self.omitted


class DeadlineError(MatcherError):
    """Reading an input took longer than the time allowed (an upload's MATCHER_UPLOAD_SECONDS); the work stopped."""

    def __init__(self, seconds: float, what: str = "reading and checking the file"):
        self.seconds, self.what = seconds, what
        super().__init__(f"{what} took longer than the {seconds:g} s allowed; nothing was stored")


class InfeasibleError(MatcherError):
    """The request cannot be satisfied (e.g. a must-pair that breaks a hard rule)."""


class SolverError(MatcherError):
    """A solver failed to prove optimality or returned an inconsistent answer."""


class NotFoundError(MatcherError):
    """A stored thing (dataset, run, school, revision) does not exist."""

    def __init__(self, what: str, ident: str):
        self.what, self.ident = what, ident
        super().__init__(f"no {what} {ident!r}")


class ConflictError(MatcherError):
    """The request no longer fits what is stored (an outdated revision, a run not finished yet)."""

    def __init__(self, message: str, **detail: object):
        self.detail = detail
        super().__init__(message)
