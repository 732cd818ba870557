"""Pooling over NCHW images: max, average and adaptive average, with PyTorch's window rules.

Shapes: B batch, C channels, H x W input, kH x kW window, OH x OW output.

The windows are :class:`~microseq.ops.conv.Window` s, and every gradient goes back through a linear op whose
gradient is its adjoint (col2im and im2col, scatter and gather), so the rules are differentiable again:

- max: y = the largest value of the window; dX = G scattered to the arg-max of each window (0 elsewhere), an op
  whose adjoint is the gather at the arg-max. On ties the first position in row-major window order takes it all,
  as PyTorch (the arg-max is a constant, so the rule is linear in G).
- average: y = sum of the window / count; dX = col2im(G / count, spread over the window).
- adaptive average: y = P_H x P_W^T with averaging matrices P (OH, H) and P (OW, W); dX = P_H^T G P_W.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, as_tensor, record
from .conv import Window, check_image, col2im, pad_image, pair_of, windows

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]


def _pool_window(op: str, x: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool) -> Window:
    """The pooling windows, PyTorch's rules: stride defaults to the kernel, padding at most half the (dilated)
    kernel, and with ``ceil_mode`` a last window that starts inside the input (or its left padding) and runs
    off the end is kept (the rows it needs are added to the bottom/right padding)."""
    check_image(op, x)
    kernel = pair_of(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None or stride == () else pair_of(op, "stride", stride, 1)
    pad = pair_of(op, "padding", padding, 0)
    dilation = pair_of(op, "dilation", dilation, 1)
    extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(2 * p > e for p, e in zip(pad, extent)):
        raise ValueError(f"{op}: padding {pad} must be at most half the kernel {kernel} (dilation {dilation})")
    size = x.shape[2:]
    extra = []
    for n, p, e, s in zip(size, pad, extent, stride):
        if n + 2 * p < e:
            raise ValueError(f"{op}: kernel {kernel} (dilation {dilation}) is larger than the padded input "
                             f"{tuple(m + 2 * q for m, q in zip(size, pad))} (input {x.shape}, padding {pad})")
        out = (n + 2 * p - e) // s + 1
        if ceil_mode:
            out = -(-(n + 2 * p - e) // s) + 1
            if (out - 1) * s >= n + p:  # the last window would start in the right padding: dropped
                out -= 1
        extra.append(max((out - 1) * s + e - (n + 2 * p), 0))
    return Window(size, kernel, stride, dilation, (pad[0], pad[0] + extra[0], pad[1], pad[1] + extra[1]))


def _scatter_to_arg(g, arg: np.ndarray, window: Window):
    """The gradient of max pooling: each entry of ``g`` (B, C, OH, OW) added onto its window's arg-max in an image of
    zeros (B, C, H, W). An array for an array; for a Tensor a recorded op whose gradient is :func:`_gather_at_arg`
    (and the gather's is this scatter: each is the other's adjoint)."""
    if isinstance(g, Tensor):
        y = _scatter_to_arg(g.data, arg, window)
        return record("max_pool2d_scatter", y, (g,), lambda gg, *_: (_gather_at_arg(gg, arg, window),))
    from ..kernels.pool import scatter_to_arg  # here, so that importing the ops loads no numba

    image = np.zeros(g.shape[:2] + window.padded, dtype=g.dtype)
    scatter_to_arg(np.ascontiguousarray(g), arg, image)
    top, _, left, _ = window.padding
    H, W = window.size
    return np.ascontiguousarray(image[:, :, top : top + H, left : left + W])


def _gather_at_arg(x, arg: np.ndarray, window: Window):
    """``x`` (B, C, H, W) read at each window's arg-max: (B, C, OH, OW); the adjoint of :func:`_scatter_to_arg`."""
    if isinstance(x, Tensor):
        return record("max_pool2d_gather", _gather_at_arg(x.data, arg, window), (x,),
                      lambda gg, *_: (_scatter_to_arg(gg, arg, window),))
    B, C = x.shape[:2]
    padded = pad_image(x, window).reshape(B, C, -1) if B * C else np.zeros((B, C, 1), x.dtype)
    return np.take_along_axis(padded, arg.reshape(B, C, -1), axis=2).reshape(arg.shape)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False) -> Tensor:
    """The largest value of each (dilated) window, as ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    x : Tensor, shape (B, C, H, W)
    kernel_size, stride, padding, dilation : int or (int, int)
        ``stride`` defaults to ``kernel_size``; the padding (at most half the kernel) never wins.
    ceil_mode : bool
        Round the output size up (a last, partial window), as PyTorch.

    Returns
    -------
    Tensor, shape (B, C, OH, OW)

    The gradient goes to the arg-max of each window, the first one in row-major order on ties (PyTorch's);
    a NaN in the window is the maximum. (A dilated window that meets only padding gives -inf and no gradient.)
    The arg-max and the scatter run compiled (``microseq.kernels.pool``).
    """
    from ..kernels.pool import max_pool_forward  # here, so that importing the ops loads no numba

    x = as_tensor(x)
    window = _pool_window("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    y = np.empty(x.shape[:2] + window.out, dtype=x.dtype)
    arg = np.empty(y.shape, dtype=np.int64)
    max_pool_forward(np.ascontiguousarray(pad_image(x.data, window, -np.inf)), y, arg, *window.kernel,
                     *window.stride, *window.dilation)
    return record("max_pool2d", y, (x,), lambda g, *_: (_scatter_to_arg(g, arg, window),))


def _window_counts(n: int, kernel: int, stride: int, pad: int, out: int, count_include_pad: bool) -> np.ndarray:
    """How many of each window's positions along one axis are counted, as PyTorch's avg_pool2d: the padding is
    counted when ``count_include_pad`` (never what ceil_mode adds beyond it), else only the input."""
    start = np.arange(out) * stride - pad
    stop = np.minimum(start + kernel, n + pad)
    if not count_include_pad:
        start, stop = np.maximum(start, 0), np.minimum(stop, n)
    return stop - start


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window, as ``torch.nn.functional.avg_pool2d``.

    Parameters
    ----------
    x : Tensor, shape (B, C, H, W)
    kernel_size, stride, padding : int or (int, int)
        ``stride`` defaults to ``kernel_size``; padding (zeros) at most half the kernel.
    ceil_mode : bool
        Round the output size up (a last, partial window).
    count_include_pad : bool
        Divide by the whole window including zero padding (True, PyTorch's default) or by the input positions.
    divisor_override : int, optional
        Divide every sum by this number instead.

    Returns
    -------
    Tensor, shape (B, C, OH, OW)
    """
    x = as_tensor(x)
    window = _pool_window("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if not isinstance(divisor_override, (int, np.integer)) or divisor_override <= 0:
            raise ValueError(f"avg_pool2d: divisor_override must be a positive int, got {divisor_override!r}")
        count = np.asarray(divisor_override, dtype=x.dtype)
    else:
        rows, columns = (
            _window_counts(n, k, s, window.padding[2 * axis], o, count_include_pad)
            for axis, (n, k, s, o) in enumerate(zip(window.size, window.kernel, window.stride, window.out))
        )
        count = np.outer(rows, columns).astype(x.dtype)  # (OH, OW)
    y = windows(x.data, window).sum(axis=(-2, -1)) / count
    spread = x.shape[:2] + window.kernel + window.out

    def backward(g, *_):
        return (col2im(np.broadcast_to((g / count)[:, :, None, None], spread), window),)

    return record("avg_pool2d", y, (x,), backward)


def _averaging_matrix(n: int, out: int, dtype) -> np.ndarray:
    """P (out, n): row i averages PyTorch's adaptive window [floor(i n / out), ceil((i + 1) n / out))."""
    matrix = np.zeros((out, n), dtype=dtype)
    for i in range(out):
        start, stop = (i * n) // out, -(-((i + 1) * n) // out)
        matrix[i, start:stop] = 1.0 / (stop - start)
    return matrix


def _separable(x, rows: np.ndarray, columns: np.ndarray):
    """``rows @ x @ columns.T`` over the last two axes of ``x`` (an array or a Tensor), as two 2-D GEMMs over
    all the leading axes at once (a batched matmul makes one small BLAS call per image and channel: 3x slower
    for (32, 32, 6, 6) to 1 x 1)."""
    lead, (H, W) = x.shape[:-2], x.shape[-2:]
    (OH, OW) = rows.shape[0], columns.shape[0]
    along_rows = np.swapaxes((x.reshape(-1, W) @ columns.T).reshape(lead + (H, OW)), -1, -2)  # (..., OW, H)
    return np.swapaxes((along_rows.reshape(-1, H) @ rows.T).reshape(lead + (OW, OH)), -1, -2)


def adaptive_avg_pool2d(x, output_size) -> Tensor:
    """Average pooling to a given output size, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Parameters
    ----------
    x : Tensor, shape (B, C, H, W)
    output_size : int or (int or None, int or None)
        (OH, OW); None keeps that axis's input size. Window i along an axis of n covers
        [floor(i n / out), ceil((i + 1) n / out)): windows may overlap and differ in size.

    Returns
    -------
    Tensor, shape (B, C, OH, OW)
    """
    x = as_tensor(x)
    check_image("adaptive_avg_pool2d", x)
    sizes = (output_size, output_size) if isinstance(output_size, (int, np.integer)) else tuple(output_size)
    if len(sizes) != 2 or not all(s is None or (isinstance(s, (int, np.integer)) and s >= 1) for s in sizes):
        raise ValueError(f"adaptive_avg_pool2d: output_size must be a positive int or a pair of them (or None), "
                         f"got {output_size!r}")
    H, W = x.shape[2:]
    if H == 0 or W == 0:
        raise ValueError(f"adaptive_avg_pool2d: cannot pool an empty input of shape {x.shape}")
    OH, OW = (n if s is None else int(s) for n, s in zip((H, W), sizes))
    rows, columns = _averaging_matrix(H, OH, x.dtype), _averaging_matrix(W, OW, x.dtype)
    y = np.ascontiguousarray(_separable(x.data, rows, columns))
    return record("adaptive_avg_pool2d", y, (x,), lambda g, *_: (_separable(g, rows.T, columns.T),))

