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
# # 12. Making it fast
#
# Every recurrent layer in microseq has two engines. With `fused=False` it is what tutorials 4 to 6 built:
# the cell's equations written with primitive ops, applied step after step, every op recorded on the tape.
# That path is easy to read and to trust, and slow. With `fused=True` (the default) the whole sequence is
# **one** op on the tape, computed by a compiled numba kernel with a backward pass written by hand.
#
# This tutorial looks at where the composed path spends its time, what the fused kernel does instead, how
# we know the two compute the same numbers (a property test that you can run here, and that catches a
# planted bug), and finally measures both against PyTorch on this machine. You will write the heart of the
# kernel's backward pass in NumPy: one step through the cell, and the weight gradients as one product each.

# %%
import os
import time
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

import microseq as ms
from microseq import bench, kernels, nn
from microseq.testing import sequence_batches

from common import QUICK, show
from exercises import check, exercises_of

exercise = exercises_of("12")  # your answers, or with MICROSEQ_TUTORIAL_SOLUTIONS=1 those in solutions/tutorial12.py
ms.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## Where the composed path spends its time
#
# Run a small LSTM both ways, with the same weights, and look at the tapes.

# %%
T, B, I, H = 5, 3, 4, 6
composed = nn.LSTM(I, H, fused=False, dtype=np.float64)
fused = nn.LSTM(I, H, fused=True, dtype=np.float64)
fused.load_state_dict(composed.state_dict())
x = ms.tensor(rng.standard_normal((T, B, I)), requires_grad=True)

out_composed, _ = composed(x)
out_fused, _ = fused(x)
tape_composed, tape_fused = ms.tape_of(out_composed), ms.tape_of(out_fused)
one_step = composed(ms.tensor(rng.standard_normal((1, B, I))))[0]
print(f"composed: {len(tape_composed)} ops on the tape; one step records", [node.op for node in ms.tape_of(one_step)])
print(tape_fused)
assert np.allclose(out_composed.data, out_fused.data, rtol=0, atol=1e-14)

# %% [markdown]
# The composed LSTM records about twenty ops per time step (two matrix products and their transposes, the
# slices of the four gates, three sigmoids, two tanhs, the products and sums of the cell update), and the
# number grows linearly with T. The fused layer records one `lstm (fused)` node, plus a slice that takes
# `output` out of it, however long the sequence:

# %%
def tape_length(layer, steps):
    return len(ms.tape_of(layer(ms.tensor(rng.standard_normal((steps, B, I))))[0]))


per_step = tape_length(composed, 2 * T) - tape_length(composed, T)
print(f"composed: {per_step / T:.0f} more ops per extra step; fused: {tape_length(fused, T)} ops for "
      f"T = {T} and {tape_length(fused, 10 * T)} for T = {10 * T}")
assert per_step % T == 0 and per_step // T >= 15
assert tape_length(fused, T) == tape_length(fused, 10 * T) == 2

# %% [markdown]
# Each recorded op costs something on top of its arithmetic: a Python call, a `Node`, and later a
# backward call. `bench.engine_overhead_us` measures it on an op whose arithmetic is nothing (four numbers):

# %%
overhead = bench.engine_overhead_us(2000 if QUICK else 20000)
print("NumPy op alone {numpy_op_us:.2f} us, recorded op {record_op_us:.2f} us, recorded op + backward "
      "{record_and_backward_us:.2f} us".format(**overhead))
assert overhead["record_and_backward_us"] > overhead["numpy_op_us"]

# %% [markdown]
# Multiply that by twenty ops per step and a few hundred steps, and the bookkeeping alone takes
# milliseconds, while the arithmetic of a small layer takes microseconds. The tape also keeps every
# intermediate array for the backward pass (tutorial 1's "saved" column), more than the fused node keeps:

# %%
saved_composed = sum(node.saved_bytes() for node in tape_composed)
saved_fused = sum(node.saved_bytes() for node in tape_fused)
print(f"saved for backward: composed {saved_composed} bytes, fused {saved_fused} bytes "
      f"(the composed tape keeps {saved_composed / saved_fused:.1f} times as much)")
assert saved_fused < saved_composed

# %% [markdown]
# ## What the fused kernel does instead
#
# The kernel (`microseq/kernels/lstm.py`) computes, for the whole sequence at once, what this dozen lines
# of NumPy computes. Two ideas make it fast:
#
# 1. $x_t W_{ih}^\top$ does not depend on the recurrence, so it is computed for **all** steps in one large
#    matrix product before the loop. Only $h_{t-1} W_{hh}^\top$ has to wait for the previous step.
# 2. Inside the loop, the gate nonlinearities, the cell update and the output are one compiled loop over
#    the (B, H) elements: no temporary arrays, no Python. It stores just what backward needs: the gates,
#    $c_{t-1}$, $h_{t-1}$ and $\tanh(c_t)$.

# %%
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_forward_numpy(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """The LSTM over a whole sequence in plain NumPy, gate order i, f, g, o."""
    x_gates = x @ w_ih.T + b_ih + b_hh  # (T, B, 4H): every step in one product
    outputs = []
    for t in range(len(x)):
        i, f, g, o = np.split(x_gates[t] + h @ w_hh.T, 4, axis=-1)
        i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
        c = f * c + i * g
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs), h, c


weights = [p.data for p in fused.weights(0)]
h0 = c0 = np.zeros((B, H))
by_numpy = lstm_forward_numpy(x.data, h0, c0, *weights)
*by_kernel, saved = kernels.lstm_forward(x.data, h0, c0, *weights)
for name, a, b in zip(("out", "h_n", "c_n"), by_numpy, by_kernel):
    print(f"{name}: largest difference {np.abs(a - b).max():.1e}")
    assert np.allclose(a, b, rtol=0, atol=1e-14)

# %% [markdown]
# The backward pass is written out by hand, step by step in reverse: with $g_h$ the gradient reaching
# $h_t$ (from the output and from step $t+1$) and $g_c = \partial L / \partial c_t + g_h\, o\,(1 - \tanh^2 c_t)$,
#
# $$ \partial a_i = g_c\, g\, i(1-i), \quad \partial a_f = g_c\, c_{t-1}\, f(1-f), \quad
#    \partial a_g = g_c\, i\,(1-g^2), \quad \partial a_o = g_h \tanh(c_t)\, o(1-o), $$
#
# $$ \frac{\partial L}{\partial c_{t-1}} = g_c\, f, \qquad
#    \frac{\partial L}{\partial h_{t-1}} = \partial a\, W_{hh} . $$
#
# The term that is easiest to forget is the second one of $g_c$: the cell $c_t$ reaches the loss not only
# through $c_{t+1}$ but also through $h_t = o \tanh(c_t)$, so the gradient arriving at $h_t$ must be sent on
# into $c_t$ as well (drop it and the LSTM still trains, a little worse, and nobody knows why: tutorial 3).
#
# **Exercise.** Write one step of the kernel's backward in NumPy: `lstm_step_backward(g_h, g_c_next, gates,
# c_prev, tanh_c, w_hh)` with `g_h` the gradient reaching $h_t$, `g_c_next` the gradient reaching $c_t$ from
# step $t+1$ (both `(B, H)`), `gates` a dict of `i, f, g, o` `(B, H)` each, `c_prev` $= c_{t-1}$, `tanh_c`
# $= \tanh(c_t)$ and `w_hh` `(4H, H)`. Return `d_a` (`(B, 4H)`, the pre-activation gradients in the order
# i, f, g, o), `dh_prev` and `dc_prev` (`(B, H)` each).


# %%
@exercise
def lstm_step_backward(g_h, g_c_next, gates, c_prev, tanh_c, w_hh):
    """Backward through one LSTM step: returns d_a (B, 4H), dL/dh_{t-1} (B, H), dL/dc_{t-1} (B, H)."""
    raise NotImplementedError("exercise: g_c first (both terms), then the four gates, then h_{t-1} and c_{t-1}")


# %% [markdown]
# The check runs `nn.LSTMCell` (float64, composed of gradient-checked ops) one step for Hypothesis-drawn sizes,
# sends random gradients into its $h_t$ and $c_t$ with `backward()`, and compares what reaches $h_{t-1}$ and
# $c_{t-1}$ (and the bias, whose gradient is the batch sum of `d_a`).


# %%
def is_the_cells_backward(lstm_step_backward):
    @settings(max_examples=15 if QUICK else 100, deadline=None, database=None)
    @given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(0, 2**32 - 1))
    def same_as_autograd(batch, inputs, hidden, seed):
        draw = np.random.default_rng(seed)
        cell = nn.LSTMCell(inputs, hidden, dtype=np.float64)
        x_t = ms.tensor(draw.standard_normal((batch, inputs)))
        h_prev, c_prev = (ms.tensor(draw.standard_normal((batch, hidden)), requires_grad=True) for _ in range(2))
        h_t, c_t = cell(x_t, (h_prev, c_prev))
        g_h, g_c_next = draw.standard_normal((batch, hidden)), draw.standard_normal((batch, hidden))
        (h_t * ms.tensor(g_h) + c_t * ms.tensor(g_c_next)).sum().backward()
        a = x_t.data @ cell.weight_ih.data.T + cell.bias_ih.data + h_prev.data @ cell.weight_hh.data.T + cell.bias_hh.data
        i, f, g, o = np.split(a, 4, axis=-1)
        gates = dict(i=sigmoid(i), f=sigmoid(f), g=np.tanh(g), o=sigmoid(o))
        d_a, dh_prev, dc_prev = lstm_step_backward(g_h, g_c_next, gates, c_prev.data, np.tanh(c_t.data),
                                                   cell.weight_hh.data)
        assert np.allclose(np.sum(d_a, axis=0), cell.bias_ih.grad, rtol=1e-9, atol=1e-12), "d_a differs"
        assert np.allclose(dc_prev, c_prev.grad, rtol=1e-9, atol=1e-12), "dL/dc_{t-1} differs"
        assert np.allclose(dh_prev, h_prev.grad, rtol=1e-9, atol=1e-12), "dL/dh_{t-1} differs"

    same_as_autograd()


check(is_the_cells_backward, lstm_step_backward)

# %% [markdown]
# The weight gradients are then one large product each over all steps, e.g.
# $\partial W_{ih} = \sum_t \partial a_t^\top x_t$: with the steps stacked, a single matrix product over
# $T \cdot B$ rows instead of T small ones.
#
# **Exercise.** Write `weight_gradients(d_a, x, h_prev)`: `d_a` `(T, B, 4H)` the pre-activation gradients
# of every step, `x` `(T, B, I)` the inputs and `h_prev` `(T, B, H)` the state each step read. Return
# `d_w_ih (4H, I)`, `d_w_hh (4H, H)` and `d_b (4H,)` (the gradient of each bias: both are added to every
# step's pre-activation), each with one reshape and one product or sum, no loop.


# %%
@exercise
def weight_gradients(d_a, x, h_prev):
    """dW_ih (4H, I), dW_hh (4H, H), db (4H,) from d_a (T, B, 4H), x (T, B, I), h_prev (T, B, H)."""
    raise NotImplementedError("exercise: flatten T and B, then one product per weight")


# %% [markdown]
# The check: for Hypothesis-drawn sizes, the pre-activations $a = x W_{ih}^\top + h_{t-1} W_{hh}^\top + b$
# of every step are built with ms ops and `backward(d_a)` gives the weights' gradients to compare.


# %%
def are_the_weight_gradients(weight_gradients):
    @settings(max_examples=15 if QUICK else 100, deadline=None, database=None)
    @given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**32 - 1))
    def same_as_autograd(steps, batch, inputs, hidden, seed):
        draw = np.random.default_rng(seed)
        x_all, h_all = draw.standard_normal((steps, batch, inputs)), draw.standard_normal((steps, batch, hidden))
        d_a = draw.standard_normal((steps, batch, 4 * hidden))
        w_ih, w_hh, b = (ms.tensor(draw.standard_normal(shape), requires_grad=True)
                         for shape in ((4 * hidden, inputs), (4 * hidden, hidden), (4 * hidden,)))
        (ms.tensor(x_all) @ w_ih.T + ms.tensor(h_all) @ w_hh.T + b).backward(d_a)
        for name, ours, param in zip(("d_w_ih", "d_w_hh", "d_b"), weight_gradients(d_a, x_all, h_all), (w_ih, w_hh, b)):
            assert np.shape(ours) == param.shape, f"{name}: shape {np.shape(ours)}, expected {param.shape}"
            assert np.allclose(ours, param.grad, rtol=1e-9, atol=1e-12), f"{name} differs"

    same_as_autograd()


check(are_the_weight_gradients, weight_gradients)

# %% [markdown]
# On the tape, the whole thing is the `backward` of a single node. Numba compiles each kernel the first time it meets a new dtype and caches the machine code on disk;
# `kernels.compile_all()` does that for every kernel and reports the seconds (a cache load, if the cache is
# warm):

# %%
compile_seconds = kernels.compile_all()
print(", ".join(f"{name} {seconds:.2f} s" for name, seconds in compile_seconds.items()))

# %% [markdown]
# ## Why they agree: the property test
#
# A hand-written backward pass is exactly the kind of code tutorial 3 taught us to distrust. The fused path
# earns trust by being compared with the composed path, which is made of ops that are each gradient-checked.
# The comparison is a **property**: for *any* batch of ragged sequences, any layout, sizes, stack depth and
# direction, the two layers with the same weights give the same outputs, final states and gradients, with a
# random upstream gradient on every output (so that no part of the backward pass hides behind a `.sum()`).
# Hypothesis draws the cases; `microseq.testing.sequence_batches` draws padded batches with ragged lengths
# and garbage in the padding. The project's test suite (`tests/nn/test_recurrent.py`) runs this for every cell;
# here is the LSTM's:


# %%
@st.composite
def lstm_cases(draw):
    batch = draw(sequence_batches(max_time=5, max_batch=3, features=draw(st.integers(1, 3))))
    options = dict(num_layers=draw(st.integers(1, 2)), bidirectional=draw(st.booleans()),
                   batch_first=batch.batch_first, dtype=np.float64)
    return batch, draw(st.integers(1, 4)), options, draw(st.integers(0, 2**16))


def run(layer, batch, h0, c0, upstream):
    """Outputs and every gradient of one layer, for a fixed random upstream gradient on each output."""
    inputs = [ms.tensor(a, requires_grad=True) for a in (batch.data, h0, c0)]
    layer.zero_grad()
    output, (h_n, c_n) = layer(inputs[0], (inputs[1], inputs[2]), lengths=batch.lengths)
    loss = sum((result * g).sum() for result, g in zip((output, h_n, c_n), upstream))
    loss.backward()
    grads = [t.grad for t in inputs] + [p.grad for p in layer.parameters()]
    return [output.data, h_n.data, c_n.data] + grads


def fused_equals_composed(case):
    batch, hidden, options, seed = case
    ms.manual_seed(seed)
    composed = nn.LSTM(batch.data.shape[-1], hidden, fused=False, **options)
    fused = nn.LSTM(batch.data.shape[-1], hidden, fused=True, **options)
    fused.load_state_dict(composed.state_dict())
    case_rng = np.random.default_rng(seed)
    states = (options["num_layers"] * (2 if options["bidirectional"] else 1), len(batch.lengths), hidden)
    h0, c0 = case_rng.standard_normal(states), case_rng.standard_normal(states)
    out_shape = batch.data.shape[:2] + (hidden * (2 if options["bidirectional"] else 1),)
    upstream = [case_rng.standard_normal(shape) for shape in (out_shape, states, states)]
    names = ["output", "h_n", "c_n", "grad of x", "grad of h0", "grad of c0"]
    names += [f"grad of {name}" for name, _ in composed.named_parameters()]
    for name, a, b in zip(names, run(composed, batch, h0, c0, upstream), run(fused, batch, h0, c0, upstream)):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12, err_msg=name)


examples = []


@settings(max_examples=15 if QUICK else 100, derandomize=True, database=None, deadline=None)
@given(lstm_cases())
def test_fused_lstm_equals_composed(case):
    examples.append(case)
    fused_equals_composed(case)


start = time.perf_counter()
test_fused_lstm_equals_composed()
largest = max(examples, key=lambda case: case[0].data.size)
print(f"{len(examples)} random cases agree ({time.perf_counter() - start:.1f} s); the largest: input "
      f"{largest[0].data.shape}, lengths {largest[0].lengths}, hidden {largest[1]}, {largest[2]}")
assert len(examples) >= (15 if QUICK else 100)

# %% [markdown]
# A test is only worth something if it can fail. Plant a realistic bug: a backward kernel that forgets the
# gradient flowing into the initial cell state $c_0$ (it returns zeros for it). Hypothesis finds a failing
# case at once and shrinks it to a small one; the message names which array differs:

# %%
real_backward = kernels.lstm_backward


def forgets_dc0(saved, d_out, d_h_n, d_c_n):
    dx, dh0, dc0, *rest = real_backward(saved, d_out, d_h_n, d_c_n)
    return (dx, dh0, np.zeros_like(dc0), *rest)


failures = []


@settings(max_examples=50, derandomize=True, database=None, deadline=None)
@given(lstm_cases())
def test_with_the_bug(case):
    try:
        fused_equals_composed(case)
    except AssertionError:
        failures.append(case)
        raise


with mock.patch.object(kernels, "lstm_backward", forgets_dc0):
    try:
        test_with_the_bug()
    except AssertionError as error:
        print("\n".join(str(error).strip().splitlines()[:4]))
    else:
        raise AssertionError("the property test must catch a backward kernel that drops dc0")
smallest = failures[-1]
print(f"shrunk to: {smallest[0].data.shape[:2]} batch with lengths {smallest[0].lengths}, hidden {smallest[1]}, "
      f"{smallest[2]}")
assert kernels.lstm_backward is real_backward

# %% [markdown]
# ## The benchmark
#
# Now the speed. `microseq bench` (the module `microseq.bench`) times one training step of a layer, forward
# plus backward of `output.sum()`, four ways: the **fused** numba kernels, the **composed** cells, the
# fused node on the plain-NumPy **reference** kernels (a Python loop over time, one node on the tape; the
# `numpy` column), and PyTorch's layer (`torch`, if it is installed). Each time is the median of several
# runs after warm-up. We call its functions directly, for a few shapes; the table prints the milliseconds,
# the ratios, and the fused path's speed as GFLOP/s and as a fraction of this machine's matrix-multiply peak
# (one large `np.dot`, measured in the same run). This machine may be busy: the numbers are this run's,
# not a promise.

# %%
try:
    import torch

    torch_threads = torch.get_num_threads()
except ImportError:  # the benchmark skips the torch column
    torch_threads = None
print("PyTorch threads:", torch_threads)

shapes = [(1, 20, 8, 16), (8, 20, 32, 64)] if QUICK else [bench.SHAPES["tiny"], bench.SHAPES["small"], (32, 100, 128, 256)]
cells = ["lstm"] if QUICK else ["lstm", "gru"]
repeats, warmup = (3, 1) if QUICK else (5, 1)
peaks = {"float32": bench.gemm_peak_gflops(np.float32, n=256 if QUICK else 1024)}
# Any core of the last decade multiplies float32 matrices at 10 GFLOP/s or more; a lower peak, or more
# runnable processes than cores, means other work shared the machine during this run.
load = os.getloadavg()[0]
busy = peaks["float32"] < 10 or load > os.cpu_count()
if busy:
    print(f"WARNING: this machine was busy (GEMM peak {peaks['float32']:.1f} GFLOP/s, load {load:.1f} on "
          f"{os.cpu_count()} cores): the times below are inflated and their ratios unreliable.")
start = time.perf_counter()
rows = [bench.measure_row(cell, shape, np.float32, bench.IMPLEMENTATIONS, repeats, warmup, peaks["float32"])
        for cell in cells for shape in shapes]
print(f"({time.perf_counter() - start:.0f} s; load average of this machine: {os.getloadavg()[0]:.1f} on "
      f"{os.cpu_count()} cores)")
print(bench.format_table(rows, peaks))

# %%
fig = Figure(figsize=(10, 4.2))
ax = fig.add_subplot()
implementations = [name for name in bench.IMPLEMENTATIONS if any(name in row.ms for row in rows)]
width = 0.8 / len(implementations)
for k, name in enumerate(implementations):
    heights = [row.ms.get(name, np.nan) for row in rows]
    bars = ax.bar(np.arange(len(rows)) + (k - (len(implementations) - 1) / 2) * width, heights, width, label=name)
    ax.bar_label(bars, fmt="%.2g", fontsize=7, padding=1)
ax.set_xticks(np.arange(len(rows)), [f"{row.cell}\nB,T,I,H = {','.join(map(str, row.shape))}" for row in rows],
              fontsize=8)
ax.set_yscale("log")
ax.set_ylabel("ms per training step (forward + backward)")
ax.set_title("One training step of a recurrent layer, float32, measured in this run (lower is faster)"
             + (f"\nMACHINE BUSY (GEMM peak {peaks['float32']:.0f} GFLOP/s, load {load:.1f}): not representative"
                if busy else ""), color="tab:red" if busy else "black")
ax.legend()
ax.grid(alpha=0.3, axis="y", which="both")
fig.tight_layout()
show(fig, "12_benchmark.png")

# %% [markdown]
# What to read in the table (the ratios are printed below from this run's measurements):
#
# * **composed / fused**: the price of recording twenty small ops per step. It is largest for small
#   layers, where the bookkeeping dwarfs the arithmetic, and shrinks as the matrices grow and the time goes
#   into the matrix products, which both paths hand to the same BLAS.
# * **numpy / fused**: the same single node, with the time loop and the gate arithmetic in the interpreter
#   instead of compiled code: what numba itself buys.
# * **torch / fused**: above 1 means microseq's step was faster than PyTorch's on this shape.
#
# Medians of a few runs on a shared machine can still be far off (the quick run that CI does takes only
# three). When the machine was busy during this run (an implausibly low matrix-multiply peak, or a load
# above the number of cores), the cell above printed a warning and the figure's title says so in red: then
# the bars may well contradict the text, and only `python -m microseq.bench` with more repeats on a quiet
# machine gives numbers to quote.

# %%
for row in rows:
    ratios = {name: row.ms[name] / row.ms["fused"] for name in ("composed", "numpy", "torch") if name in row.ms}
    print(f"{row.cell} {row.shape}: " + ", ".join(f"{name}/fused {ratio:.2f}" for name, ratio in ratios.items()))
    assert all(np.isfinite(list(row.ms.values()))) and row.gflops > 0

# %% [markdown]
# ## What we learned
#
# * The composed path records about twenty ops per LSTM step; each costs microseconds of bookkeeping and
#   keeps its inputs for backward. For small layers that overhead is the whole cost.
# * The fused kernel takes the input projection out of the loop (one large product), compiles the gate
#   arithmetic into one loop per step, saves only what the hand-written backward needs, and is a single
#   node on the tape.
# * The two paths are tied by a property test over random ragged batches, layouts, depths and directions,
#   with random upstream gradients; it is cheap to run, and it catches a backward kernel that drops one
#   gradient.
# * Speed claims are measured, in the same run, against the composed path, the NumPy reference and
#   PyTorch: run `python -m microseq.bench` for the full table on your machine.
