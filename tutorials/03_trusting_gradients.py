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
# # 3. Trusting gradients
#
# A wrong backward rule does not crash. The model still trains, a little worse, and nobody knows why.
# So every gradient in microseq is *checked*, against an estimate that needs no calculus at all: nudge
# the input a little and watch the output move. This tutorial builds that check up from scratch:
#
# 1. finite differences, and why the *central* difference in *float64* is the one to trust;
# 2. `ms.gradcheck`, and why it uses a random upstream gradient rather than `.sum()`;
# 3. a **property test** with Hypothesis that searches over shapes and values for an input where a backward
#    rule is wrong, finds one for a rule with a deliberately planted bug, and *shrinks* it to the smallest
#    failing case.
#
# You will write a finite-difference gradient and an op with its own backward rule, and check both.

# %%
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from matplotlib.figure import Figure

import microseq as ms
from microseq.tensor import record
from microseq.testing import arrays, check_gradients, shapes

from common import QUICK, show
from exercises import check, exercises_of

exercise = exercises_of("03")  # your answers, or with MICROSEQ_TUTORIAL_SOLUTIONS=1 those in solutions/tutorial03.py
rng = np.random.default_rng(0)

# %% [markdown]
# ## Finite differences
#
# Taylor's theorem says, for a smooth $f$ and a small step $h$,
#
# $$ f(x + h) = f(x) + h f'(x) + \tfrac{h^2}{2} f''(x) + \tfrac{h^3}{6} f'''(x) + \dots $$
#
# so the **forward difference** $\frac{f(x+h) - f(x)}{h} = f'(x) + \tfrac{h}{2} f''(x) + \dots$ is off by
# a term proportional to $h$, while in the **central difference**
#
# $$ \frac{f(x+h) - f(x-h)}{2h} = f'(x) + \tfrac{h^2}{6} f'''(x) + \dots $$
#
# the $h^2$ terms cancel and the error shrinks like $h^2$. So: make $h$ tiny? No. The computer stores each
# value of $f$ with a relative rounding error of about $\varepsilon$ (machine epsilon: $2.2 \times 10^{-16}$
# in float64, $1.2 \times 10^{-7}$ in float32), and dividing by $h$ magnifies it to about
# $\varepsilon |f| / h$. The total error of the central difference is about
#
# $$ \frac{h^2}{6} |f'''| + \frac{\varepsilon |f|}{h}, $$
#
# smallest near $h \approx \varepsilon^{1/3}$: around $10^{-5}$ in float64, where the error is about
# $10^{-10}$, but around $10^{-2}$ in float32, where the error only gets down to a few times $10^{-6}$.
# We measure it on $f(x) = x \tanh(0.7 x)$ at $x = 1.3$, computing $f$ in each precision.


# %%
def f(x):
    return x * np.tanh(x.dtype.type(0.7) * x)


def f_prime(x):
    t = np.tanh(0.7 * x)
    return t + 0.7 * x * (1 - t**2)


x0 = 1.3
exact = f_prime(np.float64(x0))
steps = np.logspace(-12, -0.5, 46)
errors = {}
for dtype in (np.float64, np.float32):
    x = dtype(x0)
    for name in ("forward", "central"):
        estimates = []
        for h in steps:
            h = dtype(h)
            if name == "forward":
                estimates.append((f(x + h) - f(x)) / h)
            else:
                estimates.append((f(x + h) - f(x - h)) / (dtype(2) * h))
        errors[(name, np.dtype(dtype).name)] = np.abs(np.array(estimates, dtype=np.float64) - exact)

best = {key: (steps[np.argmin(err)], err.min()) for key, err in errors.items()}
for (name, dtype), (h, err) in best.items():
    print(f"{name:>7} difference, {dtype}: best step {h:.1e}, error {err:.1e}")

# %% [markdown]
# The measurements agree with the estimate: central beats forward, float64 beats float32 by five orders of
# magnitude, and the best step is far from "as small as possible":

# %%
assert best[("central", "float64")][1] < 1e-9 < best[("forward", "float64")][1]
assert 1e-7 < best[("central", "float32")][1] < 1e-5  # float32: a few times 1e-6 at best (2.3e-6 here)
assert 1e-7 < best[("central", "float64")][0] < 1e-3 and best[("central", "float32")][0] > 1e-4
assert errors[("central", "float64")][0] > 1e-6  # at h = 1e-12 rounding has taken over

fig = Figure(figsize=(6.5, 4.2))
ax = fig.add_subplot()
for (name, dtype), err in errors.items():
    ax.loglog(steps, np.maximum(err, 1e-17), ("-" if name == "central" else "--"),
              color="tab:blue" if dtype == "float64" else "tab:orange", label=f"{name}, {dtype}")
ax.set_xlabel("step h")
ax.set_ylabel("|finite difference - f'(x)|")
ax.set_title("Finite-difference error: truncation (right) vs rounding (left)")
ax.legend(loc="lower right")
ax.grid(alpha=0.3, which="both")
fig.tight_layout()
show(fig, "03_finite_difference_error.png")

# %% [markdown]
# In the figure each curve is a V: on the right the truncation error (slope 1 for forward, slope 2 for
# central), on the left the rounding error (slope -1) which grows as $h$ shrinks. The flat float32 lines
# at the far left are the extreme case: below $h \approx 10^{-7}$, `x + h` rounds back to `x` and the
# estimate is exactly 0. This is why gradient
# checks are done in **float64** with the central difference and $h$ around $10^{-6}$, exactly PyTorch's
# `gradcheck` defaults, which microseq copies (`eps=1e-6, atol=1e-5, rtol=1e-3`).
#
# **Exercise.** Write `central_difference(f, x, eps)`: the gradient of a scalar function `f` of an array `x`
# (float64), one element at a time: nudge element $i$ by $+\varepsilon$ and by $-\varepsilon$, take
# $(f(x + \varepsilon e_i) - f(x - \varepsilon e_i)) / 2\varepsilon$. Leave `x` as you found it.


# %%
@exercise
def central_difference(f, x, eps=1e-6):
    """The gradient of the scalar ``f`` at ``x`` by central differences; an array of ``x``'s shape."""
    raise NotImplementedError("exercise: nudge each element both ways")


# %% [markdown]
# The check draws arrays of random shapes (size 0 and 1 axes included) with Hypothesis and compares your
# estimate with `backward()` on $f(x) = \sum_i w_i\, x_i \tanh(x_i)$ to $10^{-7}$: the central difference's
# error is near $10^{-10}$ there, a forward difference's near $10^{-6}$, so only the central one passes.


# %%
def matches_backward(central_difference):
    @settings(max_examples=20 if QUICK else 100, deadline=None, database=None)
    @given(arrays(shapes(max_dims=3, max_side=4)))
    def agrees(x):
        w = np.cos(np.arange(x.size)).reshape(x.shape)  # fixed weights, so positions matter
        x_before = x.copy()
        numerical = central_difference(lambda a: float(np.sum(w * a * np.tanh(a))), x, 1e-5)
        assert np.array_equal(x, x_before), "central_difference must leave x unchanged"
        t = ms.tensor(x, requires_grad=True)
        (ms.tensor(w) * t * ms.tanh(t)).sum().backward()
        assert np.shape(numerical) == x.shape, f"shape {np.shape(numerical)}, expected {x.shape}"
        assert np.allclose(numerical, t.grad, rtol=1e-7, atol=1e-7), np.abs(numerical - t.grad).max()

    agrees()


check(matches_backward, central_difference)

# %% [markdown]
# ## `ms.gradcheck`
#
# For a function of many inputs, `ms.gradcheck(fn, inputs)` perturbs every element of every input that
# requires grad, one at a time, and compares with `backward()`. Here is one step of a recurrent network
# (tutorial 4 builds it properly), checked with respect to all five of its inputs:


# %%
def rnn_step(x, h, w_ih, w_hh, b):
    return ms.tanh(x @ w_ih.T + h @ w_hh.T + b)


B, I, H = 3, 4, 5
inputs = [ms.tensor(rng.standard_normal(shape), requires_grad=True) for shape in [(B, I), (B, H), (H, I), (H, H), (H,)]]
assert ms.gradcheck(rnn_step, inputs, names=["x", "h", "w_ih", "w_hh", "b"])
print("rnn_step: every gradient agrees with the central finite difference")

# %% [markdown]
# Now a backward rule with a bug. Sigmoid's derivative is $\sigma(x)(1 - \sigma(x))$; this version forgets
# the second factor. gradcheck names the input, the worst element and both numbers:


# %%
def sigmoid_missing_factor(a):
    y = 1 / (1 + np.exp(-a.data))
    return record("sigmoid_missing_factor", y, (a,), lambda g, _a, y: (g * y,))  # should be g * y * (1 - y)


try:
    ms.gradcheck(sigmoid_missing_factor, [rng.standard_normal(6)], names=["a"])
except ms.GradcheckError as error:
    print(error)
    assert re.search(r"analytical -?\d\.\d+, numerical -?\d\.\d+", str(error))  # plain numbers, no np.float64(...)
else:
    raise AssertionError("gradcheck must catch the missing factor")

# %% [markdown]
# ### Why a random upstream gradient, and not `.sum()`
#
# It is tempting to check `fn(x).sum()`: a single number, a single backward. But `.sum()` sends the
# upstream gradient $(1, 1, \dots, 1)$, and a rule that puts the right numbers in the wrong *positions*
# can still be right for that one vector. Take an op that reverses a vector, with a backward rule that
# forgets to reverse the gradient back. Against `.sum()` it passes; against a random upstream gradient
# (what `gradcheck` uses for a non-scalar output) it fails:


# %%
def reverse_forgetting_to_reverse_back(a):
    return record("reverse", a.data[::-1].copy(), (a,), lambda g, _a, _y: (g,))  # should be g[::-1]


values = rng.standard_normal(5)
assert ms.gradcheck(lambda a: reverse_forgetting_to_reverse_back(a).sum(), [values])
assert not ms.gradcheck(reverse_forgetting_to_reverse_back, [values], raise_exception=False)
print(".sum() misses the bug; a random upstream gradient catches it")

# %% [markdown]
# ### float32 vs float64
#
# `gradcheck` refuses float32 inputs: as the figure showed, a float32 finite difference is only good to
# a few times $10^{-6}$ *relative to the function's size* (the figure's best was 2.3e-6), not enough to tell a subtly wrong rule from rounding.

# %%
try:
    ms.gradcheck(rnn_step, [t.astype(np.float32).detach().requires_grad_() for t in inputs])
except ms.GradcheckError as error:
    print("GradcheckError:", error)
else:
    raise AssertionError("gradcheck must refuse float32 inputs")

# %% [markdown]
# This does not mean float32 *gradients* are bad: the analytical gradient is computed with the same formulas
# in either precision, and a float32 backward agrees with the float64 one to about float32's own precision
# (a relative error near $10^{-7}$). Train in float32, check in float64.

# %%
inputs32 = [t.astype(np.float32).detach().requires_grad_() for t in inputs]
upstream = rng.standard_normal((B, H))
rnn_step(*inputs).backward(upstream)
rnn_step(*inputs32).backward(upstream.astype(np.float32))
for t64, t32 in zip(inputs, inputs32):
    relative = np.abs(t32.grad - t64.grad).max() / np.abs(t64.grad).max()
    assert relative < 1e-6, relative
print("float32 and float64 backward agree to a relative 1e-6")

# %% [markdown]
# ## A property test that finds a bug and shrinks it
#
# One gradcheck checks one input. A bug may hide in a particular *shape*: a size-1 axis, a reduction over
# the last axis, a non-square matrix. A **property test** states a claim for *all* inputs and lets a tool
# search for a counterexample. [Hypothesis](https://hypothesis.readthedocs.io) draws random shapes and
# values from *strategies*, runs the test, and, once it fails, **shrinks** the failing input: it tries
# simpler and simpler variants (fewer axes, smaller sizes, values nearer zero) and keeps the simplest that
# still fails. What you get is not a random 3-d array but the smallest case that shows the bug.
#
# Here is the planted bug: a mean over one axis whose backward divides by the size of the *first* axis
# instead of the reduced one. It is right whenever those sizes are equal, so a test on a square matrix, or
# on a vector, would never see it.


# %%
def mean_with_planted_bug(a, axis):
    y = a.data.mean(axis=axis)
    shape = a.shape

    def backward(g, _a, _y):
        spread = np.broadcast_to(np.expand_dims(g, axis), shape)
        return (spread / shape[0],)  # bug: should be / shape[axis]

    return record("mean_with_planted_bug", y, (a,), backward)


# %% [markdown]
# The property: for every array of 1 to 3 axes, each of size 1 to 4, every axis, and values in $[-10, 10]$,
# the op's gradient passes gradcheck. The strategy draws the shape first, then an axis and values that fit
# it. `failures` records every failing example Hypothesis tries; the last one is the shrunk example, which
# Hypothesis runs once more at the end to report it.


# %%
@st.composite
def array_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = draw(st.integers(-len(shape), -1))  # counted from the end, like PyTorch's dim=-1
    values = draw(hnp.arrays(np.float64, shape, elements=st.floats(-10, 10)))
    return values, axis


def gradient_is_right(op, failures):
    @settings(max_examples=60 if QUICK else 300, derandomize=True, database=None, deadline=None)
    @given(array_and_axis())
    def check(case):
        values, axis = case
        ok = ms.gradcheck(lambda a: op(a, axis), [values], raise_exception=False)
        if not ok:
            failures.append((values.shape, axis, values))
        assert ok, f"wrong gradient for shape {values.shape}, axis {axis}"

    return check


# %% [markdown]
# First the library's own `ms.mean` (the property holds, Hypothesis finds nothing), then the planted bug:

# %%
gradient_is_right(lambda a, axis: ms.mean(a, axis=axis), failures=[])()
print("ms.mean: no counterexample found")

failures = []
try:
    gradient_is_right(mean_with_planted_bug, failures)()
except AssertionError as error:
    report = "\n".join(getattr(error, "__notes__", [])).split("Explanation:")[0].strip()
else:
    raise AssertionError("Hypothesis must find the planted bug")

first_shape, first_axis, _ = failures[0]
shape, axis, values = failures[-1]
print(f"failing examples tried: {len(failures)}")
print(f"first failure found:   shape {first_shape}, axis {first_axis}")
print(f"after shrinking:       shape {shape}, axis {axis}, values {values.tolist()}")
print("\nHypothesis's report:\n" + report)

# %% [markdown]
# The shrunk example is as small as the bug allows: two elements (with one, every axis has size 1 and the
# two divisors agree), at least two axes (in a vector the reduced axis *is* the first), the reduced axis a
# different size from the first, and every value zero, because the values never mattered: the bug is in the
# shape. That is a diagnosis, not just an alarm. (Shrinking is a search for a *simple* example, not a proof
# that it is the smallest; a differently seeded run may, for instance, keep an extra axis of size 1.)

# %%
assert int(np.prod(shape)) == 2
assert shape[axis] != shape[0]
assert not values.any()

# %% [markdown]
# ## The same check for your own ops: `microseq.testing`
#
# In microseq's own test suite every op and every layer is checked this way, and the pieces are public.
# `microseq.testing` has strategies for shapes, for arrays whose values stay inside an op's domain
# (`"positive"` for `log`, values kept away from `relu`'s kink at 0, ...) and for padded batches of ragged
# sequences, plus `check_gradients`, which runs `gradcheck` with a random upstream gradient and also checks
# that nothing was modified in place, that each gradient has its input's shape and dtype, and that no two
# gradients share memory. A property test of a softplus written from primitive ops is four lines:

# %%
@settings(max_examples=20 if QUICK else 100, derandomize=True, database=None, deadline=None)
@given(arrays(shapes(max_dims=3, max_side=4)))
def test_softplus_gradient(x):
    check_gradients(lambda t: ms.log(1 + ms.exp(t)), x)


test_softplus_gradient()
print("softplus: gradients right on every drawn shape (up to 3 axes of sizes 0 to 4)")

# %% [markdown]
# **Exercise.** Composed from `log` and `exp`, softplus overflows: `exp(1000)` is infinite. Write it as a
# *primitive* op with its own rule, the way microseq's ops are written (tutorial 2):
# `record("softplus", value, (x,), rule)`, with the value computed stably (`np.logaddexp(0, x)` is
# $\log(e^0 + e^x)$ without overflow) and the rule `rule(g, x, y)` returning `(g * derivative,)`, where
# $\frac{d}{dx}\log(1 + e^x) = \frac{e^x}{1 + e^x} = \sigma(x)$ (which you can also write from the output:
# $1 - e^{-y}$).


# %%
@exercise
def softplus(x):
    """``log(1 + exp(x))`` as one recorded op, finite for every finite ``x``. x: Tensor, any shape."""
    raise NotImplementedError("exercise: record np.logaddexp(0, x) and its rule")


# %%
def softplus_is_right(softplus):
    @settings(max_examples=20 if QUICK else 100, deadline=None, database=None)
    @given(arrays(shapes(max_dims=3, max_side=4), domain=(-20, 20)))
    def gradients_agree(x):
        assert np.allclose(softplus(ms.tensor(x)).data, np.logaddexp(0, x), rtol=1e-12), "wrong value"
        check_gradients(softplus, x)

    gradients_agree()
    big = ms.tensor(np.array([-1000.0, 0.0, 1000.0]), requires_grad=True)
    softplus(big).sum().backward()
    assert np.allclose(big.grad, [0.0, 0.5, 1.0]), f"at -1000, 0, 1000 expected 0, 1/2, 1: {big.grad}"


check(softplus_is_right, softplus)

# %% [markdown]
# The fast numba kernels of tutorial 12 are tied to the readable composed cells by the same kind of
# property test.
#
# ## What we learned
#
# * The central difference has error $O(h^2)$ until rounding takes over at about $\varepsilon/h$; in float64
#   with $h = 10^{-6}$ it is precise enough to judge a backward rule, in float32 it is not.
# * `ms.gradcheck` compares every element, in float64, with a random upstream gradient, because `.sum()`
#   cannot see a rule that puts the right numbers in the wrong places.
# * A property test with Hypothesis searches shapes and values for a counterexample and shrinks it to the
#   smallest failing case, which usually says what the bug is.
#
# Next, tutorial 4: a recurrent network from these primitive ops, and backpropagation through time.
