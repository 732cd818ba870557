"""Hypothesis strategies and a one-call gradient check, for testing ops and models built on microseq.

This module imports Hypothesis (a test dependency: ``pip install microseq[dev]``); ``import microseq`` does
not import it.

What is here
------------
``shapes``, ``broadcastable_shapes``
    Array shapes, alone or several that broadcast together (NumPy rules, or a gufunc signature such as
    matmul's), including size-1 and size-0 axes.
``arrays``, ``tensors``
    Arrays / tensors whose values lie in a declared domain: ``"real"``, ``"positive"`` (for log, sqrt),
    ``"nonzero"`` (for a divisor), ``"unit"`` (probabilities) or an interval ``(lo, hi)``; ``avoid`` keeps
    values away from kinks (relu and abs at 0, the bounds of clip), ``distinct`` keeps them apart (max, min).
``conv2d_cases``, ``pool2d_cases``
    Shapes and arguments of a 2-D convolution or pooling that fit together (NCHW): strides, paddings
    ("same" and "valid" too), dilations, groups, 1x1 kernels and kernels as large as the padded input.
``sequence_batches``
    Padded batches of ragged sequences with their lengths and padding mask, in the (T, B, ...) layout or
    the batch-first one, with garbage in the padding so that a model that reads it gets caught.
``axes``
    An axis of a shape (possibly negative), a tuple of distinct axes, or None: the ``axis``/``dim`` argument
    of a reduction.
``check_gradients``
    The full check of an op in one call: gradcheck in float64 with a random upstream gradient, plus
    "inputs are not mutated", "no two gradients share memory" and "each gradient has its input's shape
    and dtype".
``check_against_torch``
    A function and PyTorch's version of it agree: values, shapes, dtypes and gradients (torch imported on use).
``Arg``, ``Case``, ``case_inputs``, ``check_case``, ``check_case_against_torch``
    A table of element-wise ops, one ``Case`` per row (the op, its NumPy reference, the domain of each
    argument, optionally PyTorch's op), the inputs to draw for a row, and the checks of a row: forward
    against NumPy and gradient against finite differences; values, gradients and dtypes against PyTorch.
``check_second_derivatives``
    The same for second order: the backward pass recorded with ``create_graph=True`` gives the same first
    derivatives as the plain one and sets no ``.grad``, and ``gradgradcheck`` passes.

Example
-------
A property test of a user-written op, ``softplus(x) = log(1 + exp(x))``::

    from hypothesis import given
    import microseq as ms
    from microseq.testing import arrays, check_gradients, shapes

    def softplus(x):
        return ms.log(1 + ms.exp(x))

    @given(arrays(shapes(max_dims=3, max_side=4)))
    def test_softplus_gradient(x):
        check_gradients(softplus, x)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Union

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from . import autograd
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .tensor import Tensor

__all__ = [
    "Arg",
    "Case",
    "DOMAINS",
    "SequenceBatch",
    "arrays",
    "axes",
    "broadcastable_shapes",
    "case_inputs",
    "check_case",
    "check_against_torch",
    "check_case_against_torch",
    "check_gradients",
    "check_second_derivatives",
    "Conv2dCase",
    "conv2d_cases",
    "Pool2dCase",
    "pool2d_cases",
    "class_targets",
    "sequence_batches",
    "shapes",
    "tensors",
]

#: The named value domains, each a union of closed intervals. Bounded, so that exp, pow and finite
#: differences stay well-conditioned; "positive" and "nonzero" keep a gap of 0.1 around 0 (log, 1/x).
DOMAINS: dict[str, tuple[tuple[float, float], ...]] = {
    "real": ((-3.0, 3.0),),
    "positive": ((0.1, 3.0),),
    "nonzero": ((-3.0, -0.1), (0.1, 3.0)),
    "unit": ((0.0, 1.0),),
}

#: How far ``avoid`` keeps values from each avoided point (finite differences step 1e-6, far below).
KINK_MARGIN = 1e-3
#: The smallest gap between two values of a ``distinct`` array.
DISTINCT_GAP = 1e-2


# --------------------------------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------------------------------
def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 0, max_side: int = 5) -> st.SearchStrategy:
    """Array shapes (tuples of ints), size-0 axes included when ``min_side`` is 0.

    >>> shapes(max_dims=2, max_side=3).example()  # doctest: +SKIP
    (3, 0)
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(
    num_shapes: int,
    min_dims: int = 0,
    max_dims: int = 4,
    min_side: int = 0,
    max_side: int = 5,
    signature: str | None = None,
) -> st.SearchStrategy:
    """``num_shapes`` shapes that broadcast together, and the shape of the result.

    Parameters
    ----------
    num_shapes : int
    min_dims, max_dims, min_side, max_side : int
        Bounds of the broadcast (loop) dimensions; axes of size 1 and (if ``min_side`` is 0) size 0 appear.
    signature : str, optional
        A gufunc signature such as ``np.matmul.signature`` (``"(n?,k),(k,m?)->(n?,m?)"``, ``?`` marks a
        dimension that may be absent: matmul's vector cases). Core dimensions come after the broadcast ones.

    Returns
    -------
    SearchStrategy of ``BroadcastableShapes(input_shapes, result_shape)``
        ``input_shapes`` is a tuple of ``num_shapes`` shapes.

    >>> broadcastable_shapes(2).example()  # doctest: +SKIP
    BroadcastableShapes(input_shapes=((4, 1), (3,)), result_shape=(4, 3))
    """
    options = dict(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)
    if signature is not None:
        return hnp.mutually_broadcastable_shapes(signature=signature, **options)
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, **options)


@st.composite
def axes(draw, shape, allow_none: bool = True, allow_tuple: bool = True, nonempty: bool = False):
    """None, one axis of ``shape`` (drawn negative half of the time) or a tuple of distinct axes.

    ``nonempty`` draws only axes of nonzero size (for max, min, argmax). With no axis to draw, None.

    >>> axes((2, 0, 3)).example()  # doctest: +SKIP
    -1
    """
    ndim = len(shape)
    candidates = [i for i in range(ndim) if not nonempty or shape[i] > 0]
    kinds = (["none"] if allow_none or not candidates else []) + (["int"] if candidates else [])
    kinds += ["tuple"] if candidates and allow_tuple else []
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int":
        axis = draw(st.sampled_from(candidates))
        return axis - ndim if draw(st.booleans()) else axis
    return tuple(draw(st.lists(st.sampled_from(candidates), min_size=1, unique=True)))


# --------------------------------------------------------------------------------------------------
# Arrays and tensors with declared domains
# --------------------------------------------------------------------------------------------------
def _intervals(domain) -> tuple[tuple[float, float], ...]:
    if isinstance(domain, str):
        if domain not in DOMAINS:
            raise ValueError(f"arrays: unknown domain {domain!r}; use one of {sorted(DOMAINS)} or (lo, hi)")
        return DOMAINS[domain]
    lo, hi = domain
    if not lo <= hi:
        raise ValueError(f"arrays: domain ({lo}, {hi}) is empty")
    return ((float(lo), float(hi)),)


def _push_away(value: float, avoid: Sequence[float], margin: float) -> float:
    """``value`` moved to at least ``margin`` from every point of ``avoid`` (on the side it was on)."""
    for point in avoid:
        if abs(value - point) < margin:
            value = point + margin if value >= point else point - margin
    return value


def _float_elements(dtype: np.dtype, domain, avoid: Sequence[float], distinct: bool) -> st.SearchStrategy:
    intervals = _intervals(domain)
    if distinct:
        # Points of a grid with spacing DISTINCT_GAP over every interval; `unique=True` picks distinct ones.
        grid = np.concatenate(
            [np.linspace(lo, hi, max(int((hi - lo) / DISTINCT_GAP), 1) + 1) for lo, hi in intervals]
        )
        values = st.integers(0, len(grid) - 1).map(lambda k: float(grid[k]))
    else:
        values = st.one_of([st.floats(lo, hi, allow_nan=False, allow_infinity=False) for lo, hi in intervals])
    if avoid:
        values = values.map(lambda v: _push_away(v, avoid, KINK_MARGIN))
    return values.map(lambda v: float(dtype.type(v)))  # rounded to dtype (float32 may round past a bound)


def arrays(
    shape,
    dtype=np.float64,
    domain="real",
    avoid: Sequence[float] = (),
    distinct: bool = False,
) -> st.SearchStrategy:
    """NumPy arrays of ``shape`` with values in ``domain``.

    Parameters
    ----------
    shape : tuple of int, or a strategy of them (e.g. :func:`shapes`)
    dtype : numpy dtype
        A float dtype (the default float64 is what gradient checks need), an integer dtype (then
        ``domain=(lo, hi)`` is the inclusive range of values; for class indices and lengths) or bool.
    domain : {"real", "positive", "nonzero", "unit"} or (lo, hi)
        "real" is [-3, 3]; "positive" [0.1, 3] (log, sqrt, a base of pow); "nonzero" [-3, -0.1] or
        [0.1, 3] (a divisor); "unit" [0, 1] (probabilities, targets of binary cross entropy);
        ``(lo, hi)`` any closed interval. Bounded on purpose: the draws stay where finite differences work.
        Values are drawn in float64 and rounded to ``dtype`` (in float32 a value may round just past a bound).
    avoid : sequence of float
        Points where the function has a kink (0 for relu and abs, the bounds for clip): values closer than
        ``KINK_MARGIN`` (1e-3) to one are moved that far away, so finite differences never straddle a kink.
        Test the kink itself with an explicit ``@example`` and the convention you expect.
    distinct : bool
        Every two values differ by at least ``DISTINCT_GAP`` (1e-2): no ties for max/min/sort.

    Examples
    --------
    >>> arrays((2, 3), domain="positive").example()  # doctest: +SKIP
    array([[0.1, 2.5, 0.1], [1.0, 0.3, 3.0]])
    >>> arrays(shapes(max_dims=2), avoid=(0.0,)).example()  # relu's input  # doctest: +SKIP
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        elements = _float_elements(dtype, domain, avoid, distinct)
    elif dtype.kind in "iu":
        if isinstance(domain, str):
            raise ValueError(f"arrays: integer dtype {dtype} needs domain=(lo, hi), got {domain!r}")
        elements = st.integers(int(domain[0]), int(domain[1]))
    elif dtype.kind == "b":
        elements = st.booleans()
    else:
        raise TypeError(f"arrays: unsupported dtype {dtype}")
    return hnp.arrays(dtype, shape, elements=elements, unique=distinct)


def tensors(
    shape,
    dtype=np.float64,
    domain="real",
    avoid: Sequence[float] = (),
    distinct: bool = False,
    requires_grad: bool = True,
) -> st.SearchStrategy:
    """:class:`~microseq.Tensor` values drawn like :func:`arrays`, requiring grad (float dtypes only).

    >>> tensors((3,), domain="positive").example()  # doctest: +SKIP
    tensor([0.1, 1.5, 3. ], dtype=float64, requires_grad=True)
    """
    grad = requires_grad and np.dtype(dtype).kind == "f"
    return arrays(shape, dtype, domain, avoid, distinct).map(lambda a: Tensor(a, requires_grad=grad))


# --------------------------------------------------------------------------------------------------
# Padded batches of ragged sequences
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SequenceBatch:
    """A padded batch of B sequences of lengths ``1 <= lengths[b] <= T``.

    Attributes
    ----------
    data : numpy.ndarray, shape (T, B, *F), or (B, T, *F) when ``batch_first``
        Real values at the steps ``t < lengths[b]``; the padding holds large garbage values (about 1e6,
        alternating in sign), never zeros, so that a model that reads padding gives visibly wrong results.
    lengths : numpy.ndarray of int64, shape (B,)
    mask : numpy.ndarray of bool, shape (T, B), or (B, T) when ``batch_first``
        True at real steps, False at padding (``padding_mask`` is the complement, PyTorch's
        ``key_padding_mask`` convention).
    batch_first : bool
        Which layout ``data`` and ``mask`` use.
    """

    data: np.ndarray
    lengths: np.ndarray
    mask: np.ndarray
    batch_first: bool

    @property
    def time_axis(self) -> int:
        return 1 if self.batch_first else 0

    @property
    def batch_axis(self) -> int:
        return 0 if self.batch_first else 1

    @property
    def max_time(self) -> int:
        """T, the padded length."""
        return self.data.shape[self.time_axis]

    @property
    def batch_size(self) -> int:
        """B."""
        return self.data.shape[self.batch_axis]

    @property
    def padding_mask(self) -> np.ndarray:
        """True at padding: ``~mask``."""
        return ~self.mask

    def sequence(self, b: int) -> np.ndarray:
        """The real steps of sequence ``b`` alone, shape (lengths[b], *F)."""
        steps = self.data[b] if self.batch_first else self.data[:, b]
        return steps[: self.lengths[b]]

    def time_major(self) -> np.ndarray:
        """``data`` in the (T, B, *F) layout (a view)."""
        return np.swapaxes(self.data, 0, 1) if self.batch_first else self.data


@st.composite
def sequence_batches(
    draw,
    max_time: int = 6,
    max_batch: int = 4,
    features=3,
    batch_first: bool | None = None,
    dtype=np.float64,
    domain="real",
    min_time: int = 1,
    min_batch: int = 1,
    enforce_sorted: bool = False,
    garbage: float = 1e6,
) -> SequenceBatch:
    """Padded batches of ragged sequences, as :class:`SequenceBatch`.

    Parameters
    ----------
    max_time, min_time : int
        Bounds of T, the padded length (at least 1). Lengths are drawn in [1, T]; T may exceed the longest.
    max_batch, min_batch : int
        Bounds of B (at least 1).
    features : int or tuple of int
        The trailing shape F of one step (an int n means (n,); ``()`` gives (T, B) batches of scalars).
    batch_first : bool, optional
        Layout of ``data`` and ``mask``; drawn (both layouts) when None.
    dtype : numpy float dtype
    domain : see :func:`arrays`
        Domain of the real values.
    enforce_sorted : bool
        Lengths in decreasing order (what PyTorch's ``pack_padded_sequence`` requires by default).
    garbage : float
        Magnitude of the padding values.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(sequence_batches(max_time=5, features=2))
    ... def test_padding_is_ignored(batch):
    ...     ...  # compare the model on batch.data with the model on each batch.sequence(b) alone
    """
    features = (features,) if isinstance(features, (int, np.integer)) else tuple(features)
    if min_time < 1 or min_batch < 1:
        raise ValueError("sequence_batches: min_time and min_batch must be at least 1")
    dtype = np.dtype(dtype)
    time = draw(st.integers(min_time, max_time))
    batch = draw(st.integers(min_batch, max_batch))
    first = draw(st.booleans()) if batch_first is None else bool(batch_first)
    lengths = np.array(draw(st.lists(st.integers(1, time), min_size=batch, max_size=batch)), dtype=np.int64)
    if enforce_sorted:
        lengths = np.sort(lengths)[::-1].copy()
    values = draw(arrays((time, batch, *features), dtype, domain))

    mask = np.arange(time)[:, None] < lengths[None, :]  # (T, B)
    sign = np.where(np.arange(values.size).reshape(values.shape) % 2 == 0, 1.0, -1.0)
    padding = np.broadcast_to(~mask.reshape(mask.shape + (1,) * len(features)), values.shape)
    data = np.where(padding, sign * garbage, values).astype(dtype)
    if first:
        data, mask = np.ascontiguousarray(np.swapaxes(data, 0, 1)), np.ascontiguousarray(mask.T)
    return SequenceBatch(data=data, lengths=lengths, mask=mask, batch_first=first)


@st.composite
def class_targets(
    draw, max_classes: int = 4, min_classes: int = 1, max_batch: int = 3, ignore_index: int = -100, dtype=np.float64
) -> tuple:
    """Scores, integer class targets and optional class weights in one of PyTorch's layouts, as
    ``(scores, target, weight)``: what ``cross_entropy``, ``nll_loss`` and their modules take.

    Shapes: scores (C,), (N, C) or (N, C, d) with targets (), (N,) or (N, d); N and d may be 0. Some targets
    are ``ignore_index``; ``weight`` is None or (C,) positive.

    Examples
    --------
    >>> from hypothesis import assume, given
    >>> @given(class_targets())
    ... def test_mean_counts_only_targets_that_are_not_ignored(case):
    ...     scores, target, weight = case
    ...     assume((target != -100).any())  # a 'mean' over no target is NaN
    """
    n_classes = draw(st.integers(min_classes, max_classes))
    layout = draw(st.sampled_from(["unbatched", "batched", "spatial"]))
    if layout == "unbatched":
        shape, target_shape = (n_classes,), ()
    else:
        n = draw(st.integers(0, max_batch))
        extra = (draw(st.integers(0, 3)),) if layout == "spatial" else ()
        shape, target_shape = (n, n_classes, *extra), (n, *extra)
    scores = draw(arrays(shape, dtype))
    target = draw(arrays(target_shape, np.int64, (0, n_classes - 1)))
    target = np.where(draw(arrays(target_shape, bool)), ignore_index, target)
    weight = draw(st.none() | arrays((n_classes,), dtype, "positive"))
    return scores, target, weight


# --------------------------------------------------------------------------------------------------
# Convolution and pooling geometries
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Conv2dCase:
    """Arguments of ``conv2d`` that fit together: input (B, C, H, W), weight (O, C / groups, kH, kW), and the
    keyword arguments ``stride``, ``padding``, ``dilation``, ``groups`` (PyTorch's names)."""

    input_shape: tuple
    weight_shape: tuple
    kwargs: dict


def _sizes(draw, low: int, high: int) -> tuple[int, int]:
    return draw(st.integers(low, high)), draw(st.integers(low, high))


def _input_side(draw, extent: int, padding: int, max_extra: int) -> int:
    """An input side whose padded length is at least ``extent`` (exactly ``extent`` sometimes: one window)."""
    return max(extent - 2 * padding, 1) + draw(st.integers(0, max_extra))


@st.composite
def conv2d_cases(draw, max_batch: int = 2, max_channels: int = 2, max_groups: int = 3, max_kernel: int = 3,
                 max_stride: int = 3, max_dilation: int = 2, max_padding: int = 2, max_extra: int = 3) -> Conv2dCase:
    """:class:`Conv2dCase` s: batch 0 to ``max_batch``, ``groups`` up to ``max_groups`` with up to ``max_channels``
    input and output channels per group, kernels from 1x1, strides, dilations, paddings as ints, pairs,
    "same" (then stride 1) or "valid", and inputs from exactly one window's size up to ``max_extra`` more."""
    groups = draw(st.integers(1, max_groups))
    channels_in, channels_out = (groups * n for n in _sizes(draw, 1, max_channels))
    kernel, dilation = _sizes(draw, 1, max_kernel), _sizes(draw, 1, max_dilation)
    padding = draw(st.one_of(st.sampled_from(["same", "valid"]), st.integers(0, max_padding),
                             st.tuples(st.integers(0, max_padding), st.integers(0, max_padding))))
    stride = (1, 1) if padding == "same" else _sizes(draw, 1, max_stride)
    pads = {"same": (0, 0), "valid": (0, 0)}.get(padding, (padding, padding) if isinstance(padding, int) else padding)
    extents = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = tuple(_input_side(draw, e, p, max_extra) for e, p in zip(extents, pads))
    return Conv2dCase(
        input_shape=(draw(st.integers(0, max_batch)), channels_in, *size),
        weight_shape=(channels_out, channels_in // groups, *kernel),
        kwargs=dict(stride=stride, padding=padding, dilation=dilation, groups=groups),
    )


@dataclass(frozen=True)
class Pool2dCase:
    """Arguments of ``max_pool2d`` / ``avg_pool2d`` that fit together: input (B, C, H, W) and the keyword
    arguments ``kernel_size``, ``stride``, ``padding`` (at most half the kernel), ``dilation`` (1 for average
    pooling, which has none), ``ceil_mode``."""

    input_shape: tuple
    kwargs: dict


@st.composite
def pool2d_cases(draw, max_batch: int = 2, max_channels: int = 2, max_kernel: int = 3, max_stride: int = 3,
                 max_dilation: int = 2, max_extra: int = 3) -> Pool2dCase:
    """:class:`Pool2dCase` s; ``max_dilation=1`` for average pooling."""
    kernel, dilation = _sizes(draw, 1, max_kernel), _sizes(draw, 1, max_dilation)
    extents = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    padding = tuple(draw(st.integers(0, e // 2)) for e in extents)
    size = tuple(_input_side(draw, e, p, max_extra) for e, p in zip(extents, padding))
    kwargs = dict(kernel_size=kernel, stride=_sizes(draw, 1, max_stride), padding=padding, ceil_mode=draw(st.booleans()))
    if max_dilation > 1:
        kwargs["dilation"] = dilation
    return Pool2dCase((draw(st.integers(0, max_batch)), draw(st.integers(1, max_channels)), *size), kwargs)


# --------------------------------------------------------------------------------------------------
# The one-call gradient check
# --------------------------------------------------------------------------------------------------
def _as_inputs(inputs) -> list:
    """Float arrays become float64 tensors that require grad; tensors and other arrays pass unchanged."""
    converted = []
    for x in inputs:
        if isinstance(x, np.ndarray) and x.dtype.kind == "f":
            converted.append(Tensor(x.astype(np.float64), requires_grad=True))
        else:
            converted.append(x)
    return converted


def _checked_inputs(caller: str, inputs, names) -> tuple[list, list[str], list[int]]:
    """The inputs as :func:`_as_inputs` makes them, their names and the positions of those that require grad
    (the checked ones); a GradcheckError naming ``caller`` when none does."""
    args = _as_inputs(inputs)
    names = list(names) if names is not None else [f"input {i}" for i in range(len(args))]
    positions = [i for i, x in enumerate(args) if isinstance(x, Tensor) and x.requires_grad]
    if not positions:
        raise GradcheckError(f"{caller}: no input requires grad, nothing to check")
    return args, names, positions


def _values(x):
    return x.data if isinstance(x, Tensor) else x


def _of_checked(fn: Callable, args: list, positions: list[int]) -> Callable:
    """``fn`` as a function of the checked inputs alone: the others (constants) stay as given."""

    def of_checked(*tensors):
        full = list(args)
        for i, tensor in zip(positions, tensors):
            full[i] = tensor
        return fn(*full)

    return of_checked


def check_gradients(
    fn: Callable,
    *inputs,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    eps: float = 1e-6,
    fast: bool | None = None,
    seed: int = 0,
    names: Sequence[str] | None = None,
) -> None:
    """Check an op's backward completely, in one call (MyGrad's recipe, on top of :func:`gradcheck`).

    1. ``gradcheck``: backward with a random upstream gradient (float64) agrees with central differences.
    2. Forward and backward leave every input's values unchanged (and backward leaves the output alone).
    3. Every gradient has its input's shape and dtype.
    4. No two gradients share memory, and no gradient shares memory with an input or the output.

    Parameters
    ----------
    fn : callable
        ``fn(*inputs)`` returns a Tensor (or a tuple of Tensors).
    *inputs : Tensor or array
        Float arrays are copied into float64 tensors that require grad (those are checked); tensors are
        used as they are (checked if they require grad, which needs float64); other values (integer
        targets, boolean masks, Python numbers) are passed through as constants.
    atol, rtol, eps, fast, seed
        As in :func:`microseq.gradcheck`.
    names : sequence of str, optional
        Names of the inputs in error messages.

    Raises
    ------
    GradcheckError
        Naming the input and what went wrong.

    Examples
    --------
    >>> import numpy as np
    >>> import microseq as ms
    >>> from microseq.testing import check_gradients
    >>> x = np.array([[0.5, -1.0, 2.0]])
    >>> w = np.array([[1.0], [2.0], [3.0]])
    >>> check_gradients(lambda x, w: ms.tanh(x @ w), x, w, names=["x", "w"])
    """
    args, names, positions = _checked_inputs("check_gradients", inputs, names)
    before = [np.array(_values(x), copy=True) for x in args]

    def check_unchanged(stage: str) -> None:
        for name, x, old in zip(names, args, before):
            if not np.array_equal(np.asarray(_values(x)), old, equal_nan=old.dtype.kind == "f"):
                raise GradcheckError(f"check_gradients: {stage} modified {name} in place")

    checked = [(names[i], args[i]) for i in positions]

    # One backward of our own, to look at the gradients' shapes, dtypes and memory.
    for _, x in checked:
        x.grad = None
    result = fn(*args)
    check_unchanged("forward")
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    outputs = [out for out in outputs if isinstance(out, Tensor) and out.requires_grad]
    rng = np.random.default_rng(seed)
    for k, out in enumerate(outputs):
        output_before = out.data.copy()
        upstream = rng.standard_normal(out.shape).astype(out.dtype)
        upstream_before = upstream.copy()
        out.backward(upstream, retain_graph=k < len(outputs) - 1)
        if not np.array_equal(out.data, output_before, equal_nan=True):
            raise GradcheckError(f"check_gradients: backward modified output {k} in place")
        if not np.array_equal(upstream, upstream_before, equal_nan=True):
            raise GradcheckError(f"check_gradients: backward modified the upstream gradient of output {k}")
    check_unchanged("backward")

    grads = []
    for name, x in checked:
        if x.grad is None:
            continue
        if x.grad.shape != x.shape or x.grad.dtype != x.dtype:
            raise GradcheckError(
                f"check_gradients: the gradient of {name} has shape {x.grad.shape} and dtype {x.grad.dtype}, "
                f"expected {x.shape} and {x.dtype}"
            )
        grads.append((name, x.grad))
    arrays_in_play = [(n, np.asarray(_values(x))) for n, x in zip(names, args) if isinstance(x, (Tensor, np.ndarray))]
    arrays_in_play += [(f"output {k}", out.data) for k, out in enumerate(outputs)]
    for i, (name, grad) in enumerate(grads):
        for other, array in grads[i + 1 :] + arrays_in_play:
            if np.shares_memory(grad, array):
                raise GradcheckError(f"check_gradients: the gradient of {name} shares memory with {other}")

    # The values: finite differences, perturbing only the checked inputs (constants stay as they are).
    of_checked = _of_checked(fn, args, positions)
    for _, x in checked:
        x.grad = None
    gradcheck(
        of_checked, [x for _, x in checked], eps=eps, atol=atol, rtol=rtol, fast=fast, seed=seed,
        names=[name for name, _ in checked],
    )
    check_unchanged("gradcheck")


# --------------------------------------------------------------------------------------------------
# Tables of element-wise ops
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Arg:
    """How to draw one argument of an op: its value domain, the kinks to keep away from and whether its values
    come from the grid of ``distinct`` values (see :func:`arrays`). Two grid arguments either tie exactly or
    differ by at least ``DISTINCT_GAP``: what ``maximum`` needs (a central difference at an exact tie is the
    half-half split)."""

    domain: object = "real"
    avoid: tuple = ()
    distinct: bool = False


@dataclass(frozen=True)
class Case:
    """One row of an op's test table.

    Attributes
    ----------
    name : str
    op : callable
        The microseq op, on tensors.
    reference : callable
        The same function in NumPy/SciPy, on arrays.
    args : tuple of Arg
        One per tensor argument; with several, their shapes are drawn mutually broadcastable.
    torch : str or callable, optional
        PyTorch's op: a dotted name under ``torch`` (``"sin"``, ``"nn.functional.gelu"``) called with the
        tensors, or ``torch(torch_module, *tensors)``. None: no parity test.
    """

    name: str
    op: Callable
    reference: Callable
    args: tuple
    torch: Union[str, Callable, None] = None


@st.composite
def case_inputs(draw, case: Case, dtype=np.float64):
    """Arrays for ``case``: any shape (size 0 and 1 included) for one argument, broadcastable ones for more."""
    if len(case.args) == 1:
        arg_shapes = (draw(shapes(max_dims=3, max_side=4)),)
    else:
        arg_shapes = draw(broadcastable_shapes(len(case.args), max_dims=3, max_side=3)).input_shapes
    return [
        draw(arrays(shape, dtype, arg.domain, arg.avoid, arg.distinct)) for shape, arg in zip(arg_shapes, case.args)
    ]


def check_case(case: Case, inputs: Sequence[np.ndarray], rtol: float = 1e-12) -> None:
    """Forward against ``case.reference`` (float64 result of the right shape), then :func:`check_gradients`."""
    out = case.op(*[Tensor(x) for x in inputs])
    expected = case.reference(*inputs)
    assert out.dtype == np.float64, f"{case.name}: float64 inputs gave {out.dtype}"
    assert out.shape == np.shape(expected), f"{case.name}: shape {out.shape}, expected {np.shape(expected)}"
    np.testing.assert_allclose(out.data, expected, rtol=rtol, atol=1e-300, err_msg=case.name)
    check_gradients(case.op, *inputs)


#: Tolerances of a parity test against PyTorch, by dtype: the two libraries may round differently.
TORCH_TOLERANCES = {
    np.dtype(np.float32): dict(rtol=1e-5, atol=1e-6),
    np.dtype(np.float64): dict(rtol=1e-10, atol=1e-13),
}


def check_case_against_torch(case: Case, inputs: Sequence[np.ndarray], seed: int = 0) -> None:
    """``case.op`` against ``case.torch`` with :func:`check_against_torch`, in the dtype of ``inputs`` (float32
    or float64) with that dtype's tolerances. Needs ``torch`` (imported here only)."""
    import torch

    if isinstance(case.torch, str):
        torch_fn = torch
        for part in case.torch.split("."):
            torch_fn = getattr(torch_fn, part)
    else:
        torch_fn = lambda *tensors: case.torch(torch, *tensors)  # noqa: E731
    dtype = np.result_type(*inputs)
    check_against_torch(case.op, torch_fn, *inputs, seed=seed, dtype=dtype, **TORCH_TOLERANCES[dtype])


# --------------------------------------------------------------------------------------------------
# Parity with PyTorch
# --------------------------------------------------------------------------------------------------
def check_against_torch(
    fn: Callable,
    torch_fn: Callable,
    *inputs,
    rtol: float = 1e-7,
    atol: float = 1e-12,
    seed: int = 0,
    dtype=np.float64,
) -> None:
    """Check that ``fn`` (on microseq tensors) and ``torch_fn`` (on torch tensors) agree: output values,
    shapes and dtypes, and the gradients (values and dtypes) of every float input for the same random upstream
    gradients.

    Parameters
    ----------
    fn, torch_fn : callable
        The same computation in microseq and in PyTorch; each returns a tensor or a tuple of them (a tuple
        such as ``(values, indices)`` is compared element by element).
    *inputs : array
        Float arrays become tensors of ``dtype`` that require grad on both sides; other arrays (indices,
        masks) become constant tensors; anything else is passed as it is.
    rtol, atol : float
        Tolerances of the value and gradient comparisons (NaN must match NaN, inf the same inf).
    dtype : numpy float dtype
        float64 (the default) or float32, to check that the results keep PyTorch's dtypes.

    Raises
    ------
    AssertionError
        Naming the output or input that differs. ``import torch`` must work (skip the test otherwise).
    """
    import torch

    ours, theirs = [], []
    for x in inputs:
        if isinstance(x, np.ndarray):
            grad = x.dtype.kind == "f"
            x = x.astype(dtype) if grad else x
            ours.append(Tensor(x.copy(), requires_grad=grad))
            theirs.append(torch.tensor(x, requires_grad=grad))
        else:
            ours.append(x)
            theirs.append(x)
    out, ref = fn(*ours), torch_fn(*theirs)
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    refs = tuple(ref) if isinstance(ref, (tuple, list)) else (ref,)
    assert len(outs) == len(refs), f"check_against_torch: {len(outs)} outputs, PyTorch gives {len(refs)}"
    rng = np.random.default_rng(seed)
    grads_of = []
    for k, (o, r) in enumerate(zip(outs, refs)):
        expected = r.detach().numpy()
        assert o.dtype == expected.dtype, f"output {k}: dtype {o.dtype}, PyTorch gives {expected.dtype}"
        assert o.shape == expected.shape, f"output {k}: shape {o.shape}, PyTorch gives {expected.shape}"
        np.testing.assert_allclose(o.data, expected, rtol=rtol, atol=atol, err_msg=f"output {k} values")
        if r.requires_grad:
            grads_of.append((o, r, rng.standard_normal(o.shape).astype(o.dtype)))
    float_inputs = [(i, t) for i, t in enumerate(theirs) if isinstance(t, torch.Tensor) and t.requires_grad]
    if not grads_of or not float_inputs:
        return
    expected_grads = torch.autograd.grad(
        [r for _, r, _ in grads_of], [t for _, t in float_inputs],
        [torch.tensor(v) for _, _, v in grads_of], allow_unused=True,
    )
    for k, (o, _, v) in enumerate(grads_of):
        if o.requires_grad:
            o.backward(v, retain_graph=k < len(grads_of) - 1)
    for (i, t), expected in zip(float_inputs, expected_grads):
        got = ours[i].grad if ours[i].grad is not None else np.zeros(t.shape, dtype)
        want = expected.numpy() if expected is not None else np.zeros(t.shape, dtype)
        assert got.dtype == want.dtype, f"gradient of input {i}: dtype {got.dtype}, PyTorch gives {want.dtype}"
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


def check_second_derivatives(
    fn: Callable,
    *inputs,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    eps: float = 1e-6,
    fast: bool | None = None,
    seed: int = 0,
    names: Sequence[str] | None = None,
) -> None:
    """Check an op's second derivatives in one call (the second-order companion of :func:`check_gradients`).

    1. The first derivatives recorded with ``create_graph=True`` (the backward rules run on Tensors) equal
       the plain ones (the rules run on arrays), for a random upstream gradient, and no ``.grad`` is set.
    2. :func:`~microseq.gradgradcheck` passes: second derivatives against finite differences of the first.

    Parameters
    ----------
    fn, *inputs, atol, rtol, eps, fast, seed, names
        As in :func:`check_gradients`: float arrays become float64 tensors that require grad (those are
        checked); other values pass through as constants.

    Raises
    ------
    GradcheckError
        Naming the input and what went wrong.

    Examples
    --------
    >>> import numpy as np
    >>> import microseq as ms
    >>> from microseq.testing import check_second_derivatives
    >>> check_second_derivatives(lambda x, w: ms.tanh(x @ w), np.ones((2, 3)), np.full((3, 1), 0.5))
    """
    args, names, positions = _checked_inputs("check_second_derivatives", inputs, names)
    checked = [args[i] for i in positions]
    of_checked = _of_checked(fn, args, positions)
    result = of_checked(*checked)
    outputs = [out for out in (result if isinstance(result, (tuple, list)) else (result,))
               if isinstance(out, Tensor) and out.requires_grad]
    if not outputs:
        raise GradcheckError("check_second_derivatives: no output depends on an input that requires grad")
    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(out.shape).astype(out.dtype) for out in outputs]
    plain = autograd.grad(outputs, checked, grad_outputs=upstream, retain_graph=True, allow_unused=True)
    recorded = autograd.grad(outputs, checked, grad_outputs=upstream, create_graph=True, allow_unused=True)
    for i, a, b in zip(positions, plain, recorded):
        a, b = np.asarray(a.data), np.asarray(b.data)
        if not np.allclose(a, b, rtol=1e-10, atol=1e-12, equal_nan=True):
            worst = np.unravel_index(np.argmax(np.abs(a - b)), a.shape)
            raise GradcheckError(
                f"check_second_derivatives: the gradient of {names[i]} recorded with create_graph=True differs "
                f"from the plain one (at index {tuple(int(k) for k in worst)}: {float(b[worst])!r} instead of "
                f"{float(a[worst])!r})"
            )
    for i, x in zip(positions, checked):
        if x.grad is not None:
            raise GradcheckError(f"check_second_derivatives: autograd.grad set .grad on {names[i]}")
    gradgradcheck(of_checked, checked, eps=eps, atol=atol, rtol=rtol, fast=fast, seed=seed,
                  names=[names[i] for i in positions])

