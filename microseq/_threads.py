"""How many threads NumPy's BLAS uses for matrix products, set while the program runs, and two tasks on two
threads when the budget allows.

A recurrent layer multiplies a small (B, H) state by its weights at every time step. Splitting such a product
over threads costs more in synchronisation than it saves, and on a busy machine (other processes on the
same cores) a multi-threaded OpenBLAS can be several times slower than a single thread: measured on this
project's shared 2-core machine, one step of the default character LSTM took 0.55 s with one thread and
2.3 s with two. ``OPENBLAS_NUM_THREADS`` only works if set before NumPy is imported, which a command
cannot do for itself, so :func:`set_blas_threads` calls OpenBLAS's own setter in the library NumPy loaded.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
from contextlib import contextmanager

__all__ = ["blas_threads", "get_blas_threads", "run_concurrently", "set_blas_threads", "thread_budget"]



_PREFIXES = ("scipy_openblas_", "openblas_")  # NumPy >= 2 wheels, then a plain OpenBLAS
_SUFFIXES = ("64_", "")  # 64-bit integer interface, then the standard one


def _openblas_libraries() -> list[str]:
    import numpy

    root = os.path.dirname(numpy.__file__)
    folders = (os.path.join(root, os.pardir, "numpy.libs"), os.path.join(root, ".dylibs"))  # Linux and macOS wheels
    return sorted(path for folder in folders for path in glob.glob(os.path.join(folder, "*openblas*")))


@functools.cache
def _openblas_function(kind: str):
    """OpenBLAS's ``set_num_threads`` or ``get_num_threads`` in the library NumPy loaded, or None. Looked up
    once: the search (a glob and a dlopen) costs ~0.4 ms, and a bidirectional layer asks at every call."""
    for path in _openblas_libraries():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                function = getattr(library, f"{prefix}{kind}_num_threads{suffix}", None)
                if function is not None:
                    return function
    return None


def get_blas_threads() -> int | None:
    """The number of threads NumPy's OpenBLAS uses, or None if NumPy does not use a bundled OpenBLAS."""
    getter = _openblas_function("get")
    return int(getter()) if getter is not None else None


def set_blas_threads(threads: int) -> bool:
    """Make NumPy's OpenBLAS use ``threads`` threads; return whether it could (False for other BLAS builds).

    >>> set_blas_threads(1)  # doctest: +SKIP
    True
    """
    if threads < 1:
        raise ValueError(f"set_blas_threads: threads must be at least 1, got {threads}")
    setter = _openblas_function("set")
    if setter is None:
        return False
    setter(ctypes.c_int(threads))
    return True


@contextmanager
def blas_threads(threads: int | None):
    """Run the block with NumPy's OpenBLAS on ``threads`` threads, then restore the previous count, also when
    the block raises or is interrupted. ``None`` leaves the count alone.

    Yields whether the count could be set (False for a NumPy that does not use a bundled OpenBLAS).

    >>> with blas_threads(1):  # doctest: +SKIP
    ...     trainer.run()
    """
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
