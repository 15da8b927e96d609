"""Where replications run: forked processes on this machine (local), or a Dask distributed cluster.

Work is cut into chunks of consecutive replications; results are put back in replication order, so the numbers
never depend on the executor, the worker count or the chunk size (replicate.py seeds each replication alone).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, NamedTuple

from ..errors import InputError, Problem
from ..parallel import fork_map
from .replicate import Prepared, run_chunk

Progress = Callable[[float], None]
EXECUTORS = ("local", "dask")


class Chunk(NamedTuple):
    point: int  # which Prepared: 0 = the design, 1.. = power-curve points
    start: int
    stop: int


def chunks(counts: Sequence[int], workers: int, most: int = 25) -> list[Chunk]:
    """Chunks of at most `most` replications, at least about four per worker for each point."""
    out = []
    for point, n in enumerate(counts):
        size = max(1, min(most, math.ceil(n / (4 * max(workers, 1)))))
        out.extend(Chunk(point, s, min(s + size, n)) for s in range(0, n, size))
    return out


def one_thread_chunk(prep: Prepared, start: int, stop: int) -> list[tuple]:
    """run_chunk with one BLAS thread: every worker process is one core's work (with OpenBLAS's default of a
    thread per core, 2 workers on 2 cores ran no faster than 1: randomization inference's matrix products fought
    over the cores), and every executor sums in the same order, so the numbers are the same to the last bit for any
    worker count (a 2-thread BLAS in a 1-worker run changed the last digits)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return run_chunk(prep, start, stop)


def run_local(preps: Sequence[Prepared], work: list[Chunk], workers: int,
              progress: Progress | None = None) -> list[list[tuple]]:
    """Forked processes inherit the prepared populations: only chunk numbers and rows cross process lines."""
    return fork_map(lambda c: one_thread_chunk(preps[c.point], c.start, c.stop), work, workers, progress=progress)


class DaskCluster(AbstractContextManager):
    """A connection to a scheduler (or a LocalCluster of `workers` processes when no address is given).

    Connecting happens first, so that an unreachable scheduler is reported before any work starts."""

    def __init__(self, scheduler: str | None, workers: int, timeout: float = 10.0):
        from distributed import Client, LocalCluster

        self.cluster = None
        try:
            if scheduler:
                self.client = Client(scheduler, timeout=f"{timeout}s", set_as_default=False)
            else:
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None)
                self.client = Client(self.cluster, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            if self.cluster is not None:
                self.cluster.close()
            raise InputError([Problem("command line", f"cannot reach the Dask scheduler: {exc}",
                                      column="--scheduler", value=scheduler or "(local cluster)")]) from None

    def run(self, preps: Sequence[Prepared], work: list[Chunk], progress: Progress | None = None
            ) -> list[list[tuple]]:
        from distributed import as_completed

        shared = [self.client.scatter(p, broadcast=True) for p in preps]
        futures = [self.client.submit(one_thread_chunk, shared[c.point], c.start, c.stop, pure=False)
                   for c in work]
        position = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(work)
        for done, future in enumerate(as_completed(futures, loop=self.client.loop), start=1):
            results[position[future.key]] = future.result()  # re-raises a worker's error
            if progress:
                progress(done / len(work))
        return results

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
