"""Solutions of tutorial 04 (a vanilla RNN from primitive ops)."""

from __future__ import annotations

import microseq as ms


def carry_back(delta, h, w_hh):
    """dL/dh_{t-1} through step t: delta = dL/dh_t (B, H), h = h_t (B, H), w_hh (H, H) -> (B, H)."""
    return (delta * (1 - h**2)) @ w_hh  # through tanh (h = tanh(a)), then through a = ... + h_{t-1} W_hh^T


def tbptt_gradients(xs, h0, p, upstream, k):
    """Accumulated gradients of L = sum_t <upstream[t], h_t>, backpropagating through chunks of k steps."""
    from __main__ import run_rnn  # the tutorial's unrolled RNN

    for tensor in [*p.values(), h0]:
        tensor.zero_grad()
    h, biggest_tape = h0, 0
    for start in range(0, len(xs), k):
        chunk = run_rnn(xs[start:start + k], h, p)
        loss = (chunk * upstream[start:start + k]).sum()
        biggest_tape = max(biggest_tape, len(ms.tape_of(loss)))
        loss.backward()
        h = chunk[-1].detach()  # carry the state forward, cut its history
    return {name: tensor.grad.copy() for name, tensor in p.items()}, biggest_tape


# Plausible wrong answers: each check must catch every one of them (CI runs them all).
def carry_back_skipping_tanh(delta, h, w_hh):
    """Forgets the tanh's derivative."""
    return delta @ w_hh


def tbptt_restarting_from_h0(xs, h0, p, upstream, k):
    """Detaches, but starts every chunk from h0 instead of carrying the state: the forward pass changes."""
    from __main__ import run_rnn

    for tensor in [*p.values(), h0]:
        tensor.zero_grad()
    for start in range(0, len(xs), k):
        chunk = run_rnn(xs[start:start + k], h0.detach(), p)
        (chunk * upstream[start:start + k]).sum().backward()
    return {name: tensor.grad.copy() for name, tensor in p.items()}, 0


MISTAKES = {"carry_back": [carry_back_skipping_tanh], "tbptt_gradients": [tbptt_restarting_from_h0]}
