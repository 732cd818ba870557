"""nn.Embedding.from_pretrained: the given table, frozen or trained, padding row without gradient (as PyTorch)."""

import numpy as np
import pytest

import microseq as ms
from microseq import nn


def _table(dtype=np.float32):
    return np.random.default_rng(0).standard_normal((5, 3)).astype(dtype)


def test_frozen_weight_is_the_table_and_gets_no_gradient():
    table = _table()
    layer = nn.Embedding.from_pretrained(table)
    assert layer.weight.data is table and not layer.weight.requires_grad
    assert not layer(np.array([[0, 4], [4, 1]])).requires_grad
    np.testing.assert_array_equal(layer(np.array([3])).data, table[[3]])


def test_unfrozen_weight_trains_and_padding_row_gets_no_gradient():
    table = _table(np.float64)
    layer = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    assert layer.weight.requires_grad and layer.weight.dtype == np.float64
    np.testing.assert_array_equal(layer.weight.data[1], table[1])  # kept, not zeroed
    layer(np.array([1, 2, 2])).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad[1], 0.0)
    np.testing.assert_array_equal(layer.weight.grad[2], 2.0)


def test_a_frozen_table_is_left_alone_by_an_optimizer():
    table = _table()
    before = table.copy()
    layer = nn.Embedding.from_pretrained(table)
    head = nn.Linear(3, 1)
    optimizer = ms.optim.SGD([*layer.parameters(), *head.parameters()], lr=0.1)
    head(layer(np.array([0, 1]))).sum().backward()
    optimizer.step()
    np.testing.assert_array_equal(table, before)


def test_from_pretrained_refuses_a_table_that_is_not_2d():
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(np.zeros(4))


def test_from_pretrained_matches_pytorch():
    torch = pytest.importorskip("torch")
    table = _table()
    ids = np.array([[0, 2, 2], [4, 1, 0]])
    ours = nn.Embedding.from_pretrained(table.copy(), freeze=False, padding_idx=2)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=False, padding_idx=2)
    upstream = np.random.default_rng(1).standard_normal((2, 3, 3)).astype(np.float32)
    (ours(ids) * upstream).sum().backward()
    (theirs(torch.tensor(ids)) * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(ours(ids).data, theirs(torch.tensor(ids)).detach().numpy())
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-6)
    assert ours.weight.dtype == np.float32 and theirs.weight.dtype == torch.float32
    frozen = torch.nn.Embedding.from_pretrained(torch.tensor(table))
    assert nn.Embedding.from_pretrained(table).weight.requires_grad == frozen.weight.requires_grad
