"""Both backends match PyTorch: a bidirectional layer on packed (ragged) sequences, float64.

Skipped when PyTorch is not installed.
"""

import numpy as np
import pytest

import microseq.kernels as K

from .cases import CELLS, kernel_pair, using_backend

torch = pytest.importorskip("torch")
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

T, B, I, H = 6, 4, 3, 5
LENGTHS = np.array([6, 3, 1, 4])


def torch_bidirectional(cell, nonlinearity, x, d_out, d_h_n):
    """PyTorch's packed bidirectional layer: outputs, final states and parameter gradients."""
    torch.manual_seed(0)
    options = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
    layer = getattr(torch.nn, cell.upper())(I, H, bidirectional=True, dtype=torch.float64, **options)
    xt = torch.tensor(x, requires_grad=True)
    packed_out, finals = layer(pack_padded_sequence(xt, torch.tensor(LENGTHS), enforce_sorted=False))
    out, _ = pad_packed_sequence(packed_out, total_length=T)
    h_n = finals[0] if cell == "lstm" else finals
    loss = (out * torch.tensor(d_out)).sum() + (h_n * torch.tensor(d_h_n)).sum()
    loss.backward()
    return layer, out.detach().numpy(), h_n.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("cell, nonlinearity", [(c, n) for c in CELLS for n in ("tanh", "relu") if c == "rnn" or n == "tanh"])
def test_matches_pytorch_bidirectional_packed(backend, cell, nonlinearity):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((T, B, I))
    d_out, d_h_n = rng.standard_normal((T, B, 2 * H)), rng.standard_normal((2, B, H))
    layer, out, h_n, dx = torch_bidirectional(cell, nonlinearity, x, d_out, d_h_n)
    dx_total = np.zeros_like(x)
    for direction, suffix in enumerate(("", "_reverse")):
        param = {name: getattr(layer, f"{name}_l0{suffix}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        weights = [p.detach().numpy() for p in param.values()]
        states = (np.zeros((B, H)),) * (2 if cell == "lstm" else 1)
        options = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        cols = slice(direction * H, (direction + 1) * H)
        with using_backend(backend):
            forward, backward = kernel_pair(K, cell)
            *results, saved = forward(x, *states, *weights, LENGTHS, bool(direction), **options)
            state_grads = (d_h_n[direction],) + ((None,) if cell == "lstm" else ())
            grads = backward(saved, np.ascontiguousarray(d_out[:, :, cols]), *state_grads)
        np.testing.assert_allclose(results[0], out[:, :, cols], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(results[1], h_n[direction], rtol=1e-10, atol=1e-12)
        dx_total += grads[0]
        for mine, theirs in zip(grads[-4:], param.values()):
            np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx_total, dx, rtol=1e-10, atol=1e-12)
