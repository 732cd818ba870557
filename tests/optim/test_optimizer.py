"""Optimizers (SGD, Adam/AdamW, Adagrad, RMSprop) through the contract of ``optim.Optimizer``.

Each optimizer's steps are compared with an independent plain-NumPy implementation of its written update
rule (textbook form, not the same expressions as the library) on drawn parameters, gradients and
hyperparameters over several steps, with parameters that sometimes have no gradient. When PyTorch is
installed, whole trajectories are compared with ``torch.optim`` in float64.
"""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq import nn, optim
from microseq.testing import arrays

# -- reference update rules (plain NumPy, from the papers' / PyTorch docs' formulas) -----------------------


def reference_sgd(p, g, state, lr, momentum, dampening, weight_decay, nesterov, maximize):
    g = -g if maximize else g
    g = g + weight_decay * p
    if momentum:
        state["b"] = g if "b" not in state else momentum * state["b"] + (1 - dampening) * g
        g = g + momentum * state["b"] if nesterov else state["b"]
    return p - lr * g


def reference_adam(p, g, state, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled):
    beta1, beta2 = betas
    g = -g if maximize else g
    t = state["t"] = state.get("t", 0) + 1
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    state["m"] = beta1 * state.get("m", 0) + (1 - beta1) * g
    state["v"] = beta2 * state.get("v", 0) + (1 - beta2) * g**2
    v = state["v"]
    if amsgrad:
        v = state["v_max"] = np.maximum(state.get("v_max", 0), v)
    m_hat, v_hat = state["m"] / (1 - beta1**t), v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def reference_adagrad(p, g, state, lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize):
    g = -g if maximize else g
    t = state["t"] = state.get("t", 0) + 1
    g = g + weight_decay * p
    state["s"] = state.get("s", initial_accumulator_value) + g**2
    return p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(state["s"]) + eps)


def reference_rmsprop(p, g, state, lr, alpha, eps, weight_decay, momentum, centered, maximize):
    g = -g if maximize else g
    g = g + weight_decay * p
    state["v"] = alpha * state.get("v", 0) + (1 - alpha) * g**2
    variance = state["v"]
    if centered:
        state["a"] = alpha * state.get("a", 0) + (1 - alpha) * g
        variance = variance - state["a"] ** 2
    update = g / (np.sqrt(variance) + eps)
    if momentum > 0:
        update = state["b"] = momentum * state.get("b", 0) + update
    return p - lr * update


# -- hyperparameters --------------------------------------------------------------------------------------
LR = st.floats(0.0, 1.0)
DECAY = st.sampled_from([0.0]) | st.floats(0.0, 0.5)


@st.composite
def sgd_config(draw):
    nesterov = draw(st.booleans())
    momentum = draw(st.floats(0.05, 0.99)) if nesterov else draw(st.sampled_from([0.0]) | st.floats(0.0, 0.99))
    dampening = 0.0 if nesterov else draw(st.floats(0.0, 0.9))
    return dict(
        lr=draw(LR), momentum=momentum, dampening=dampening, weight_decay=draw(DECAY), nesterov=nesterov,
        maximize=draw(st.booleans()),
    )


@st.composite
def adam_config(draw):
    return dict(
        lr=draw(LR), betas=(draw(st.floats(0.0, 0.99)), draw(st.floats(0.0, 0.999))),
        eps=draw(st.floats(1e-8, 1e-2)), weight_decay=draw(DECAY), amsgrad=draw(st.booleans()),
        maximize=draw(st.booleans()),
    )


@st.composite
def adagrad_config(draw):
    return dict(
        lr=draw(LR), lr_decay=draw(st.floats(0.0, 1.0)), weight_decay=draw(DECAY),
        initial_accumulator_value=draw(st.floats(0.0, 1.0)), eps=draw(st.floats(1e-10, 1e-2)),
        maximize=draw(st.booleans()),
    )


@st.composite
def rmsprop_config(draw):
    return dict(  # alpha below and above 0.5 takes both branches of torch.lerp's rounding
        lr=draw(st.floats(0.0, 0.1)), alpha=draw(st.floats(0.1, 0.99)), eps=draw(st.floats(1e-8, 1e-2)),
        weight_decay=draw(DECAY), momentum=draw(st.sampled_from([0.0]) | st.floats(0.0, 0.9)),
        centered=draw(st.booleans()), maximize=draw(st.booleans()),
    )


OPTIMIZERS = {
    # name: (config strategy, reference rule taking the config)
    "SGD": (sgd_config(), reference_sgd),
    "Adam": (adam_config(), lambda p, g, s, **c: reference_adam(p, g, s, decoupled=False, **c)),
    "AdamW": (adam_config(), lambda p, g, s, **c: reference_adam(p, g, s, decoupled=True, **c)),
    "Adagrad": (adagrad_config(), reference_adagrad),
    "RMSprop": (rmsprop_config(), reference_rmsprop),
}


@st.composite
def trajectories(draw, name):
    """A config, two parameters' initial values, and per step a gradient for each (or None: skipped)."""
    config = draw(OPTIMIZERS[name][0])
    shapes = [draw(st.sampled_from([(), (1,), (3,), (2, 3)])) for _ in range(2)]
    initial = [draw(arrays(shape)) for shape in shapes]
    steps = draw(st.integers(1, 4))
    grads = [[draw(st.none() | arrays(shape)) for shape in shapes] for _ in range(steps)]
    return config, initial, grads


def run_microseq(name, config, initial, grads):
    """The parameters after each step, as run by microseq.optim (also checks grads are left alone)."""
    params = [nn.Parameter(value.copy()) for value in initial]
    optimizer = getattr(optim, name)(params, **config)
    history = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else g.copy()
        optimizer.step()
        for p, g in zip(params, step_grads):
            assert g is None or np.array_equal(p.grad, g), f"{name}.step changed a gradient"
        history.append([p.data.copy() for p in params])
    return history


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@given(data=st.data())
def test_step_follows_the_written_update_rule(name, data):
    config, initial, grads = data.draw(trajectories(name))
    rule = OPTIMIZERS[name][1]
    values, states = [v.copy() for v in initial], [{}, {}]
    for step_grads, ours in zip(grads, run_microseq(name, config, initial, grads)):
        for i, g in enumerate(step_grads):
            if g is not None:
                values[i] = rule(values[i], g, states[i], **config)
            np.testing.assert_allclose(ours[i], values[i], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@given(data=st.data())
def test_trajectory_matches_torch_optim(name, data):
    torch = pytest.importorskip("torch")
    config, initial, grads = data.draw(trajectories(name))
    params = [torch.tensor(value.copy(), requires_grad=True) for value in initial]
    optimizer = getattr(torch.optim, name)(params, **config)
    for step_grads, ours in zip(grads, run_microseq(name, config, initial, grads)):
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else torch.tensor(g)
        optimizer.step()
        for p, mine in zip(params, ours):  # PyTorch's CPU kernels fuse multiply-adds: equal to ~1e-15
            np.testing.assert_allclose(mine, p.detach().numpy(), rtol=1e-10, atol=1e-13)


def test_parameter_groups_have_their_own_hyperparameters_like_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a0, b0 = rng.standard_normal(3), rng.standard_normal((2, 2))
    a, b = nn.Parameter(a0.copy()), nn.Parameter(b0.copy())
    ta, tb = torch.tensor(a0.copy(), requires_grad=True), torch.tensor(b0.copy(), requires_grad=True)
    ours = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5, "momentum": 0.0}], lr=0.1, momentum=0.9)
    theirs = torch.optim.SGD([{"params": [ta]}, {"params": [tb], "lr": 0.5, "momentum": 0.0}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in ours.param_groups] == [0.1, 0.5]
    for _ in range(3):
        ga, gb = rng.standard_normal(3), rng.standard_normal((2, 2))
        a.grad, b.grad, ta.grad, tb.grad = ga.copy(), gb.copy(), torch.tensor(ga), torch.tensor(gb)
        ours.step()
        theirs.step()
    np.testing.assert_allclose(a.data, ta.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.data, tb.detach().numpy(), rtol=1e-12)
    assert set(ours.state[a]) == {"momentum_buffer"} and b not in ours.state


# -- state dicts -------------------------------------------------------------------------------------------
def _jsonable_round_trip(state_dict):
    """What a checkpoint does: JSON for everything but the arrays (int keys become strings)."""
    arrays_ = {(i, k): v for i, s in state_dict["state"].items() for k, v in s.items() if isinstance(v, np.ndarray)}
    scalars = {i: {k: v for k, v in s.items() if not isinstance(v, np.ndarray)} for i, s in state_dict["state"].items()}
    restored = json.loads(json.dumps({"state": scalars, "param_groups": state_dict["param_groups"]}))
    for (i, k), v in arrays_.items():
        restored["state"][str(i)][k] = v
    return restored


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@given(data=st.data())
def test_state_dict_round_trip_resumes_bit_for_bit(name, data):
    config, initial, grads = data.draw(trajectories(name))
    split = data.draw(st.integers(0, len(grads)))

    def make():
        params = [nn.Parameter(v.copy()) for v in initial]
        return params, getattr(optim, name)(params, **config)

    def run(params, optimizer, steps):
        for step_grads in steps:
            for p, g in zip(params, step_grads):
                p.grad = None if g is None else g.copy()
            optimizer.step()

    params, optimizer = make()
    run(params, optimizer, grads)

    first, first_optimizer = make()
    run(first, first_optimizer, grads[:split])
    saved = _jsonable_round_trip(first_optimizer.state_dict())
    resumed, resumed_optimizer = make()
    for p, q in zip(resumed, first):
        p.data[...] = q.data
    resumed_optimizer.load_state_dict(saved)
    run(resumed, resumed_optimizer, grads[split:])
    for p, q in zip(params, resumed):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_layout_is_pytorchs():
    params = [nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3)), nn.Parameter(np.ones(1))]
    optimizer = optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.1}], amsgrad=True)
    params[1].grad = np.ones(3)
    optimizer.step()
    state = optimizer.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0, 1], [2]]
    assert state["param_groups"][1]["lr"] == 0.1 and state["param_groups"][0]["betas"] == (0.9, 0.999)
    assert list(state["state"]) == [1]
    assert set(state["state"][1]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert state["state"][1]["step"] == 1
    state["state"][1]["exp_avg"][:] = 7  # a copy: the optimizer's own state is untouched
    assert not np.any(optimizer.state[params[1]]["exp_avg"] == 7)


def test_load_state_dict_reports_every_mismatch():
    optimizer = optim.Adam([nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))])
    other = optim.Adam([nn.Parameter(np.ones(2)), nn.Parameter(np.ones(4))])
    for p in other.param_groups[0]["params"]:
        p.grad = np.ones(p.shape)
    other.step()
    with pytest.raises(ValueError, match=r"state of parameter 1: 'exp_avg' has shape \(4,\).*'exp_avg_sq'"):
        optimizer.load_state_dict(other.state_dict())
    fewer = optim.Adam([nn.Parameter(np.ones(2))])
    with pytest.raises(ValueError, match=r"parameter group 0: 1 parameters in the state, 2 in the optimizer"):
        optimizer.load_state_dict(fewer.state_dict())


# -- in-place semantics ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_step_updates_in_place_and_invalidates_stale_graphs(name):
    w = nn.Parameter(np.array([1.0, -2.0]))
    array = w.data
    x = ms.tensor([3.0, 4.0], dtype=np.float64)
    loss = (w * x).sum()  # saves w for backward
    w.grad = np.array([0.5, -0.5])
    version = w._version.value
    getattr(optim, name)([w], lr=0.1).step()
    assert w.data is array and w._version.value > version and not np.array_equal(w.data, [1.0, -2.0])
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_momentum_buffer_of_a_0d_parameter_is_updated_in_place():
    """Arithmetic on 0-d arrays returns NumPy scalars, which ``*=`` cannot update in place."""
    p = nn.Parameter(np.array(1.0))
    optimizer = optim.SGD([p], lr=0.1, momentum=0.5)
    expected, state = np.array(1.0), {}
    for g in (1.0, 2.0, -1.0):
        p.grad = np.array(g)
        optimizer.step()
        expected = reference_sgd(expected, np.array(g), state, 0.1, 0.5, 0.0, 0.0, False, False)
        assert p.data == expected and optimizer.state[p]["momentum_buffer"] == state["b"]


def test_zero_grad_and_skipping_parameters_without_grad():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    optimizer = optim.SGD([a, b], lr=1.0)
    a.grad = np.array([1.0, 2.0])
    optimizer.step()
    np.testing.assert_array_equal(a.data, [0.0, -1.0])
    np.testing.assert_array_equal(b.data, [1.0, 1.0])
    grad = a.grad
    optimizer.zero_grad(set_to_none=False)
    assert a.grad is grad and np.all(grad == 0) and b.grad is None
    optimizer.zero_grad()
    assert a.grad is None


def test_bad_hyperparameters_and_parameters_are_clear_errors():
    p = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match=r"SGD: invalid lr -0.1 \(must be >= 0\)"):
        optim.SGD([p], lr=-0.1)
    with pytest.raises(ValueError, match=r"SGD: Nesterov momentum needs momentum > 0 and dampening == 0"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"Adam: invalid beta2 1.0 \(must be in \[0, 1\)\)"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match=r"RMSprop: got an empty parameter list"):
        optim.RMSprop([])
    with pytest.raises(ValueError, match=r"Adagrad: some parameters appear in more than one parameter group"):
        optim.Adagrad([{"params": [p]}, {"params": [p]}])
    with pytest.raises(TypeError, match=r"AdamW: can only optimize floating-point tensors, got dtype int64"):
        optim.AdamW([ms.Tensor(np.arange(3))])
    with pytest.raises(ValueError, match=r"SGD: can't optimize a non-leaf tensor"):
        optim.SGD([p * 2], lr=0.1)
