"""One exception family for the library: bad input, infeasible requests, solver failures."""

from __future__ import annotations

from dataclasses import dataclass


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
    """The input is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the input:\n{lines}")


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
