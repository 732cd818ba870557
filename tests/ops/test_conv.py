"""conv2d, max/avg/adaptive-avg pooling and im2col/col2im: values against naive loops,
gradients against finite differences (Hypothesis geometries), second derivatives, special points, PyTorch parity
and one-line errors."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import microseq as ms
import microseq.nn.functional as F
from microseq.ops.conv import Window, col2im, im2col
from microseq.testing import arrays, check_gradients, conv2d_cases, pool2d_cases

try:  # main's one-call second-order check (create_graph against plain backward, then ms.gradgradcheck) ...
    from microseq.testing import check_second_derivatives as second_derivatives
except ImportError:  # ... or, on a branch made before it landed, the local check it replaced (same arguments)
    from .test_higher_order import assert_second_derivatives as second_derivatives


# -- naive references: one output element at a time, straight from the definitions ---------------------------
def conv_padding(padding, kernel, dilation):
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in totals]
    if padding == "valid":
        return [(0, 0), (0, 0)]
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return [(ph, ph), (pw, pw)]


def naive_conv2d(x, w, b, stride, padding, dilation, groups):
    (sh, sw), (dh, dw) = stride, dilation
    kh, kw = w.shape[2:]
    xp = np.pad(x, [(0, 0), (0, 0), *conv_padding(padding, (kh, kw), dilation)])
    B, C, Hp, Wp = xp.shape
    O, Cg = w.shape[:2]
    OH, OW = (Hp - dh * (kh - 1) - 1) // sh + 1, (Wp - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((B, O, OH, OW))
    for n in range(B):
        for o in range(O):
            g = o // (O // groups)
            for i in range(OH):
                for j in range(OW):
                    patch = xp[n, g * Cg : (g + 1) * Cg, i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                               j * sw : j * sw + dw * (kw - 1) + 1 : dw]
                    y[n, o, i, j] = np.sum(patch * w[o]) + (0 if b is None else b[o])
    return y


def pool_output_size(n, k, s, p, d, ceil_mode):
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    return out - 1 if ceil_mode and (out - 1) * s >= n + p else out


def pool_positions(x_shape, kernel_size, stride, padding, dilation, ceil_mode):
    """For each output (i, j): the input positions of its window, as lists of (row, column), padding included."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    H, W = x_shape[2:]
    OH, OW = pool_output_size(H, kh, sh, ph, dh, ceil_mode), pool_output_size(W, kw, sw, pw, dw, ceil_mode)
    return {(i, j): [(i * sh - ph + a * dh, j * sw - pw + c * dw) for a in range(kh) for c in range(kw)]
            for i in range(OH) for j in range(OW)}, (OH, OW)


def naive_max_pool2d(x, g, kernel_size, stride, padding, dilation=(1, 1), ceil_mode=False):
    """Values and the gradient for upstream ``g``: all of it to the first maximum in row-major window order."""
    positions, (OH, OW) = pool_positions(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    H, W = x.shape[2:]
    y, dx = np.zeros(x.shape[:2] + (OH, OW)), np.zeros(x.shape)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for (i, j), window in positions.items():
                inside = [(r, q) for r, q in window if 0 <= r < H and 0 <= q < W]
                if not inside:  # a dilated window that only meets padding: -inf and no gradient, as PyTorch
                    y[n, c, i, j] = -np.inf
                    continue
                best = inside[0]
                for r, q in inside[1:]:
                    if x[n, c, r, q] > x[n, c][best]:
                        best = (r, q)
                y[n, c, i, j] = x[n, c][best]
                if g is not None:
                    dx[n, c][best] += g[n, c, i, j]
    return y, dx


def naive_avg_pool2d(x, kernel_size, stride, padding, ceil_mode=False, count_include_pad=True, divisor_override=None):
    positions, (OH, OW) = pool_positions(x.shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    H, W = x.shape[2:]
    (ph, pw) = padding
    y = np.zeros(x.shape[:2] + (OH, OW))
    for (i, j), window in positions.items():
        inside = [(r, q) for r, q in window if 0 <= r < H and 0 <= q < W]
        in_padded = [(r, q) for r, q in window if -ph <= r < H + ph and -pw <= q < W + pw]
        count = divisor_override or len(in_padded if count_include_pad else inside)
        y[:, :, i, j] = sum(x[:, :, r, q] for r, q in inside) / count
    return y


def naive_adaptive_avg_pool2d(x, output_size):
    H, W = x.shape[2:]
    OH, OW = output_size
    y = np.zeros(x.shape[:2] + (OH, OW))
    for i in range(OH):
        for j in range(OW):
            rows = slice(i * H // OH, -(-(i + 1) * H // OH))
            columns = slice(j * W // OW, -(-(j + 1) * W // OW))
            y[:, :, i, j] = x[:, :, rows, columns].mean(axis=(2, 3))
    return y


# -- im2col and col2im are each other's adjoints ----------------------------------------------------------------
@given(case=conv2d_cases(max_groups=1), data=st.data())
def test_col2im_is_the_adjoint_of_im2col(case, data):
    x = data.draw(arrays(case.input_shape))
    kernel = case.weight_shape[2:]
    padding = [p for pair in conv_padding(case.kwargs["padding"], kernel, case.kwargs["dilation"]) for p in pair]
    window = Window(x.shape[2:], kernel, case.kwargs["stride"], case.kwargs["dilation"], tuple(padding))
    cols_shape = x.shape[:2] + kernel + window.out
    c = data.draw(arrays(cols_shape))
    # <im2col(x), c> == <x, col2im(c)>
    np.testing.assert_allclose(np.sum(im2col(x, window) * c), np.sum(x * col2im(c, window)), atol=1e-10)
    check_gradients(lambda t: im2col(t, window), x)
    check_gradients(lambda t: col2im(t, window), c)


# -- conv2d ------------------------------------------------------------------------------------------------------
@given(case=conv2d_cases(), with_bias=st.booleans(), data=st.data())
def test_conv2d_matches_the_naive_loop_and_finite_differences(case, with_bias, data):
    x, w = data.draw(arrays(case.input_shape)), data.draw(arrays(case.weight_shape))
    b = data.draw(arrays(case.weight_shape[:1])) if with_bias else None
    y = F.conv2d(ms.Tensor(x), ms.Tensor(w), None if b is None else ms.Tensor(b), **case.kwargs)
    np.testing.assert_allclose(y.data, naive_conv2d(x, w, b, **case.kwargs), rtol=1e-12, atol=1e-12)
    inputs = (x, w) if b is None else (x, w, b)
    check_gradients(lambda *t: F.conv2d(*t, **case.kwargs), *inputs)


@settings(max_examples=8)
@given(case=conv2d_cases(max_batch=1, max_channels=1, max_groups=2, max_extra=1), data=st.data())
def test_conv2d_second_derivatives(case, data):
    if case.input_shape[0] == 0:
        case = type(case)((1,) + case.input_shape[1:], case.weight_shape, case.kwargs)
    x, w = data.draw(arrays(case.input_shape)), data.draw(arrays(case.weight_shape))
    b = data.draw(arrays(case.weight_shape[:1]))
    second_derivatives(lambda *t: F.conv2d(*t, **case.kwargs), x, w, b)


@pytest.mark.parametrize("chunk_bytes", [1, 9000])  # one image per chunk, or 2 (4 KB each) and a last one of 1
def test_conv2d_through_several_chunks_of_the_batch(monkeypatch, chunk_bytes):
    import microseq.ops.conv as conv_module

    monkeypatch.setattr(conv_module, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((7, 4, 6, 5)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal(6)
    kwargs = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
    y = F.conv2d(ms.Tensor(x), ms.Tensor(w), ms.Tensor(b), **kwargs)
    np.testing.assert_allclose(y.data, naive_conv2d(x, w, b, **kwargs), rtol=1e-12, atol=1e-12)
    check_gradients(lambda *t: F.conv2d(*t, **kwargs), x[:, :, ::-1, :], w, b)  # a non-contiguous input too


def test_conv2d_of_a_constant_input_gives_only_the_weight_a_gradient():
    rng = np.random.default_rng(0)
    x = ms.Tensor(rng.standard_normal((2, 3, 5, 5)))
    w = ms.Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    assert x.grad is None and w.grad.shape == w.shape
    # every weight's gradient is the sum of the input it meets: for w[o, c, 1, 1] (the centre) all of channel c
    np.testing.assert_allclose(w.grad[:, :, 1, 1], np.broadcast_to(x.data.sum(axis=(0, 2, 3)), (4, 3)), rtol=1e-5)
    # ... and the top-left one (w[o, c, 0, 0]) meets every pixel but the last row and column
    corner = x.data[:, :, :-1, :-1].sum(axis=(0, 2, 3))
    np.testing.assert_allclose(w.grad[:, :, 0, 0], np.broadcast_to(corner, (4, 3)), rtol=1e-5)


# -- pooling -----------------------------------------------------------------------------------------------------
@given(case=pool2d_cases(), data=st.data())
def test_max_pool2d_matches_the_naive_loop_and_finite_differences(case, data):
    x = data.draw(arrays(case.input_shape, distinct=True))  # no ties: the max is differentiable
    y = F.max_pool2d(ms.Tensor(x), **case.kwargs)
    expected, _ = naive_max_pool2d(x, None, **case.kwargs)
    np.testing.assert_array_equal(y.data, expected)
    assume(np.isfinite(expected).all())  # (a window of padding alone is -inf: tested against PyTorch below)
    check_gradients(lambda t: F.max_pool2d(t, **case.kwargs), x)


@given(case=pool2d_cases(), data=st.data())
def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum(case, data):
    x = data.draw(arrays(case.input_shape, domain=(-1, 1), dtype=np.int64)).astype(np.float64)  # many ties
    g = np.random.default_rng(0).standard_normal(F.max_pool2d(ms.Tensor(x), **case.kwargs).shape)
    t = ms.Tensor(x, requires_grad=True)
    F.max_pool2d(t, **case.kwargs).backward(g)
    _, expected_dx = naive_max_pool2d(x, g, **case.kwargs)
    np.testing.assert_allclose(t.grad, expected_dx, rtol=1e-12, atol=1e-15)


@given(case=pool2d_cases(max_dilation=1), count_include_pad=st.booleans(),
       divisor_override=st.one_of(st.none(), st.integers(1, 5)), data=st.data())
def test_avg_pool2d_matches_the_naive_loop_and_finite_differences(case, count_include_pad, divisor_override, data):
    x = data.draw(arrays(case.input_shape))
    options = dict(case.kwargs, count_include_pad=count_include_pad, divisor_override=divisor_override)
    y = F.avg_pool2d(ms.Tensor(x), **options)
    np.testing.assert_allclose(y.data, naive_avg_pool2d(x, **options), rtol=1e-12, atol=1e-14)
    check_gradients(lambda t: F.avg_pool2d(t, **options), x)


@given(size=st.tuples(st.integers(1, 7), st.integers(1, 7)), out=st.tuples(st.integers(1, 8), st.integers(1, 8)),
       batch=st.integers(0, 2), data=st.data())
def test_adaptive_avg_pool2d_matches_the_naive_loop_and_finite_differences(size, out, batch, data):
    x = data.draw(arrays((batch, 2, *size)))
    y = F.adaptive_avg_pool2d(ms.Tensor(x), out)
    np.testing.assert_allclose(y.data, naive_adaptive_avg_pool2d(x, out), rtol=1e-12, atol=1e-14)
    check_gradients(lambda t: F.adaptive_avg_pool2d(t, out), x)


def test_adaptive_avg_pool2d_none_keeps_an_axis():
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    assert F.adaptive_avg_pool2d(ms.Tensor(x), (None, 1)).shape == (1, 2, 3, 1)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(ms.Tensor(x), (None, 1)).data, x.mean(axis=3, keepdims=True))


def test_max_pool2d_propagates_nan_and_sends_its_gradient_there():
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]])
    t = ms.Tensor(x, requires_grad=True)
    y = F.max_pool2d(t, 2)
    assert np.isnan(y.data).all()
    y.backward(np.ones((1, 1, 1, 1)))
    np.testing.assert_array_equal(t.grad, [[[[0.0, 1.0], [0.0, 0.0]]]])


@settings(max_examples=6)
@given(case=pool2d_cases(max_batch=1, max_channels=1, max_extra=2), data=st.data())
def test_pooling_second_derivatives(case, data):
    x = data.draw(arrays((1,) + case.input_shape[1:], distinct=True))
    second_derivatives(lambda t: F.max_pool2d(t, **case.kwargs), x)
    avg = {k: v for k, v in case.kwargs.items() if k != "dilation"}
    second_derivatives(lambda t: F.avg_pool2d(t, **avg), x)
    second_derivatives(lambda t: F.adaptive_avg_pool2d(t, (2, 3)), x)


# -- PyTorch parity ----------------------------------------------------------------------------------------------
CONV_CASES = [  # (input shape, weight shape, keyword arguments)
    ((2, 3, 8, 7), (4, 3, 3, 3), dict(padding=1)),
    ((2, 3, 8, 7), (4, 3, 2, 4), dict(padding="same")),  # even kernels: the extra row/column goes bottom/right
    ((1, 2, 9, 9), (2, 2, 2, 2), dict(padding="same", dilation=3)),
    ((2, 4, 9, 8), (4, 1, 3, 3), dict(padding=2, dilation=2, groups=4)),  # depthwise, dilated
    ((2, 6, 7, 7), (9, 2, 3, 1), dict(stride=(2, 3), padding=(1, 0), groups=3)),
    ((1, 3, 5, 5), (2, 3, 5, 5), dict(padding="valid")),  # kernel == input size
    ((3, 2, 4, 6), (5, 2, 1, 1), dict(stride=2)),  # 1x1
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV_CASES)
def test_conv2d_against_pytorch(x_shape, w_shape, kwargs, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in (x_shape, w_shape, w_shape[:1]))
    ours = [ms.Tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    y = F.conv2d(*ours, **kwargs)
    ty = torch.nn.functional.conv2d(*theirs, **kwargs)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.data, ty.detach().numpy(), **tol)
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(g)
    ty.backward(torch.tensor(g))
    for mine, their in zip(ours, theirs):
        assert mine.grad.dtype == dtype
        np.testing.assert_allclose(mine.grad, their.grad.numpy(), **tol)


POOL_CASES = [  # (function name, input shape, keyword arguments)
    ("max_pool2d", (2, 3, 7, 8), dict(kernel_size=2)),
    ("max_pool2d", (2, 3, 7, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", (1, 2, 9, 9), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(2, 3))),
    ("max_pool2d", (1, 1, 3, 1), dict(kernel_size=(2, 1), stride=1, padding=(1, 0), dilation=(2, 1))),  # -inf window
    ("avg_pool2d", (2, 3, 7, 8), dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", (2, 3, 7, 8), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 6, 6), dict(kernel_size=(2, 3), ceil_mode=True, divisor_override=4)),
    ("adaptive_avg_pool2d", (2, 3, 7, 8), dict(output_size=(3, 5))),
    ("adaptive_avg_pool2d", (2, 3, 5, 4), dict(output_size=1)),
    ("adaptive_avg_pool2d", (1, 2, 3, 3), dict(output_size=(5, 4))),  # larger than the input: windows overlap
]


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("name, x_shape, kwargs", POOL_CASES)
def test_pooling_against_pytorch(name, x_shape, kwargs, ties):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape)
    x = np.round(x) if ties else x  # ties: PyTorch gives the whole gradient to the first maximum
    t, tt = ms.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = getattr(F, name)(t, **kwargs), getattr(torch.nn.functional, name)(tt, **kwargs)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-12, atol=1e-14)


# -- bad input: one line naming the shapes ----------------------------------------------------------------------
def _conv(x_shape, w_shape, **kwargs):
    return lambda: F.conv2d(ms.zeros(*x_shape), ms.zeros(*w_shape), **kwargs)


@pytest.mark.parametrize("call, error, message", [
    (_conv((2, 3, 8, 8), (4, 2, 3, 3)), ValueError, r"input \(2, 3, 8, 8\) has 3 channels, weight \(4, 2, 3, 3\) with groups=1 expects 2"),
    (_conv((2, 3, 8), (4, 3, 3, 3)), ValueError, r"expected an input of shape \(B, C, H, W\), got shape \(2, 3, 8\)"),
    (_conv((1, 1, 3, 3), (1, 1, 5, 5)), ValueError, r"kernel \(5, 5\).*larger than the padded input \(3, 3\)"),
    (_conv((1, 1, 3, 3), (1, 1, 3, 3), dilation=2), ValueError, r"dilation \(2, 2\), extent \(5, 5\)\) is larger than the padded input \(3, 3\)"),
    (_conv((1, 4, 5, 5), (6, 2, 3, 3), groups=3), ValueError, r"groups=3 must divide the input's 4 and the weight's 6"),
    (_conv((1, 3, 5, 5), (4, 3, 3, 3), padding="full"), ValueError, r"padding must be 'same', 'valid'"),
    (_conv((1, 3, 5, 5), (4, 3, 3, 3), padding="same", stride=2), ValueError, r"padding='same' needs stride 1"),
    (_conv((1, 3, 5, 5), (4, 3, 3, 3), stride=0), ValueError, r"stride must be an int >= 1"),
    (lambda: F.conv2d(ms.zeros(1, 3, 5, 5), ms.zeros(4, 3, 3, 3), ms.zeros(3)), ValueError, r"bias has shape \(3,\), expected \(4,\)"),
    (lambda: F.max_pool2d(ms.zeros(1, 1, 2, 2), 3), ValueError, r"kernel \(3, 3\).*larger than the padded input \(2, 2\)"),
    (lambda: F.max_pool2d(ms.zeros(1, 1, 5, 5), 2, padding=2), ValueError, r"padding \(2, 2\) must be at most half"),
    (lambda: F.avg_pool2d(ms.zeros(1, 1, 5, 5), 2, divisor_override=0), ValueError, r"divisor_override must be"),
    (lambda: F.adaptive_avg_pool2d(ms.zeros(1, 1, 5, 5), 0), ValueError, r"output_size must be a positive int"),
])
def test_bad_input_is_one_line_naming_the_shapes(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert "\n" not in str(info.value)
