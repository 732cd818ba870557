"""Ops that rearrange or copy values: expand, pad, flip, roll, repeat, tile, triangles, diagonals, flatten, ...

Each gradient sends the upstream gradient back to where each value came from. A value copied several times
(expand, repeat, a replicate pad) receives the sum of its copies' gradients. Where an op is PyTorch's, it takes
PyTorch's arguments (``dim``, ``dims``, a pad tuple that starts with the last dimension).

Several ops are compositions of others, so that their gradients (and the gradients of those) come for free:
``diagonal`` and the reflect/replicate/circular pads pick elements with :func:`~microseq.ops.indexing.index_select`,
``flatten``, ``unflatten`` are reshapes, ``narrow`` is a slice (and ``movedim`` is NumPy's ``moveaxis``).
"""

from __future__ import annotations

import numpy as np

from .._checks import ShapeError
from ..tensor import Tensor, array_of, as_tensor, implements, record
from ._util import normalize_axes, normalize_axis
from .indexing import index_select
from .shape import broadcast_to, getitem, moveaxis, reshape

__all__ = [
    "expand", "pad", "flip", "roll", "repeat", "tile", "repeat_interleave", "tril", "triu",
    "diagonal", "flatten", "unflatten", "movedim", "narrow",
]

movedim = moveaxis  # PyTorch's name for NumPy's moveaxis


def _sizes(sizes: tuple) -> tuple:
    """``f(x, 2, 3)`` and ``f(x, (2, 3))`` both give ``(2, 3)`` (PyTorch accepts both)."""
    if len(sizes) == 1 and not isinstance(sizes[0], (int, np.integer)):
        return tuple(int(s) for s in sizes[0])
    return tuple(int(s) for s in sizes)


# -- broadcasting ------------------------------------------------------------------------------------
def expand(a, *sizes) -> Tensor:
    """PyTorch's ``x.expand(*sizes)``: :func:`~microseq.ops.shape.broadcast_to` where ``-1`` keeps an existing
    axis's size (a read-only view; the gradient adds the copies up).

    New axes may only be added in front, and ``-1`` is not allowed for them.
    """
    a = as_tensor(a)
    sizes = _sizes(sizes)
    lead = len(sizes) - a.ndim
    if lead < 0:
        raise ShapeError(f"expand: {len(sizes)} sizes {sizes} given for a tensor with {a.ndim} dimensions {a.shape}")
    if any(s == -1 for s in sizes[:lead]):
        raise ValueError(f"expand: -1 is not allowed for the new leading dimensions in {sizes}")
    shape = sizes[:lead] + tuple(n if s == -1 else s for s, n in zip(sizes[lead:], a.shape))
    return broadcast_to(a, shape)


# -- padding -----------------------------------------------------------------------------------------
def _pad_widths(op: str, pad, ndim: int) -> list[tuple[int, int]]:
    """PyTorch's pad tuple (left, right of the last dim, then of the one before, ...) as NumPy's widths."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise ValueError(f"{op}: the pad tuple needs an even length of at most 2 * {ndim}, got {pad}")
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return widths


def _pad_constant(a: Tensor, widths, value) -> Tensor:
    """Constant padding by non-negative widths.  The gradient is the upstream gradient's middle part."""
    y = np.pad(a.data, widths, mode="constant", constant_values=value) if widths else a.data.copy()
    middle = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, a.shape))
    return record("pad", y, (a,), lambda g, *_: (g[middle],))


def _source_index(mode: str, n: int, lo: int, hi: int) -> np.ndarray:
    """For each position of a padded axis of length ``n``, the position of the input it copies."""
    positions = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(positions, 0, n - 1)
    if mode == "circular":
        return positions % n
    period = 2 * (n - 1)  # reflect: ... 2 1 [0 1 2 ... n-1] n-2 ...
    folded = positions % period if period else np.zeros_like(positions)
    return np.where(folded < n, folded, period - folded)


def pad(a, pad, mode: str = "constant", value=None) -> Tensor:
    """PyTorch's ``F.pad``: pad the last ``len(pad) // 2`` dimensions.

    Parameters
    ----------
    a : Tensor, any shape
    pad : tuple of int
        ``(left, right)`` of the last dimension, then ``(left, right)`` of the one before, and so on (PyTorch's
        order). In constant mode a negative width crops.
    mode : {"constant", "reflect", "replicate", "circular"}
        ``reflect`` mirrors without repeating the edge (needs width < size), ``replicate`` repeats the edge
        value (any width), ``circular`` wraps around (needs width <= size). Unlike PyTorch these work for any number of
        dimensions.
    value : float, optional
        The fill value of constant mode (0 by default).

    The gradient of a copied value is the sum of the gradients of its copies.
    """
    a = as_tensor(a)
    widths = _pad_widths("pad", pad, a.ndim)
    if mode == "constant":
        if any(lo < 0 or hi < 0 for lo, hi in widths):  # crop first (a slice), then pad what is left
            crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, a.shape))
            if any(s.start > s.stop for s in crop):
                raise ValueError(f"pad: negative widths {tuple(pad)} crop more than the shape {a.shape}")
            a = getitem(a, crop)
            widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        return _pad_constant(a, widths, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if value is not None and value != 0:
        raise ValueError(f"pad: value= is only used by mode='constant', got {value} with mode {mode!r}")
    for axis, ((lo, hi), n) in enumerate(zip(widths, a.shape)):
        if lo == hi == 0:
            continue
        limit = {"reflect": n - 1, "circular": n, "replicate": max(lo, hi)}[mode]
        if min(lo, hi) < 0 or max(lo, hi) > limit or n == 0:
            raise ValueError(
                f"pad: {mode} padding of dimension {axis} (size {n}) by ({lo}, {hi}) needs a nonempty dimension "
                f"and widths between 0 and {limit}"
            )
        a = index_select(a, axis, _source_index(mode, n, lo, hi))
    return a


# -- flip, roll ---------------------------------------------------------------------------------------
def flip(a, dims) -> Tensor:
    """Reverse the order along ``dims`` (a copy, as in PyTorch).  The gradient is flipped back."""
    a = as_tensor(a)
    axes = normalize_axes("flip", dims, a.ndim)
    return record("flip", np.flip(a.data, axes).copy(), (a,), lambda g, *_: (np.flip(g, axes),))


@implements(np.flip)
def _numpy_flip(m, axis=None) -> Tensor:
    """NumPy's ``flip`` on Tensors (for rules): every axis when ``axis`` is None."""
    return flip(m, axis)


def roll(a, shifts, dims=None) -> Tensor:
    """Shift the values along ``dims`` cyclically (over the flattened tensor when ``dims`` is None).

    The gradient is rolled back by ``-shifts``.
    """
    a = as_tensor(a)
    if dims is not None:
        dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
        shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
        if len(shifts) != len(dims):
            raise ValueError(f"roll: {len(shifts)} shifts {shifts} for {len(dims)} dims {dims}")
        for d in dims:
            normalize_axes("roll", d, a.ndim)
    elif not isinstance(shifts, (int, np.integer)):
        raise ValueError(f"roll: without dims, shifts must be one int, got {shifts}")
    back = -shifts if isinstance(shifts, (int, np.integer)) else tuple(-s for s in shifts)
    return record("roll", np.roll(a.data, shifts, axis=dims), (a,), lambda g, *_: (np.roll(g, back, dims),))


@implements(np.roll)
def _numpy_roll(a, shift, axis=None) -> Tensor:
    """NumPy's ``roll`` on Tensors (for rules)."""
    return roll(a, shift, axis)


# -- repeat, tile, repeat_interleave -----------------------------------------------------------------
def repeat(a, *sizes) -> Tensor:
    """PyTorch's ``x.repeat(*sizes)`` (NumPy's ``tile``): the whole tensor copied ``sizes[i]`` times along axis i.

    ``sizes`` may be longer than ``a.ndim`` (new leading axes), not shorter. The gradient of an element is the
    sum over its copies: the upstream gradient of shape ``(r0*s0, r1*s1, ...)`` viewed as
    ``(r0, s0, r1, s1, ...)`` and summed over the ``r`` axes.
    """
    a = as_tensor(a)
    reps = _sizes(sizes)
    if len(reps) < a.ndim:
        raise ValueError(
            f"repeat: {len(reps)} repeats {reps} for a tensor with {a.ndim} dimensions; give at least {a.ndim}"
        )
    if any(r < 0 for r in reps):
        raise ValueError(f"repeat: repeats must be non-negative, got {reps}")
    source = a.shape
    padded = (1,) * (len(reps) - a.ndim) + source
    interleaved = tuple(n for pair in zip(reps, padded) for n in pair)
    copies = tuple(range(0, 2 * len(reps), 2))
    y = np.tile(a.data, reps)
    return record("repeat", y, (a,), lambda g, *_: (g.reshape(interleaved).sum(axis=copies).reshape(source),))


def tile(a, dims) -> Tensor:
    """PyTorch's ``torch.tile``: :func:`repeat`, with ones put in front of ``dims`` if it is shorter than ``a.ndim``."""
    a = as_tensor(a)
    dims = _sizes((dims,))
    return repeat(a, (1,) * (a.ndim - len(dims)) + dims)


def repeat_interleave(a, repeats, dim=None) -> Tensor:
    """Repeat each element ``repeats`` times along ``dim`` (over the flattened tensor when ``dim`` is None).

    ``repeats`` is an int or one count per element of that axis. An :func:`index_select` with
    ``np.repeat(arange(n), repeats)``, whose gradient adds the copies up.
    """
    a = as_tensor(a)
    if dim is None:
        a, dim = reshape(a, (-1,)), 0
    dim = normalize_axis("repeat_interleave", dim, a.ndim)
    counts = array_of(repeats)
    n = a.shape[dim]
    per_element = counts.ndim == 1 and counts.size == n
    if counts.dtype.kind not in "iu" or not (counts.ndim == 0 or per_element) or np.any(counts < 0):
        raise ValueError(f"repeat_interleave: repeats must be a non-negative int or {n} of them, got {repeats}")
    return index_select(a, dim, np.repeat(np.arange(n), counts))


# -- triangles and diagonals --------------------------------------------------------------------------
def _triangle(op: str, a, diagonal: int, lower: bool) -> Tensor:
    a = as_tensor(a)
    if a.ndim < 2:
        raise ValueError(f"{op}: needs a tensor with at least 2 dimensions, got shape {a.shape}")
    rows, cols = a.shape[-2:]
    keep = np.tri(rows, cols, diagonal, dtype=bool) if lower else ~np.tri(rows, cols, diagonal - 1, dtype=bool)
    y = np.where(keep, a.data, np.zeros((), a.dtype))
    return record(op, y, (a,), lambda g, *_: (np.where(keep, g, 0),))


def tril(a, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two axes (on and below the ``diagonal``-th diagonal), zeros elsewhere.

    ``diagonal`` > 0 keeps diagonals above the main one too. dy/da = 1 on the kept entries, 0 elsewhere.
    """
    return _triangle("tril", a, diagonal, lower=True)


def triu(a, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two axes (on and above the ``diagonal``-th diagonal), zeros elsewhere."""
    return _triangle("triu", a, diagonal, lower=False)


def diagonal(a, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the plane (``dim1``, ``dim2``), as PyTorch's ``torch.diagonal``.

    Shape: ``a``'s shape without ``dim1`` and ``dim2``, and the diagonal (length L) last. ``offset`` > 0 takes a
    diagonal above the main one (``a[i, i + offset]``), < 0 below. A copy, not a view: the two axes are moved
    to the end and flattened, and the diagonal's elements picked with :func:`index_select` (whose gradient puts
    the upstream gradient back on the diagonal, zeros elsewhere).
    """
    a = as_tensor(a)
    d1, d2 = (normalize_axis("diagonal", d, a.ndim) for d in (dim1, dim2))
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 are the same axis ({dim1}, {dim2})")
    rows, cols = a.shape[d1], a.shape[d2]
    length = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    row = np.arange(length) + max(-offset, 0)
    others = tuple(n for i, n in enumerate(a.shape) if i not in (d1, d2))
    plane = reshape(moveaxis(a, (d1, d2), (-2, -1)), others + (rows * cols,))
    return index_select(plane, -1, row * cols + row + offset)


# -- flatten, unflatten, movedim, narrow (reshapes, transposes and slices) ---------------------------
def flatten(a, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge the axes ``start_dim..end_dim`` (inclusive) into one; a 0-d tensor becomes shape (1,)."""
    a = as_tensor(a)
    if a.ndim == 0:
        return reshape(a, (1,))
    start, end = (normalize_axis("flatten", d, a.ndim) for d in (start_dim, end_dim))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (shape {a.shape})")
    return reshape(a, a.shape[:start] + (int(np.prod(a.shape[start : end + 1])),) + a.shape[end + 1 :])


def unflatten(a, dim: int, sizes) -> Tensor:
    """Split axis ``dim`` into ``sizes`` (one of them may be -1), the inverse of :func:`flatten`."""
    a = as_tensor(a)
    dim = normalize_axis("unflatten", dim, a.ndim)
    sizes = _sizes((sizes,))
    known = int(np.prod([s for s in sizes if s != -1]))
    if sizes.count(-1) > 1 or (-1 not in sizes and known != a.shape[dim]) or (
        -1 in sizes and (known == 0 or a.shape[dim] % known)
    ):
        raise ShapeError(f"unflatten: sizes {sizes} do not multiply to dimension {dim}'s size {a.shape[dim]}")
    sizes = tuple(a.shape[dim] // known if s == -1 else s for s in sizes)
    return reshape(a, a.shape[:dim] + sizes + a.shape[dim + 1 :])


def narrow(a, dim: int, start: int, length: int) -> Tensor:
    """``length`` elements of axis ``dim`` from ``start`` on (a negative ``start`` counts from the end)."""
    a = as_tensor(a)
    dim = normalize_axis("narrow", dim, a.ndim)
    n = a.shape[dim]
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range for dimension {dim} of size {n}")
    start = start % n if start < 0 else start
    if length < 0 or start + length > n:
        raise ValueError(f"narrow: start {start} + length {length} exceeds dimension {dim}'s size {n}")
    return getitem(a, (slice(None),) * dim + (slice(start, start + length),))
