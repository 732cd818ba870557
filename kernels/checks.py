"""Cheap argument checks for the public kernels.

A bad argument raises TypeError (not an array, wrong dtype) or ValueError (wrong shape or value) whose
message names the kernel, the argument, and what was expected against what came, e.g.
``lstm_forward: w_hh has shape (12, 5), expected (4*H, H) = (12, 3)``. Only shapes, dtypes and the range
of ``lengths`` are looked at: O(B) work, never a pass over the data.

Shapes: T time, B batch, I input, H hidden, G gates (RNN 1, LSTM 4, GRU 3).
"""

import numpy as np

from .._checks import FLOAT_DTYPES


def _require_array(kernel, name, a):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{kernel}: {name} must be a numpy.ndarray, got {type(a).__name__}")


def _require(kernel, name, a, shape, legend, dtype, dtype_source):
    """a must be an ndarray of the given shape (described by ``legend``) and dtype."""
    _require_array(kernel, name, a)
    if a.shape != shape:
        raise ValueError(f"{kernel}: {name} has shape {a.shape}, expected {legend} = {shape}")
    if a.dtype != dtype:
        raise TypeError(f"{kernel}: {name} has dtype {a.dtype}, expected {dtype} ({dtype_source})")


def _require_float(kernel, name, a):
    _require_array(kernel, name, a)
    if a.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{kernel}: {name} has dtype {a.dtype}, expected float32 or float64")


def check_forward(kernel, gates, x, states, w_ih, w_hh, b_ih, b_hh, lengths):
    """Check the arguments of a ``*_forward`` kernel; return ``lengths`` as int64 (B,) or None.

    ``gates`` is G; ``states`` the initial states as (name, array) pairs: h0, and c0 for the LSTM.
    """
    _require_float(kernel, "x", x)
    if x.ndim != 3 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{kernel}: x has shape {x.shape}, expected (T, B, I) with T >= 1 and B >= 1")
    T, B, I = x.shape
    h0 = states[0][1]
    _require_array(kernel, "h0", h0)
    if h0.ndim != 2 or h0.shape[0] != B or h0.shape[1] < 1:
        raise ValueError(f"{kernel}: h0 has shape {h0.shape}, expected (B, H) = ({B}, H) with H >= 1")
    H = h0.shape[1]
    of_x = "the dtype of x"
    for name, state in states:
        _require(kernel, name, state, (B, H), "(B, H)", x.dtype, of_x)
    gh = f"{gates}*H" if gates > 1 else "H"
    _require(kernel, "w_ih", w_ih, (gates * H, I), f"({gh}, I)", x.dtype, of_x)
    _require(kernel, "w_hh", w_hh, (gates * H, H), f"({gh}, H)", x.dtype, of_x)
    if (b_ih is None) != (b_hh is None):
        raise ValueError(f"{kernel}: b_ih and b_hh must both be arrays or both be None (no bias), "
                         f"got {type(b_ih).__name__} and {type(b_hh).__name__}")
    if b_ih is not None:
        _require(kernel, "b_ih", b_ih, (gates * H,), f"({gh},)", x.dtype, of_x)
        _require(kernel, "b_hh", b_hh, (gates * H,), f"({gh},)", x.dtype, of_x)
    if lengths is None:
        return None
    lengths = np.asarray(lengths)
    if lengths.dtype.kind not in "iu":
        raise TypeError(f"{kernel}: lengths has dtype {lengths.dtype}, expected an integer dtype (int64)")
    if lengths.shape != (B,):
        raise ValueError(f"{kernel}: lengths has shape {lengths.shape}, expected (B,) = ({B},)")
    if lengths.min() < 1 or lengths.max() > T:
        raise ValueError(f"{kernel}: lengths must lie in [1, T] = [1, {T}], "
                         f"got values from {lengths.min()} to {lengths.max()}")
    return lengths.astype(np.int64, copy=False)


def check_backward(kernel, saved_type, saved, grads):
    """Check ``saved`` and the incoming gradients of a ``*_backward`` kernel.

    ``grads`` is a list of (name, array or None, which state it is the gradient of: "out" or "h_n").
    """
    if not isinstance(saved, saved_type):
        raise TypeError(f"{kernel}: saved must be the {saved_type.__name__} returned by the forward, "
                        f"got {type(saved).__name__}")
    T, B, H = saved.h_prev.shape
    shapes = {"out": ((T, B, H), "(T, B, H)"), "h_n": ((B, H), "(B, H)")}
    for name, grad, of in grads:
        if grad is not None:
            shape, legend = shapes[of]
            _require(kernel, name, grad, shape, legend, saved.x.dtype, "the dtype of the forward")


def check_matmul(a, b):
    _require_float("matmul", "a", a)
    _require_float("matmul", "b", b)
    if a.ndim != 2:
        raise ValueError(f"matmul: a has shape {a.shape}, expected (m, k)")
    if b.ndim != 2 or b.shape[0] != a.shape[1]:
        raise ValueError(f"matmul: b has shape {b.shape}, expected (k, n) = ({a.shape[1]}, n)")
    if b.dtype != a.dtype:
        raise TypeError(f"matmul: b has dtype {b.dtype}, expected {a.dtype} (the dtype of a)")
