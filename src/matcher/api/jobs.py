"""Pairing runs and rollout simulations as jobs, in separate processes (spawned, so no server threads are copied)
that die with the server. A job holds a lease on its run that its process renews; every server sweeps for expired
leases (the run is marked failed) and for queued runs nobody took up (it runs them), so any number of server
processes share one database and a run queued on a server that died is not lost."""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta
from multiprocessing import get_context

from sqlalchemy import Engine

from ..processes import die_with_parent, process_gone
from ..service.rollouts import execute_rollout
from ..service.runs import LEASE_SECONDS, execute_run
from ..store import repo

log = logging.getLogger(__name__)

JOBS: dict[str, Callable[..., str]] = {"pairing": execute_run, "rollout": execute_rollout}
FAIL_ABANDONED: dict[str, Callable[..., bool]] = {"pairing": repo.fail_abandoned_run,
                                                   "rollout": repo.fail_abandoned_rollout}
DIED = {"message": "the job process died (out of memory, or killed); start the run again", "problems": [],
        "type": "internal"}
MAX_RESUBMITS = 3  # a queued run whose job process died before it started it is submitted again this often
SETTLE_SECONDS = 2.0  # how long a dead job process may take to show as gone in /proc
SWEEPS_PER_LEASE = 6  # every server sweeps for expired leases and waiting runs this often per lease


def _job_process(parent: int) -> None:
    """Job process initializer: die with the server process (killed, crashed), whatever its state."""
    die_with_parent(parent)
    import matcher.service.runs  # noqa: F401  (loaded now, while idle, not when the first run waits)

    def watch() -> None:  # where there is no parent-death signal (not Linux)
        while True:
            time.sleep(0.2)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


class JobRunner:
    """One server process's jobs: `processes` job processes, fed by one dispatcher thread (the thread that starts
    them, so that their parent-death signal fires when this process ends, not when some request thread does), and
    a sweeper thread that settles expired leases and takes up queued runs while a job process is free."""

    def __init__(self, engine: Engine, url: str, processes: int, solve_workers: int,
                 lease_seconds: float = LEASE_SECONDS):
        self.engine, self.url = engine, url
        self.processes, self.solve_workers, self.lease_seconds = processes, solve_workers, lease_seconds
        self._inbox: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._pending: set[str] = set()  # submitted here and not done
        self._resubmits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop, self._wake = threading.Event(), threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, sweep: bool = True) -> None:
        """Start the job processes and (unless sweep is False: the schema is behind) the sweeper."""
        with self._lock:
            if self._threads:
                return
            self._threads = [threading.Thread(target=self._dispatch, daemon=True, name="job-dispatch")]
            if sweep:
                self._threads.append(threading.Thread(target=self._sweep_loop, daemon=True, name="job-sweep"))
        for t in self._threads:
            t.start()

    def submit(self, run_id: str) -> None:
        """A pairing run."""
        self._enqueue("pairing", run_id)

    def submit_rollout(self, run_id: str) -> None:
        """A rollout simulation (its replications in solve_workers processes)."""
        self._enqueue("rollout", run_id)

    def _enqueue(self, kind: str, run_id: str) -> bool:
        with self._lock:
            if run_id in self._pending or self._stop.is_set():
                return False
            self._pending.add(run_id)
        self._inbox.put((kind, run_id))
        return True

    # The dispatcher thread: the only one that makes pools and submits to them ---------------------------------

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=get_context("spawn"),
                                   initializer=_job_process, initargs=(os.getpid(),))
        for _ in range(self.processes):  # start the job processes now, not on the first run
            pool.submit(os.getpid)
        return pool

    def _dispatch(self) -> None:
        pool = self._new_pool()
        try:
            while (item := self._inbox.get()) is not None:
                kind, run_id = item
                args = (self.url, run_id, self.solve_workers, self.lease_seconds)
                try:
                    try:
                        fut = pool.submit(JOBS[kind], *args)
                    except (BrokenProcessPool, RuntimeError):  # a job process died: a new pool
                        pool.shutdown(wait=False, cancel_futures=True)
                        pool = self._new_pool()
                        fut = pool.submit(JOBS[kind], *args)
                except Exception:
                    log.exception("could not start the job for %s run %s", kind, run_id)
                    self._forget(run_id)
                    continue
                fut.add_done_callback(lambda f, k=kind, r=run_id: self._done(k, r, f))
        finally:
            # Shutting down: queued jobs stay queued (the next server to sweep runs them); a running one finishes,
            # while this thread waits, so the job processes' parent-death signal does not cut it short.
            pool.shutdown(wait=True, cancel_futures=True)

    def _forget(self, run_id: str) -> None:
        with self._lock:
            self._pending.discard(run_id)
        self._wake.set()  # a job process is free: sweep for waiting runs now

    def _done(self, kind: str, run_id: str, fut: Future[str]) -> None:
        self._forget(run_id)
        if fut.cancelled():
            return  # server shutting down; the run stays queued for whichever server sweeps next
        exc = fut.exception()
        if exc is None:
            return
        log.error("job for %s run %s died: %r", kind, run_id, exc)
        # Not in this thread (the pool's manager thread, which tells the other jobs' futures too).
        threading.Thread(target=self._settle, args=(kind, run_id, isinstance(exc, BrokenProcessPool)), daemon=True,
                         name="job-settle").start()

    def _settle(self, kind: str, run_id: str, died: bool) -> None:
        """After a job raised or its process died: the run, if that process held it, is failed now (nobody will
        renew its lease), not when the lease expires; if it is still queued it is submitted again."""
        try:
            # A process that died is seen ending (its pipes closed) a moment before /proc shows it gone.
            deadline = time.monotonic() + (SETTLE_SECONDS if died else 0)
            while not FAIL_ABANDONED[kind](self.engine, run_id, process_gone, DIED):
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
            else:
                return
            with self._lock:
                n = self._resubmits[run_id] = self._resubmits.get(run_id, 0) + 1
            if n <= MAX_RESUBMITS:
                self._enqueue(kind, run_id)  # if still queued: it is claimed only once; skipped if someone has it
        except Exception:
            log.exception("could not settle %s run %s after its job died", kind, run_id)

    # The sweeper -------------------------------------------------------------------------------------------------

    def _sweep_loop(self) -> None:
        every = self.lease_seconds / SWEEPS_PER_LEASE
        while not self._stop.is_set():
            self._wake.wait(every)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.sweep()
            except Exception:  # the database away for a moment: the next sweep tries again
                log.warning("job sweep failed", exc_info=True)

    def sweep(self) -> None:
        """Mark the running jobs whose lease has expired failed, and submit queued jobs that have waited a third
        of a lease without any server claiming them, as many as this server has job processes free."""
        for ident in repo.expire_runs(self.engine):
            log.warning("pairing run %s: its lease expired (its job process stopped); marked failed", ident)
        for ident in repo.expire_rollouts(self.engine):
            log.warning("rollout %s: its lease expired (its job process stopped); marked failed", ident)
        with self._lock:
            pending = set(self._pending)
            exhausted = {r for r, n in self._resubmits.items() if n >= MAX_RESUBMITS}
        free = self.processes - len(pending)
        if free <= 0:
            return
        before = repo.now() - timedelta(seconds=self.lease_seconds / 3)
        for kind, ident in repo.waiting_jobs(self.engine, before, free + len(pending) + len(exhausted)):
            if free > 0 and ident not in pending and ident not in exhausted and self._enqueue(kind, ident):
                log.info("taking up %s run %s, queued and not started", kind, ident)
                free -= 1

    def shutdown(self) -> None:
        """Stop taking work; a running job finishes (the process waits for it at exit)."""
        self._stop.set()
        self._wake.set()
        self._inbox.put(None)
