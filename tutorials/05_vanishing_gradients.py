# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Vanishing and exploding gradients
#
# Tutorial 4 ended with a warning: a gradient that travels back through many steps is multiplied by the
# step Jacobian again and again, and such products tend to shrink to nothing or grow without bound. This
# tutorial measures that, over 100 steps, for the three recurrent layers of microseq (`nn.RNN`, `nn.LSTM`,
# `nn.GRU`); explains why the gated layers *can* keep the gradient alive; shows what gradient clipping does
# (and does not) fix; and ends with the classic test of long memory, the **adding problem**, on which the
# LSTM learns and the plain RNN does not. You will write the step Jacobian and gradient clipping yourself.

# %%
import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

import microseq as ms
from microseq import data, nn, optim

from common import QUICK, show
from exercises import check, exercises_of

exercise = exercises_of("05")  # your answers, or with MICROSEQ_TUTORIAL_SOLUTIONS=1 those in solutions/tutorial05.py
ms.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## A product of Jacobians
#
# For the RNN $h_t = \tanh(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh})$, the chain rule
# through $t$ steps gives
#
# $$ \frac{\partial h_t}{\partial h_0} = J_t J_{t-1} \cdots J_1, \qquad
#    J_s = \frac{\partial h_s}{\partial h_{s-1}} = \operatorname{diag}(1 - h_s^2)\, W_{hh} . $$
#
# Every factor has norm at most $\|W_{hh}\|$ (the largest singular value), because $0 < 1 - h^2 \le 1$.
# If $\|W_{hh}\| < 1$, the product shrinks at least geometrically: the gradient **vanishes**. If $W_{hh}$
# is large, the product can grow geometrically: it **explodes**. Only a knife's edge in between keeps it
# at a useful size, and the tanh factors push it below the edge whenever the units are busy.
#
# **Exercise.** Write the step Jacobian for one sequence: `step_jacobian(h, w_hh)` $= \operatorname{diag}(1 - h^2)\,
# W_{hh}$, an `(H, H)` matrix whose entry $(j, k)$ is $\partial h_{s,j} / \partial h_{s-1,k}$, given the
# new state `h` of shape `(H,)` and `w_hh` of shape `(H, H)`.


# %%
@exercise
def step_jacobian(h, w_hh):
    """d h_s / d h_{s-1} of h_s = tanh(... + h_{s-1} W_hh^T): h (H,), w_hh (H, H) -> (H, H)."""
    raise NotImplementedError("exercise: diag(1 - h^2) W_hh")


# %% [markdown]
# The check rebuilds the Jacobian row by row with backward passes (tutorial 1: the upstream gradient $e_j$
# gives row $j$) through one step of `nn.RNN`, for Hypothesis-drawn sizes, and compares.


# %%
def is_the_jacobian_backward_sees(step_jacobian):
    @settings(max_examples=10 if QUICK else 50, deadline=None, database=None)
    @given(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2**32 - 1))
    def rows_agree(hidden, inputs, seed):
        draw = np.random.default_rng(seed)
        cell = nn.RNN(inputs, hidden, dtype=np.float64)
        x = ms.tensor(draw.standard_normal((1, 1, inputs)))
        h_prev = ms.tensor(draw.standard_normal((1, 1, hidden)), requires_grad=True)
        out, _ = cell(x, h_prev)
        rows = []
        for j in range(hidden):
            h_prev.zero_grad()
            out.backward(np.eye(hidden)[j].reshape(1, 1, hidden), retain_graph=True)
            rows.append(h_prev.grad.reshape(hidden))
        ours = step_jacobian(out.data.reshape(hidden), cell.weight_hh_l0.data)
        assert np.shape(ours) == (hidden, hidden), f"shape {np.shape(ours)}, expected {(hidden, hidden)}"
        assert np.allclose(ours, np.array(rows), rtol=1e-10, atol=1e-12), "rows differ from backward's"

    rows_agree()


check(is_the_jacobian_backward_sees, step_jacobian)

# %% [markdown]
# Your Jacobian makes the first claim checkable: each factor's norm is at most $\|W_{hh}\|$.

# %%
w_example = nn.RNN(2, 16, dtype=np.float64).weight_hh_l0.data
h_example = np.tanh(rng.standard_normal(16))
assert np.linalg.norm(step_jacobian(h_example, w_example), 2) <= np.linalg.norm(w_example, 2) + 1e-12

# %% [markdown]
# We measure $\| v\, \partial h_t / \partial h_0 \|$ for a random unit row vector $v$ (a vector-Jacobian
# product, tutorial 1): one backward pass
# from step $t$ (with `retain_graph=True` so the same forward pass serves every $t$), averaged over a
# batch of random input sequences.

# %%
T = 30 if QUICK else 100
B, I, H = 8, 4, 32


def gradient_norms(layer, steps=T):
    """||v dh_t/dh_0|| for t = 1..steps, as the RMS over a batch of random inputs (float64)."""
    xs = ms.tensor(rng.standard_normal((steps, B, I)))
    h0 = ms.zeros(1, B, H, dtype=np.float64, requires_grad=True)
    state = (h0, ms.zeros(1, B, H, dtype=np.float64)) if isinstance(layer, nn.LSTM) else h0
    output, _ = layer(xs, state)
    v = rng.standard_normal((B, H))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    norms = []
    for t in range(steps):
        h0.zero_grad()
        output[t].backward(v, retain_graph=True)
        norms.append(np.linalg.norm(h0.grad) / np.sqrt(B))
    return np.array(norms)


layers = {"RNN": nn.RNN(I, H, dtype=np.float64), "LSTM": nn.LSTM(I, H, dtype=np.float64),
          "GRU": nn.GRU(I, H, dtype=np.float64)}
start = time.perf_counter()
default_init = {name: gradient_norms(layer) for name, layer in layers.items()}
print(f"({time.perf_counter() - start:.1f} s)")
for name, norms in default_init.items():
    print(f"{name:5} ||v dh_t/dh_0||: t=1 {norms[0]:.1e}, t=10 {norms[9]:.1e}, t={T} {norms[-1]:.1e}")

# %% [markdown]
# With PyTorch's default initialisation (every weight uniform in $\pm 1/\sqrt{H}$), **all three** vanish,
# and at similar rates: after 30 steps the gradient is $10^5$ to $10^7$ times smaller than after one (the
# printed numbers; the exact factor depends on the random weights).

# %%
for name, norms in default_init.items():
    assert norms[min(29, T - 1)] < 1e-4 * norms[0], name

# %% [markdown]
# So the gated layers are not magic at initialisation. What they have is a *way* out, which the next
# section explains; first let's see the other failure. Make the RNN's $W_{hh}$ an orthogonal matrix (all
# singular values 1) times 3: the product of Jacobians now grows by orders of magnitude every few steps.

# %%
exploding = nn.RNN(I, H, dtype=np.float64)
orthogonal, _ = np.linalg.qr(rng.standard_normal((H, H)))
with ms.no_grad():
    exploding.weight_hh_l0.copy_(3.0 * orthogonal)
exploding_norms = gradient_norms(exploding)
print(f"RNN, W_hh = 3 x orthogonal: t=1 {exploding_norms[0]:.1e}, t={T} {exploding_norms[-1]:.1e}")
assert exploding_norms[-1] > 1e3 * exploding_norms[0]

# %% [markdown]
# ## Why the gates help: an additive path
#
# The LSTM keeps a second state, the cell $c_t$, updated by **adding**:
#
# $$ c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t), $$
#
# where the forget gate $f_t = \sigma(\cdot)$ lies in $(0, 1)$. Along the cell, the direct Jacobian is
# just $\partial c_t / \partial c_{t-1} = \operatorname{diag}(f_t)$: no weight matrix, no squashing
# derivative. When $f_t \approx 1$ the gradient passes many steps almost unchanged. The GRU has the same
# structure in one state, $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$, with the update gate $z_t$
# playing the role of $f_t$. (Tutorial 6 goes through the gates one by one.)
#
# At initialisation the gate biases are near 0, so $f_t \approx \sigma(0) = 0.5$: along the cell alone the
# gradient would halve every step. The other paths (through $h$ and the gates) add a little, and we
# measured about 0.6x per step for the LSTM (computed below from the curve). But $f_t$ is *learned*, and it can be initialised near 1: adding
# 3 to the forget gate's bias ($\sigma(3) \approx 0.95$) is all it takes. (A bias of 1, Keras's
# `unit_forget_bias`, is the common default.) In PyTorch's gate order (i, f, g, o for the LSTM; r, z, n for
# the GRU) the forget gate and the update gate are the second block of `H` rows of the bias:

# %%
per_step = (default_init["LSTM"][-1] / default_init["LSTM"][0]) ** (1 / (T - 1))
print(f"LSTM at initialisation: the gradient shrinks by {per_step:.2f}x per step (geometric mean)")
assert 0.5 < per_step < 0.8  # about 0.6: a bit more than the cell path's 0.5

remembering = {"LSTM": nn.LSTM(I, H, dtype=np.float64), "GRU": nn.GRU(I, H, dtype=np.float64)}
with ms.no_grad():
    for layer in remembering.values():
        layer.bias_hh_l0[H:2 * H] = layer.bias_hh_l0.data[H:2 * H] + 3.0  # forget gate f / update gate z
remembering_norms = {name: gradient_norms(layer) for name, layer in remembering.items()}
for name, norms in remembering_norms.items():
    print(f"{name:5} with gate bias +3: t=1 {norms[0]:.1e}, t={T} {norms[-1]:.1e}")
    assert norms[-1] > 1e-2 * norms[0], name  # still a useful gradient after T steps

fig = Figure(figsize=(11, 4))
left, right = fig.subplots(1, 2, sharey=True)
steps = np.arange(1, T + 1)
colors = {"RNN": "tab:blue", "LSTM": "tab:orange", "GRU": "tab:green"}
for name, norms in default_init.items():
    left.semilogy(steps, norms, color=colors[name], label=name)
left.set_title("Default initialisation: all three vanish")
right.semilogy(steps, exploding_norms, color=colors["RNN"], ls="--", label="RNN, W_hh = 3 x orthogonal")
for name, norms in remembering_norms.items():
    right.semilogy(steps, norms, color=colors[name], label=f"{name}, gate bias +3")
right.set_title("RNN explodes; gates biased to remember keep the gradient")
for ax in (left, right):
    ax.set_xlabel("steps t")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
left.set_ylabel(r"$\|v\, \partial h_t / \partial h_0\|$")
fig.tight_layout()
show(fig, "05_gradient_norms.png")

# %% [markdown]
# ## Gradient clipping
#
# An exploding gradient is easy to treat: if the gradient of all parameters together, as one long vector,
# is longer than some `max_norm`, scale it down to that length. `optim.clip_grad_norm_(parameters,
# max_norm)` does this in place and returns the norm it found (like PyTorch's). The *direction* of the
# step is unchanged; only a step that would have thrown the weights far away is shortened. Here is one
# backward pass through the exploding RNN:

# %%
head = nn.Linear(H, 1, dtype=np.float64)
params = list(exploding.parameters()) + list(head.parameters())
xs = ms.tensor(rng.standard_normal((T, B, I)))
output, h_n = exploding(xs)
loss = ms.mse_loss(head(h_n[0]).reshape(-1), ms.tensor(rng.standard_normal(B)))
loss.backward()
before = np.concatenate([p.grad.ravel() for p in params])
total_norm = optim.clip_grad_norm_(params, max_norm=1.0)
after = np.concatenate([p.grad.ravel() for p in params])
print(f"gradient norm {total_norm:.3g} -> {np.linalg.norm(after):.3g}")
assert np.isclose(total_norm, np.linalg.norm(before))
assert np.isclose(np.linalg.norm(after), 1.0, rtol=1e-5)
assert np.isclose(before @ after, np.linalg.norm(before) * np.linalg.norm(after), rtol=1e-9)  # same direction

# %% [markdown]
# Clipping treats the symptom of explosion, a step too long for the region where the gradient is
# informative.
#
# **Exercise.** Write `clip_by_total_norm(grads, max_norm)` in NumPy: `grads` is a list of arrays (one per
# parameter). Compute their total norm $\sqrt{\sum_p \lVert g_p \rVert^2}$ (all of them as one long vector);
# if it exceeds `max_norm`, scale *every* array in place by `max_norm / total`. Return the total norm
# measured before clipping.


# %%
@exercise
def clip_by_total_norm(grads, max_norm):
    """Scale the arrays ``grads`` in place so that their joint norm is at most ``max_norm``; return it (before)."""
    raise NotImplementedError("exercise: one norm over all arrays, one scale for all")


# %% [markdown]
# The check draws lists of gradients of random shapes and a `max_norm` (Hypothesis) and compares with
# `optim.clip_grad_norm_` on the same numbers: same returned norm, same clipped gradients (so the same
# direction).


# %%
def clips_like_the_library(clip_by_total_norm):
    @settings(max_examples=20 if QUICK else 100, deadline=None, database=None)
    @given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3)), min_size=1, max_size=4),
           st.floats(0.1, 10), st.integers(0, 2**32 - 1))
    def same_as_optim(shapes, max_norm, seed):
        draw = np.random.default_rng(seed)
        grads = [3 * draw.standard_normal(shape) for shape in shapes]
        params = [ms.tensor(np.zeros(shape), requires_grad=True) for shape in shapes]
        for param, grad in zip(params, grads):
            param.grad = grad.copy()
        expected = optim.clip_grad_norm_(params, max_norm=max_norm)
        total = clip_by_total_norm(grads, max_norm)
        assert np.isclose(total, expected, rtol=1e-10), f"returned {total}, expected the norm {expected}"
        for param, grad in zip(params, grads):
            # (the library, like PyTorch, divides by total + 1e-6: agreement to 1e-4 is all we ask)
            assert np.allclose(grad, param.grad, rtol=1e-4, atol=1e-12), "clipped gradients differ"

    same_as_optim()


check(clips_like_the_library, clip_by_total_norm)

# %% [markdown]
# Clipping does nothing for vanishing: a gradient that is $10^{-10}$ of what it should be stays
# that way. Against vanishing the cure is architectural, the additive path of the gates.
#
# ## The adding problem
#
# Hochreiter and Schmidhuber's test of long memory: each step carries a random value in $[0, 1]$ and a
# marker; exactly one marker is set in each half of the sequence; the target is the sum of the two marked
# values, read from the final state. Predicting the average (1) gives a mean squared error of $1/6
# \approx 0.167$, so anything clearly below that has learned to remember. The information needed sits up
# to $T$ steps before the answer, so the gradient that would teach the network to store it must survive
# $T$ steps.

# %%
inputs, targets = data.adding_problem(rng, batch_size=2, T=10)
print("values: ", np.round(inputs[0, :, 0], 2))
print("markers:", inputs[0, :, 1].astype(int))
print("target: ", round(float(targets[0]), 3))
marked = inputs[0, :, 1] == 1
assert np.isclose(inputs[0, marked, 0].sum(), targets[0], rtol=1e-6)
assert data.ADDING_BASELINE_MSE == 1 / 6

# %% [markdown]
# We train a one-layer RNN and an LSTM (forget bias +1, the usual default) of the same hidden size, each
# with a linear read-out of its final state, Adam, and clipping at norm 1.
#
# **Adam**, used here for the first time (`optim.Adam`), is momentum (tutorial 4) plus a step size per
# parameter. It keeps two running averages of each parameter's gradient $g$: its mean
# $m \leftarrow \beta_1 m + (1 - \beta_1) g$ (momentum) and its mean square
# $v \leftarrow \beta_2 v + (1 - \beta_2) g^2$, corrects both for starting at zero
# ($\hat m = m / (1 - \beta_1^t)$, $\hat v = v / (1 - \beta_2^t)$ at step $t$), and steps
# $\theta \leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)$. Dividing by the gradient's own typical
# size makes the step about $\eta$ for every parameter, whether its gradient is $10^{-6}$ or $10^{2}$: exactly
# what a recurrent network needs, whose gradients differ by orders of magnitude between parameters (the
# previous section). The defaults $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\epsilon = 10^{-8}$ are PyTorch's. The layers run the fused numba
# kernels (the default; tutorial 12 shows they agree with the composed cells).


# %%
class AddingModel(nn.Module):
    def __init__(self, kind, hidden):
        super().__init__()
        layer_class = {"RNN": nn.RNN, "LSTM": nn.LSTM}[kind]
        self.recurrent = layer_class(2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)
        if kind == "LSTM":
            with ms.no_grad():
                self.recurrent.bias_hh_l0[hidden:2 * hidden] = self.recurrent.bias_hh_l0.data[hidden:2 * hidden] + 1.0

    def forward(self, x):
        _, state = self.recurrent(x)
        h_n = state[0] if isinstance(state, tuple) else state
        return self.head(h_n[0]).reshape(-1)


def train_adding(kind, T, steps, hidden=32, batch=32, lr=1e-2, seed=0):
    ms.manual_seed(seed)
    stream = np.random.default_rng(seed)
    model = AddingModel(kind, hidden)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        x, y = data.adding_problem(stream, batch, T)
        loss = ms.mse_loss(model(ms.tensor(x)), ms.tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        losses.append(loss.item())
    x, y = data.adding_problem(np.random.default_rng(seed + 1), 500, T)
    with ms.no_grad():
        test_mse = ms.mse_loss(model(ms.tensor(x)), ms.tensor(y)).item()
    return np.array(losses), test_mse


adding_T, adding_steps = (10, 40) if QUICK else (50, 1500)
start = time.perf_counter()
runs = {kind: train_adding(kind, adding_T, adding_steps) for kind in ("RNN", "LSTM")}
print(f"T = {adding_T}, {adding_steps} training batches each ({time.perf_counter() - start:.0f} s)")
for kind, (_, test_mse) in runs.items():
    print(f"{kind:5} test MSE {test_mse:.4f}   (baseline {data.ADDING_BASELINE_MSE:.3f})")

fig = Figure(figsize=(6.5, 4))
ax = fig.add_subplot()
for kind, (losses, _) in runs.items():
    window = max(1, len(losses) // 40)
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    ax.semilogy(np.arange(len(smooth)) + window - 1, smooth, label=kind,
                color=colors[kind])
ax.axhline(data.ADDING_BASELINE_MSE, color="0.4", ls=":", label="predict the mean (1/6)")
ax.set_xlabel("training batch")
ax.set_ylabel("mean squared error")
ax.set_title(f"Adding problem, T = {adding_T}" + (" (quick run: far too short to learn)" if QUICK else ""))
ax.legend()
ax.grid(alpha=0.3, which="both")
fig.tight_layout()
show(fig, "05_adding_problem.png")

# %% [markdown]
# In the full run ($T = 50$, 1500 batches of 32) the LSTM sits at the baseline for a long while (about
# 700 batches in our run: it first has to discover that the markers matter), then its error drops within
# a few dozen batches to about 0.001. The RNN stays at the baseline: it never learns to keep the first
# marked value for the dozens of steps until the answer is read. The quick run that CI does is too short for either to learn (its figure says so),
# so this claim is checked only in the full run:

# %%
if not QUICK:
    assert runs["LSTM"][1] < 0.02, runs["LSTM"][1]
    assert runs["RNN"][1] > 0.1, runs["RNN"][1]

# %% [markdown]
# ## What we learned
#
# * Backpropagating through $t$ steps multiplies $t$ Jacobians; for the RNN each is
#   $\operatorname{diag}(1 - h^2) W_{hh}$, so the gradient vanishes or explodes geometrically.
# * At default initialisation the LSTM and GRU vanish too. Their advantage is an additive path whose
#   Jacobian is a gate ($f_t$, $z_t$) rather than a weight matrix; biased towards 1, it carries the gradient
#   across the whole sequence.
# * Clipping the gradient norm bounds the damage of explosion without changing the step's direction; it
#   cannot undo vanishing.
# * On the adding problem the LSTM learns a dependency across $T = 50$ steps that the RNN cannot.
