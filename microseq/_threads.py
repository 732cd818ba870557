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
