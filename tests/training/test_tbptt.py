"""Truncated BPTT equals detaching by hand; without truncation gradients reach the first step."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq.data import LMStream
from microseq.training.models import CharLM, detach_state
from microseq.training.tbptt import tbptt_backward


def _tiny_lm(cell, seed, vocab=5):
    ms.manual_seed(seed)
    return CharLM(vocab, embedding_size=3, hidden_size=4, cell=cell, num_layers=2, dtype="float64")


def _grads(model):
    return {name: p.grad.copy() for name, p in model.named_parameters()}


@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    window=st.integers(1, 4),
    windows_per_batch=st.integers(1, 3),
    batches=st.integers(1, 3),
    streams=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_truncated_bptt_equals_detaching_every_k_steps_by_hand(cell, window, windows_per_batch, batches, streams, seed):
    """Stream batches through tbptt_backward (state carried across batches, detached every k steps) and
    compare the accumulated gradients with a step-by-step loop over the same rows that detaches the state
    by hand whenever t % k == 0 and backpropagates the summed loss once."""
    seq_len = window * windows_per_batch
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 5, size=streams * seq_len * batches + 1)
    stream = LMStream(ids, streams, seq_len, random_offset=False)

    model = _tiny_lm(cell, seed)
    state = None
    for _ in range(batches):
        batch = next(stream)
        _, state = tbptt_backward(model, batch.inputs, batch.targets, state, window, normalizer=1.0)
    truncated = _grads(model)

    by_hand = _tiny_lm(cell, seed)
    rows = np.concatenate([b.inputs for b in stream.one_epoch()][:batches], axis=1)
    targets = np.concatenate([b.targets for b in stream.one_epoch()][:batches], axis=1)
    total, state = None, None
    for t in range(rows.shape[1]):
        if t % window == 0:
            state = detach_state(state)
        logits, state = by_hand(rows[:, t : t + 1], state)
        loss = ms.cross_entropy(logits.reshape(streams, -1), targets[:, t], reduction="sum")
        total = loss if total is None else total + loss
    total.backward()
    for name, grad in _grads(by_hand).items():
        np.testing.assert_allclose(truncated[name], grad, rtol=1e-9, atol=1e-12, err_msg=name)


def test_without_truncation_gradients_reach_the_first_step():
    """Control for the property above: only the last step has a target (the others are ignored); with
    window = T the first input's embedding gets gradient from it, with window 1 it does not."""
    ids = np.array([[1, 2, 3, 4]])
    targets = np.array([[-100, -100, -100, 2]])
    for window, reaches in ((4, True), (1, False)):
        model = _tiny_lm("lstm", 0)
        tbptt_backward(model, ids, targets, None, window)
        first_row = model.embedding.weight.grad[1]
        assert (np.abs(first_row).max() > 0) == reaches
