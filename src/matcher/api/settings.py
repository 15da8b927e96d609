"""Server settings, read from the environment when the app is made (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import InputError, Problem
from ..store.db import database_url


def _int(name: str, default: int, problems: list[Problem]) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
        if value < 1:
            raise ValueError
        return value
    except ValueError:
        problems.append(Problem("environment", "must be a whole number of at least 1", column=name, value=raw))
        return default


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=database_url)
    max_upload_bytes: int = 64 * 1024 * 1024  # a statewide file of 70,000 teachers is about 8 MB
    job_processes: int = 1  # jobs (pairing runs, rollouts) at a time, each in its own process
    solve_workers: int = 2  # processes inside one run for the per-school solves
    auto_migrate: bool = True  # apply pending migrations at start-up
    max_rollout_replications: int = 20_000  # per design and per power-curve point of a rollout over the API
    upload_seconds: float = 10.0  # reading and checking one dataset upload; past it the answer is 503 and it stops
    # A running job's lease: its job process renews it every lease_seconds / 6; once it has expired, any server
    # marks the job failed. Every server also sweeps that often for expired leases and for queued jobs left waiting.
    lease_seconds: int = 30

    @classmethod
    def from_env(cls) -> Settings:
        problems: list[Problem] = []
        s = cls(database_url=database_url(),
                max_upload_bytes=_int("MATCHER_MAX_UPLOAD_MB", 64, problems) * 1024 * 1024,
                job_processes=_int("MATCHER_JOB_PROCESSES", 1, problems),
                solve_workers=_int("MATCHER_SOLVE_WORKERS", min(2, os.cpu_count() or 1), problems),
                auto_migrate=os.environ.get("MATCHER_AUTO_MIGRATE", "1") not in ("0", "false", "no"),
                max_rollout_replications=_int("MATCHER_MAX_ROLLOUT_REPLICATIONS", 20_000, problems),
                upload_seconds=_int("MATCHER_UPLOAD_SECONDS", 10, problems),
                lease_seconds=_int("MATCHER_LEASE_SECONDS", 30, problems))
        if problems:
            raise InputError(problems)
        return s
