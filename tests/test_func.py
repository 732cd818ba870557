"""Functional transforms (ms.grad, value_and_grad, vjp, jacobian, hessian, hvp): values against closed forms
and finite differences, composition, argnums, arrays in / arrays out, zeros for unused arguments, and no
``.grad`` left behind. Includes the tests a user would write for second-order autodiff."""

import doctest

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
import microseq.func
from microseq.testing import arrays, shapes

SMALL = shapes(max_dims=2, max_side=3)


def cubes(x):
    return (x**3).sum()


def finite_difference_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of a scalar function of an array (computed on Tensors without recording)."""
    out = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        step = np.zeros(x.shape)
        step[index] = eps
        with ms.no_grad():
            plus, minus = f(ms.Tensor(x + step, dtype=np.float64)), f(ms.Tensor(x - step, dtype=np.float64))
        out[index] = (plus.item() - minus.item()) / (2 * eps)
    return out


# -- grad and value_and_grad ------------------------------------------------------------------------
@given(x=arrays(SMALL))
def test_grad_of_arrays_is_an_array_of_the_argument_shape(x):
    g = ms.grad(cubes)(x)
    assert type(g) is np.ndarray and g.shape == x.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-14)
    np.testing.assert_allclose(g, finite_difference_gradient(cubes, x), rtol=1e-6, atol=1e-8)


def test_grad_keeps_float32_and_takes_python_floats():
    g = ms.grad(cubes)(np.array([1.0, 2.0], dtype=np.float32))
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [3.0, 12.0])
    assert ms.grad(lambda x: x**3)(2.0) == 12.0  # a float is a float64 scalar: an array of shape ()


def test_grad_of_tensors_is_a_tensor_and_sets_no_grad():
    x = ms.tensor([1.0, -2.0], dtype=np.float64, requires_grad=True)
    w = ms.tensor([0.5, 3.0], dtype=np.float64, requires_grad=True)  # closed over: a parameter
    g = ms.grad(lambda x: (w * x**2).sum())(x)
    assert isinstance(g, ms.Tensor)
    np.testing.assert_array_equal(g.data, [1.0, -12.0])  # 2 w x
    assert x.grad is None and w.grad is None


def test_results_have_history_only_when_something_outside_can_use_it():
    x = ms.tensor([1.0, -2.0], dtype=np.float64)
    w = ms.tensor([0.5, 3.0], dtype=np.float64, requires_grad=True)
    value, g = ms.value_and_grad(lambda x: (x**3).sum())(x)  # nothing outside requires grad
    assert not value.requires_grad and not g.requires_grad
    value, g = ms.value_and_grad(lambda x: (w * x**3).sum())(x)  # w does: a gradient penalty would need d/dw
    assert value.requires_grad and g.requires_grad
    (dg_dw,) = ms.autograd.grad(g.sum(), w)
    np.testing.assert_array_equal(dg_dw.data, 3 * x.data**2)


def test_value_and_grad_with_tuple_and_negative_argnums():
    a, b, c = np.array([1.0, 2.0]), ms.tensor([3.0, 4.0], dtype=np.float64), np.array(0.5)
    value, (gc, ga) = ms.value_and_grad(lambda a, b, c: (a * b).sum() * c, argnums=(-1, 0))(a, b, c)
    assert isinstance(value, np.ndarray) and value == 5.5  # arrays for the differentiated arguments
    assert type(gc) is np.ndarray and gc == 11.0
    np.testing.assert_array_equal(ga, [1.5, 2.0])
    value, gb = ms.value_and_grad(lambda a, b, c: (a * b).sum() * c, argnums=1)(a, b, c)
    assert isinstance(value, ms.Tensor) and isinstance(gb, ms.Tensor)  # b was a Tensor
    np.testing.assert_array_equal(gb.data, [0.5, 1.0])


@given(x=arrays(SMALL), y=arrays(SMALL))
def test_zeros_for_an_argument_the_output_does_not_depend_on(x, y):
    gx, gy = ms.grad(lambda x, y: (x * x).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, 2 * x)
    np.testing.assert_array_equal(gy, np.zeros(y.shape))
    assert gy.shape == y.shape and gy.dtype == y.dtype
    np.testing.assert_array_equal(ms.grad(lambda x: 3.0)(x), np.zeros(x.shape))  # a constant output


def test_second_derivative_of_a_linear_function_is_zero_not_an_error():
    np.testing.assert_array_equal(ms.grad(ms.grad(lambda x: 3.0 * x + 1.0))(2.0), 0.0)
    np.testing.assert_array_equal(ms.hessian(lambda x: (x * np.array([1.0, 2.0])).sum())(np.ones(2)), np.zeros((2, 2)))
    np.testing.assert_array_equal(ms.hvp(lambda x: x.sum(), np.ones(3), np.ones(3)), np.zeros(3))


# -- second derivatives: the tests a user would write ----------------------------------------------
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


SECOND_DERIVATIVES = {  # f, f'' in closed form (REFERENCE.md "Second-order autodiff")
    "tanh": (ms.tanh, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    "sigmoid": (ms.sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x)) * (1 - 2 * _sigmoid(x))),
    "cube": (lambda x: x**3, lambda x: 6 * x),
    "exp": (ms.exp, np.exp),
    "log": (ms.log, lambda x: -1 / x**2),
}
if hasattr(ms, "sin"):
    SECOND_DERIVATIVES["sin"] = (ms.sin, lambda x: -np.sin(x))


@pytest.mark.parametrize("name", SECOND_DERIVATIVES)
@given(x=st.floats(0.1, 3.0) | st.floats(-3.0, -0.1))
def test_second_derivative_in_closed_form(name, x):
    f, second = SECOND_DERIVATIVES[name]
    if name == "log":
        x = abs(x)
    d2 = ms.grad(ms.grad(f))(x)
    assert type(d2) is np.ndarray and d2.shape == ()
    np.testing.assert_allclose(d2, second(x), rtol=1e-12, atol=1e-14)


def test_second_derivative_through_backward_of_a_gradient_tensor():
    """PyTorch's way: a gradient with history, differentiated again by backward."""
    x = ms.tensor([0.5, -1.0], dtype=np.float64, requires_grad=True)
    g = ms.grad(lambda x: ms.tanh(x).sum())(x)
    assert g.requires_grad and x.grad is None
    g.sum().backward()
    t = np.tanh(x.data)
    np.testing.assert_allclose(x.grad, -2 * t * (1 - t**2), rtol=1e-14)


def test_nested_transforms_do_not_confuse_their_variables():
    """d/dx [x * d/dy (x y)] = d/dx x^2 = 2x: the inner derivative is x, not 2x (JAX's "perturbation confusion")."""
    assert ms.grad(lambda x: x * ms.grad(lambda y: x * y)(x))(3.0) == 6.0


def test_third_derivative():
    assert ms.grad(ms.grad(ms.grad(lambda x: x**4)))(2.0) == pytest.approx(48.0, rel=1e-14)


@given(data=st.data())
def test_hessian_of_a_quadratic_form_is_the_symmetric_part(data):
    n = data.draw(st.integers(1, 4))
    A, x = data.draw(arrays((n, n))), data.draw(arrays((n,)))
    H = ms.hessian(lambda x: 0.5 * (x @ ms.Tensor(A) @ x))(x)
    assert type(H) is np.ndarray and H.shape == (n, n)
    np.testing.assert_allclose(H, (A + A.T) / 2, rtol=1e-12, atol=1e-14)


def loss_of_a_small_network(x):
    """A non-quadratic scalar function: tanh layer, then a sum of squares and a cross term."""
    W = ms.Tensor(np.array([[0.3, -1.2, 0.7], [0.9, 0.4, -0.5]]))
    h = ms.tanh(W @ x)
    return (h * h).sum() + (h[0] * x[2])


@given(x=arrays((3,)), v=arrays((3,)))
def test_hvp_is_the_directional_derivative_of_the_gradient(x, v):
    hv = ms.hvp(loss_of_a_small_network, x, v)
    eps = 1e-6
    gradient = ms.grad(loss_of_a_small_network)
    numerical = (gradient(x + eps * v) - gradient(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv, numerical, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hv, ms.hessian(loss_of_a_small_network)(x) @ v, rtol=1e-12, atol=1e-14)


def test_hvp_of_tensors_is_a_tensor():
    x = ms.tensor([1.0, 2.0], dtype=np.float64)
    hv = ms.hvp(cubes, x, np.array([1.0, -1.0]))
    assert isinstance(hv, ms.Tensor)
    np.testing.assert_array_equal(hv.data, [6.0, -12.0])


def test_transforms_match_torch_func():
    """grad, jacobian, hessian, hvp and vjp against torch.func on the same function, in float64."""
    torch = pytest.importorskip("torch")
    W = np.array([[0.3, -1.2, 0.7], [0.9, 0.4, -0.5]])

    def layer(x):  # microseq or torch: the same expression
        return (W @ x).tanh() if isinstance(x, ms.Tensor) else torch.tanh(torch.tensor(W) @ x)

    def loss(x):
        h = layer(x)
        return (h * h).sum() + h[0] * x[2]

    x, v, u = np.array([0.2, -0.7, 1.1]), np.array([1.0, -2.0, 0.5]), np.array([0.3, -1.0])
    tx, tv, tu = (torch.tensor(a) for a in (x, v, u))
    np.testing.assert_allclose(ms.grad(loss)(x), torch.func.grad(loss)(tx).numpy(), rtol=1e-13)
    np.testing.assert_allclose(ms.jacobian(layer)(x), torch.func.jacrev(layer)(tx).numpy(), rtol=1e-13)
    np.testing.assert_allclose(ms.hessian(loss)(x), torch.func.hessian(loss)(tx).numpy(), rtol=1e-12, atol=1e-15)
    _, torch_hvp = torch.autograd.functional.hvp(loss, tx, tv)
    np.testing.assert_allclose(ms.hvp(loss, x, v), torch_hvp.numpy(), rtol=1e-12, atol=1e-15)
    out, vjp_fn = ms.vjp(layer, x)
    torch_out, torch_vjp_fn = torch.func.vjp(layer, tx)
    np.testing.assert_allclose(out, torch_out.numpy(), rtol=1e-15)
    np.testing.assert_allclose(vjp_fn(u)[0], torch_vjp_fn(tu)[0].numpy(), rtol=1e-13)


# -- jacobian and vjp -------------------------------------------------------------------------------
@given(x=arrays(SMALL))
def test_jacobian_of_an_elementwise_op_is_diagonal(x):
    J = ms.jacobian(ms.tanh)(x)
    assert J.shape == x.shape + x.shape
    expected = np.diag((1 - np.tanh(x.ravel()) ** 2)).reshape(x.shape + x.shape)
    np.testing.assert_allclose(J, expected, rtol=1e-14, atol=1e-300)


@given(data=st.data())
def test_jacobian_of_a_matrix_product_with_two_argnums(data):
    m, k, n = (data.draw(st.integers(0, 3)) for _ in range(3))
    a, b = data.draw(arrays((m, k))), data.draw(arrays((k, n)))
    Ja, Jb = ms.jacobian(ms.matmul, argnums=(0, 1))(a, b)
    assert Ja.shape == (m, n, m, k) and Jb.shape == (m, n, k, n)
    np.testing.assert_allclose(Ja, np.einsum("ij,kl->ikjl", np.eye(m), b.T).transpose(0, 1, 2, 3), atol=1e-300)
    np.testing.assert_allclose(Jb, np.einsum("ik,jl->ijkl", a, np.eye(n)), atol=1e-300)


def test_jacobian_of_tuple_outputs_and_of_a_gradient():
    x = np.array([0.5, -1.5])
    J1, J2 = ms.jacobian(lambda x: (x * 2.0, x.sum()))(x)
    np.testing.assert_array_equal(J1, 2 * np.eye(2))
    np.testing.assert_array_equal(J2, [1.0, 1.0])
    np.testing.assert_allclose(ms.jacobian(ms.grad(cubes))(x), np.diag(6 * x), rtol=1e-15)
    np.testing.assert_allclose(ms.hessian(cubes)(x), np.diag(6 * x), rtol=1e-15)


def test_hessian_with_two_argnums_is_the_block_matrix():
    f = lambda a, b: (a * a * b).sum()  # noqa: E731
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    (Haa, Hab), (Hba, Hbb) = ms.hessian(f, argnums=(0, 1))(a, b)
    np.testing.assert_array_equal(Haa, np.diag(2 * b))
    np.testing.assert_array_equal(Hab, np.diag(2 * a))
    np.testing.assert_array_equal(Hba, np.diag(2 * a))
    np.testing.assert_array_equal(Hbb, np.zeros((2, 2)))


@given(x=arrays(SMALL), data=st.data())
def test_vjp_is_the_cotangent_times_the_jacobian_and_can_be_called_twice(x, data):
    out, vjp_fn = ms.vjp(lambda x, y: ms.tanh(x) * y, x, np.full(x.shape, 2.0))
    np.testing.assert_allclose(out, 2 * np.tanh(x), rtol=1e-15)
    J = ms.jacobian(lambda x: ms.tanh(x) * 2.0)(x).reshape(x.size, x.size)
    for _ in range(2):
        v = data.draw(arrays(x.shape))
        gx, gy = vjp_fn(v)
        np.testing.assert_allclose(gx.ravel(), v.ravel() @ J, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(gy, v * np.tanh(x), rtol=1e-15)


def test_vjp_of_tensors_with_a_differentiable_cotangent():
    """A cotangent that requires grad: the VJP is differentiable in it (as gradgradcheck needs)."""
    x = ms.tensor([1.0, 2.0], dtype=np.float64)
    v = ms.tensor([3.0, -1.0], dtype=np.float64, requires_grad=True)
    out, vjp_fn = ms.vjp(lambda x: x**2, x)
    assert isinstance(out, ms.Tensor)
    (gx,) = vjp_fn(v)
    np.testing.assert_array_equal(gx.data, [6.0, -4.0])
    gx.sum().backward()
    np.testing.assert_array_equal(v.grad, 2 * x.data)


def test_transforms_work_under_no_grad_and_leave_no_history():
    x = ms.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    with ms.no_grad():
        g = ms.grad(cubes)(x)
        d2 = ms.grad(ms.grad(lambda x: x**3))(2.0)
    assert not g.requires_grad and x.grad is None
    np.testing.assert_array_equal(g.data, [3.0, 12.0])
    assert d2 == 12.0


# -- a gradient penalty trains ----------------------------------------------------------------------
def test_a_gradient_penalty_trains_and_its_gradient_passes_gradcheck():
    """loss = MSE + lambda * ||d model(x) / dx||^2 (a smoothness penalty): needs d/dW of a gradient."""
    rng = np.random.default_rng(0)
    x = ms.Tensor(rng.standard_normal((16, 2)))
    y = ms.Tensor(np.sin(x.data[:, :1]) + 0.5 * x.data[:, 1:])
    W1, b1, W2, b2 = (ms.Tensor(rng.standard_normal(s) * 0.5, requires_grad=True) for s in [(2, 8), (8,), (8, 1), (1,)])

    def net(x, W1, b1, W2):  # (16, 2) -> (16, 1); b2 does not change the input gradient
        return ms.tanh(x @ W1 + b1) @ W2 + b2

    def penalty(W1, b1, W2):
        input_gradient = ms.grad(lambda x: net(x, W1, b1, W2).sum())(x)  # (16, 2), one row per example
        return (input_gradient * input_gradient).sum() / len(x)

    def loss_fn():
        error = net(x, W1, b1, W2) - y
        return (error * error).mean() + 0.1 * penalty(W1, b1, W2)

    ms.gradcheck(penalty, [W1, b1, W2], names=["W1", "b1", "W2"])
    optimizer = ms.optim.Adam([W1, b1, W2, b2], lr=0.05)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert np.all(np.isfinite(losses))


# -- errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: ms.grad(ms.tanh)(np.ones(3)), RuntimeError, "grad: f must return a single value, got shape (3,)"),
        (lambda: ms.grad(cubes, argnums=1)(np.ones(3)), ValueError, "grad: argnums=1 is out of range"),
        (lambda: ms.grad(cubes, argnums=(0, -3))(np.ones(3), np.ones(3)), ValueError, "out of range"),
        (lambda: ms.grad(cubes, argnums=(0, 0))(np.ones(3)), ValueError, "names an argument twice"),
        (lambda: ms.grad(cubes, argnums="0")(np.ones(3)), TypeError, "argnums must be an int"),
        (lambda: ms.grad(cubes)(np.ones(3, dtype=np.int64)), TypeError, "argument 0 has dtype int64"),
        (lambda: ms.grad(lambda x: [x])(np.ones(1)), TypeError, "f must return a Tensor, got list"),
        (lambda: ms.jacobian(cubes, argnums=2)(np.ones(3)), ValueError, "jacobian: argnums=2 is out of range"),
        (lambda: ms.hvp(cubes, np.ones(3), np.ones(2)), ValueError, "hvp: v has shape (2,), expected x's shape (3,)"),
        (lambda: ms.vjp(ms.tanh, np.ones(3))[1](np.ones(2)), ValueError, "vjp: cotangent 0 has shape (2,)"),
    ],
    ids=["non-scalar", "argnums", "negative-argnums", "repeated-argnums", "argnums-type", "integer-argument",
         "not-a-tensor", "jacobian-argnums", "hvp-shape", "vjp-shape"],
)
def test_errors_are_one_line(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value) and "\n" not in str(info.value)


def test_the_documented_examples_run():
    failures, tried = doctest.testmod(microseq.func)
    assert tried >= 6 and failures == 0


def test_zero_dimensional_results_keep_float64():
    """An op on 0-d arrays returns a NumPy scalar; wrapping it must not round it to float32."""
    assert ms.Tensor(np.float64(0.1)).dtype == np.float64
    g = ms.grad(lambda x: x * x)(np.array(0.1))
    assert g.dtype == np.float64 and g == 0.2
