"""Ordered map over a few threads, for per-column and per-block work on big tables.

NumPy, pandas' Arrow-backed columns and BLAS release the GIL in their heavy loops, so two
threads keep both cores of a small machine busy. Results come back in input order and
each task writes only its own output, so nothing depends on thread timing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["n_threads", "thread_map"]

T = TypeVar("T")
R = TypeVar("R")

PARALLEL_MIN_ROWS = 100_000  # below this, threads cost more than they save


def n_threads() -> int:
    """CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def thread_map(fn: Callable[[T], R], items: Iterable[T], *, n_rows: int) -> list[R]:
    """``[fn(x) for x in items]``, on threads when the table has many rows."""
    items = list(items)
    workers = min(n_threads(), len(items))
    if n_rows < PARALLEL_MIN_ROWS or workers <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))
