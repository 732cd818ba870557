"""Matrix products that pick, by size, between a plain numba loop and BLAS.

BLAS wins almost everywhere, but not in two places, measured on this project's 2-core AMD EPYC (Zen 3)
with NumPy 2.4 (OpenBLAS 0.3.31), scipy 1.17 (OpenBLAS 0.3.30, the BLAS numba's ``np.dot`` calls) and
numba 0.68, float32 and float64, best of 7-9 timings:

* **Tiny products inside compiled code.** A time loop compiled by numba pays no call overhead, and for
  m*k*n <= 2048 the loop is on par with or faster than BLAS (0.05-1 us either way).
* **Two to four rows.** OpenBLAS is slow when A has 2-4 rows (batch sizes 2-4): (2, 128) @ (128, 512)
  takes 9-14 us with the loop, 26-28 us with NumPy's BLAS and 47-63 us with scipy's. One row is fine (BLAS
  turns it into a matrix-vector product), and from 5-8 rows on BLAS wins.

From the interpreter the numba loop costs at least ~1.1 us (dispatch of two arrays ~0.7 us plus boxing
the result), while ``np.dot`` costs ~0.75 us in all for tiny inputs, so there the loop only pays off in
the 2-3 row case with k*n >= 4096; with 4 rows NumPy's newer OpenBLAS is already on par.

Shapes: a (m, k), b (k, n), out (m, n).
"""

import numpy as np
from numba import njit

LOOP_MAX_MKN = 2048  # compiled callers: the loop is at least as fast as BLAS up to this m*k*n
FEW_ROWS = (2, 4)  # compiled callers: OpenBLAS is slow for this many rows of a (inclusive range)
FEW_ROWS_PYTHON = (2, 3)  # callers in the interpreter: the same, after numba's dispatch overhead
FEW_ROWS_PYTHON_MIN_KN = 4096  # ... and only once b has at least this many elements


@njit(cache=True)
def loop_matmul_into(a, b, out, accumulate=False):
    """out = a @ b, or out += a @ b when ``accumulate``, by a plain loop (vectorised over columns of b)."""
    m, k = a.shape
    n = b.shape[1]
    if not accumulate:
        out[:, :] = 0
    for i in range(m):
        for p in range(k):
            a_ip = a[i, p]
            for j in range(n):
                out[i, j] += a_ip * b[p, j]


@njit(cache=True)
def loop_wins_compiled(m, k, n):
    """Whether ``loop_matmul_into`` beats BLAS for an (m, k) @ (k, n) product inside compiled code."""
    return m * k * n <= LOOP_MAX_MKN or FEW_ROWS[0] <= m <= FEW_ROWS[1]


@njit(cache=True)
def matmul_into(a, b, out, accumulate=False):
    """out = a @ b (or out += a @ b) for C-contiguous 2-D arrays, from compiled code.

    Dispatches by size between ``loop_matmul_into`` and BLAS (numba's ``np.dot``); meant to be called from
    inside numba time loops, where there is no call overhead. ``accumulate`` with BLAS needs a temporary.
    """
    m, k = a.shape
    n = b.shape[1]
    if loop_wins_compiled(m, k, n):
        loop_matmul_into(a, b, out, accumulate)
    elif accumulate:
        out += np.dot(a, b)
    else:
        np.dot(a, b, out)


def loop_wins_python(a, b):
    """Whether the numba loop beats ``np.dot`` for ``a @ b`` called from the interpreter."""
    m, k = a.shape
    n = b.shape[1]
    return (FEW_ROWS_PYTHON[0] <= m <= FEW_ROWS_PYTHON[1] and k * n >= FEW_ROWS_PYTHON_MIN_KN
            and a.flags.c_contiguous and b.flags.c_contiguous)


def matmul(a, b):
    """a @ b for 2-D float arrays, by the numba loop or BLAS, whichever is faster for this size.

    Parameters
    ----------
    a : (m, k) float32 or float64.  b : (k, n), same dtype.

    Returns
    -------
    (m, n) array of the same dtype.
    """
    if loop_wins_python(a, b):
        out = np.empty((a.shape[0], b.shape[1]), a.dtype)
        loop_matmul_into(a, b, out)
        return out
    return np.dot(a, b)
