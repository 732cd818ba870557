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
# # 2. Broadcasting and its gradients
#
# Every layer of a neural network adds a bias: a hidden state of shape `(B, H)` (B sequences in a batch,
# H hidden units) plus a bias of shape `(H,)`. NumPy makes this work by **broadcasting**: it behaves as if
# the bias were copied into every row. Broadcasting is so convenient that it is easy to forget it happened,
# and the backward pass must not forget: the gradient of a copy is the **sum** of the gradients of the
# copies, and a gradient must come back with its input's shape.
#
# This tutorial covers the broadcasting rules, derives the gradient of a broadcast, checks the library
# against the rule, and shows what goes wrong when a gradient keeps the wrong shape. You will write
# `unbroadcast` and an op with its own broadcasting backward rule (exercises work as in tutorial 1).

# %%
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

import microseq as ms
from microseq.autograd import unbroadcast
from microseq.tensor import record
from microseq.testing import arrays, broadcastable_shapes, check_gradients

from common import QUICK, show
from exercises import check, exercises_of

exercise = exercises_of("02")  # your answers, or with MICROSEQ_TUTORIAL_SOLUTIONS=1 those in solutions/tutorial02.py
rng = np.random.default_rng(0)

# %% [markdown]
# ## The rules
#
# Two shapes broadcast when, lining them up **from the right**, each pair of sizes is equal or one of
# them is 1. A missing leading axis counts as size 1. The result takes the larger size on every axis:
#
# | `a`         | `b`       | `a + b`     | what happened to `b`                      |
# |-------------|-----------|-------------|-------------------------------------------|
# | `(B, H)`    | `(H,)`    | `(B, H)`    | a new leading axis, copied B times         |
# | `(3, 1)`    | `(1, 4)`  | `(3, 4)`    | (and `a`) an axis of size 1 stretched      |
# | `(T, B, H)` | `(B, 1)`  | `(T, B, H)` | both at once                               |
# | `(B, H)`    | `(B,)`    | error unless B = H (then silently wrong!)  | see the last section |

# %%
for a_shape, b_shape in [((5, 3), (3,)), ((3, 1), (1, 4)), ((4, 2, 3), (2, 1))]:
    print(f"{a_shape} + {b_shape} -> {np.broadcast_shapes(a_shape, b_shape)}")
try:
    ms.ones(5, 3) + ms.ones(5)
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# ## The gradient of a copy is a sum
#
# Write the bias addition out: $y_{bj} = h_{bj} + c_j$ for every row $b$. The bias element $c_j$ appears in
# B outputs, so by the chain rule (the sum over paths from tutorial 1)
#
# $$ \frac{\partial L}{\partial c_j} = \sum_b \frac{\partial L}{\partial y_{bj}} \frac{\partial y_{bj}}{\partial c_j}
#    = \sum_b g_{bj} . $$
#
# The gradient for `c` is the upstream gradient `g` summed over the axis along which `c` was copied. In the
# other direction, `h` was not copied, so its gradient is `g` unchanged. Let's check with a random upstream
# gradient:

# %%
B, H = 5, 3
h = ms.tensor(rng.standard_normal((B, H)), requires_grad=True)
c = ms.tensor(rng.standard_normal(H), requires_grad=True)
y = h + c
g = rng.standard_normal((B, H))
y.backward(g)

print("c.grad      =", c.grad, " shape", c.grad.shape)
print("g.sum(0)    =", g.sum(axis=0))
assert c.grad.shape == c.shape and h.grad.shape == h.shape
assert np.array_equal(c.grad, g.sum(axis=0)) and np.array_equal(h.grad, g)

# %% [markdown]
# The same holds for axes of size 1. In an outer product $y_{ij} = u_{i1} v_{1j}$ of shapes `(3, 1)` and
# `(1, 4)`, `u` is copied along the columns and `v` along the rows, so
#
# $$ \frac{\partial L}{\partial u_{i1}} = \sum_j g_{ij} v_{1j}, \qquad
#    \frac{\partial L}{\partial v_{1j}} = \sum_i g_{ij} u_{i1} . $$
#
# The summed axes are *kept* with size 1, so the shapes are `(3, 1)` and `(1, 4)` again.

# %%
u = ms.tensor(rng.standard_normal((3, 1)), requires_grad=True)
v = ms.tensor(rng.standard_normal((1, 4)), requires_grad=True)
g_outer = rng.standard_normal((3, 4))
(u * v).backward(g_outer)
assert u.grad.shape == (3, 1) and v.grad.shape == (1, 4)
assert np.allclose(u.grad, (g_outer * v.data).sum(axis=1, keepdims=True), rtol=1e-14)
assert np.allclose(v.grad, (g_outer * u.data).sum(axis=0, keepdims=True), rtol=1e-14)

# %% [markdown]
# The figure shows both cases: the forward pass copies (top: the bias down the rows; bottom: `u` across
# the columns), the backward pass sums along the same axes.


# %%
def heat(ax, array, title):
    array = np.atleast_2d(array)
    ax.imshow(array, cmap="coolwarm", vmin=-3, vmax=3)
    for (i, j), value in np.ndenumerate(array):  # white text on the dark ends of the colour map
        ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=8,
                color="white" if abs(value) > 1.5 else "black")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


fig = Figure(figsize=(11, 5.2))
axes = fig.subplots(2, 4, gridspec_kw=dict(width_ratios=[1, 1, 1, 1]))
heat(axes[0, 0], c.data, "bias c, shape (3,)")
heat(axes[0, 1], np.broadcast_to(c.data, (B, H)), "forward: c copied to (5, 3)")
heat(axes[0, 2], g, "backward: upstream g, (5, 3)")
heat(axes[0, 3], c.grad, "c.grad = g.sum(axis=0), (3,)")
heat(axes[1, 0], u.data, "u, shape (3, 1)")
heat(axes[1, 1], np.broadcast_to(u.data, (3, 4)), "forward: u copied to (3, 4)")
heat(axes[1, 2], g_outer * v.data, "backward: g * v, (3, 4)")
heat(axes[1, 3], u.grad, "u.grad = (g*v).sum(axis=1,\nkeepdims=True), (3, 1)")
fig.suptitle("Broadcasting copies forward; the gradient sums over the copies backward")
fig.tight_layout()
show(fig, "02_broadcast_gradients.png")

# %% [markdown]
# ## One place that undoes broadcasting
#
# Every op that broadcasts (the binary add, sub, mul, div and pow, and the ternary `where(condition, a, b)`)
# needs this sum, and writing it into each of their backward rules would repeat the same code six times,
# with six chances to get it wrong. microseq does it
# in exactly one place: an op that broadcasts declares `reduces_broadcast=True`, writes its rule as if no
# broadcasting had happened (`mul`'s rule is just `(g * w, g * x)`), and the engine passes each gradient
# through `unbroadcast(grad, input_shape)` before storing it. That function sums
#
# * over the leading axes that the input did not have, and
# * over the axes where the input had size 1 but the gradient does not,
#
# then reshapes. That function is your first exercise.
#
# **Exercise.** Write `unbroadcast_by_hand(grad, shape)`: sum `grad` (the broadcast shape) back to `shape`.
# Leading axes that `shape` lacks are summed away; axes where `shape` has 1 and `grad` does not are summed
# with `keepdims=True`.


# %%
@exercise
def unbroadcast_by_hand(grad, shape):
    """``grad`` summed over the axes along which an input of ``shape`` was copied; returns an array of ``shape``."""
    raise NotImplementedError("exercise: sum grad back to shape")


# %% [markdown]
# The check states the rule a second, independent way: add up the gradient of every copy, one element at a
# time, with `np.add.at` (slow and obviously right), on many random pairs of shapes (size 0 and 1 axes
# included); the library's `unbroadcast` must agree too.


# %%
def random_broadcast_pair(rng):
    """A shape and a shape that broadcasts to it (some leading axes dropped, some sizes set to 1)."""
    full = tuple(int(n) for n in rng.integers(1, 5, size=rng.integers(0, 5)))
    dropped = rng.integers(0, len(full) + 1)
    small = tuple(1 if rng.random() < 0.4 else n for n in full[dropped:])
    return full, small


def sum_over_copies(grad, shape):
    """The gradient of ``np.broadcast_to(x, grad.shape)`` with respect to ``x`` of ``shape``: add up
    the gradient of every copy, one element of ``x`` at a time (slow and obviously right)."""
    result = np.zeros(shape)
    index_of_copy = np.broadcast_to(np.arange(int(np.prod(shape))).reshape(shape), grad.shape)
    np.add.at(result.reshape(-1), index_of_copy.reshape(-1), grad.reshape(-1))
    return result


def sums_over_copies(unbroadcast_fn):
    pair_rng = np.random.default_rng(1)
    for _ in range(50 if QUICK else 500):
        full, small = random_broadcast_pair(pair_rng)
        grad = pair_rng.standard_normal(full)
        reduced = unbroadcast_fn(grad, small)
        assert np.shape(reduced) == small, f"gradient {full} -> {small}: got shape {np.shape(reduced)}"
        assert np.allclose(reduced, sum_over_copies(grad, small), rtol=1e-12, atol=1e-12), (full, small)


check(sums_over_copies, unbroadcast_by_hand)
sums_over_copies(unbroadcast)  # the library's version obeys the same rule

# %% [markdown]
# ## Why the gradient must have its input's shape
#
# A gradient is used in exactly one way: an optimizer subtracts it from the parameter,
# `p -= lr * p.grad`. If the gradient of the `(3,)` bias kept the broadcast shape `(5, 3)`, NumPy would
# happily broadcast *that* subtraction as well, and the bias would silently turn into a `(5, 3)` matrix:
# one bias per row of this batch, and a shape error on the next batch of a different size. Worse, in
# cases like `(H, 1)` against `(1, H)` no error ever comes, just wrong numbers.

# %%
bias = np.zeros(3)
wrong_grad = g  # the un-summed gradient, shape (5, 3)
updated = bias - 0.1 * wrong_grad
print("bias", bias.shape, "-> after one step with an un-summed gradient:", updated.shape)
assert updated.shape != bias.shape

# %% [markdown]
# So the engine refuses to store a gradient of the wrong shape. To see it refuse, we write a small op of our
# own, the way every microseq op is written: `record(name, value, inputs, rule)` computes the value with
# NumPy and puts the op on the tape with its backward rule. The rule is called as
# `rule(g, *input_values, output_value)` and returns one gradient per input; a parameter whose name starts
# with `_` is one the rule does not read (so the printed tape does not count it as saved). Addition's rule
# reads nothing but `g`. We forget to declare that the op broadcasts:


# %%
def add_forgetting_broadcast(a, b):
    """``a + b`` with a correct rule but without ``reduces_broadcast``: the gradients keep the output's shape."""
    return record("add_forgetting_broadcast", a.data + b.data, (a, b), lambda g, _a, _b, _y: (g, g))


h = ms.tensor(rng.standard_normal((B, H)), requires_grad=True)
c = ms.tensor(rng.standard_normal(H), requires_grad=True)
try:
    add_forgetting_broadcast(h, c).sum().backward()
except RuntimeError as error:
    message = str(error)
    print("RuntimeError:", message)
else:
    raise AssertionError("a gradient of the wrong shape must be refused")
assert "add_forgetting_broadcast" in message and "(5, 3)" in message and "(3,)" in message


# %% [markdown]
# The error names the op, the input and both shapes. Declaring the broadcast fixes it, and the gradient
# is the sum we derived:


# %%
def add_declaring_broadcast(a, b):
    return record("add_declaring_broadcast", a.data + b.data, (a, b), lambda g, _a, _b, _y: (g, g),
                  reduces_broadcast=True)


add_declaring_broadcast(h, c).backward(g)
assert np.array_equal(c.grad, g.sum(axis=0))

# %% [markdown]
# **Exercise.** Write the ternary op `select(condition, a, b)`, NumPy's `np.where`: `a` where the boolean
# `condition` holds, else `b`, all three broadcast together. Only `a` and `b` are tensors; the condition is a
# constant (an array the rule may close over). Each output element came from exactly one of `a` and `b`, so
# the gradient `g` goes to `a` where the condition holds and to `b` elsewhere (zero for the other). Use
# `record(..., reduces_broadcast=True)` so that the engine sums the gradients back to each input's shape.


# %%
@exercise
def select(condition, a, b):
    """``np.where(condition, a, b)`` as a recorded op. condition: bool array; a, b: Tensors (broadcastable)."""
    raise NotImplementedError("exercise: record np.where and its backward rule")


# %% [markdown]
# The check is the library's own property test, `check_gradients` from `microseq.testing`: Hypothesis draws
# three shapes that broadcast together (size 0 and 1 axes included), a condition and values; backward with a
# random upstream gradient must agree with finite differences, and each gradient must have its input's shape.


# %%
def select_has_the_right_gradient(select):
    @settings(max_examples=15 if QUICK else 100, deadline=None, database=None)
    @given(broadcastable_shapes(3, max_dims=3, max_side=3), st.data())
    def gradients_agree(shapes, data):
        cond_shape, a_shape, b_shape = shapes.input_shapes
        condition = data.draw(arrays(cond_shape, dtype=bool), label="condition")
        a, b = data.draw(arrays(a_shape), label="a"), data.draw(arrays(b_shape), label="b")
        out = select(condition, ms.tensor(a), ms.tensor(b))
        assert np.array_equal(out.data, np.where(condition, a, b)), "the value is not np.where(condition, a, b)"
        check_gradients(lambda a, b: select(condition, a, b), a, b, names=["a", "b"])

    gradients_agree()


check(select_has_the_right_gradient, select)

# %% [markdown]
# ## The silent bug: a reduction without `keepdims`
#
# Shape errors are the friendly kind of bug. The unfriendly kind is a broadcast that succeeds along the
# wrong axis. Centring each row of a `(B, H)` batch, `x - x.mean(axis=1)`, gives a `(B,)` mean, which
# broadcasts against the *last* axis, the H axis: it subtracts the mean of row j from column j. With
# B != H you get an error; with B == H you get no error and wrong numbers. `keepdims=True` keeps the
# reduced axis with size 1, so the mean broadcasts along the right axis.

# %%
square = ms.tensor(rng.standard_normal((4, 4)), requires_grad=True)
wrong = square - square.mean(axis=1)
right = square - square.mean(axis=1, keepdims=True)
print("row means after centring (wrong):", np.round(wrong.data.mean(axis=1), 3))
print("row means after centring (right):", np.round(right.data.mean(axis=1), 3))
assert np.allclose(right.data.mean(axis=1), 0, atol=1e-12)
assert not np.allclose(wrong.data.mean(axis=1), 0, atol=1e-3)

# %% [markdown]
# The gradients differ too. The centring map $y = x - \bar{x}$ (row means) is a projection: it removes
# the part of the upstream gradient that is constant along a row, so the correct gradient of
# `right` sums to zero along every row, and the wrong one does not.

# %%
g_square = rng.standard_normal((4, 4))
right.backward(g_square)
assert np.allclose(square.grad, g_square - g_square.mean(axis=1, keepdims=True), rtol=1e-12)
assert np.allclose(square.grad.sum(axis=1), 0, atol=1e-12)
print("row sums of the right gradient:", np.round(square.grad.sum(axis=1), 3))

square.zero_grad()
wrong.backward(g_square)
print("row sums of the wrong gradient:", np.round(square.grad.sum(axis=1), 3))
assert not np.allclose(square.grad.sum(axis=1), 0, atol=1e-3)

# %% [markdown]
# ## What we learned
#
# * Broadcasting lines shapes up from the right and stretches size-1 (or missing) axes: a copy.
# * The gradient of a copy is the sum over the copies: sum the upstream gradient over the stretched axes,
#   keeping size-1 axes, so that it has the input's shape again.
# * microseq does this in one place (`unbroadcast`), and refuses any gradient whose shape differs from its
#   input's, naming the op and both shapes, because an optimizer step with a wrongly shaped gradient would
#   silently reshape the parameter.
# * Use `keepdims=True` when a reduction will be broadcast back.
#
# Next, tutorial 3: how do we *know* that a backward rule is right?
