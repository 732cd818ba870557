"""Module (discovery by attribute, names, state dicts, modes, repr), Sequential, ModuleList, and the basic
layers Linear, Embedding and Dropout: gradients against finite differences, PyTorch names and numerics."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq import nn
from microseq.testing import check_gradients, shapes


class Tagger(nn.Module):
    """A small model with nesting, a shared parameter and a disabled bias."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(7, 3, padding_idx=0)
        self.body = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2, bias=False))
        self.heads = nn.ModuleList([nn.Linear(2, 5), nn.Linear(2, 5)])
        self.heads[1].weight = self.heads[0].weight  # tied: one parameter, listed once
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))

    def forward(self, tokens):
        features = self.body(self.embed(tokens))
        return (self.heads[0](features) + self.heads[1](features)) * self.scale


# PyTorch's order: a module's own parameters, then each sub-module's, depth first
NAMES = ["scale", "embed.weight", "body.0.weight", "body.0.bias", "body.2.weight", "heads.0.weight",
         "heads.0.bias", "heads.1.bias"]


def test_parameters_are_found_by_attribute_in_order_with_dotted_names():
    model = Tagger()
    assert [name for name, _ in model.named_parameters()] == NAMES
    assert len(list(model.parameters())) == len(NAMES)
    assert model.num_parameters() == 7 * 3 + (3 * 4 + 4) + 4 * 2 + (2 * 5 + 5) + 5 + 1
    assert list(model.state_dict()) == NAMES
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())


def test_reassigning_or_deleting_an_attribute_updates_the_registry():
    layer = nn.Linear(2, 3)
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    layer.extra = nn.Parameter(np.zeros(2))
    del layer.extra
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_assigning_before_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Broken()


def test_zero_grad_clears_and_gradients_accumulate_until_then():
    model = Tagger().eval()  # the same dropout mask twice
    tokens = np.array([[1, 2, 0], [3, 3, 6]])
    model(tokens).sum().backward()
    first = {name: p.grad.copy() for name, p in model.named_parameters()}
    model(tokens).sum().backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, 2 * first[name], rtol=1e-6, err_msg=name)
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_reach_every_submodule():
    model = Tagger()
    assert model.eval() is model
    assert not any(module.training for module in model.modules())
    model.train()
    assert all(module.training for module in model.modules())


def test_state_dict_round_trip_copies_and_bumps_versions():
    source, target = Tagger(), Tagger()
    state = source.state_dict()
    state["scale"][:] = 5.0  # a copy: the model is untouched
    assert source.scale.data[0] == 1.0
    missing, unexpected = target.load_state_dict(source.state_dict())
    assert (missing, unexpected) == ([], [])
    for (name, a), (_, b) in zip(source.named_parameters(), target.named_parameters()):
        assert np.array_equal(a.data, b.data), name
        assert not np.shares_memory(a.data, b.data), name


def test_load_state_dict_reports_every_problem_at_once_and_changes_nothing():
    model = Tagger()
    before = model.state_dict()
    state = model.state_dict()
    del state["scale"]
    state["body.0.weight"] = np.zeros((5, 3), np.float32)
    state["body.2.weight"] = np.zeros((2, 4), np.int64)
    state["decoder.weight"] = np.zeros(1)
    with pytest.raises(ValueError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    for part in ("missing: scale", "unexpected: decoder.weight", "body.0.weight: shape (5, 3) in the state, (4, 3)",
                 "body.2.weight: dtype int64"):
        assert part in message
    for name, value in model.state_dict().items():
        assert np.array_equal(value, before[name]), name


def test_non_strict_loading_takes_the_common_names():
    model = nn.Linear(2, 3)
    missing, unexpected = model.load_state_dict({"weight": np.ones((3, 2)), "other": np.zeros(1)}, strict=False)
    assert (missing, unexpected) == (["bias"], ["other"])
    assert np.array_equal(model.weight.data, np.ones((3, 2))) and model.weight.dtype == np.float32


def test_repr_reads_like_pytorch():
    text = repr(Tagger())
    assert text.splitlines()[0] == "Tagger("
    for line in ("(embed): Embedding(7, 3, padding_idx=0)", "(body): Sequential(",
                 "(0): Linear(in_features=3, out_features=4, bias=True)", "(1): Dropout(p=0.5)",
                 "(2): Linear(in_features=4, out_features=2, bias=False)", "(heads): ModuleList("):
        assert line in text, line
    assert repr(nn.Parameter(np.zeros(1))).startswith("Parameter containing:\n")


def test_sequential_and_module_list_index_and_iterate():
    layers = [nn.Linear(2, 2), nn.Linear(2, 3)]
    sequential = nn.Sequential(*layers)
    assert len(sequential) == 2 and sequential[1] is layers[1] and list(sequential) == layers
    x = ms.Tensor(np.ones((4, 2), np.float32))
    np.testing.assert_array_equal(sequential(x).data, layers[1](layers[0](x)).data)
    module_list = nn.ModuleList(layers).append(nn.Linear(3, 1))
    assert len(module_list) == 3 and [name for name, _ in module_list.named_parameters()][-1] == "2.bias"


def test_double_and_float_convert_every_parameter():
    model = Tagger().double()
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    assert {p.dtype for p in model.float().parameters()} == {np.dtype(np.float32)}


# -- Linear ---------------------------------------------------------------------------------------------
@given(lead=shapes(max_dims=2, max_side=3), sizes=st.tuples(st.integers(0, 4), st.integers(1, 4)),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_linear_gradients_match_finite_differences(lead, sizes, bias, seed):
    in_features, out_features = sizes
    ms.manual_seed(seed)
    layer = nn.Linear(in_features, out_features, bias=bias, dtype=np.float64)
    x = np.random.default_rng(seed).standard_normal(lead + (in_features,))
    parameters = [layer.weight] + ([layer.bias] if bias else [])

    def forward(x, *params):
        return layer(x)

    check_gradients(forward, x, *parameters)
    expected = x @ layer.weight.data.T + (layer.bias.data if bias else 0)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12, atol=1e-12)


def test_linear_has_pytorchs_shapes_and_init_bound():
    ms.manual_seed(0)
    layer = nn.Linear(100, 30)
    assert layer.weight.shape == (30, 100) and layer.bias.shape == (30,)
    bound = 1 / np.sqrt(100)
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32 and np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.9 * bound


def test_linear_rejects_a_wrong_feature_size_by_name():
    with pytest.raises(ValueError, match=r"linear.*\(2, 5\).*4"):
        nn.Linear(4, 3)(np.zeros((2, 5), np.float32))


# -- Embedding ------------------------------------------------------------------------------------------
@given(index_shape=shapes(max_dims=2, max_side=4), vocab=st.integers(1, 5), dim=st.integers(1, 3),
       pad=st.booleans(), seed=st.integers(0, 2**16))
def test_embedding_gradient_accumulates_repeats_and_skips_padding(index_shape, vocab, dim, pad, seed):
    rng = np.random.default_rng(seed)
    ms.manual_seed(seed)
    padding_idx = int(rng.integers(vocab)) if pad else None
    layer = nn.Embedding(vocab, dim, padding_idx=padding_idx, dtype=np.float64)
    indices = rng.integers(0, vocab, size=index_shape)
    out = layer(indices)
    np.testing.assert_array_equal(out.data, layer.weight.data[indices])
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    expected = np.zeros((vocab, dim))
    np.add.at(expected, indices.reshape(-1), upstream.reshape(-1, dim))
    if padding_idx is not None:
        expected[padding_idx] = 0
        assert not layer.weight.data[padding_idx].any()
    np.testing.assert_allclose(layer.weight.grad, expected, rtol=1e-12, atol=1e-12)


def test_embedding_without_padding_matches_finite_differences():
    ms.manual_seed(1)
    layer = nn.Embedding(4, 3, dtype=np.float64)
    ms.gradcheck(lambda w: layer(np.array([[0, 2, 2], [3, 2, 0]])), [layer.weight], names=["weight"])


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.Embedding(3, 2)(np.array([0, 3])), IndexError, "index 3 is out of range for a table of 3 rows"),
    (lambda: nn.Embedding(3, 2)(np.array([0.0, 1.0])), TypeError, "indices must be integers, got dtype float64"),
    (lambda: nn.Embedding(3, 2, padding_idx=3), ValueError, "padding_idx 3 is out of range for 3 rows"),
])
def test_embedding_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("make, name", [
    (lambda dtype: nn.Linear(3, 2, dtype=dtype), "Linear"),
    (lambda dtype: nn.Embedding(3, 2, dtype=dtype), "Embedding"),
    (lambda dtype: nn.RNNCell(3, 2, dtype=dtype), "RNNCell"),
    (lambda dtype: nn.LSTMCell(3, 2, dtype=dtype), "LSTMCell"),
    (lambda dtype: nn.GRUCell(3, 2, dtype=dtype), "GRUCell"),
    (lambda dtype: nn.Linear(3, 2).astype(dtype), r"Linear\.astype"),
])
@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.complex128])
def test_a_dtype_the_layers_cannot_compute_in_is_refused_at_construction(make, name, dtype):
    with pytest.raises(TypeError, match=rf"^{name}: dtype {np.dtype(dtype)} is not supported; expected float32 or float64$"):
        make(dtype)


def test_embedding_negative_padding_idx_counts_from_the_end():
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4


# -- Dropout --------------------------------------------------------------------------------------------
@given(p=st.floats(0.05, 0.95), seed=st.integers(0, 2**16))
def test_dropout_scales_kept_values_and_is_the_identity_in_eval(p, seed):
    ms.manual_seed(seed)
    layer = nn.Dropout(p)
    x = ms.Tensor(np.random.default_rng(seed).uniform(1, 2, size=(50, 40)), requires_grad=True)
    y = layer(x)
    kept = y.data != 0
    np.testing.assert_allclose(y.data[kept], x.data[kept] / (1 - p), rtol=1e-12)
    assert abs(kept.mean() - (1 - p)) < 0.07  # 2000 Bernoulli draws: 5 standard deviations at worst
    y.backward(np.ones_like(y.data))
    np.testing.assert_allclose(x.grad, kept / (1 - p), rtol=1e-12)
    assert layer.eval()(x) is x or np.array_equal(layer(x).data, x.data)


def test_dropout_p_zero_is_the_identity_and_p_one_zeroes():
    x = ms.Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, x.data)
    assert not nn.Dropout(1.0)(x).data.any()
    with pytest.raises(ValueError, match="Dropout: p must be in \\[0, 1\\], got 1.5"):
        nn.Dropout(1.5)


# -- PyTorch parity ---------------------------------------------------------------------------------------
def test_torch_modules_load_our_state_dicts_and_agree():
    torch = pytest.importorskip("torch")
    ms.manual_seed(3)
    ours = nn.Sequential(nn.Embedding(6, 4, padding_idx=1), nn.Linear(4, 5))
    theirs = torch.nn.Sequential(torch.nn.Embedding(6, 4, padding_idx=1), torch.nn.Linear(4, 5)).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v.astype(np.float64)) for k, v in ours.state_dict().items()})
    ours.double()
    tokens = np.array([[1, 2, 5], [0, 1, 3]])
    upstream = np.random.default_rng(0).standard_normal((2, 3, 5))
    out = ours(tokens)
    out.backward(upstream)
    expected = theirs(torch.from_numpy(tokens))
    expected.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-12, atol=1e-12, err_msg=name)
