"""Random compositions of ops (a Hypothesis state machine, MyGrad style): on any graph, backward agrees
with finite differences of the whole composition.

The machine adds leaves and applies ops to anything computed so far (so values are shared and reused, as in
real graphs). It records each step as a small program so that the composition can be re-run as a function
of the leaves, which is what the finite differences need.
"""

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

import microseq as ms
from microseq.testing import arrays, check_gradients

# Shapes that all broadcast to (2, 3); leaves are in [-1, 1] and every op keeps values moderate.
LEAF_SHAPES = [(2, 3), (3,), (2, 1), ()]
UNARY = {
    "tanh": ms.tanh,
    "sigmoid": ms.sigmoid,
    "neg": ms.neg,
    "half": lambda x: x * 0.5,
    "sum_last_axis": lambda x: x.sum(axis=-1, keepdims=True) if x.ndim else x,
    "mean": ms.mean,
    "softmax": lambda x: ms.softmax(x, axis=-1) if x.ndim else x,
    "reverse": lambda x: x[..., ::-1] if x.ndim else x,
}
BINARY = {
    "add": ms.add,
    "sub": ms.sub,
    "mul": ms.mul,
    "div_by_positive": lambda a, b: a / (1.5 + ms.tanh(b)),
    "where": lambda a, b: ms.where(np.array([True, False, True]), a, b),
}
MAX_VALUES = 14


class RandomGraph(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.leaves = []  # float64 arrays
        self.program = []  # (name, fn, argument positions) for every value after the leaves
        self.values = []  # the tensors, leaves first, as computed while the graph was built

    def replay(self, leaf_tensors, upto: int):
        """Recompute value ``upto`` from the given leaf tensors by re-running the program."""
        values = list(leaf_tensors)
        for _, fn, args in self.program[: upto + 1 - len(leaf_tensors)]:
            values.append(fn(*(values[i] for i in args)))
        return values[upto]

    @precondition(lambda self: len(self.leaves) < 4 and not self.program)
    @rule(data=st.data(), shape=st.sampled_from(LEAF_SHAPES))
    def add_leaf(self, data, shape):
        x = data.draw(arrays(shape, domain=(-1.0, 1.0)))
        self.leaves.append(x)
        self.values.append(ms.Tensor(x, requires_grad=True))

    @precondition(lambda self: self.leaves and len(self.values) < MAX_VALUES)
    @rule(data=st.data(), name=st.sampled_from(sorted(UNARY)))
    def apply_unary(self, data, name):
        i = data.draw(st.integers(0, len(self.values) - 1))
        self._apply(name, UNARY[name], (i,))

    @precondition(lambda self: self.leaves and len(self.values) < MAX_VALUES)
    @rule(data=st.data(), name=st.sampled_from(sorted(BINARY)))
    def apply_binary(self, data, name):
        i, j = (data.draw(st.integers(0, len(self.values) - 1)) for _ in range(2))
        self._apply(name, BINARY[name], (i, j))

    def _apply(self, name, fn, args):
        self.program.append((name, fn, args))
        self.values.append(fn(*(self.values[i] for i in args)))

    @precondition(lambda self: self.program)
    @rule(data=st.data())
    def check_a_value(self, data):
        self._check(data.draw(st.integers(len(self.leaves), len(self.values) - 1)))

    def teardown(self):
        if self.program:
            self._check(len(self.values) - 1)

    def _check(self, k: int):
        built = self.values[k]
        leaves = [ms.Tensor(x, requires_grad=True) for x in self.leaves]
        np.testing.assert_allclose(self.replay(leaves, k).data, built.data, rtol=1e-15)
        check_gradients(lambda *leaves: self.replay(leaves, k), *self.leaves)


RandomGraph.TestCase.settings = settings(stateful_step_count=12)
TestRandomGraph = RandomGraph.TestCase
