"""Pairing runs and rollout simulations as jobs: each runs in a separate process (spawned, so no server threads are
copied), which exits by itself if the server dies; a run whose job vanished is marked failed, never left
"running"."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any

from sqlalchemy import Engine

from ..service.rollouts import execute_rollout
from ..service.runs import execute_run
from ..store import repo

log = logging.getLogger(__name__)


def _exit_with_parent(parent: int) -> None:
    """Job process initializer: leave as soon as the server process is gone (killed, crashed)."""
    import matcher.service.runs  # noqa: F401  (loaded now, while idle, not when the first run waits)

    def watch() -> None:
        while True:
            time.sleep(0.2)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


class JobRunner:
    def __init__(self, engine: Engine, url: str, processes: int, solve_workers: int):
        self.engine, self.url = engine, url
        self.processes, self.solve_workers = processes, solve_workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.processes, mp_context=get_context("spawn"),
                                   initializer=_exit_with_parent, initargs=(os.getpid(),))

    def start(self) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = self._new_pool()
                for _ in range(self.processes):  # start the job processes now, not on the first run
                    self._pool.submit(os.getpid)

    def submit(self, run_id: str) -> None:
        """A pairing run."""
        self._submit(execute_run, run_id, repo.fail_run)

    def submit_rollout(self, run_id: str) -> None:
        """A rollout simulation (its replications in solve_workers processes)."""
        self._submit(execute_rollout, run_id, repo.fail_rollout)

    def _submit(self, job: Callable[[str, str, int], str], run_id: str, fail: Callable[..., Any]) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = self._new_pool()
            try:
                fut = self._pool.submit(job, self.url, run_id, self.solve_workers)
            except (BrokenProcessPool, RuntimeError):
                self._pool = self._new_pool()
                fut = self._pool.submit(job, self.url, run_id, self.solve_workers)
        fut.add_done_callback(lambda f: self._done(run_id, f, fail))

    def _done(self, run_id: str, fut: Future[str], fail: Callable[..., Any]) -> None:
        if fut.cancelled():
            return  # server shutting down; the run stays queued and is resumed at the next start
        exc = fut.exception()
        if exc is None:
            return
        log.error("job for run %s died: %r", run_id, exc)
        fail(self.engine, run_id, None, {"message": "the job process died (out of memory, or killed); start the "
                                                    "run again", "problems": [], "type": "internal"})
        if isinstance(exc, BrokenProcessPool):
            with self._lock:
                self._pool = self._new_pool()

    def shutdown(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
