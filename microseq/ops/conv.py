"""2-D convolution over NCHW images: one op whose gradients are the two other convolutions, written with a pair
of ops that are each other's adjoint, im2col and col2im.

Shapes: B batch, C input channels, H x W input size, O output channels, G groups, kH x kW kernel,
OH x OW output size, L = OH * OW output positions, K = (C / G) * kH * kW values in one window of a group.

``im2col`` copies every window of the zero-padded input into a column,

    cols[b, c, i, j, oh, ow] = xpad[b, c, oh * s + i * d, ow * s + j * d]      (s stride, d dilation)

and ``col2im`` is its adjoint: it adds every entry of ``cols`` back onto the pixel it was read from (where
windows overlap the contributions add up) and drops the padding. Each is linear and each one's gradient is the
other. A convolution is one matrix product per image and group on those columns,

    y[b, g] = W[g] @ cols[b, g]  (+ bias)   W[g]: (O/G, K),  cols[b, g]: (K, L)

and its gradients are the two classic convolutions in disguise:

    dX = col2im(W[g]^T @ G[b, g])               the transposed convolution   (:func:`input_gradient`)
    dW[g] = sum_b G[b, g] @ cols[b, g]^T        the correlation of X with G  (:func:`weight_gradient`)
    db = sum of G over b, oh, ow

``conv2d`` is one node on the tape, saving X and W (not the kH * kW times larger columns). Its rule calls
:func:`input_gradient` and :func:`weight_gradient`, which behave like NumPy functions: on arrays (a first-order
backward) they run the fast path below; on Tensors (under ``create_graph``) they are the formulas above written
with matmul, im2col and col2im, whose rules are each other: the second derivatives come for free.

Speed (the fast path): the batch goes through a few images at a time (``CHUNK_BYTES`` of columns), so the
columns that im2col writes are still in the L2 cache when BLAS reads them, and the weight gradient recomputes
them rather than keeping the whole batch's; im2col and col2im are compiled loops (``microseq.kernels.im2col``).
Measured on this project's 2-core Xeon, float32, B=32, 3x3, padding 1, forward + backward (input and weight
gradients), CPU time, one thread, best of 3 x 15 alternating with PyTorch 2.13 in separate processes, load 6-8:

    channels, size     before: im2col + a product over the whole batch    now          PyTorch
    3 -> 16, 48x48     7.69 ms (1.22x)                                     4.32 (0.68x)  6.33
    16 -> 32, 24x24    15.62 ms (2.89x)                                    9.47 (1.75x)  5.41
    32 -> 32, 12x12    7.63 ms (3.16x)                                     5.44 (2.25x)  2.42
    32 -> 64, 12x12    9.86 ms (2.25x)                                     7.70 (1.76x)  4.38

Before, 16 -> 32 spent 1.8 ms in im2col, 3.8 in col2im (reading 10.6 MB of columns back from memory) and 7.5 in
the three products. Chunks of 128 KB to 1 MB are within noise of each other; the whole batch at once (one chunk)
is as slow as before. What is left is mostly the products (OpenBLAS, one per image and group) and the im2col
done twice (forward and weight gradient); keeping the forward's columns for the weight gradient instead was
slower (16 -> 32: 9.7-10.4 -> 11.6-12.6 ms; 32 -> 32 at 12x12: within noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..tensor import Tensor, as_tensor, record
from ._util import check_float

__all__ = ["conv2d", "im2col", "col2im", "Window"]


@dataclass(frozen=True)
class Window:
    """Where the windows of a convolution or pooling lie on an input of size ``size`` (H, W).

    Attributes
    ----------
    size : (H, W)
    kernel, stride, dilation : (int, int)
    padding : (top, bottom, left, right)
        Rows and columns added around the input (zeros for a convolution).
    """

    size: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int, int, int]

    @property
    def padded(self) -> tuple[int, int]:
        """The input's size with the padding."""
        top, bottom, left, right = self.padding
        return self.size[0] + top + bottom, self.size[1] + left + right

    @property
    def extent(self) -> tuple[int, int]:
        """The span of one dilated window: d (k - 1) + 1 along each axis."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))

    @property
    def out(self) -> tuple[int, int]:
        """(OH, OW) = floor((H + padding - d (k - 1) - 1) / s) + 1, as PyTorch."""
        return tuple((p - e) // s + 1 for p, e, s in zip(self.padded, self.extent, self.stride))

    @property
    def geometry(self) -> tuple[int, ...]:
        """The compiled kernels' arguments: stride, dilation, top and left padding (``microseq.kernels.im2col``)."""
        return (*self.stride, *self.dilation, self.padding[0], self.padding[2])

    def fits(self) -> bool:
        return all(p >= e for p, e in zip(self.padded, self.extent))


def pad_image(x: np.ndarray, window: Window, fill: float = 0.0) -> np.ndarray:
    """``x`` (B, C, H, W) with ``window``'s padding filled with ``fill`` (itself when there is none)."""
    top, bottom, left, right = window.padding
    if not any(window.padding):
        return x
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=fill)


def windows(x: np.ndarray, window: Window) -> np.ndarray:
    """The windows of ``x`` (B, C, H, W) as a read-only strided view (B, C, OH, OW, kH, kW), zero padded (no copy
    beyond the padding)."""
    (sh, sw), (dh, dw), (oh, ow) = window.stride, window.dilation, window.out
    view = sliding_window_view(pad_image(x, window), window.extent, axis=(2, 3))
    return view[:, :, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, ::dh, ::dw]


def _im2col_array(x: np.ndarray, window: Window) -> np.ndarray:
    from ..kernels.im2col import im2col_into  # here, so that importing the ops loads no numba

    cols = np.empty(x.shape[:2] + window.kernel + window.out, dtype=x.dtype)
    im2col_into(np.ascontiguousarray(x), cols, *window.geometry)  # (kernels/im2col.py)
    return cols


def _col2im_array(cols: np.ndarray, window: Window) -> np.ndarray:
    from ..kernels.im2col import col2im_into

    image = np.empty(cols.shape[:2] + window.size, dtype=cols.dtype)
    col2im_into(np.ascontiguousarray(cols), image, *window.geometry)
    return image


def im2col(x, window: Window):
    """The windows of ``x`` (B, C, H, W) as columns (B, C, kH, kW, OH, OW), zero padding included.

    Like a NumPy function it maps an array to an array (in a first-order backward) and a Tensor to a recorded
    Tensor, whose gradient is :func:`col2im` (and col2im's is im2col: each is the other's adjoint).
    """
    if not isinstance(x, Tensor):
        return _im2col_array(x, window)
    return record("im2col", _im2col_array(x.data, window), (x,), lambda g, *_: (col2im(g, window),))


def col2im(cols, window: Window):
    """The adjoint of :func:`im2col`: each entry of ``cols`` (B, C, kH, kW, OH, OW) added onto the pixel of the
    (B, C, H, W) image it was read from (overlaps add up, the padding is dropped)."""
    if not isinstance(cols, Tensor):
        return _col2im_array(cols, window)
    return record("col2im", _col2im_array(cols.data, window), (cols,), lambda g, *_: (im2col(g, window),))


# --------------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------------
def pair_of(op: str, name: str, value, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints as a pair, each at least ``minimum``."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v >= minimum for v in pair):
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def check_image(op: str, x: Tensor) -> None:
    check_float(op, x)
    if x.ndim != 4:
        raise ValueError(f"{op}: expected an input of shape (B, C, H, W), got shape {x.shape}")


def _conv_padding(padding, kernel, stride, dilation) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) for an int, a pair, "valid" or "same" (the odd extra row/column of an even
    kernel goes to the bottom/right, as in PyTorch)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(f"conv2d: padding must be 'same', 'valid', an int or a pair, got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got stride {stride}")
        (th, tw) = (d * (k - 1) for k, d in zip(kernel, dilation))
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    ph, pw = pair_of("conv2d", "padding", padding, 0)
    return (ph, ph, pw, pw)


# --------------------------------------------------------------------------------------------------
# conv2d
# --------------------------------------------------------------------------------------------------
CHUNK_BYTES = 1 << 19  # the columns of a few images at a time: they stay in the L2 cache between im2col and GEMM


class _Shapes:
    """The sizes of one convolution: B, G, O/G, K = (C/G) kH kW, L = OH OW, and the shapes of cols and W."""

    def __init__(self, x_shape, w_shape, window: Window, groups: int) -> None:
        self.batch, channels = x_shape[:2]
        self.groups, self.per_group = groups, w_shape[0] // groups
        self.K, self.L = channels // groups * window.kernel[0] * window.kernel[1], window.out[0] * window.out[1]
        self.cols = (self.batch, channels) + window.kernel + window.out
        self.weight, self.window = w_shape, window

    def grouped(self, t, rows: int):
        """``t`` viewed as (n, G, rows, L): one matrix per image and group."""
        return t.reshape(-1, self.groups, rows, self.L)

    def chunks(self, itemsize: int) -> list[slice]:
        """Slices of the batch whose columns take about ``CHUNK_BYTES`` (at least one image each)."""
        step = max(1, CHUNK_BYTES // max(1, self.K * self.groups * self.L * itemsize))
        return [slice(b, min(self.batch, b + step)) for b in range(0, self.batch, step)]


def _forward(x: np.ndarray, w: np.ndarray, s: _Shapes) -> np.ndarray:
    """y (B, O, OH, OW) = W[g] @ im2col(x)[b, g], a few images at a time."""
    y = np.empty((s.batch, w.shape[0]) + s.window.out, dtype=x.dtype)
    wm = w.reshape(s.groups, s.per_group, s.K)
    for part in s.chunks(x.itemsize):
        np.matmul(wm, s.grouped(_im2col_array(x[part], s.window), s.K), out=s.grouped(y[part], s.per_group))
    return y


def input_gradient(g, w, s: _Shapes):
    """The transposed convolution: dX = col2im(W[g]^T @ G[b, g]), (B, C, H, W) from G (B, O, OH, OW).

    Like a NumPy function: arrays give an array (a few images at a time, each im2col-sized block in cache), a
    Tensor gives a recorded Tensor, composed of matmul and :func:`col2im` (so differentiable again).
    """
    wt = np.swapaxes(w.reshape(s.groups, s.per_group, s.K), -1, -2)
    if isinstance(g, Tensor) or isinstance(w, Tensor):
        return col2im((wt @ s.grouped(g, s.per_group)).reshape(s.cols), s.window)
    from ..kernels.im2col import col2im_into

    dx = np.empty(s.cols[:2] + s.window.size, dtype=g.dtype)
    for part in s.chunks(g.itemsize):
        dcols = np.matmul(wt, s.grouped(g[part], s.per_group)).reshape((part.stop - part.start,) + s.cols[1:])
        col2im_into(dcols, dx[part], *s.window.geometry)
    return dx


def weight_gradient(x, g, s: _Shapes):
    """The correlation of the input with the output gradient: dW[g] = sum_b G[b, g] @ im2col(x)[b, g]^T.

    Like a NumPy function (see :func:`input_gradient`); computed as (cols G^T)^T, which BLAS runs faster with
    the long L axis this way round.
    """
    gt = np.swapaxes(s.grouped(g, s.per_group), -1, -2)  # (B, G, L, O/G)
    if isinstance(x, Tensor) or isinstance(g, Tensor):
        dw_t = (s.grouped(im2col(x, s.window), s.K) @ gt).sum(axis=0)
    else:
        x, dw_t = np.ascontiguousarray(x), np.zeros((s.groups, s.K, s.per_group), dtype=x.dtype)
        for part in s.chunks(x.itemsize):
            dw_t += (s.grouped(_im2col_array(x[part], s.window), s.K) @ gt[part]).sum(axis=0)
    return np.swapaxes(dw_t, -1, -2).reshape(s.weight)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of ``x`` with ``weight``, as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : Tensor, shape (B, C, H, W)
    weight : Tensor, shape (O, C / groups, kH, kW)
    bias : Tensor, shape (O,), optional
    stride, dilation : int or (int, int)
    padding : int, (int, int), "valid" (no padding) or "same" (output size = input size; stride 1 only)
    groups : int
        Input and output channels are split into ``groups`` blocks; block g of the output sees only block g of
        the input (``groups == C`` is a depthwise convolution).

    Returns
    -------
    Tensor, shape (B, O, OH, OW) with OH = floor((H + 2 p - d (kH - 1) - 1) / s) + 1 (and the same for OW).

    Recorded as one node, ``conv2d``; gradients in the module's docstring (dX a transposed convolution, dW a
    correlation), differentiable again.
    """
    x, weight = as_tensor(x), as_tensor(weight)
    check_image("conv2d", x)
    if weight.ndim != 4:
        raise ValueError(f"conv2d: expected a weight of shape (O, C/groups, kH, kW), got shape {weight.shape}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    B, C, H, W = x.shape
    O = weight.shape[0]
    if C % groups or O % groups:
        raise ValueError(f"conv2d: groups={groups} must divide the input's {C} and the weight's {O} channels "
                         f"(input {x.shape}, weight {weight.shape})")
    if C != weight.shape[1] * groups:
        raise ValueError(f"conv2d: input {x.shape} has {C} channels, weight {weight.shape} with groups={groups} "
                         f"expects {weight.shape[1] * groups}")
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape != (O,):
            raise ValueError(f"conv2d: bias has shape {bias.shape}, expected ({O},) for weight {weight.shape}")
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != x.dtype):
        raise TypeError(f"conv2d: input, weight and bias must have one dtype, got {x.dtype}, {weight.dtype}"
                        + (f", {bias.dtype}" if bias is not None else ""))
    stride, dilation = pair_of("conv2d", "stride", stride, 1), pair_of("conv2d", "dilation", dilation, 1)
    kernel = weight.shape[2:]
    window = Window((H, W), kernel, stride, dilation, _conv_padding(padding, kernel, stride, dilation))
    if not window.fits():
        raise ValueError(f"conv2d: kernel {kernel} (dilation {dilation}, extent {window.extent}) is larger than "
                         f"the padded input {window.padded} (input {x.shape}, padding {window.padding})")

    s = _Shapes(x.shape, weight.shape, window, groups)
    y = _forward(np.ascontiguousarray(x.data), weight.data, s)
    if bias is not None:
        y += bias.data[:, None, None]
    need_x, need_w = x.requires_grad, weight.requires_grad

    def gradients(g, x, w):
        return (input_gradient(g, w, s) if need_x else None, weight_gradient(x, g, s) if need_w else None)

    if bias is None:
        return record("conv2d", y, (x, weight), lambda g, x, w, _y: gradients(g, x, w))
    return record("conv2d", y, (x, weight, bias), lambda g, x, w, _b, _y: gradients(g, x, w) + (g.sum(axis=(0, 2, 3)),))
