"""Order-preserving work sharing over forked processes: workers - 1 children take chunks from the front while
this process takes them from the back, so nobody idles and the results never depend on the worker count; the
workers die with this process (matcher.processes)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from .processes import die_with_parent

C = TypeVar("C")
R = TypeVar("R")

# What forked children inherit (set only while a pool lives): the function and the chunks, so that only chunk
# numbers and results cross the process boundary, and the function may be a closure.
_FORKED: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def _call(i: int) -> Any:
    assert _FORKED is not None
    fn, chunks = _FORKED
    return fn(chunks[i])


def fork_map(fn: Callable[[C], R], chunks: Sequence[C], workers: int, meanwhile: Callable[[], None] | None = None,
             progress: Callable[[float], None] | None = None) -> list[R]:
    """[fn(c) for c in chunks], shared with workers - 1 forked processes where fork exists and workers > 1.

    meanwhile runs in this process after the children have their work and before it joins in.
    progress gets the fraction of chunks collected, in order.
    """
    global _FORKED
    results: list[Any] = [None] * len(chunks)
    done = [False] * len(chunks)
    if workers <= 1 or len(chunks) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        if meanwhile:
            meanwhile()
        for i, c in enumerate(chunks):
            results[i] = fn(c)
            if progress:
                progress((i + 1) / len(chunks))
        return results
    _FORKED = (fn, chunks)
    try:
        # The fork context starts every worker at the first submit, from this thread, which waits for them below:
        # their parent-death signal fires only if this process dies (a server killed with the job inside it).
        # Fork-context locks are not named semaphores, so no resource tracker process is started either.
        with ProcessPoolExecutor(workers - 1, mp_context=multiprocessing.get_context("fork"),
                                 initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            futures = [pool.submit(_call, i) for i in range(len(chunks))]
            if meanwhile:
                meanwhile()
            for i in range(len(chunks) - 1, -1, -1):
                if not futures[i].cancel():
                    break
                results[i], done[i] = fn(chunks[i]), True
            for i, fut in enumerate(futures):
                if not done[i]:
                    results[i] = fut.result()  # re-raises a child's error
                if progress:
                    progress((i + 1) / len(chunks))
    finally:
        _FORKED = None
    return results
