"""Matrix products that pick, by size, between a plain numba loop and BLAS (NumPy's ``np.dot``).

Measured on this project's 2-core AMD EPYC (Zen 3) with NumPy 2.4 (OpenBLAS 0.3.31) and numba 0.68,
float32 and float64, best of 7-9 timings (the measuring scripts are not part of the package):

* **Called from the interpreter** (``matmul``). numba's dispatch costs ~0.7 us for two arrays plus ~0.4 us
  to box the result, while ``np.dot`` costs ~0.75 us in all on tiny inputs, so BLAS wins everywhere except
  where OpenBLAS itself is slow: an A of 2-3 rows, e.g. (2, 128) @ (128, 512) takes 14 us with the loop and
  28 us with ``np.dot`` (one row is fine, BLAS turns it into a matrix-vector product; from 4 rows on BLAS is
  on par or faster). So the loop is used for 2-3 rows once b has >= 4096 elements.
* **The per-step product of a recurrence** (h @ W_hh^T and dgates @ W_hh, (B, H) @ (H, G*H) and back).
  Either the whole time loop is compiled and calls the loop, or the interpreter drives the loop and calls
  ``np.dot`` plus a compiled step function, ~3.5 us of overhead per step. The compiled loop wins while the
  product is at most ~2^17 multiply-adds (e.g. B=32, H=32, LSTM: 12-20 us either way) and for batches of at
  most 4 rows at any size (OpenBLAS's slow case again; B=4, H=128, LSTM: 6 us loop, 13-20 us BLAS). Calling
  BLAS from compiled code instead (numba's ``np.dot``) was measured too and rejected: it links scipy's older
  OpenBLAS 0.3.30, up to 2x slower on large products, and triples the kernels' compile time.

Shapes: a (m, k), b (k, n), out (m, n).
"""

import numpy as np
from numba import njit

PYTHON_LOOP_ROWS = (2, 3)  # from the interpreter the loop wins for this many rows of a (inclusive) ...
PYTHON_LOOP_MIN_KN = 4096  # ... once b has at least this many elements
COMPILED_LOOP_MAX_MKN = 1 << 17  # a recurrence runs compiled up to this many multiply-adds per step ...
COMPILED_LOOP_MAX_ROWS = 4  # ... and at any size for batches up to this many rows


@njit(cache=True, nogil=True, error_model="numpy")
def loop_matmul_into(a, b, out, accumulate):
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


def loop_wins_python(a, b):
    """Whether ``loop_matmul_into`` beats ``np.dot`` for ``a @ b`` called from the interpreter."""
    m, k = a.shape
    n = b.shape[1]
    return (PYTHON_LOOP_ROWS[0] <= m <= PYTHON_LOOP_ROWS[1] and k * n >= PYTHON_LOOP_MIN_KN
            and a.flags.c_contiguous and b.flags.c_contiguous)


def compiled_recurrence_wins(B, H, G):
    """Whether a time loop with per-step products (B, H) @ (H, G*H) should run compiled with the loop
    matmul, rather than driven from the interpreter with ``np.dot`` (asked by ``sequence.forward_recurrence``
    and ``backward_recurrence`` only)."""
    return B <= COMPILED_LOOP_MAX_ROWS or B * H * G * H <= COMPILED_LOOP_MAX_MKN


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
        loop_matmul_into(a, b, out, False)
        return out
    return np.dot(a, b)
