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
# # 6. LSTM and GRU gates
#
# Tutorial 5 showed why the LSTM and the GRU can carry a gradient across many steps: their state is
# updated by *adding*, through a gate that can stay near 1. This tutorial opens the two cells up:
#
# 1. their equations, written in a dozen lines of NumPy and checked against `nn.LSTMCell` and
#    `nn.GRUCell`;
# 2. what each gate does, by forcing it open or shut and watching what the cell then can and cannot do;
# 3. what the cells of a trained character model end up tracking: we train a small LSTM on Python source,
#    and find cells that switch on inside strings or inside brackets (and look for, without finding, a cell
#    that counts its way along a line, as a much larger model did in Karpathy et al.'s study).
#
# You will write the GRU step yourself, in PyTorch's convention and in the lecture notes' one, and check
# exactly how the two relate.

# %%
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: one BLAS thread is fastest (set before NumPy loads)

import io
import time
import tokenize
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

import microseq as ms
from microseq import data, nn, optim
from microseq.training.models import CharLM
from microseq.training.tbptt import tbptt_backward

from common import QUICK, show
from exercises import check, exercises_of

exercise = exercises_of("06")  # your answers, or with MICROSEQ_TUTORIAL_SOLUTIONS=1 those in solutions/tutorial06.py
ms.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## The LSTM step in NumPy
#
# The LSTM keeps two vectors of size H: the **cell** $c_t$, its memory, and the **hidden state** $h_t$, what
# it shows to the next layer and to itself at the next step. From the input $x_t$ and $h_{t-1}$ it computes
# four vectors at once, one matrix product each for the input and for the state, stacked in PyTorch's order
# **i, f, g, o** (the rows of `weight_ih` and `weight_hh` come in four blocks of H):
#
# $$ i = \sigma(\cdot), \quad f = \sigma(\cdot), \quad g = \tanh(\cdot), \quad o = \sigma(\cdot), \qquad
#    c_t = f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t) . $$
#
# Each gate is a sigmoid, a number in $(0, 1)$ per cell that multiplies something:
#
# * the **forget gate** $f$: how much of the old memory to keep;
# * the **input gate** $i$: how much of the candidate $g$ to write;
# * the **candidate** $g \in (-1, 1)$: what to write (not a gate: it is the content);
# * the **output gate** $o$: how much of the memory to show in $h_t$.
#
# The diagram shows the data flow: the gates (orange) read $[x_t, h_{t-1}]$;
# the memory $c$ runs along the top, touched only by a multiplication and an addition: the additive path.


# %%
def draw_cell_diagram(ax, title, nodes, edges):
    """A cell as boxes (gates: orange, operations: white circles, states: blue) joined by arrows.

    nodes: name -> (x, y, label, kind) with kind in {"state", "gate", "op"}; edges: (from, to) pairs.
    """
    style = {"state": dict(boxstyle="round", fc="#dbe9f6"), "gate": dict(boxstyle="round", fc="#fde9c9"),
             "op": dict(boxstyle="circle", fc="white")}
    for a, b in edges:
        ax.annotate("", xy=nodes[b][:2], xytext=nodes[a][:2],
                    arrowprops=dict(arrowstyle="->", color="0.35", shrinkA=14, shrinkB=14))
    for x, y, label, kind in nodes.values():
        ax.text(x, y, label, ha="center", va="center", fontsize=10, bbox=style[kind])
    ax.set_xlim(-0.6, 6.6)
    ax.set_ylim(-0.8, 3.6)
    ax.axis("off")
    ax.set_title(title, fontsize=10)


LSTM_DIAGRAM = dict(
    nodes={"c_prev": (0, 3, "$c_{t-1}$", "state"), "h_prev": (0, 0, "$h_{t-1}$", "state"),
           "x": (0.9, -0.5, "$x_t$", "state"), "f": (1.5, 1.2, r"$f=\sigma$", "gate"),
           "i": (2.5, 1.2, r"$i=\sigma$", "gate"), "g": (3.5, 1.2, r"$g=\tanh$", "gate"),
           "o": (4.5, 1.2, r"$o=\sigma$", "gate"), "mul_f": (1.5, 3, r"$\odot$", "op"),
           "mul_ig": (3, 2.1, r"$\odot$", "op"), "add": (3, 3, "$+$", "op"), "c": (6, 3, "$c_t$", "state"),
           "tanh_c": (5, 2.1, "tanh", "op"), "mul_o": (5, 0.4, r"$\odot$", "op"), "h": (6, 0, "$h_t$", "state")},
    edges=[("c_prev", "mul_f"), ("f", "mul_f"), ("mul_f", "add"), ("i", "mul_ig"), ("g", "mul_ig"),
           ("mul_ig", "add"), ("add", "c"), ("add", "tanh_c"), ("tanh_c", "mul_o"), ("o", "mul_o"),
           ("mul_o", "h"), *[(src, gate) for src in ("h_prev", "x") for gate in "figo"]],
)
GRU_DIAGRAM = dict(  # PyTorch's convention: h_t = (1 - z) * n + z * h_{t-1}, r inside the candidate
    nodes={"h_prev": (0, 3, "$h_{t-1}$", "state"), "x": (0.9, -0.5, "$x_t$", "state"),
           "r": (1.5, 1.0, r"$r=\sigma$", "gate"), "z": (2.7, 1.8, r"$z=\sigma$", "gate"),
           "n": (3.6, 0.6, r"$n=\tanh(\ldots r\odot\ldots)$", "gate"), "mul_z": (2.7, 3, r"$\odot$", "op"),
           "one_minus": (4.2, 1.8, "$1-z$", "op"), "mul_n": (5, 1.8, r"$\odot$", "op"), "add": (5, 3, "$+$", "op"),
           "h": (6.2, 3, "$h_t$", "state")},
    edges=[("h_prev", "mul_z"), ("z", "mul_z"), ("mul_z", "add"), ("z", "one_minus"), ("one_minus", "mul_n"),
           ("n", "mul_n"), ("mul_n", "add"), ("add", "h"), ("r", "n"), ("h_prev", "n"), ("x", "n"),
           *[(src, gate) for src in ("h_prev", "x") for gate in "rz"]],
)

fig = Figure(figsize=(6.5, 3.8))
draw_cell_diagram(fig.add_subplot(), "LSTM: c runs along the top, touched by one $\\odot$ and one $+$",
                  **LSTM_DIAGRAM)
fig.tight_layout()
show(fig, "06_lstm_diagram.png")


# %%
def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One LSTM step on arrays: x (B, I), h and c (B, H) -> h', c' and the four gates, each (B, H)."""
    H = h.shape[-1]
    z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh  # (B, 4H): the four pre-activations side by side
    i = sigmoid(z[:, 0 * H:1 * H])  # input gate
    f = sigmoid(z[:, 1 * H:2 * H])  # forget gate
    g = np.tanh(z[:, 2 * H:3 * H])  # candidate
    o = sigmoid(z[:, 3 * H:4 * H])  # output gate
    c = f * c + i * g
    h = o * np.tanh(c)
    return h, c, dict(i=i, f=f, g=g, o=o)


# %% [markdown]
# Check it against the library's cell, in float64 so that the two may only differ by rounding:

# %%
B, I, H = 4, 3, 5
lstm = nn.LSTMCell(I, H, dtype=np.float64)
weights = [p.data for p in (lstm.weight_ih, lstm.weight_hh, lstm.bias_ih, lstm.bias_hh)]
x, h, c = rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))

h_ours, c_ours, _ = lstm_step(x, h, c, *weights)
h_lib, c_lib = lstm(ms.tensor(x), (ms.tensor(h), ms.tensor(c)))
assert np.allclose(h_ours, h_lib.data, rtol=0, atol=1e-14) and np.allclose(c_ours, c_lib.data, rtol=0, atol=1e-14)
print("weight_ih", lstm.weight_ih.shape, " weight_hh", lstm.weight_hh.shape, " bias", lstm.bias_ih.shape)
print("our LSTM step and nn.LSTMCell agree")

# %% [markdown]
# ## The GRU step
#
# The GRU (Cho et al., 2014) does with one state what the LSTM does with two, and with three blocks of
# rows instead of four, in the order **r, z, n**:
#
# $$ r = \sigma(\cdot), \quad z = \sigma(\cdot), \quad
#    n = \tanh\big(x W_{in}^\top + b_{in} + r \odot (h_{t-1} W_{hn}^\top + b_{hn})\big), \qquad
#    h_t = (1 - z) \odot n + z \odot h_{t-1} . $$
#
# * the **update gate** $z$ plays the forget gate and the input gate at once: keep a fraction $z$ of the
#   old state and take $1 - z$ of the new;
# * the **reset gate** $r$: how much of the old state the candidate $n$ may look at;
# * the **candidate** $n$: the proposed new state.
#
# In a diagram (PyTorch's convention): the old state reaches the new one through a multiplication by $z$
# and an addition, the GRU's additive path; the reset gate acts inside the candidate.

# %%
fig = Figure(figsize=(6.5, 3.8))
draw_cell_diagram(fig.add_subplot(), "GRU (PyTorch's convention): $h$ itself is the additive path", **GRU_DIAGRAM)
fig.tight_layout()
show(fig, "06_gru_diagram.png")

# %% [markdown]
# One detail matters for matching PyTorch to the last bit: the reset gate multiplies $h W_{hn}^\top$
# *with its bias* $b_{hn}$, so the state's part of the pre-activation must be kept apart from the
# input's, not summed first as in the LSTM.
#
# **Exercise.** Write `gru_step(x, h, w_ih, w_hh, b_ih, b_hh)` in NumPy, like `lstm_step` above: the three
# blocks of rows in the order r, z, n, the reset gate applied to the state's part *with its bias*, and
# return the new state and a dict of the gates `r`, `z`, `n`.


# %%
@exercise
def gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """One GRU step on arrays: x (B, I), h (B, H) -> h' and the gates r, z, n, each (B, H)."""
    raise NotImplementedError("exercise: r, z, n from two products, then h' = (1 - z) n + z h")


# %% [markdown]
# The check compares your step with `nn.GRUCell` for Hypothesis-drawn sizes (batch 0 included) and random
# weights, states and inputs.


# %%
def sizes_and_seed():
    return st.tuples(st.integers(0, 3), st.integers(1, 4), st.integers(1, 5), st.integers(0, 2**32 - 1))


def random_gru_case(batch, inputs, hidden, seed):
    """A float64 GRUCell with random (non-default) biases, and an input and a state for it."""
    draw = np.random.default_rng(seed)
    cell = nn.GRUCell(inputs, hidden, dtype=np.float64)
    with ms.no_grad():
        cell.bias_ih.copy_(draw.standard_normal(3 * hidden))
        cell.bias_hh.copy_(draw.standard_normal(3 * hidden))
    return cell, draw.standard_normal((batch, inputs)), draw.standard_normal((batch, hidden))


def cell_weights(cell):
    return [p.data for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]


def matches_gru_cell(gru_step):
    @settings(max_examples=15 if QUICK else 100, deadline=None, database=None)
    @given(sizes_and_seed())
    def same_as_library(case):
        cell, x_case, h_case = random_gru_case(*case)
        ours, gates = gru_step(x_case, h_case, *cell_weights(cell))
        assert np.shape(ours) == h_case.shape, f"shape {np.shape(ours)}, expected {h_case.shape}"
        assert set(gates) == {"r", "z", "n"}, "return the gates as dict(r=..., z=..., n=...)"
        assert np.allclose(ours, cell(ms.tensor(x_case), ms.tensor(h_case)).data, rtol=0, atol=1e-12)

    same_as_library()


check(matches_gru_cell, gru_step)
gru = nn.GRUCell(I, H, dtype=np.float64)

# %% [markdown]
# ### The lecture notes' GRU, and what really differs
#
# The lecture notes (and colah's post, and Cho et al.'s paper) write the GRU differently:
#
# $$ \tilde h = \tanh\big(x W_{in}^\top + b_{in} + (r \odot h_{t-1}) W_{hn}^\top + b_{hn}\big), \qquad
#    h_t = (1 - z) \odot h_{t-1} + z \odot \tilde h . $$
#
# Two differences, of two kinds:
#
# * **Which side $z$ multiplies is only a relabelling.** The notes' $z$ is PyTorch's $1 - z$. Since
#   $1 - \sigma(a) = \sigma(-a)$, negating the z block's weights and biases turns one convention into the
#   other exactly: same functions, same training, different names.
# * **Where the reset gate sits is a real difference.** The notes apply $r$ to the state *before* the
#   product, $(r \odot h) W_{hn}^\top$: $r_k$ scales what unit $k$ of the old state contributes to every
#   candidate unit. PyTorch (like cuDNN) applies it *after*, $r \odot (h W_{hn}^\top + b_{hn})$: $r_j$
#   scales candidate unit $j$'s whole view of the state. No renaming of parameters turns one into the other
#   (for H > 1); PyTorch's form is chosen because the product $h W_{hh}^\top$ for all three blocks can then
#   be done as one matrix product before $r$ is known. With $r = 1$ the two agree.
#
# **Exercise.** Write `gru_step_notes(x, h, w_ih, w_hh, b_ih, b_hh)`, the notes' equations with the same
# parameter layout (blocks r, z, n); return the new state only.


# %%
@exercise
def gru_step_notes(x, h, w_ih, w_hh, b_ih, b_hh):
    """The lecture notes' GRU step: r before the product, h' = (1 - z) h + z h~. x (B, I), h (B, H) -> (B, H)."""
    raise NotImplementedError("exercise: the notes' equations, term by term")


# %% [markdown]
# The check proves both bullets on Hypothesis-drawn cells: with the reset gate pinned open ($r = 1$, bias
# +30) your notes' step with the z block negated equals `nn.GRUCell`; with a free reset gate it differs
# (when H > 1 and the batch is not empty).


# %%
def negate_z_block(w_ih, w_hh, b_ih, b_hh):
    hidden = w_hh.shape[1]
    flipped = [p.copy() for p in (w_ih, w_hh, b_ih, b_hh)]
    for p in flipped:
        p[hidden:2 * hidden] *= -1  # z is the second block of rows
    return flipped


def relates_to_pytorch_as_claimed(gru_step_notes):
    @settings(max_examples=15 if QUICK else 100, deadline=None, database=None)
    @given(sizes_and_seed())
    def relabelled_equal_reset_differs(case):
        cell, x_case, h_case = random_gru_case(*case)
        batch, hidden = h_case.shape
        with ms.no_grad():
            cell.bias_hh[:hidden] = cell.bias_hh.data[:hidden] + 30.0  # r pinned to 1
        pytorch = cell(ms.tensor(x_case), ms.tensor(h_case)).data
        notes = gru_step_notes(x_case, h_case, *negate_z_block(*cell_weights(cell)))
        assert np.shape(notes) == h_case.shape, f"shape {np.shape(notes)}, expected {h_case.shape}"
        assert np.allclose(notes, pytorch, rtol=0, atol=1e-9), "with r = 1 and z relabelled, the two must agree"
        with ms.no_grad():
            cell.bias_hh[:hidden] = cell.bias_hh.data[:hidden] - 30.0  # r free again
        pytorch = cell(ms.tensor(x_case), ms.tensor(h_case)).data
        notes = gru_step_notes(x_case, h_case, *negate_z_block(*cell_weights(cell)))
        if hidden > 1 and batch > 0:
            assert not np.allclose(notes, pytorch, rtol=0, atol=1e-6), "r must act before the product"

    relabelled_equal_reset_differs()


check(relates_to_pytorch_as_claimed, gru_step_notes)

# %% [markdown]
# With input size I the LSTM has $4H(I + H + 2)$ parameters and the GRU $3H(I + H + 2)$: for the same H
# the GRU is a quarter smaller, and does a quarter fewer multiplications per step.

# %%
count = {name: sum(p.data.size for p in cell.parameters()) for name, cell in (("LSTM", lstm), ("GRU", gru))}
assert count == {"LSTM": 4 * H * (I + H + 2), "GRU": 3 * H * (I + H + 2)}
print(count)

# %% [markdown]
# ## What each gate does: force it and watch
#
# A gate is a sigmoid of a pre-activation that includes a bias. Add $\pm 30$ to a gate's bias and it is
# pinned to 1 or 0 ($\sigma(30) = 1 - 10^{-13}$) whatever the input: the cell is left with a single
# behaviour, and we can check that it is the one the equations promise. The helper below pins a gate
# (by its block of H rows in `bias_hh`) on a fresh float64 cell and runs it over random inputs.

# %%
BLOCKS = {"LSTM": "ifgo", "GRU": "rzn"}


def pinned(kind, **gates):
    """A float64 LSTMCell or GRUCell with each named gate pinned open (+1) or shut (-1)."""
    cell = (nn.LSTMCell if kind == "LSTM" else nn.GRUCell)(I, H, dtype=np.float64)
    with ms.no_grad():
        for gate, sign in gates.items():
            k = BLOCKS[kind].index(gate)
            cell.bias_hh[k * H:(k + 1) * H] = cell.bias_hh.data[k * H:(k + 1) * H] + 30.0 * sign
    return cell


def run(cell, xs, state):
    """Feed the inputs xs (T, B, I) one step at a time; returns the final state."""
    for x in xs:
        state = cell(ms.tensor(x), state)
    return state


xs = rng.standard_normal((50, B, I))
h0, c0, other_c0 = (rng.standard_normal((B, H)) for _ in range(3))

# %% [markdown]
# **Forget gate open, input gate shut: the memory is held.** With $f = 1$ and $i = 0$ the update is
# $c_t = c_{t-1}$: fifty steps of random input leave the cell exactly as it was. (This is the additive
# path of tutorial 5 in its purest form: $\partial c_t / \partial c_{t-1} = 1$.)

# %%
_, c_50 = run(pinned("LSTM", f=+1, i=-1), xs, (ms.tensor(h0), ms.tensor(c0)))
print("LSTM, f=1 i=0: max |c_50 - c_0| =", f"{np.abs(c_50.data - c0).max():.1e}")
assert np.abs(c_50.data - c0).max() < 1e-9

# %% [markdown]
# **Forget gate shut: the past is wiped.** With $f = 0$, $c_t = i \odot g$ depends on the current input
# and $h_{t-1}$ only. Start from two different memories with the same $h$: one step later they are equal.

# %%
wipe = pinned("LSTM", f=-1)
_, c_a = wipe(ms.tensor(xs[0]), (ms.tensor(h0), ms.tensor(c0)))
_, c_b = wipe(ms.tensor(xs[0]), (ms.tensor(h0), ms.tensor(other_c0)))
assert np.abs(c_a.data - c_b.data).max() < 1e-9

# %% [markdown]
# **Output gate shut: the memory is hidden.** With $o = 0$ the cell still writes to $c$, but $h = 0$:
# nothing downstream (the next layer, the gates at the next step) can see what it stores. A trained LSTM
# can use this to keep information that only becomes useful later.

# %%
h_hidden, c_hidden = run(pinned("LSTM", o=-1), xs[:5], None)
print(f"LSTM, o=0: max |h| = {np.abs(h_hidden.data).max():.1e}, max |c| = {np.abs(c_hidden.data).max():.2f}")
assert np.abs(h_hidden.data).max() < 1e-9 and np.abs(c_hidden.data).max() > 0.1

# %% [markdown]
# **GRU, update gate open: the state is held.** $z = 1$ gives $h_t = h_{t-1}$, the GRU's version of the
# first experiment. **Update and reset gates shut: no memory at all.** $z = 0$ and $r = 0$ give
# $h_t = n = \tanh(x_t W_{in}^\top + b_{in})$, a feed-forward layer of the current input.

# %%
h_50 = run(pinned("GRU", z=+1), xs, ms.tensor(h0))
assert np.abs(h_50.data - h0).max() < 1e-9
memoryless = pinned("GRU", z=-1, r=-1)
h_a, h_b = memoryless(ms.tensor(xs[0]), ms.tensor(h0)), memoryless(ms.tensor(xs[0]), ms.tensor(other_c0))
assert np.abs(h_a.data - h_b.data).max() < 1e-9
print("GRU: z=1 holds the state for 50 steps; z=0, r=0 forgets it in one")

# %% [markdown]
# A trained network never pins its gates like this. It learns to open and shut them *depending on the
# input*: keep the memory while nothing relevant happens, overwrite it when something does. To see that,
# we need a trained network.
#
# ## Inside a trained character model
#
# A character language model reads text one character at a time and predicts the next one (tutorial 8
# is about them). Source code is a good text to read: to predict well, the model must know whether it
# is inside a string (where anything goes) or in code (where names and operators follow rules), how many
# brackets are open, and how far along the line it is. Nobody tells it about any of these; if it tracks
# them, it is because that lowers its loss.
#
# In the full run we train on about a megabyte of Python's standard library (`data.stdlib_corpus`); the
# quick run that CI does trains for a few seconds on a generated code-like text whose strings are in
# CAPITALS, so that knowing "am I inside a string?" pays off at once.

# %%
NAMES = "count data index items key name size total value word".split()
WORDS = "DONE ERROR FOUND HELLO NOT READY WORLD".split()
PROSE = "a all be each if is it keep list make of the this to when".split()


def code_like_text(rng, lines):
    """Python-looking lines: strings (in capitals), comments, nested brackets, indented blocks."""
    def string():
        return '"' + " ".join(rng.choice(WORDS, rng.integers(1, 4))) + '"'

    def value(depth):
        kind = rng.integers(5 if depth < 2 else 3)
        if kind == 0:
            return str(rng.integers(100))
        if kind == 1:
            return string()
        if kind == 2:
            return str(rng.choice(NAMES))
        if kind == 3:
            return f"{rng.choice(NAMES)}({values(depth + 1)})"
        return f"[{values(depth + 1)}]"

    def values(depth):
        return ", ".join(value(depth) for _ in range(rng.integers(1, 4)))

    out, indent = [], 0
    for _ in range(lines):
        kind = rng.integers(6)
        if kind == 5:
            out.append(" " * indent + "# " + " ".join(rng.choice(PROSE, rng.integers(3, 8))))
            continue
        if kind == 0 and indent < 8:
            out.append(" " * indent + f"for {rng.choice(NAMES)} in {value(1)}:")
            indent += 4
            continue
        if kind == 1:
            out.append(" " * indent + f"{rng.choice(NAMES)} = {value(0)}")
        elif kind == 2:
            out.append(" " * indent + f"{rng.choice(NAMES)}({values(0)})")
        else:
            out.append(" " * indent + f"print({string()}, {values(1)})")
        if rng.random() < 0.3:
            indent = 4 * int(rng.integers(indent // 4 + 1))
    return "\n".join(out) + "\n"


if QUICK:
    text = code_like_text(rng, 1500)
    probe = code_like_text(np.random.default_rng(1), 60)  # text the model has never seen, to look inside
else:
    corpus_chars = 1_000_000
    text = data.stdlib_corpus(corpus_chars)
    unseen = data.stdlib_files(corpus_chars + 500_000)[len(data.stdlib_files(corpus_chars))]
    probe_source = Path(unseen).read_text(encoding="utf-8")  # the next stdlib file, not in the training text
    probe = probe_source[:12000]
vocab = data.CharVocab.build(text)
print(f"training text: {len(text):,} characters, {len(vocab)} distinct; probe: {len(probe):,} characters")
print(probe[:300])

# %% [markdown]
# The model is `training.models.CharLM`: an embedding of each character, one `nn.LSTM` layer, and a linear
# read-out of the next character's logits at every step. An **embedding** is a learned table $E$ of shape
# `(V, D)`, one row of D numbers per character of a V-character vocabulary: the model reads character $k$
# as row $E_k$. That is exactly the one-hot row $e_k$ times $E$, without doing the multiplication, and it lets
# similar characters end up with similar rows (tutorial 8 derives its gradient). The training loop is the plain one (tutorial 8
# takes it apart): the text is cut into parallel streams, read 64 characters per step, the state carried
# from one window to the next, Adam, gradient clipping.

# %%
HIDDEN, EMBED, BATCH, STEPS, LR = (64, 16, 16, 300, 1e-2) if QUICK else (128, 32, 32, 2000, 3e-3)


def train_char_model(text, steps):
    ms.manual_seed(0)
    model = CharLM(len(vocab), EMBED, HIDDEN, cell="lstm")
    optimizer = optim.Adam(model.parameters(), lr=LR)
    stream = data.LMStream(vocab.encode(text), batch_size=BATCH, seq_len=64, seed=0)
    state, losses = None, []
    for _ in range(steps):
        batch = next(stream)
        state = None if batch.reset else state
        optimizer.zero_grad()
        loss, state = tbptt_backward(model, batch.inputs, batch.targets, state, window=64)
        optim.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        losses.append(loss)
    return model, losses


start = time.perf_counter()
model, losses = train_char_model(text, STEPS)
print(f"{STEPS} steps in {time.perf_counter() - start:.0f} s: loss {losses[0]:.2f} -> {np.mean(losses[-10:]):.2f} "
      f"nats per character")
assert np.mean(losses[-10:]) < 0.6 * losses[0]

# %% [markdown]
# ## Reading the cells
#
# The trained `nn.LSTM` runs the fused kernel, which returns only the hidden states. To see the gates
# and the cell we run our own `lstm_step` with the model's weights over the probe text, one character at
# a time, and keep everything. First, as always, a check: our $h_t$ must be the layer's output.

# %%
def look_inside(model, text):
    """Run lstm_step with the model's weights over text; returns c, h and each gate, each (len(text), H)."""
    rnn = model.rnn
    w = [p.data.astype(np.float64) for p in (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)]
    xs = model.embedding.weight.data.astype(np.float64)[vocab.encode(text)]
    h = c = np.zeros((1, rnn.hidden_size))
    trace = {key: [] for key in ("c", "h", "i", "f", "g", "o")}
    for x in xs:
        h, c, gates = lstm_step(x[None], h, c, *w)
        for key, value in dict(gates, c=c, h=h).items():
            trace[key].append(value[0])
    return {key: np.array(values) for key, values in trace.items()}


inside = look_inside(model, probe)
with ms.no_grad():
    output, _ = model.rnn(model.embedding(vocab.encode(probe)[None]))
assert np.allclose(inside["h"], output.data[0], atol=1e-4)
print("our step, run over", len(probe), "characters, reproduces the trained layer's output")

# %% [markdown]
# What should a cell track? We label each character of the probe, using Python's own `tokenize` module so
# that the labels are exact (escapes, nested brackets and all):
#
# * **in a string**: inside a one-line string literal, between its quotes;
# * **in prose**: inside a docstring (a triple-quoted string) or a comment, where the text is English
#   rather than code;
# * **in brackets**: at least one `(`, `[` or `{` is open;
# * **column**: the position in the line.
#
# Then, for every cell $k$, the correlation between $\tanh(c_{t,k})$ (the memory as the output gate sees
# it) and each label over the probe; the best cell for each label is the one with the largest
# |correlation|.

# %%
def labels(source, n):
    """The four labels (0/1, or the column) of the first n characters of the Python source."""
    line_starts = np.cumsum([0] + [len(line) for line in source.splitlines(keepends=True)])
    offset = lambda row_col: line_starts[row_col[0] - 1] + row_col[1]  # tokenize's (row, col) -> index
    in_string, in_prose, depth = np.zeros(len(source)), np.zeros(len(source)), np.zeros(len(source))
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        start, end = offset(token.start), offset(token.end)
        if token.type == tokenize.STRING and token.string.endswith(('"""', "'''")):
            in_prose[start + 3:end - 3] = 1
        elif token.type == tokenize.STRING:
            in_string[start + 1:end - 1] = 1
        elif token.type == tokenize.COMMENT:
            in_prose[start:end] = 1
        elif token.type == tokenize.OP and token.string in "([{":
            depth[end:] += 1
        elif token.type == tokenize.OP and token.string in ")]}":
            depth[start:] -= 1
    column = np.concatenate([np.arange(b - a) for a, b in zip(line_starts[:-1], line_starts[1:])])
    return {"in a string": in_string[:n], "in prose": in_prose[:n], "in brackets": (depth[:n] > 0) * 1.0,
            "column": column[:n]}


def correlations(cells, label):
    """Pearson correlation of each cell (column of cells, shape (T, H)) with a label (T,)."""
    a = (cells - cells.mean(0)) / (cells.std(0) + 1e-12)
    b = (label - label.mean()) / label.std()
    return a.T @ b / len(b)


probe_labels = labels(probe if QUICK else probe_source, len(probe))
ms.manual_seed(1)
untrained = look_inside(CharLM(len(vocab), EMBED, HIDDEN, cell="lstm"), probe)
found, corr_trained, corr_untrained = {}, {}, {}
for name, label in probe_labels.items():
    corr_trained[name] = correlations(np.tanh(inside["c"]), label)
    corr_untrained[name] = correlations(np.tanh(untrained["c"]), label)
    found[name] = int(np.argmax(np.abs(corr_trained[name])))
    print(f"{name:12} best cell {found[name]:3}: correlation {corr_trained[name][found[name]]:+.2f}   "
          f"(untrained model's best: {np.abs(corr_untrained[name]).max():.2f})")

# %% [markdown]
# The untrained model is the honest baseline: its cells are random functions of the recent characters,
# and since the characters inside a string differ from those outside (in the quick run's text, capitals),
# some random cell already correlates a little with every label. Training makes single cells track
# strings, prose and brackets far better than any random one. (The quick run's few seconds of training
# on generated text show the string cell clearly, the others less so: CI checks the string cell only.)

# %%
for name in ("in a string",) if QUICK else ("in a string", "in prose", "in brackets"):
    best, baseline = np.abs(corr_trained[name]).max(), np.abs(corr_untrained[name]).max()
    assert best > 0.6 and best > baseline + 0.3, (name, best, baseline)

# %% [markdown]
# The column is another story. In the full run the best trained cell correlates with it hardly better
# than the best random one (0.51 against 0.45 in our run: a character's identity already says a lot about
# its column, since indentation comes first).
# A cell that counts along the line, like the one Karpathy, Johnson and Fei-Fei found in a model trained
# for days on fixed-width text, does not appear in a model this small trained for minutes.


# %% [markdown]
# ## Cells as coloured text
#
# Correlations summarise; a picture convinces. Below, each character of an excerpt of the probe is drawn
# on the colour of one cell's $\tanh(c_t)$ after reading it: red positive, blue negative. (A cell's sign
# means nothing by itself; the network can read a cell either way.)

# %%
def excerpt_lines(text, label, lines=18):
    """First line of the `lines`-line window with the most lines that mix string and code characters."""
    line_starts = np.cumsum([0] + [len(line) for line in text.splitlines(keepends=True)])
    mixed = [0 < label[a:b].sum() < (b - a) - 1 for a, b in zip(line_starts[:-1], line_starts[1:])]
    scores = np.convolve(mixed, np.ones(lines), mode="valid")
    return int(np.argmax(scores)), line_starts


def draw_cell(ax, text, values, first_line, line_starts, lines=18, width=72):
    """The excerpt's characters on a grid, each on the colour of its value in [-1, 1]."""
    grid = np.full((lines, width), np.nan)
    for row in range(lines):
        a, b = line_starts[first_line + row], line_starts[first_line + row + 1]
        for col, index in enumerate(range(a, min(b, a + width))):
            if text[index] != "\n":
                grid[row, col] = values[index]
                ink = "white" if abs(values[index]) > 0.6 else "black"
                ax.text(col, row, text[index], ha="center", va="center", family="monospace", fontsize=7, color=ink)
    ax.imshow(grid, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


first_line, line_starts = excerpt_lines(probe, probe_labels["in a string"])
fig = Figure(figsize=(9, 10.5))
axes = fig.subplots(3, 1)
for ax, name in zip(axes, ("in a string", "in prose", "in brackets")):
    k = found[name]
    draw_cell(ax, probe, np.tanh(inside["c"][:, k]), first_line, line_starts)
    ax.set_title(f"cell {k}: the best match for '{name}' (correlation {corr_trained[name][k]:+.2f})", fontsize=10)
fig.suptitle("tanh(c) of single LSTM cells of a trained character model, character by character")
fig.tight_layout()
show(fig, "06_cells_as_text.png", dpi=130)

# %% [markdown]
# In the full run the string cell is near $-1$ (blue) from the character after an opening quote to the
# closing quote, and positive in code; the prose cell changes sign at a `#` and keeps it to the end of
# the comment; the bracket cell turns red after `(` and back at the matching `)`. (The quick run's
# figure, from seconds of training on generated text, is noisier but shows the string cell as well.)
#
# ## The gates of the string cell
#
# How does a cell keep "I am inside a string" for dozens of characters? Average its gates over three kinds
# of step: reading an opening quote, reading a character inside the string, reading the closing quote.

# %%
string_cell = found["in a string"]
interior = probe_labels["in a string"].astype(bool)
after = np.append(interior[1:], False)  # the next character is inside a string
before = np.insert(interior[:-1], 0, False)  # the previous character was inside a string
steps = {"opening quote": after & ~interior, "inside": interior, "closing quote": before & ~interior,
         "code": ~(interior | after | before)}
gate_means = {kind: {g: inside[g][where, string_cell].mean() for g in "ifgo"} for kind, where in steps.items()}
print(f"cell {string_cell}, mean gates   i     f     g     o")
for kind, means in gate_means.items():
    print(f"{kind:15}" + "".join(f"{means[g]:6.2f}" for g in "ifgo"))

# %% [markdown]
# In our full run the table reads like the description of a flip-flop: at the opening quote the forget gate
# is shut ($f \approx 0$: the old content is wiped) and the input gate open ($i \approx 0.9$) with a
# candidate $g \approx -1$: the cell is *set*. Inside the string, $f \approx 1$ and $i$ small: the cell
# *holds*, whatever the characters are. At the closing quote, $f \approx 0$ again: the cell is *reset*, and
# code writes it back to positive values. These are the three behaviours we forced by hand at the start of
# this tutorial, now chosen by the network character by character.

# %%
if not QUICK:
    opening, held = gate_means["opening quote"], gate_means["inside"]
    assert opening["f"] < 0.2 and opening["i"] > 0.5 and abs(opening["g"]) > 0.5, opening
    assert held["f"] > 0.9 and held["i"] < 0.3, held

# %% [markdown]
# ## What we learned
#
# * The LSTM computes four blocks from one matrix product per input (i, f, g, o in PyTorch's order) and
#   keeps a memory $c$ updated by $c_t = f \odot c_{t-1} + i \odot g$; the GRU does the same with one
#   state and three blocks (r, z, n), its update gate $z$ playing both forget and input gate.
# * Pinning gates shows their jobs: $f = 1, i = 0$ holds the memory exactly, $f = 0$ wipes it, $o = 0$
#   hides it; for the GRU, $z = 1$ holds the state and $z = 0, r = 0$ leaves no memory at all.
# * A character model trained on source code grows single cells that track strings, comments and brackets,
#   which nobody labelled for it, by opening and shutting these gates at the right characters.
