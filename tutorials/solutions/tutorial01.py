"""Solutions of tutorial 01 (a tape from scratch). Open this when stuck; the tutorial's checks judge yours."""

from __future__ import annotations

import math


class Value:
    """A number that records how it was made, so that ``backward`` can send gradients back to its leaves."""

    tape: list = []  # every Value made by an op, in the order the ops ran (a Wengert list)

    def __init__(self, data, inputs=(), local_grads=()):
        self.data = float(data)
        self.grad = 0.0
        self.inputs = inputs  # the Values this one was computed from
        self.local_grads = local_grads  # d self / d input, one number per input
        if inputs:
            Value.tape.append(self)

    def _lift(self, other):
        return other if isinstance(other, Value) else type(self)(other)

    def __add__(self, other):
        other = self._lift(other)
        return type(self)(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = self._lift(other)
        return type(self)(self.data * other.data, (self, other), (other.data, self.data))

    __radd__ = __add__
    __rmul__ = __mul__

    def __sub__(self, other):
        return self + self._lift(other) * -1.0

    def tanh(self):
        y = math.tanh(self.data)
        return type(self)(y, (self,), (1.0 - y * y,))

    def backward(self):
        """d self / d v into ``v.grad`` for every Value v this one depends on (added, never overwritten)."""
        last = next(i for i, v in enumerate(Value.tape) if v is self)
        waiting = {id(self): 1.0}  # the gradient that has reached each op's output so far
        for node in reversed(Value.tape[: last + 1]):  # the tape read backwards
            g = waiting.pop(id(node), 0.0)
            node.grad += g
            for inp, local in zip(node.inputs, node.local_grads):
                if inp.inputs:  # made by an op: wait until that op is replayed
                    waiting[id(inp)] = waiting.get(id(inp), 0.0) + g * local
                else:  # a leaf: collect
                    inp.grad += g * local


def fit_line(xs, ys, steps, lr):
    """Fit ``y = a x + b`` by gradient descent on the mean squared error, with ``Value``'s tape.

    Returns ``a, b`` (floats) and the list of losses, one per step (before that step's update).
    """
    a, b = Value(0.0), Value(0.0)
    losses = []
    for _ in range(steps):
        Value.tape.clear()  # a fresh tape for each step
        loss = Value(0.0)
        for x, y in zip(xs, ys):
            error = a * x + b - y
            loss = loss + error * error * (1.0 / len(xs))
        losses.append(loss.data)
        a.grad = b.grad = 0.0  # zero_grad: backward adds
        loss.backward()
        a.data -= lr * a.grad  # the gradient-descent step
        b.data -= lr * b.grad
    return a.data, b.data, losses


# Plausible wrong answers: each check must catch every one of them (CI runs them all).
class ValueThatOverwrites(Value):
    """Forgets the sum over paths: a Value used twice keeps only the gradient from the consumer replayed last."""

    def backward(self):
        last = next(i for i, v in enumerate(Value.tape) if v is self)
        waiting = {id(self): 1.0}
        for node in reversed(Value.tape[: last + 1]):
            g = waiting.pop(id(node), 0.0)
            node.grad = g
            for inp, local in zip(node.inputs, node.local_grads):
                if inp.inputs:
                    waiting[id(inp)] = g * local
                else:
                    inp.grad = g * local


def fit_line_climbing(xs, ys, steps, lr):
    """Steps *up* the gradient (``+=`` instead of ``-=``): the loss grows."""
    return fit_line(xs, ys, steps, -lr)


MISTAKES = {"Value": [ValueThatOverwrites], "fit_line": [fit_line_climbing]}
