"""Random recurrent problems for the kernel tests, and uniform calls into any backend.

A ``Problem`` holds every argument of one cell's forward and backward. ``run_forward(problem, impl)`` and
``run_backward(problem, impl, saved)`` call ``impl.rnn_forward`` / ``impl.rnn_backward`` (and so on, see
``kernel_pair``) where impl is the public package, the NumPy reference, or a fused numba module, so one test
body covers all three cells.

Shapes: T time, B batch, I input, H hidden, G gates (RNN 1, LSTM 4, GRU 3).
"""

from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

import microseq.kernels as K
from microseq.kernels import gru, lstm, rnn

CELLS = ["rnn", "lstm", "gru"]
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
FAST = {"rnn": rnn, "lstm": lstm, "gru": gru}
TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-5)}


def budget(fraction=1.0):
    """Hypothesis settings for a property test: a fraction of the active profile's examples, no deadline."""
    return settings(max_examples=max(3, int(settings().max_examples * fraction)), deadline=None)


@contextmanager
def using_backend(name):
    """Run the public kernels on backend ``name`` inside the block."""
    previous = K.set_backend(name)
    try:
        yield
    finally:
        K.set_backend(previous)


@dataclass
class Problem:
    cell: str
    x: np.ndarray  # (T, B, I)
    states: tuple  # (h0,) or (h0, c0), each (B, H)
    w_ih: np.ndarray  # (G*H, I)
    w_hh: np.ndarray  # (G*H, H)
    b_ih: np.ndarray | None  # (G*H,)
    b_hh: np.ndarray | None
    lengths: np.ndarray | None  # (B,) int64
    reverse: bool
    nonlinearity: str | None  # RNN only
    grads: tuple  # (d_out, d_h_n[, d_c_n]), each may be None

    def real_steps(self, b):
        return self.x.shape[0] if self.lengths is None else int(self.lengths[b])

    def sequence(self, b, steps=None):
        """Sequence b alone (a batch of one, no lengths), cut to ``steps`` (default: its real length)."""
        steps = slice(0, self.real_steps(b)) if steps is None else steps
        row = lambda a: None if a is None else a[b:b + 1]  # noqa: E731
        d_out = self.grads[0]
        return replace(self, x=self.x[steps, b:b + 1], states=tuple(map(row, self.states)), lengths=None,
                       grads=(None if d_out is None else d_out[steps, b:b + 1],) + tuple(map(row, self.grads[1:])))


def kernel_pair(impl, cell):
    """(forward, backward) of ``cell`` in ``impl``: the public package, the reference, or a fused module
    (which holds one cell's pair only)."""
    if cell == "rnn":
        return impl.rnn_forward, impl.rnn_backward
    if cell == "lstm":
        return impl.lstm_forward, impl.lstm_backward
    return impl.gru_forward, impl.gru_backward


def run_forward(problem, impl):
    """(outputs, saved): outputs = (out, h_n) or (out, h_n, c_n)."""
    p = problem
    options = {"nonlinearity": p.nonlinearity} if p.cell == "rnn" else {}
    forward, _ = kernel_pair(impl, p.cell)
    *outputs, saved = forward(p.x, *p.states, p.w_ih, p.w_hh, p.b_ih, p.b_hh, p.lengths, p.reverse, **options)
    return tuple(outputs), saved


def run_backward(problem, impl, saved):
    """(dx, d states..., dw_ih, dw_hh, db_ih, db_hh)."""
    _, backward = kernel_pair(impl, problem.cell)
    return backward(saved, *problem.grads)


def grad_names(cell):
    states = ("dh0", "dc0") if cell == "lstm" else ("dh0",)
    return ("dx",) + states + ("dw_ih", "dw_hh", "db_ih", "db_hh")


def assert_close(actual, expected, dtype, names=None):
    """Every array of ``actual`` close to ``expected`` (both None allowed), with the dtype's tolerance."""
    assert len(actual) == len(expected)
    for k, (a, e) in enumerate(zip(actual, expected)):
        name = names[k] if names else k
        if e is None:
            assert a is None, f"{name}: expected None"
            continue
        assert a.dtype == e.dtype == dtype, f"{name}: dtype {a.dtype} vs {e.dtype}"
        np.testing.assert_allclose(a, e, err_msg=str(name), **TOLERANCE[dtype])


def make_problem(cell, rng, T, B, I, H, dtype=np.float64, bias=True, ragged=True, reverse=False,
                 nonlinearity="tanh", with_grads=(True, True, True)):
    """A ``Problem`` with random arrays from ``rng``; weights about twice PyTorch's initial scale."""
    G = GATES[cell]
    n_states = 2 if cell == "lstm" else 1

    def normal(*shape, scale=1.0):
        return (scale * rng.standard_normal(shape)).astype(dtype)

    scale = 1 / np.sqrt(H)
    return Problem(
        cell=cell,
        x=normal(T, B, I),
        states=tuple(normal(B, H, scale=0.5) for _ in range(n_states)),
        w_ih=normal(G * H, I, scale=2 * scale),
        w_hh=normal(G * H, H, scale=2 * scale),
        b_ih=normal(G * H, scale=scale) if bias else None,
        b_hh=normal(G * H, scale=scale) if bias else None,
        lengths=rng.integers(1, T + 1, B).astype(np.int64) if ragged else None,
        reverse=reverse,
        nonlinearity=nonlinearity if cell == "rnn" else None,
        grads=(normal(T, B, H) if with_grads[0] else None,)
        + tuple(normal(B, H) if with_grads[1 + k] else None for k in range(n_states)),
    )


@st.composite
def problems(draw, cell, dtype=np.float64, max_T=5, max_B=4, max_I=4, max_H=5, ragged=None, grads=None):
    """A random ``Problem`` for ``cell``; sizes include 1. ``ragged``/``grads`` force lengths/gradients."""
    return make_problem(
        cell,
        np.random.default_rng(draw(st.integers(0, 2**32 - 1))),
        T=draw(st.integers(1, max_T)), B=draw(st.integers(1, max_B)),
        I=draw(st.integers(1, max_I)), H=draw(st.integers(1, max_H)),
        dtype=dtype,
        bias=draw(st.booleans()),
        ragged=draw(st.booleans()) if ragged is None else ragged,
        reverse=draw(st.booleans()),
        nonlinearity=draw(st.sampled_from(["tanh", "relu"])),
        with_grads=[draw(st.booleans()) for _ in range(3)] if grads is None else (grads,) * 3,
    )
