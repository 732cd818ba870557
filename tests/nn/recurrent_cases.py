"""Shared pieces of the recurrent-layer tests: a drawn layer configuration and one forward + backward run.

A :class:`Case` fixes everything a recurrent test varies: the layer type and its options, the sizes, the
lengths of a padded batch, and a seed for the weights and values. :func:`cases` draws them with Hypothesis;
:func:`run` does a forward and a backward with random upstream gradients and returns every number a test
may compare (outputs, final states, and the gradients of the input, the initial states and each parameter).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

import microseq as ms
from microseq import nn

LAYERS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}

# Tests that run a whole stacked bidirectional layer many times take a share of the profile's examples.
few_examples = settings(max_examples=max(2, settings.default.max_examples // 5))


@dataclass(frozen=True)
class Case:
    kind: str  # "RNN", "LSTM", "GRU"
    num_layers: int = 1
    bidirectional: bool = False
    batch_first: bool = False
    bias: bool = True
    nonlinearity: str = "tanh"  # RNN only
    steps: int = 4  # T
    batch: int = 3  # B
    input_size: int = 2  # I
    hidden_size: int = 3  # H
    lengths: tuple | None = None  # one per sequence, or None for full length
    seed: int = 0
    proj_size: int = 0  # LSTM only, composed path only

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def state_count(self) -> int:
        return 2 if self.kind == "LSTM" else 1

    @property
    def output_size(self) -> int:
        """Size of h per direction (P for a projected LSTM)."""
        return self.proj_size or self.hidden_size

    @property
    def output_shape(self) -> tuple:
        """Shape of the layer's output, in the case's layout."""
        lead = (self.batch, self.steps) if self.batch_first else (self.steps, self.batch)
        return lead + (self.directions * self.output_size,)

    def upstream(self, seed: int = 7) -> list[np.ndarray]:
        """Random upstream gradients of output, h_n (and c_n), for :func:`run`."""
        layers = self.num_layers * self.directions
        sizes = [self.output_size, self.hidden_size][: self.state_count]
        return upstream_for([self.output_shape] + [(layers, self.batch, size) for size in sizes], seed)

    def layer(self, fused: bool = True):
        """The layer, in float64, with weights drawn from the case's seed."""
        ms.manual_seed(self.seed)
        options = {"nonlinearity": self.nonlinearity} if self.kind == "RNN" else {}
        if self.proj_size:
            options["proj_size"] = self.proj_size
        return LAYERS[self.kind](
            self.input_size, self.hidden_size, self.num_layers, bias=self.bias, batch_first=self.batch_first,
            bidirectional=self.bidirectional, dtype=np.float64, fused=fused, **options,
        )

    def input(self) -> np.ndarray:
        """Input values in the case's layout, with garbage at the padded steps."""
        rng = np.random.default_rng(self.seed + 1)
        x = rng.standard_normal((self.steps, self.batch, self.input_size))
        if self.lengths is not None:
            padding = np.arange(self.steps)[:, None] >= np.array(self.lengths)[None, :]
            x[padding] = 1e3 * rng.standard_normal((int(padding.sum()), self.input_size))
        return np.ascontiguousarray(x.swapaxes(0, 1)) if self.batch_first else x

    def initial_states(self) -> list[np.ndarray]:
        """h0 (num_layers * D, B, H or P) and c0 (num_layers * D, B, H)."""
        rng = np.random.default_rng(self.seed + 2)
        sizes = [self.output_size, self.hidden_size][: self.state_count]
        return [rng.standard_normal((self.num_layers * self.directions, self.batch, size)) for size in sizes]

    def with_(self, **changes) -> "Case":
        return replace(self, **changes)


@st.composite
def cases(draw, max_steps: int = 5, max_batch: int = 3, max_size: int = 3, **fixed) -> Case:
    """A :class:`Case` with every field not given in ``fixed`` drawn (``lengths``: drawn or None)."""

    def pick(name, strategy):
        return fixed[name] if name in fixed else draw(strategy)

    kind = pick("kind", st.sampled_from(sorted(LAYERS)))
    steps = pick("steps", st.integers(1, max_steps))
    batch = pick("batch", st.integers(1, max_batch))
    if "lengths" in fixed:
        lengths = fixed["lengths"]
    else:
        lengths = draw(st.none() | st.lists(st.integers(1, steps), min_size=batch, max_size=batch))
    return Case(
        kind=kind,
        num_layers=pick("num_layers", st.integers(1, 2)),
        bidirectional=pick("bidirectional", st.booleans()),
        batch_first=pick("batch_first", st.booleans()),
        bias=pick("bias", st.booleans()),
        nonlinearity=pick("nonlinearity", st.sampled_from(["tanh", "relu"])) if kind == "RNN" else "tanh",
        steps=steps,
        batch=batch,
        input_size=pick("input_size", st.integers(1, max_size)),
        hidden_size=pick("hidden_size", st.integers(1, max_size)),
        lengths=None if lengths is None else tuple(lengths),
        seed=pick("seed", st.integers(0, 2**16)),
    )


def as_states(h_n) -> tuple:
    """A layer's final state as a tuple: (h_n,) or (h_n, c_n)."""
    return h_n if isinstance(h_n, tuple) else (h_n,)


def upstream_for(shapes, seed: int = 7) -> list[np.ndarray]:
    """Random upstream gradients, one per output shape."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def run(layer, x: np.ndarray, states: list | None = None, lengths=None, upstream=None) -> dict[str, np.ndarray]:
    """Forward and backward of ``layer``, every result by name.

    The loss is ``sum(output * V) + sum(h_n * W) [+ sum(c_n * U)]`` with ``upstream = [V, W, (U)]``, random
    by default (a random upstream gradient catches mixed-up positions that ``output.sum()`` would not).
    Returns ``output``, ``h_n`` (``c_n``), ``grad x``, ``grad h0`` (``grad c0``) and ``grad <parameter name>``.
    """
    layer.zero_grad()
    inputs = ms.Tensor(np.array(x, copy=True), requires_grad=True)
    initial = None if states is None else [ms.Tensor(np.array(s, copy=True), requires_grad=True) for s in states]
    hx = None if initial is None else (tuple(initial) if len(initial) == 2 else initial[0])
    output, h_n = layer(inputs, hx, lengths=lengths)
    finals = as_states(h_n)
    outputs = (output, *finals)
    upstream = upstream_for([o.shape for o in outputs]) if upstream is None else upstream
    loss = sum((o * u).sum() for o, u in zip(outputs, upstream))
    loss.backward()
    results = {"output": output.data, "h_n": finals[0].data, "grad x": inputs.grad}
    if len(finals) == 2:
        results["c_n"] = finals[1].data
    for name, tensor in zip(("h0", "c0"), initial or ()):
        results[f"grad {name}"] = tensor.grad
    for name, parameter in layer.named_parameters():
        results[f"grad {name}"] = parameter.grad
    return results


def assert_same_results(actual: dict, expected: dict, atol: float = 1e-12, what: str = "") -> None:
    """Every entry equal within ``atol`` (float64 round-off); the message names the entry."""
    assert actual.keys() == expected.keys(), f"{what}: results {sorted(actual)} vs {sorted(expected)}"
    for name in expected:
        np.testing.assert_allclose(actual[name], expected[name], rtol=0, atol=atol, err_msg=f"{what}: {name}")
