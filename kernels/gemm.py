"""Matrix products: from the interpreter, a plain numba loop or BLAS (NumPy's ``np.dot``), picked by size;
inside the recurrences, a packed product that keeps the recurrent weight in a SIMD-friendly layout.

**Called from the interpreter** (``matmul``), measured on this project's earlier 2-core AMD EPYC (Zen 3)
with NumPy 2.4 (OpenBLAS 0.3.31) and numba 0.68, float32 and float64, best of 7-9 timings (the measuring
scripts are not part of the package). numba's dispatch costs ~0.7 us for two arrays plus ~0.4 us to box
the result, while ``np.dot`` costs ~0.75 us in all on tiny inputs, so BLAS wins everywhere except where
OpenBLAS itself is slow: an A of 2-3 rows, e.g. (2, 128) @ (128, 512) takes 14 us with the loop and 28 us
with ``np.dot`` (one row is fine, BLAS turns it into a matrix-vector product; from 4 rows on BLAS is on par
or faster). So the loop is used for 2-3 rows once b has >= 4096 elements.

**The packed product** (``pack_panels`` and ``packed_matmul_into``), for the per-step products of a
recurrence, where the same b (W_hh^T forward, W_hh backward) multiplies a new a at every step. BLAS copies
("packs") b into its own blocked layout on every call; here b is packed once per layer call into column
panels of ``PANEL_VECTORS`` SIMD vectors (32 float32 or 16 float64 columns with 64-byte vectors), laid out
(panels, k, width) so that one panel row is contiguous, and every step runs a register-blocked microkernel
over it: a tile of up to ``MAX_ROWS`` rows of out times one panel stays in vector registers for the whole
sum over k (``microkernel.tile_product``, LLVM IR with explicit vectors, since numba's vectoriser would
keep the tile in memory). Measured on this project's current 2-core Xeon (AVX-512; OpenBLAS 0.3.31 runs its
SkylakeX kernels), one thread, CPU time, best of 7, at load 5-7, float32: (64, 512) @ (512, 2048) 130-147
GFLOP/s packed against 108-134 for ``np.dot``; (64, 2048) @ (2048, 512) 127-155 against 115-128;
(32, 128) @ (128, 512) 155-183 against 105-116; float64 (32, 128) @ (128, 512) 79-91 against 52-57, and
(64, 512) @ (512, 2048) 53-58 against 57-63 (b is 8 MB there, 4x the L2). With the compiled time loop
around it there is no per-step call from the interpreter either (~3.5 us per step before), so the
recurrences use it at every size. It does not pay for the large all-steps GEMMs (one packing per call, and
no cache blocking of a): (6400, 256) @ (256, 2048) 85 against 113 for ``np.dot``, so those stay on BLAS.

Shapes: a (m, k), b (k, n), out (m, n).
"""

import numpy as np
from numba import njit

from .microkernel import MAX_ROWS, panel_width, tile_product

PYTHON_LOOP_ROWS = (2, 3)  # from the interpreter the loop wins for this many rows of a (inclusive) ...
PYTHON_LOOP_MIN_KN = 4096  # ... once b has at least this many elements


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


@njit(cache=True, nogil=True, error_model="numpy")
def pack_panels(b):
    """b (k, n) copied into its full column panels for ``packed_matmul_into``: (n // width, k, width), panel p
    holding columns p*width .. (p + 1)*width - 1 row after row (width: 32 float32 or 16 float64 columns).
    Columns past the last full panel are not packed (``packed_matmul_into`` takes them from b). b may be a
    transposed view (W_hh.T): it is read in memory order either way, which made packing the (512, 2048)
    W_hh^T of the large LSTM take 1.7 ms instead of 8.8 ms with ``np.ascontiguousarray(w_hh.T)`` first."""
    k, n = b.shape
    width = panel_width(b.itemsize)
    panels = np.empty((n // width, k, width), b.dtype)
    if b.strides[0] < b.strides[1]:  # column-major, e.g. W_hh^T as a view of W_hh: read columns in order
        for p in range(n // width):
            for j in range(width):
                column = b[:, p * width + j]
                for kk in range(k):
                    panels[p, kk, j] = column[kk]
        return panels
    for p in range(n // width):
        for kk in range(k):
            row, src = panels[p, kk], b[kk, p * width:(p + 1) * width]
            for j in range(width):
                row[j] = src[j]
    return panels


@njit(cache=True, nogil=True, error_model="numpy")
def packed_matmul_into(a, b, panels, out, accumulate):
    """out = a @ b, or out += a @ b when ``accumulate``, with b's full panels packed by ``pack_panels(b)``.

    The packed columns run through the register-blocked tile product (``microkernel.tile_product``), panel
    after panel, each panel against all rows of a in tiles of 8 rows (then 4, 2, 1); the columns left over
    (n not a multiple of the panel width) by the plain loop. out's rows must be contiguous (unit column
    stride); a may have any strides.
    """
    m = a.shape[0]
    count, _, width = panels.shape
    for p in range(count):
        i = 0
        while i < m:
            rows = MAX_ROWS
            while rows > m - i:
                rows //= 2
            tile_product(a, i, rows, panels, p, out, accumulate)
            i += rows
    done = count * width
    if done < b.shape[1]:
        loop_matmul_into(a, b[:, done:], out[:, done:], accumulate)


def loop_wins_python(a, b):
    """Whether ``loop_matmul_into`` beats ``np.dot`` for ``a @ b`` called from the interpreter."""
    m, k = a.shape
    n = b.shape[1]
    return (PYTHON_LOOP_ROWS[0] <= m <= PYTHON_LOOP_ROWS[1] and k * n >= PYTHON_LOOP_MIN_KN
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
        loop_matmul_into(a, b, out, False)
        return out
    return np.dot(a, b)
