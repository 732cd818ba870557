"""How many threads NumPy's BLAS uses for matrix products, set while the program runs.

A recurrent layer multiplies a small (B, H) state by its weights at every time step. Splitting such a product
over threads costs more in synchronisation than it saves, and on a busy machine (other processes on the
same cores) a multi-threaded OpenBLAS can be several times slower than a single thread: measured on this
project's shared 2-core machine, one step of the default character LSTM took 0.55 s with one thread and
2.3 s with two. ``OPENBLAS_NUM_THREADS`` only works if set before NumPy is imported, which a command
cannot do for itself, so :func:`set_blas_threads` calls OpenBLAS's own setter in the library NumPy loaded.
"""

from __future__ import annotations

import ctypes
import glob
import os

__all__ = ["set_blas_threads", "get_blas_threads"]

_PREFIXES = ("scipy_openblas_", "openblas_")  # NumPy >= 2 wheels, then a plain OpenBLAS
_SUFFIXES = ("64_", "")  # 64-bit integer interface, then the standard one


def _openblas_libraries() -> list[str]:
    import numpy

    root = os.path.dirname(numpy.__file__)
    folders = (os.path.join(root, os.pardir, "numpy.libs"), os.path.join(root, ".dylibs"))  # Linux and macOS wheels
    return sorted(path for folder in folders for path in glob.glob(os.path.join(folder, "*openblas*")))


def _openblas_function(kind: str):
    """OpenBLAS's ``set_num_threads`` or ``get_num_threads`` in the library NumPy loaded, or None."""
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
