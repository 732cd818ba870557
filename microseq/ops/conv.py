"""2-D convolution over NCHW images, built on one pair of ops that are each other's adjoint: im2col and col2im.

Shapes: B batch, C input channels, H x W input size, O output channels, G groups, kH x kW kernel,
OH x OW output size, L = OH * OW output positions, K = (C / G) * kH * kW values in one window of a group.

``im2col`` copies every window of the zero-padded input into a column,

    cols[b, c, i, j, oh, ow] = xpad[b, c, oh * s + i * d, ow * s + j * d]      (s stride, d dilation)

and ``col2im`` is its adjoint: it adds every entry of ``cols`` back onto the pixel it was read from (where
windows overlap the contributions add up) and drops the padding. Each is linear, and each one's gradient is the
other, so anything written with them and ``matmul`` can be differentiated any number of times. A convolution is
im2col followed by one matrix product per image and group (two nodes on the tape, ``im2col`` and ``conv2d``),

    y[b, g] = W[g] @ cols[b, g]  (+ bias)   W[g]: (O/G, K),  cols[b, g]: (K, L)

and its gradients are the two classic convolutions in disguise:

    dcols[b, g] = W[g]^T @ G[b, g], dX = col2im(dcols)   the transposed convolution
    dW[g] = sum_b G[b, g] @ cols[b, g]^T                 the correlation of the input with the output gradient
    db = sum of G over b, oh, ow

The product's rule is written in the NumPy API (matmul, swapaxes, reshape, sum), so under ``create_graph`` it
records itself, and im2col's rule is col2im: the second derivatives come for free. The product saves ``cols``
(kH * kW times the input's size) for dW, as any input of a matmul is saved; nothing is computed twice.

Speed: im2col copies the kH * kW shifted views of the padded input (``sliding_window_view`` picks them) into
the column layout above, one strided NumPy copy each, which makes every product a plain BLAS GEMM (one per
image and group); col2im is a compiled loop (``microseq.kernels.im2col``; it was twice as fast as the same kH *
kW strided adds in NumPy, and needs no ``np.add.at``).
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
    view = windows(x, window)
    cols = np.empty(x.shape[:2] + window.kernel + window.out, dtype=x.dtype)
    for i in range(window.kernel[0]):
        for j in range(window.kernel[1]):
            cols[:, :, i, j] = view[:, :, :, :, i, j]
    return cols


def _col2im_array(cols: np.ndarray, window: Window) -> np.ndarray:
    from ..kernels.im2col import col2im_add  # here, so that importing the ops loads no numba

    B, C = cols.shape[:2]
    image = np.zeros((B, C) + window.padded, dtype=cols.dtype)
    col2im_add(np.ascontiguousarray(cols), image, *window.stride, *window.dilation)  # (kernels/im2col.py)
    top, _, left, _ = window.padding
    if not any(window.padding):
        return image
    H, W = window.size
    return np.ascontiguousarray(image[:, :, top : top + H, left : left + W])


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
def _grouped_product(cols: Tensor, weight: Tensor, bias, groups: int) -> Tensor:
    """y[b, g] = W[g] @ cols[b, g] (+ bias): cols (B, C, kH, kW, OH, OW), weight (O, C/G, kH, kW) -> (B, O, OH, OW)."""
    B, C, kh, kw, OH, OW = cols.shape
    O = weight.shape[0]
    K, L = C // groups * kh * kw, OH * OW
    y = (weight.data.reshape(groups, O // groups, K) @ cols.data.reshape(B, groups, K, L)).reshape(B, O, OH, OW)
    if bias is not None:
        y += bias.data[:, None, None]
    need_cols, need_w = cols.requires_grad, weight.requires_grad
    cols_shape, w_shape = cols.shape, weight.shape

    def gradients(g, c, w):
        gm = g.reshape(B, groups, O // groups, L)
        dcols = dw = None
        if need_cols:  # W^T G: what im2col's rule (col2im) turns into the transposed convolution
            dcols = (np.swapaxes(w.reshape(groups, O // groups, K), -1, -2) @ gm).reshape(cols_shape)
        if need_w:  # G cols^T summed over the batch: the correlation, as (cols G^T)^T (3.2 instead of
            # 3.6 ms CPU for B=32, 16->32 channels, 24x24, 3x3: BLAS likes this order better)
            dw_t = (c.reshape(B, groups, K, L) @ np.swapaxes(gm, -1, -2)).sum(axis=0)
            dw = np.swapaxes(dw_t, -1, -2).reshape(w_shape)
        return dcols, dw

    if bias is None:
        return record("conv2d", y, (cols, weight), lambda g, c, w, _y: gradients(g, c, w))
    return record("conv2d", y, (cols, weight, bias), lambda g, c, w, _b, _y: gradients(g, c, w) + (g.sum(axis=(0, 2, 3)),))


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

    Recorded as ``im2col`` and ``conv2d`` (the product); gradients in the module's docstring (dX a transposed
    convolution through col2im, dW a correlation), differentiable again.
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

    return _grouped_product(im2col(x, window), weight, bias, groups)
