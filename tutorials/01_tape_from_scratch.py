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
# # 1. A tape from scratch
#
# Training a neural network means following the gradient of a loss with respect to thousands of
# parameters. Writing those derivatives out by hand is slow and error-prone; *automatic
# differentiation* computes them exactly (up to rounding), at the cost of a small constant multiple of the
# forward pass: an element-wise op's backward costs about as much as its forward, a matrix product's costs
# about twice as much (two products of the same size, one per input).
#
# microseq does it the way PyTorch does: **reverse mode on a tape**. While you compute, every operation
# is written down on a tape (a list of records): which op ran, what it read, and how to send a gradient
# back through it. `backward()` then reads the tape from the end to the start. In this tutorial we
#
# 1. record a small computation and print its tape,
# 2. replay the tape backward **by hand**, with a dozen lines of Python, and check that we get exactly
#    what `backward()` gets,
# 3. see why the replay must run in *reverse* order and why gradients must be *added up*, by breaking
#    each rule on purpose and watching the answer go wrong.
#
# 4. write a tape of your own (a `Value` class of about forty lines) and train something with it.
#
# Every claim below is checked with an `assert`: if the library ever disagrees with this text, the
# tutorial fails in CI.
#
# **Exercises.** Every tutorial asks you to build two or three pieces yourself. An *exercise* cell holds a
# function (or class) marked `@exercise` whose body raises `NotImplementedError`: replace the body with
# your code. The cell right after it *checks* your answer with a property test (random inputs, gradients
# against finite differences) and says what is wrong if it is. Stuck? The answers are in
# `tutorials/solutions/tutorialNN.py`, and `MICROSEQ_TUTORIAL_SOLUTIONS=1` makes the tutorial use them
# (set it in the environment before starting Python, or with `%env MICROSEQ_TUTORIAL_SOLUTIONS=1` before
# the first cell of a notebook). That is how CI runs every tutorial; it also checks that each check *fails*
# on the unfilled stub and on a plausible wrong answer. Without it, a tutorial stops at the first exercise
# you have not done yet: fill it in and run the cell again.

# %%
import sys
import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure  # draws straight to PNG (Agg), no GUI needed

import microseq as ms
from microseq.autograd import unbroadcast

from common import QUICK, show  # QUICK: CI runs every tutorial with small sizes; show: save a figure, inline in a notebook
from exercises import check, exercises_of

exercise = exercises_of("01")  # your answers, or with MICROSEQ_TUTORIAL_SOLUTIONS=1 those in solutions/tutorial01.py

# %% [markdown]
# ## Recording a computation
#
# Take two numbers and a function that uses each of them twice:
#
# $$ f(x, w) = x \tanh(w x) + w $$
#
# Its derivatives, by the product and chain rules, are
#
# $$ \frac{\partial f}{\partial x} = \tanh(wx) + x\,w\,(1 - \tanh^2(wx)), \qquad
#    \frac{\partial f}{\partial w} = x^2 (1 - \tanh^2(wx)) + 1 .$$
#
# We compute `f` with microseq tensors. `requires_grad=True` says "I will want the gradient with respect
# to this": only then are the operations recorded. We use float64 so that our hand computations agree
# with the library's to the last digit.

# %%
def compute_f(x, w):
    a = w * x       # op 1: mul
    b = ms.tanh(a)  # op 2: tanh
    c = x * b       # op 3: mul  (x is used a second time)
    return c + w    # op 4: add  (w is used a second time)


x = ms.tensor(1.5, dtype=np.float64, requires_grad=True)
w = ms.tensor(-0.8, dtype=np.float64, requires_grad=True)
f = compute_f(x, w)
print("f =", f.item())

# %% [markdown]
# `ms.tape_of(f)` lists the ops that `f` depends on, oldest first: a number (its position on the tape),
# the op, the shapes it read and produced, and how many bytes it keeps alive for the backward pass.
# `tanh` keeps its output `y`, because its derivative is $1 - y^2$; `mul` keeps both inputs, because
# $\partial(uv)/\partial u = v$; `add` keeps nothing, because its derivative is 1.

# %%
tape = ms.tape_of(f)
print(tape)
assert [node.op for node in tape] == ["mul", "tanh", "mul", "add"]
assert [node.saved_bytes() for node in tape] == [16, 8, 16, 0]  # two float64s, one, two, none

# %% [markdown]
# Each entry (a `Node`) holds the op's `inputs` and a `backward` rule. Given the gradient of the final
# result with respect to the op's *output*, the rule returns the gradient with respect to each *input*.
# This is just the chain rule, one link at a time. For `c = x * b` and an incoming gradient
# $g = \partial f / \partial c$:
#
# $$ \frac{\partial f}{\partial x} \mathrel{+}= g \cdot b, \qquad \frac{\partial f}{\partial b} = g \cdot x .$$
#
# A rule is called as `backward(g, *input_values, output_value)`: `mul`'s rule is
# `lambda g, x, w, _y: (g * w, g * x)` (a parameter named `_...` is one the rule does not read, so the printed
# tape does not count it as saved). Calling a node with $g$ runs its `backward` on the values it saved. The
# `mul` that made `c` is the third entry:

# %%
mul_node = tape[2]
grad_x_part, grad_b = mul_node(np.float64(1.0))
b_value = np.tanh(w.item() * x.item())
print("d c / d x =", grad_x_part, "  (this is b =", b_value, ")")
print("d c / d b =", grad_b, "  (this is x =", x.item(), ")")
assert grad_x_part == b_value and grad_b == x.item()

# %% [markdown]
# ## Replaying the tape by hand
#
# The backward pass starts with $\partial f / \partial f = 1$ and walks the tape from the last op to the
# first. At each op it
#
# 1. takes the gradient that has arrived at the op's output (the sum of what its consumers sent),
# 2. calls the op's `backward` to get one gradient per input,
# 3. sends each of those to the input: if the input was itself made by an op, it waits there until that op
#    is replayed; if it is a leaf (a tensor you made, like `x` and `w`), it is added to the leaf's
#    gradient.
#
# A tensor knows which op produced it through its `_node` attribute (PyTorch calls it `grad_fn`); leaves
# have none. Two more attributes of a node appear below: `node.out_shape` is the shape of the op's output
# (an op that no gradient has reached yet gets zeros of that shape), and `node.reduces_broadcast` is True
# for an op that broadcast its inputs, whose gradients therefore have the broadcast shape and must be summed
# back to each input's shape by `unbroadcast` (tutorial 2 is about this). Here is the whole algorithm (the
# `accumulate` switch is only there so that we can break it on purpose later):


# %%
def replay(output, order, accumulate=True):
    """Gradients of ``output`` with respect to its leaves, replaying the tape's nodes in ``order``."""
    at_node = {id(output._node): np.ones_like(output.data)}  # gradient waiting at each op's output
    at_leaf = {}  # gradient collected by each leaf
    for node in order:
        grad_out = at_node.pop(id(node), np.zeros(node.out_shape))
        for tensor, grad in zip(node.inputs, node(grad_out)):
            if grad is None or not tensor.requires_grad:
                continue
            if node.reduces_broadcast:
                grad = unbroadcast(grad, tensor.shape)
            waiting = at_leaf if tensor._node is None else at_node  # a leaf has no _node
            key = id(tensor) if tensor._node is None else id(tensor._node)
            waiting[key] = (waiting.get(key, 0) + grad) if accumulate else grad
    return at_leaf


by_hand = replay(f, reversed(tape))
print("by hand:  df/dx =", by_hand[id(x)], " df/dw =", by_hand[id(w)])

# %% [markdown]
# Now let the library do it. `backward()` stores the gradients in the leaves' `.grad`. We also compare
# with the formulas we derived at the top.

# %%
f.backward()
print("backward: df/dx =", x.grad, " df/dw =", w.grad)

t = np.tanh(w.item() * x.item())
by_formula_x = t + x.item() * w.item() * (1 - t**2)
by_formula_w = x.item() ** 2 * (1 - t**2) + 1

assert by_hand[id(x)] == x.grad and by_hand[id(w)] == w.grad  # bit for bit: the same arithmetic
assert np.isclose(x.grad, by_formula_x, rtol=1e-14) and np.isclose(w.grad, by_formula_w, rtol=1e-14)

# %% [markdown]
# A dozen lines of Python reproduce `backward()` bit for bit. The library's version (in
# `microseq/autograd.py`) does the same walk, plus what makes mistakes loud: it frees each node's saved
# arrays as soon as they have been used, refuses to run through a freed graph, and checks that every
# gradient has its input's shape and dtype.
#
# The figure draws the same computation: the value of every op in black, and on each edge, in red, the
# gradient that the backward pass sends back along it. Follow `x`: it receives one gradient from the
# first `mul` and one from the second, and its `.grad` is their sum.


# %%
def edge_gradients(output):
    """The gradient sent back along every edge (node id, input position) of ``output``'s graph."""
    at_node = {id(output._node): np.ones_like(output.data)}
    sent = {}
    for node in reversed(ms.tape_of(output)):
        grad_out = at_node.pop(id(node))
        for position, (tensor, grad) in enumerate(zip(node.inputs, node(grad_out))):
            sent[(id(node), position)] = float(grad)
            if tensor._node is not None:
                at_node[id(tensor._node)] = at_node.get(id(tensor._node), 0) + grad
    return sent


def draw_graph(output, intermediates, leaves, layout, filename):
    """Leaves (blue) and ops (orange) with their values; each edge labelled with its backward gradient."""
    sent = edge_gradients(output)
    fig = Figure(figsize=(10, 4.2))
    ax = fig.add_subplot()
    place = {}
    for name, leaf in leaves.items():
        place[id(leaf)] = layout[name]
        ax.text(*layout[name], f"{name} = {leaf.item():.3f}\ngrad {leaf.grad:+.3f}", ha="center",
                va="center", bbox=dict(boxstyle="round", fc="#dbe9f6"))
    for node, (name, value) in zip(ms.tape_of(output), intermediates.items()):
        here = place[id(value)] = layout[name]
        ax.text(*here, f"{name} = {node.op}\n{value.item():.3f}", ha="center", va="center",
                bbox=dict(boxstyle="round", fc="#fde9c9"))
        for position, tensor in enumerate(node.inputs):
            source = place[id(tensor)]
            ax.annotate("", xy=here, xytext=source,
                        arrowprops=dict(arrowstyle="->", color="0.5", shrinkA=26, shrinkB=26))
            middle = (0.5 * (source[0] + here[0]), 0.5 * (source[1] + here[1]))
            ax.text(*middle, f"{sent[(id(node), position)]:+.3f}", color="tab:red", ha="center",
                    va="center", fontsize=10, bbox=dict(boxstyle="round", fc="white", ec="none"))
    ax.set_xlim(-0.7, 6.7)
    ax.set_ylim(-1.4, 1.4)
    ax.axis("off")
    ax.set_title("f = x tanh(wx) + w: values computed forward (black), gradients sent backward (red)")
    fig.tight_layout()
    show(fig, filename)


a = w * x
b = ms.tanh(a)
c = x * b
f = c + w
layout = {"x": (0, 1), "w": (0, -1), "a": (1.5, 0), "b": (3, 0), "c": (4.5, 0.9), "f": (6, 0)}
draw_graph(f, {"a": a, "b": b, "c": c, "f": f}, {"x": x, "w": w}, layout, "01_tape_graph.png")

# %% [markdown]
# ## Why reverse order?
#
# An op may only pass its gradient on once that gradient is *complete*, that is, once every op that
# consumed its output has sent its share. Reading the tape backwards guarantees this for free: an op's
# output can only be consumed by ops that ran *after* it, so they all sit later on the tape and are
# replayed first. (micrograd computes this order with a recursive topological sort; a tape already *is*
# one, since every op is recorded after its inputs exist.)
#
# What goes wrong in another order? Replay the same tape *forwards*: the first `mul` runs before anything
# has reached it, so it passes on zeros, and the gradients that arrive later are never passed on.

# %%
f = compute_f(x, w)
forwards = replay(f, ms.tape_of(f))
backwards = replay(f, reversed(ms.tape_of(f)))
print("forward order: df/dx =", forwards.get(id(x), 0.0), " df/dw =", forwards.get(id(w), 0.0))
print("reverse order: df/dx =", backwards[id(x)], " df/dw =", backwards[id(w)])
assert backwards[id(x)] == x.grad and backwards[id(w)] == w.grad
assert forwards.get(id(x), 0.0) != x.grad

# %% [markdown]
# ## Why accumulate?
#
# `x` feeds two ops, so a small change in `x` changes `f` along two paths. The multivariable chain rule
# says the total derivative is the **sum** over paths:
#
# $$ \frac{\partial f}{\partial x} = \underbrace{\frac{\partial f}{\partial c}\frac{\partial c}{\partial x}}_{\text{via } c = x\,b}
#    + \underbrace{\frac{\partial f}{\partial c}\frac{\partial c}{\partial b}\frac{\partial b}{\partial a}
#      \frac{\partial a}{\partial x}}_{\text{via } a = w\,x} $$
#
# A replay that *overwrites* instead of adding keeps only the path it saw last:

# %%
overwritten = replay(f, reversed(ms.tape_of(f)), accumulate=False)
print("overwrite:  df/dx =", overwritten[id(x)], " df/dw =", overwritten[id(w)])
print("accumulate: df/dx =", x.grad, " df/dw =", w.grad)
assert overwritten[id(x)] != x.grad and overwritten[id(w)] != w.grad

# %% [markdown]
# The same rule holds *across* calls: `backward()` **adds** to `.grad`, it never overwrites it. That is
# what lets you sum gradients over several small batches before one optimizer step, and it is why a
# training loop clears gradients (`zero_grad()`) before each backward pass. Forget that and the second
# step's gradient is the sum of both:

# %%
first = (x.grad, w.grad)
f = compute_f(x, w)
f.backward()
assert (x.grad, w.grad) == (2 * first[0], 2 * first[1])  # accumulated: twice the gradient

x.zero_grad()
w.zero_grad()
f = compute_f(x, w)
f.backward()
assert (x.grad, w.grad) == first  # cleared, then one backward: the gradient itself

# %% [markdown]
# `backward()` also frees what the ops saved, as soon as each op has been replayed: for a long sequence
# model that memory is most of what training uses. A second `backward()` through the same graph is
# therefore an error (ask for `retain_graph=True` the first time if you really need two):

# %%
try:
    f.backward()
except RuntimeError as error:
    print("RuntimeError:", error)
else:
    raise AssertionError("a second backward through a freed graph must fail")

# %% [markdown]
# ## Your turn: a tape of your own
#
# You now know everything a tape needs. Write one, for single numbers, in about forty lines: a class
# `Value` holding a float `data` and a float `grad` (starting at 0), with
#
# * `a + b`, `a * b`, `a - b` (where either side may also be a plain number) and `a.tanh()`, each returning a
#   new `Value` that remembers its inputs and the *local* derivative of the result with respect to each input
#   ($1$ and $1$ for `+`; $b$ and $a$ for `*`; $1 - y^2$ for `tanh`),
# * a record of every result in the order the ops ran (a class-level list `tape` does it), and
# * `backward()`, which sets $\partial\,\text{self} / \partial v$ into `v.grad` for every `Value` it depends on:
#   start from 1, walk the tape backwards, multiply by the local derivatives, and **add** into what is waiting
#   at each input (the two rules of the sections above).
#
# micrograd's `Value` is the model; ours walks the recorded tape instead of sorting the graph recursively.


# %%
@exercise
class Value:
    """A float that records the ops that made it; ``backward()`` fills ``.grad`` of everything it depends on."""

    def __init__(self, data, inputs=(), local_grads=()):
        raise NotImplementedError("exercise: write Value (data, grad, +, *, -, tanh, backward)")


# %% [markdown]
# The check builds $f(x, w) = x \tanh(wx) + w$ and $x^3 - x$ (where $x$ is used three times) with your
# `Value` at a few hundred random points drawn by Hypothesis, and compares your gradients with microseq's.


# %%
def gradients_match_microseq(Value):
    @settings(max_examples=20 if QUICK else 200, deadline=None, database=None)
    @given(st.floats(-2, 2), st.floats(-2, 2))
    def same_gradients(x0, w0):
        x, w = Value(x0), Value(w0)
        f = x * (w * x).tanh() + w
        f.backward()
        xt = ms.tensor(x0, dtype=np.float64, requires_grad=True)
        wt = ms.tensor(w0, dtype=np.float64, requires_grad=True)
        compute_f(xt, wt).backward()
        assert np.isclose(f.data, compute_f(xt, wt).item(), rtol=1e-12, atol=1e-12), "f's value is wrong"
        assert np.isclose(x.grad, xt.grad, rtol=1e-9, atol=1e-12), f"df/dx: yours {x.grad}, microseq {xt.grad}"
        assert np.isclose(w.grad, wt.grad, rtol=1e-9, atol=1e-12), f"df/dw: yours {w.grad}, microseq {wt.grad}"
        u = Value(x0)
        (u * u * u - u).backward()
        assert np.isclose(u.grad, 3 * x0**2 - 1, rtol=1e-9, atol=1e-12), f"d(x^3 - x)/dx: yours {u.grad}"

    same_gradients()


check(gradients_match_microseq, Value)

# %% [markdown]
# ## A gradient step with your tape
#
# A gradient is what you need to *train*. **Gradient descent** moves every parameter a small step against
# its gradient,
#
# $$ \theta \leftarrow \theta - \eta\, \frac{\partial L}{\partial \theta}, $$
#
# because to first order $L(\theta - \eta g) \approx L(\theta) - \eta \lVert g \rVert^2$: for a small enough
# learning rate $\eta$ every step lowers the loss (too large a step overshoots and the loss grows). One
# training step is: compute the loss (recording), clear the old gradients, `backward()`, update.
#
# **Exercise.** Fit a line $y = a x + b$ to points by gradient descent on the mean squared error
# $L = \frac1N \sum_i (a x_i + b - y_i)^2$, with your `Value` doing the differentiation. Start from
# $a = b = 0$, run `steps` steps with learning rate `lr`, and return `a`, `b` (floats) and the list of losses.
# (Clear `.grad` before each `backward()`: your tape adds, like microseq's.)


# %%
@exercise
def fit_line(xs, ys, steps, lr):
    """Gradient descent on the mean squared error of ``y = a x + b``; returns ``a, b, losses``."""
    raise NotImplementedError("exercise: train a and b with your Value")


# %%
def line_is_fitted(fit_line):
    xs = np.linspace(-1, 1, 16)
    a, b, losses = fit_line(list(xs), list(2 * xs - 1), steps=60, lr=0.5)
    print(f"a = {a:.6f}, b = {b:.6f}; loss {losses[0]:.3g} -> {losses[-1]:.3g} in {len(losses)} steps")
    assert len(losses) == 60, "return one loss per step"
    assert losses[-1] < 1e-6 * losses[0], "the loss did not fall: is the step going downhill?"
    assert abs(a - 2) < 1e-3 and abs(b + 1) < 1e-3, f"expected a = 2, b = -1, got {a}, {b}"


check(line_is_fitted, fit_line)

# %% [markdown]
# ## From numbers to arrays: vector-Jacobian products
#
# Nothing above depended on `x` being a single number. For arrays, each op's `backward` computes a
# **vector-Jacobian product**: if $y = \text{op}(u)$ and $g = \partial L / \partial y$ is the incoming
# gradient, then
#
# $$ \frac{\partial L}{\partial u_j} = \sum_i g_i \frac{\partial y_i}{\partial u_j} = (g J)_j ,$$
#
# with $J_{ij} = \partial y_i / \partial u_j$. **Notation, kept in every tutorial:** vectors are *rows*
# (a gradient has the shape of its tensor, and a batch is a matrix with one example per row), so the
# upstream gradient multiplies the Jacobian from the left, $g J$; with column vectors, as in many lecture
# notes, the same product is written $J^\top g$ or $g^\top J$.
#
# The Jacobian $J$ is never built. For an element-wise op like `tanh` it is diagonal, with
# $1 - y_i^2$ on the diagonal, so the product is just `g * (1 - y**2)`: as cheap as the forward pass.
#
# We can still *see* $J$: a backward pass with the upstream gradient $e_i$ (a one-hot vector) returns
# $e_i J$, the $i$-th row. One pass per row rebuilds the whole Jacobian of $y = x \tanh(w x)$ for
# vectors (`retain_graph=True` keeps the tape for the next pass):

# %%
n = 4
xs = ms.tensor(np.linspace(-1, 1, n), requires_grad=True)
ws = ms.tensor(np.full(n, 0.7), requires_grad=True)
ys = xs * ms.tanh(ws * xs)
print(ms.tape_of(ys))

jacobian = np.zeros((n, n))
for i in range(n):
    xs.zero_grad()
    ys.backward(np.eye(n)[i], retain_graph=True)
    jacobian[i] = xs.grad
print(np.round(jacobian, 4))

t = np.tanh(ws.data * xs.data)
assert np.allclose(jacobian, np.diag(t + xs.data * ws.data * (1 - t**2)), rtol=1e-14, atol=0)

# %% [markdown]
# Diagonal, as promised: each $y_i$ depends only on $x_i$. `backward()` with any upstream vector $g$
# computes $g J$ without ever forming $J$:

# %%
g = np.random.default_rng(0).standard_normal(n)
xs.zero_grad()
ys.backward(g)
assert np.allclose(xs.grad, g @ jacobian, rtol=1e-14, atol=1e-15)

# %% [markdown]
# ## Deep graphs: no recursion, linear time
#
# A recurrent network over a long sequence records thousands of ops. Because the tape is replayed by a
# plain loop, its depth is not limited by Python's recursion limit, and the time of a backward pass grows
# linearly with the number of ops. We check both on a chain $y = ((x \cdot s) \cdot s) \cdots$ of
# $N$ multiplications by $s = 1.0001$, whose derivative is $s^N$.

# %%
lengths = [1_000, 2_000, 4_000] if QUICK else [2_000, 8_000, 32_000, 64_000]
seconds = []
for length in lengths:
    x_chain = ms.tensor(1.0, dtype=np.float64, requires_grad=True)
    y = x_chain
    for _ in range(length):
        y = y * 1.0001
    start = time.perf_counter()
    y.backward()
    seconds.append(time.perf_counter() - start)
    assert np.isclose(x_chain.grad, 1.0001**length, rtol=1e-9)
    print(f"{length:>6} ops: backward {seconds[-1] * 1e3:7.1f} ms ({seconds[-1] / length * 1e6:.2f} us per op)")
assert max(lengths) > sys.getrecursionlimit()  # deeper than a recursive walk could go

fig = Figure(figsize=(5, 3.5))
ax = fig.add_subplot()
ax.plot(lengths, np.array(seconds) * 1e3, "o-")
ax.set_xlabel("ops on the tape")
ax.set_ylabel("backward time (ms)")
ax.set_xlim(left=0)
ax.set_ylim(bottom=0)
ax.set_title("Replaying the tape takes time linear in its length")
ax.grid(alpha=0.3)
fig.tight_layout()
show(fig, "01_backward_time.png")

# %% [markdown]
# ## What we learned
#
# * Recording: each op appends a node with its inputs and a `backward` rule; `ms.tape_of` prints them,
#   with the bytes each keeps for the backward pass.
# * Replaying: start from 1 at the output, walk the tape in reverse, call each rule, route the gradients to
#   the op that produced each input. A dozen lines give exactly `backward()`'s numbers.
# * Reverse order makes every gradient complete before it is passed on; accumulation is the chain rule's
#   sum over paths, and it is also why `.grad` must be cleared between training steps.
# * Your own `Value` class did all of this for numbers in about forty lines, and trained a line with
#   gradient descent: $\theta \leftarrow \theta - \eta\, \partial L / \partial \theta$, gradients cleared each step.
# * For arrays each rule is a vector-Jacobian product, as cheap as the forward op.
#
# Next, tutorial 2: what happens when an op *broadcasts*, and why the gradient must be summed back to the
# input's shape.
