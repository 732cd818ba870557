"""NumPy's BLAS on a given number of threads for the length of a block, and back to what it was after.

The getter and setter live in :mod:`microseq.training.threads` (OpenBLAS's own functions, found in the
library NumPy loaded; the module says why one thread is faster for recurrences on a busy machine).
"""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def blas_threads(threads: int | None):
    """Run the block with NumPy's OpenBLAS on ``threads`` threads, then restore the previous count, also when
    the block raises or is interrupted. ``None`` leaves the count alone.

    Yields whether the count could be set (False for a NumPy that does not use a bundled OpenBLAS).

    >>> with blas_threads(1):  # doctest: +SKIP
    ...     trainer.run()
    """
    from .training.threads import get_blas_threads, set_blas_threads

    previous = get_blas_threads()
    was_set = threads is not None and set_blas_threads(threads)
    try:
        yield was_set
    finally:
        if was_set and previous is not None:
            set_blas_threads(previous)


def thread_budget() -> int:
    """How many threads microseq may compute on: NumPy's BLAS thread count, which ``--threads``, the trainer
    and :func:`blas_threads` set (1 when NumPy's BLAS is not a bundled OpenBLAS)."""
    from .training.threads import get_blas_threads

    return get_blas_threads() or 1


_worker = None  # one lazily started thread that runs the second of two concurrent tasks


def run_concurrently(tasks):
    """Run independent tasks (callables without arguments) and return their results in order: the first on
    the calling thread and a second one at the same time on a worker thread, each with one BLAS thread, when
    there are two and ``thread_budget()`` allows two; one after the other otherwise.

    The tasks must not share writable arrays. The numba kernels (``nogil=True``) and BLAS release the GIL,
    so two recurrences run on two cores. An exception in either task is raised here, after both finished.
    """
    global _worker
    if len(tasks) != 2 or thread_budget() < 2:
        return [task() for task in tasks]
    if _worker is None:
        from concurrent.futures import ThreadPoolExecutor

        _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="microseq")
    with blas_threads(1):
        second = _worker.submit(tasks[1])
        try:
            first = tasks[0]()
        finally:
            result = second.result()
    return [first, result]
