"""Bad arguments raise TypeError/ValueError naming the kernel, the argument, expected and actual."""

import re
import subprocess
import sys

import numpy as np
import pytest

import microseq.kernels as K

from .cases import make_problem, run_forward


def lstm_args(**changes):
    """Valid lstm_forward arguments (T=2, B=3, I=4, H=3) with some replaced."""
    rng = np.random.default_rng(0)
    args = dict(x=rng.standard_normal((2, 3, 4)), h0=np.zeros((3, 3)), c0=np.zeros((3, 3)),
                w_ih=rng.standard_normal((12, 4)), w_hh=rng.standard_normal((12, 3)),
                b_ih=np.zeros(12), b_hh=np.zeros(12), lengths=None, reverse=False)
    args.update(changes)
    return args


@pytest.mark.parametrize("changes, error, message", [
    (dict(w_hh=np.zeros((12, 5))), ValueError, "lstm_forward: w_hh has shape (12, 5), expected (4*H, H) = (12, 3)"),
    (dict(w_ih=np.zeros((12, 5))), ValueError, "lstm_forward: w_ih has shape (12, 5), expected (4*H, I) = (12, 4)"),
    (dict(x=np.zeros((2, 3))), ValueError, "lstm_forward: x has shape (2, 3), expected (T, B, I)"),
    (dict(x=np.zeros((0, 3, 4))), ValueError, "lstm_forward: x has shape (0, 3, 4), expected (T, B, I) with T >= 1"),
    (dict(h0=np.zeros((2, 3))), ValueError, "lstm_forward: h0 has shape (2, 3), expected (B, H) = (3, H)"),
    (dict(c0=np.zeros((3, 2))), ValueError, "lstm_forward: c0 has shape (3, 2), expected (B, H) = (3, 3)"),
    (dict(c0=None), TypeError, "lstm_forward: c0 must be a numpy.ndarray, got NoneType"),
    (dict(b_ih=np.zeros(8)), ValueError, "lstm_forward: b_ih has shape (8,), expected (4*H,) = (12,)"),
    (dict(b_hh=None), ValueError, "lstm_forward: b_ih and b_hh must both be arrays or both be None"),
    (dict(x=np.zeros((2, 3, 4), np.int64)), TypeError, "lstm_forward: x has dtype int64, expected float32 or float64"),
    (dict(x=[[[0.0]]]), TypeError, "lstm_forward: x must be a numpy.ndarray, got list"),
    (dict(w_hh=np.zeros((12, 3), np.float32)), TypeError,
     "lstm_forward: w_hh has dtype float32, expected float64 (the dtype of x)"),
    (dict(lengths=np.array([2, 1])), ValueError, "lstm_forward: lengths has shape (2,), expected (B,) = (3,)"),
    (dict(lengths=np.array([2, 0, 1])), ValueError, "lstm_forward: lengths must lie in [1, T] = [1, 2]"),
    (dict(lengths=np.array([2, 3, 1])), ValueError, "lstm_forward: lengths must lie in [1, T] = [1, 2]"),
    (dict(lengths=np.array([2.0, 1.0, 1.0])), TypeError, "lstm_forward: lengths has dtype float64, expected an integer"),
])
def test_forward_errors_name_kernel_argument_and_shapes(changes, error, message):
    with pytest.raises(error, match=re.escape(message)):
        K.lstm_forward(**lstm_args(**changes))


def test_gate_count_is_in_the_message():
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((2, 3, 4)), np.zeros((3, 5))
    with pytest.raises(ValueError, match=re.escape("gru_forward: w_ih has shape (12, 4), expected (3*H, I) = (15, 4)")):
        K.gru_forward(x, h0, np.zeros((12, 4)), np.zeros((15, 5)), None, None)
    with pytest.raises(ValueError, match=re.escape("rnn_forward: w_hh has shape (15, 5), expected (H, H) = (5, 5)")):
        K.rnn_forward(x, h0, np.zeros((5, 4)), np.zeros((15, 5)), None, None)


def test_unknown_nonlinearity():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=re.escape("rnn_forward: unknown nonlinearity 'sigmoid'; expected one of 'tanh', 'relu'")):
        K.rnn_forward(rng.standard_normal((2, 1, 1)), np.zeros((1, 1)), np.ones((1, 1)), np.ones((1, 1)),
                      None, None, nonlinearity="sigmoid")


def test_backward_errors():
    problem = make_problem("lstm", np.random.default_rng(0), T=2, B=3, I=4, H=3)
    _, saved = run_forward(problem, K)
    with pytest.raises(ValueError, match=re.escape("lstm_backward: d_out has shape (2, 3, 4), expected (T, B, H) = (2, 3, 3)")):
        K.lstm_backward(saved, np.zeros((2, 3, 4)), None, None)
    with pytest.raises(TypeError, match=re.escape("lstm_backward: d_c_n has dtype float32, expected float64")):
        K.lstm_backward(saved, None, None, np.zeros((3, 3), np.float32))
    with pytest.raises(TypeError, match=re.escape("gru_backward: saved must be the GRUSaved returned by the forward, got LSTMSaved")):
        K.gru_backward(saved, None, None)


def test_matmul_errors():
    with pytest.raises(ValueError, match=re.escape("matmul: b has shape (5, 3), expected (k, n) = (4, n)")):
        K.matmul(np.ones((2, 4)), np.ones((5, 3)))
    with pytest.raises(ValueError, match=re.escape("matmul: a has shape (4,), expected (m, k)")):
        K.matmul(np.ones(4), np.ones((4, 3)))
    with pytest.raises(TypeError, match=re.escape("matmul: b has dtype float32, expected float64 (the dtype of a)")):
        K.matmul(np.ones((2, 4)), np.ones((4, 3), np.float32))
    with pytest.raises(TypeError, match=re.escape("matmul: a has dtype int64, expected float32 or float64")):
        K.matmul(np.ones((2, 4), np.int64), np.ones((4, 3)))


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown microseq kernel backend 'torch'.*expected one of 'numba', 'numpy'"):
        K.set_backend("torch")
    assert K.get_backend() in ("numba", "numpy")


def test_unknown_backend_in_the_environment_fails_at_import():
    result = subprocess.run([sys.executable, "-c", "import microseq.kernels"], capture_output=True, text=True,
                            env={"MICROSEQ_BACKEND": "cuda", "PYTHONPATH": ":".join(sys.path)})
    assert result.returncode != 0
    assert "unknown microseq kernel backend 'cuda' (from $MICROSEQ_BACKEND)" in result.stderr
