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
# # 10. Sequence to sequence with attention
#
# Tutorial 9 gave one label per sequence, or one per step. Many tasks map a sequence to *another* sequence
# of a different length: translation, summarising, or our example here, reading a date written the way
# people write it ("3rd of March 1999", "03/03/99", "Wed, 03 Mar 1999") and writing it in ISO form
# ("1999-03-03"). The classic model (Sutskever et al., 2014; Bahdanau et al., 2015) has two recurrent
# networks:
#
# * an **encoder** reads the source, here a bidirectional GRU (tutorial 9's classifier used a bidirectional
#   LSTM; the GRU of tutorial 6 is read in both directions the same way), giving one vector per source
#   symbol;
# * a **decoder** writes the output one symbol at a time, each step reading the symbol it wrote last, and
#   **attention**: a weighted average of the encoder's vectors, with weights the decoder chooses at each
#   step. It looks back at the part of the source it needs now.
#
# We first open attention up: you write the masked softmax and a Luong attention step and check them
# against the library, we do a Bahdanau step by hand, and a model *without* attention shows the bottleneck
# attention removes. Then we go through training with **teacher forcing** and **scheduled sampling**,
# decoding with **greedy** and **beam search**, and the **attention heatmap**, all with `microseq.seq2seq`.

# %%
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: one BLAS thread is fastest (set before NumPy loads)

import io
import re
import tempfile
import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

import microseq as ms
from microseq import nn, optim
from microseq.seq2seq import (DateTask, Seq2Seq, Seq2SeqConfig, SymbolTask, beam_search, greedy_decode, make_batch,
                              plot_attention, sequence_loss)
from microseq.seq2seq.attention import AdditiveAttention, LuongAttention, masked_softmax
from microseq.testing import arrays
from microseq.training import Trainer, make_config
from microseq.training.metrics import read_metrics
from microseq.training.teacher_forcing import TeacherForcingSchedule

from common import FIGURES, QUICK, show, show_png
from exercises import check, exercises_of

exercise = exercises_of("10")  # your answers, or with MICROSEQ_TUTORIAL_SOLUTIONS=1 those in solutions/tutorial10.py
ms.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## The task and a batch
#
# `DateTask` writes dates from 1950 to 2049 in 27 formats (and three casings). Its validation and
# test sets hold out whole *dates*: a test date never appears in training, in any format. Every vocabulary
# starts with four special symbols: padding 0, begin `<s>` (BOS) 1, end `</s>` (EOS) 2, unknown 3.

# %%
n_held_out = 40 if QUICK else 500
task = DateTask(seed=0, n_valid=n_held_out, n_test=n_held_out)
pairs = task.sample(4, rng)
for source, target in pairs:
    print(f"{source:>28}  ->  {target}")
print("source symbols:", len(task.source_vocab), " target symbols:", len(task.target_vocab))

# %% [markdown]
# `make_batch` pads the sources (with their lengths, as in tutorial 9) and builds two views of the targets:
# `decoder_inputs`, what the decoder *reads* (BOS, then the target), and `targets`, what it must *predict* at each
# step (the target, then EOS). They are the same sequence shifted by one: at step t the decoder reads
# symbol t - 1 and predicts symbol t.

# %%
batch = make_batch(pairs, task.source_vocab, task.target_vocab)
print("src", batch.inputs.shape, "lengths", batch.lengths)
print("decoder_inputs\n", batch.decoder_inputs, "\ntargets\n", batch.targets)
assert (batch.decoder_inputs[:, 0] == 1).all()  # BOS first
assert np.array_equal(batch.decoder_inputs[:, 1:], batch.targets[:, :-1])  # shifted by one step

# %% [markdown]
# ## The model, and what attention computes
#
# `Seq2SeqConfig` holds the sizes and choices; `Seq2Seq.from_config` builds the encoder and decoder. We use
# Luong's "general" attention: at step t the decoder's state $s_t$ scores every source vector $h_j$ with
# $e_{tj} = s_t^\top W h_j$, the scores become weights with a softmax over the *real* source positions,
# and the context is $c_t = \sum_j a_{tj} h_j$. (`attention="bahdanau"` gives the additive score
# $v^\top \tanh(W s + U h_j)$ instead.)
#
# Calling the model with `decoder_inputs` runs every decoder step and returns the logits of each step and the
# attention weights of each step, (B, T, S). Each row of weights is a probability distribution over the
# source, exactly 0 on the padding:

# %%
config = Seq2SeqConfig(len(task.source_vocab), len(task.target_vocab), embedding_size=16, hidden_size=24,
                       decoder_hidden_size=48, attention="general")
model = Seq2Seq.from_config(config)
print(config)
logits, weights = model(batch.inputs, batch.lengths, batch.decoder_inputs)
print("logits", logits.shape, " attention", weights.shape)
padding = np.arange(batch.inputs.shape[1])[None, :] >= batch.lengths[:, None]  # (B, S)
assert np.allclose(weights.data.sum(axis=-1), 1, atol=1e-6)
assert (weights.data[np.broadcast_to(padding[:, None, :], weights.shape)] == 0).all()

# %% [markdown]
# ## Attention from the inside
#
# ### The masked softmax
#
# The weights must be a softmax over the *real* source positions only: padding must get exactly 0, not a
# small number, and the real positions must still sum to 1. So the softmax is taken over the real positions
# alone: $a_j = e^{e_j - m} / \sum_{k\ \text{real}} e^{e_k - m}$ for real $j$ ($m$ the largest real score, for
# numerical safety), $a_j = 0$ for padding. A row with no real position at all (an empty source) gets all
# zeros, not NaN.
#
# **Exercise.** Write `masked_softmax_by_hand(scores, mask)` in NumPy: scores `(B, S)` floats, mask `(B, S)`
# bool (True = real), returning the weights `(B, S)`.


# %%
@exercise
def masked_softmax_by_hand(scores, mask):
    """Softmax over each row's True positions; exactly 0 elsewhere; an all-False row gives zeros. (B, S) -> (B, S)."""
    raise NotImplementedError("exercise: exponentiate the real scores only, normalise over them")


# %% [markdown]
# The check draws scores (some huge, so that a softmax without the shift overflows) and masks (empty rows
# included) with Hypothesis and compares with the library's `masked_softmax`.


# %%
def is_the_library_masked_softmax(masked_softmax_by_hand):
    @settings(max_examples=25 if QUICK else 100, deadline=None, database=None)
    @given(st.integers(1, 3), st.integers(1, 5), st.data())
    def same_weights(b, s, data_draw):
        scores = data_draw.draw(arrays((b, s), domain=(-800, 800)), label="scores")
        mask = data_draw.draw(arrays((b, s), dtype=bool), label="mask")
        ours = masked_softmax_by_hand(scores, mask)
        assert np.shape(ours) == (b, s), f"shape {np.shape(ours)}, expected {(b, s)}"
        assert np.isfinite(ours).all(), "not finite: shift the scores by their (real) maximum"
        assert np.allclose(ours, masked_softmax(ms.tensor(scores), mask).data, rtol=1e-9, atol=1e-12)

    same_weights()


check(is_the_library_masked_softmax, masked_softmax_by_hand)

# %% [markdown]
# ### A Luong step, the attentional state and input feeding
#
# Luong's decoder (the one configured above) does one step in four moves:
#
# 1. the cell advances: $h_t = \text{GRU}([y_{t-1}; \tilde h_{t-1}], h_{t-1})$, reading the previous symbol
#    and, with **input feeding**, the previous *attentional state* $\tilde h_{t-1}$, so that the decoder knows
#    where it looked last step (without it, each step's attention would be chosen blind to the previous one);
# 2. the new state asks: scores $e_{tj} = h_t^\top W_a h_j$ ("general"), one per source position;
# 3. weights $a_t = \text{masked softmax}(e_t)$ and context $c_t = \sum_j a_{tj} h_j$;
# 4. the **attentional state** $\tilde h_t = \tanh(W_c [c_t; h_t])$ mixes what was read with the decoder's own
#    state; the output layer reads $\tilde h_t$ to predict the next symbol (and input feeding passes it on).
#
# **Exercise.** Write moves 2-4 for a batch, in NumPy with your masked softmax: `luong_step(h_t, keys, mask,
# w_a, w_c)` with `h_t` `(B, Q)`, `keys` `(B, S, K)` (the encoder's vectors), `mask` `(B, S)`, `w_a` `(Q, K)` and
# `w_c` `(Q, K + Q)` (rows act on $[c; h]$, context first). Return `h_tilde (B, Q)`, `context (B, K)` and
# `weights (B, S)`.


# %%
@exercise
def luong_step(h_t, keys, mask, w_a, w_c):
    """Luong's general attention and attentional state: returns h_tilde (B, Q), context (B, K), weights (B, S)."""
    raise NotImplementedError("exercise: scores h_t W_a h_j, masked softmax, context, tanh(W_c [c; h])")


# %% [markdown]
# The check compares with the library's `LuongAttention("general")` and its decoder's `tanh(W_c [c; h])`
# (`Linear` layers without bias), for Hypothesis-drawn sizes and masks.


# %%
def is_the_library_luong_step(luong_step):
    @settings(max_examples=20 if QUICK else 100, deadline=None, database=None)
    @given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 4), st.integers(1, 4), st.data())
    def same_step(b, s, q, k, data_draw):
        h_t = data_draw.draw(arrays((b, q)), label="h_t")
        keys = data_draw.draw(arrays((b, s, k)), label="keys")
        mask = data_draw.draw(arrays((b, s), dtype=bool), label="mask")
        attention = LuongAttention(q, k, "general", dtype=np.float64)
        w_c = nn.Linear(k + q, q, bias=False, dtype=np.float64)
        context, weights_lib = attention(ms.tensor(h_t), ms.tensor(keys), mask)
        h_tilde = ms.tanh(w_c(ms.cat([context, ms.tensor(h_t)], axis=-1)))
        ours = luong_step(h_t, keys, mask, attention.W_a.weight.data, w_c.weight.data)
        for name, got, expected in zip(("h_tilde", "context", "weights"), ours, (h_tilde, context, weights_lib)):
            assert np.shape(got) == expected.shape, f"{name}: shape {np.shape(got)}, expected {expected.shape}"
            assert np.allclose(got, expected.data, rtol=1e-9, atol=1e-12), f"{name} differs from the library's"

    same_step()


check(is_the_library_luong_step, luong_step)

# %% [markdown]
# Your step is the heart of the library's decoder. Two decoder steps of the model built above, by hand: the
# GRU cell reads the previous symbol's embedding *and the previous* $\tilde h$ (input feeding: zeros before the
# first step), your `luong_step` gives $\tilde h_t$, and the output layer reads $\tilde h_t$. They must match
# `model.decoder.step`, logits, attention weights and the $\tilde h$ it carries to the next step:

# %%
decoder = model.decoder
memory, state = model.encode(batch.inputs, batch.lengths)
feed, h = np.zeros((len(pairs), decoder.hidden_size)), state.top.data
for t in range(2):
    previous = batch.decoder_inputs[:, t]
    logits_lib, state, weights_lib = decoder.step(previous, state, memory)
    x_t = np.concatenate([decoder.embedding.weight.data[previous], feed], axis=-1)  # [y_{t-1}; h~_{t-1}]
    h = decoder.cells[0](ms.tensor(x_t.astype(np.float32)), ms.tensor(h.astype(np.float32))).data
    feed, _, weights_ours = luong_step(h, memory.keys.data, memory.mask, decoder.attention.W_a.weight.data,
                                       decoder.attentional.weight.data)
    logits_ours = feed @ decoder.output.weight.data.T + decoder.output.bias.data
    assert np.allclose(weights_ours, weights_lib.data, atol=1e-5) and np.allclose(feed, state.feed.data, atol=1e-5)
    assert np.allclose(logits_ours, logits_lib.data, atol=1e-4)
print("two Luong decoder steps by hand (with input feeding) equal model.decoder.step")

# %% [markdown]
# ### A Bahdanau step
#
# Bahdanau's attention differs in two ways: the score is **additive**, $e_j = v^\top \tanh(W s + U h_j)$ (a
# one-hidden-layer network of the query and each key), and the query is the decoder state *before* the
# step, $s_{t-1}$: the context is computed first and fed to the cell with the previous symbol,
# $s_t = \text{GRU}([y_{t-1}; c_t], s_{t-1})$; there is no attentional state and no input feeding (the cell
# already reads $c_t$). The score by hand, checked against `AdditiveAttention`:

# %%
s_prev, keys_demo = rng.standard_normal((2, 6)), rng.standard_normal((2, 4, 5))
mask_demo = np.array([[True, True, True, False], [True, True, True, True]])
additive = AdditiveAttention(6, 5, attention_size=7, dtype=np.float64)
W, U, v = additive.W.weight.data, additive.U.weight.data, additive.v.data
scores_demo = np.tanh(s_prev[:, None, :] @ W.T + keys_demo @ U.T) @ v  # (B, S): v^T tanh(W s + U h_j)
weights_demo = masked_softmax_by_hand(scores_demo, mask_demo)
context_demo = np.einsum("bs,bsk->bk", weights_demo, keys_demo)
context_lib, weights_lib = additive(ms.tensor(s_prev), ms.tensor(keys_demo), mask_demo)
assert np.allclose(weights_demo, weights_lib.data, atol=1e-12) and np.allclose(context_demo, context_lib.data, atol=1e-12)
print("Bahdanau's additive step by hand equals AdditiveAttention")

# %% [markdown]
# ### Without attention: the bottleneck
#
# Before attention, the decoder saw the source only through the encoder's final state: one vector of fixed
# size for a source of any length. The longer the source, the more must be squeezed into it. We train two
# models on `reverse` (write the source backwards) with sources of every length from 2 to 12, the same
# steps, batches and sizes: the library's model with Luong attention, and an encoder-decoder without it
# (written below from `nn` layers: its decoder starts from the encoder's final states and never looks back).
# Then we measure, under teacher forcing, the share of target symbols each predicts right, by source length.


# %%
class NoAttention(nn.Module):
    """Bidirectional GRU encoder; a GRU decoder that starts from [h_fwd; h_bwd] and never sees the source again."""

    def __init__(self, vocab_size, embedding=16, hidden=32):
        super().__init__()
        self.source_embedding = nn.Embedding(vocab_size, embedding, padding_idx=0)
        self.encoder = nn.GRU(embedding, hidden, bidirectional=True, batch_first=True)
        self.target_embedding = nn.Embedding(vocab_size, embedding, padding_idx=0)
        self.cell = nn.GRUCell(embedding, 2 * hidden)
        self.output = nn.Linear(2 * hidden, vocab_size)

    def forward(self, src, src_lengths, tgt_in):
        _, h_n = self.encoder(self.source_embedding(src), lengths=src_lengths)
        h = ms.cat([h_n[0], h_n[1]], axis=-1)  # the whole source, in one vector
        logits = []
        for t in range(tgt_in.shape[1]):
            h = self.cell(self.target_embedding(tgt_in[:, t]), h)
            logits.append(self.output(h))
        return ms.stack(logits, axis=1), None


def train_reverse(model, task, steps, seed=0):
    """Teacher-forced training with Adam; returns the share of right target symbols by source length."""
    optimizer, stream = optim.Adam(model.parameters(), lr=1e-2), np.random.default_rng(seed)
    for _ in range(steps):
        batch = make_batch(task.sample(32, stream), task.source_vocab, task.target_vocab)
        loss = sequence_loss(model(batch.inputs, batch.lengths, batch.decoder_inputs)[0], batch.targets)
        optimizer.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
    held_out = make_batch(task.test, task.source_vocab, task.target_vocab)
    with ms.no_grad():
        predicted = model(held_out.inputs, held_out.lengths, held_out.decoder_inputs)[0].data.argmax(-1)
    real = np.arange(held_out.targets.shape[1]) < held_out.lengths[:, None]  # the symbols, not EOS
    right = (predicted == held_out.targets) & real
    return {n: right[held_out.lengths == n].sum() / real[held_out.lengths == n].sum()
            for n in np.unique(held_out.lengths)}


reverse_task = SymbolTask("reverse", seed=0, min_length=2, max_length=12, n_valid=10, n_test=300 if QUICK else 1000)
reverse_steps = 150 if QUICK else 1500
start = time.perf_counter()
ms.manual_seed(0)
with_attention = Seq2Seq.from_config(Seq2SeqConfig(len(reverse_task.source_vocab), len(reverse_task.target_vocab),
                                                   embedding_size=16, hidden_size=32, decoder_hidden_size=64,
                                                   attention="general"))
by_length = {"with attention": train_reverse(with_attention, reverse_task, reverse_steps),
             "without attention": train_reverse(NoAttention(len(reverse_task.source_vocab)), reverse_task, reverse_steps)}
print(f"({time.perf_counter() - start:.0f} s)")
for name, accuracy in by_length.items():
    print(f"{name:>17}:", "  ".join(f"{n}: {a:.2f}" for n, a in accuracy.items()))

fig = Figure(figsize=(6.5, 3.8))
ax = fig.add_subplot()
for name, accuracy in by_length.items():
    ax.plot(list(accuracy), list(accuracy.values()), "o-", label=name)
ax.set_xlabel("source length (symbols)")
ax.set_ylabel("target symbols right (teacher forcing)")
ax.set_ylim(0, 1.05)
ax.set_title(f"Reversing strings, {reverse_steps} training batches" + (" (quick run)" if QUICK else ""))
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()
show(fig, "10_attention_bottleneck.png")

# %% [markdown]
# Without attention the share of right symbols falls as the source gets longer: the final state has to
# carry every symbol, in order, and a vector of 64 numbers holds a few symbols well and a dozen poorly.
# With attention the decoder reads the symbol it needs from the source at each step, and the length
# matters much less. In our full run (1500 batches) the model without attention got every symbol of the
# 2-symbol sources right but only 77% of those of 12-symbol sources, against 93% with attention; the quick
# run trains a tenth as long, and the fall is steeper (46% against 90% in ours).

# %%
short, long_ = min(by_length["without attention"]), max(by_length["without attention"])
assert by_length["without attention"][short] > by_length["without attention"][long_] + 0.1
assert by_length["with attention"][long_] > by_length["without attention"][long_]

# %% [markdown]
# ## Teacher forcing, and the loss
#
# What the decoder reads at step t is what we just passed in: the *true* previous symbol `decoder_inputs[:, t]`,
# whatever the model itself would have written. This is **teacher forcing**. It makes training fast and
# stable (every step gets a sensible input, and all steps can be scored at once), and the loss is the mean
# cross entropy of the predicted symbols. `sequence_loss` counts each sequence up to and including its
# first EOS: steps after it and padding add nothing, whatever the model predicted there.

# %%
loss = sequence_loss(logits, batch.targets)
print(f"loss of the untrained model {loss.item():.3f} (uniform guessing: ln {len(task.target_vocab)} = "
      f"{np.log(len(task.target_vocab)):.3f})")

ends_early = batch.targets.copy()
ends_early[0, 4] = 2  # pretend the first target ends with EOS after four symbols
scrambled = logits.data.copy()
scrambled[0, 5:] = 100 * rng.standard_normal(scrambled[0, 5:].shape)  # nonsense after that EOS
assert sequence_loss(ms.tensor(scrambled), ends_early).item() == sequence_loss(logits, ends_early).item()

# %% [markdown]
# The catch is that at *test* time there is no truth to feed: the decoder reads its own previous output.
# Trained only on perfect inputs, it has never learned to recover from its own mistakes, and one wrong
# symbol can derail the rest (this mismatch is called *exposure bias*).
#
# **Scheduled sampling** (Bengio et al., 2015) closes the gap gradually: at each step, each sequence reads
# the truth with probability `teacher_forcing_ratio` and its own previous prediction (the argmax of its
# logits) otherwise; a `TeacherForcingSchedule` lowers the ratio as training goes on. With ratio 0 the
# model runs free, exactly as it does at test time, so its predictions must be the ones greedy decoding
# writes. We check that on the untrained model:

# %%
free_logits, _ = model(batch.inputs, batch.lengths, batch.decoder_inputs, teacher_forcing_ratio=0.0)
free_running = free_logits.data.argmax(axis=-1)
greedy = greedy_decode(model, batch.inputs, batch.lengths, max_len=batch.decoder_inputs.shape[1])
for b in range(len(pairs)):
    n = min(greedy.lengths[b], free_running.shape[1])
    assert np.array_equal(free_running[b, :n], greedy.tokens[b, :n])
print("free-running predictions equal greedy decoding")

schedule = TeacherForcingSchedule("linear", ratio=1.0, floor=0.5, k=1000)
print("linear schedule, teacher forcing ratio at steps 0, 500, 1000, 2000:",
      [schedule(step) for step in (0, 500, 1000, 2000)])
assert [schedule(step) for step in (0, 500, 1000, 2000)] == [1.0, 0.75, 0.5, 0.5]

# %% [markdown]
# ## Training
#
# The `Trainer` of `microseq.training` (the loop behind `microseq train dates`) runs it: fresh training pairs
# for every batch, Adam with gradient clipping and a
# cosine learning-rate decay, the validation accuracy (whole output exactly right, greedy) every
# `eval_interval` steps, and at the end the weights of the best validation accuracy (`keep_best`), scored on the test set
# with greedy and with beam search. We train twice with the same seed: once with teacher forcing
# throughout, once with the ratio falling linearly from 1 to 0.5 over the run.

# %%
steps, eval_every = (20, 10) if QUICK else (800, 50)
sizes = dict(embedding_size=16, hidden_size=24, decoder_hidden_size=48) if QUICK else dict(hidden_size=48, decoder_hidden_size=96)
options = dict(max_steps=steps, eval_interval=eval_every, batch_size=32, beam_width=3 if QUICK else 5,
               eval_size=n_held_out, test_size=n_held_out, progress="off", **sizes)
runs, models, step_logs, histories = {}, {}, {}, {}
for name, teacher_forcing in [("teacher forcing", {}),
                              ("scheduled sampling", dict(teacher_forcing_decay="linear", teacher_forcing_floor=0.5,
                                                          teacher_forcing_k=steps))]:
    start = time.perf_counter()
    trainer = Trainer(make_config("dates", **options, **teacher_forcing), tempfile.mkdtemp(), out=io.StringIO())
    runs[name], models[name] = trainer.run(), trainer.model
    records = read_metrics(os.path.join(runs[name].run_dir, "metrics.jsonl"))  # every step: loss, lr, ...
    step_logs[name] = [r for r in records if r["kind"] == "train"]
    histories[name] = [r for r in records if r["kind"] == "eval" and r["split"] == "valid"]
    test, best = runs[name].test, max(histories[name], key=lambda r: (r["accuracy"], r["step"]))
    print(f"{name:>18}: {time.perf_counter() - start:.0f} s, test accuracy greedy {test['accuracy']:.3f}, "
          f"beam {test['beam_accuracy']:.3f} (best validation {best['accuracy']:.3f} at step {best['step']})")

fig = Figure(figsize=(10, 3.8))
left, right = fig.subplots(1, 2)
for name, result in runs.items():
    losses = np.array([record["loss"] for record in step_logs[name]])
    window = max(1, len(losses) // 50)
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    left.plot(np.arange(window, len(losses) + 1), smooth, label=name)
    history = histories[name]
    right.plot([h["step"] for h in history], [h["accuracy"] for h in history], "o-", label=name)
left.set_yscale("log")
left.set_ylabel("training loss per target symbol")
right.set_ylabel("validation accuracy (whole date right, greedy)")
right.set_ylim(0, 1)
for ax, corner in ((left, "upper right"), (right, "lower right")):
    ax.set_xlabel("training step (batches of 32)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc=corner)
fig.suptitle("Dates to ISO 8601" + (" (quick run: far too short to learn)" if QUICK else ""))
fig.tight_layout()
show(fig, "10_training.png")

# %% [markdown]
# In the full run both models learn to convert nearly every held-out date. Note that the training loss of
# scheduled sampling is not comparable with the other: it is measured on the model's own, sometimes wrong,
# inputs. Which of the two ends up better on this task is printed above; the point of scheduled sampling is
# robustness to the model's own errors, which matters most for long outputs, and ours are ten symbols.

# %%
if not QUICK:
    for name, result in runs.items():
        assert result.test["accuracy"] > 0.9, (name, result.test)

# %% [markdown]
# ## Greedy search and beam search
#
# Greedy decoding writes the most probable symbol at every step. That does not give the most probable
# *sequence*: a symbol that looks best now may lead to a poor continuation. **Beam search** keeps the
# `beam_width` best prefixes at each step, extends each by every symbol, and keeps the best `beam_width`
# of those; a prefix that ends with EOS becomes a finished hypothesis. Hypotheses are compared by
# $\log p(y \mid x) / \mathrm{lp}(L)$, with a length penalty $\mathrm{lp}(L) = ((5 + L)/6)^\alpha$ so that
# short outputs are not favoured just for having fewer factors below 1.
#
# Two properties to check: with width 1, beam search *is* greedy search; and with any width it never scores
# worse than greedy (microseq's `beam_search` also considers the greedy hypothesis, since plain beam search
# can lose it).

# %%
model = models["teacher forcing"]
test = make_batch(task.test, task.source_vocab, task.target_vocab)
max_len = task.max_target_length + 1
greedy = greedy_decode(model, test.inputs, test.lengths, max_len)
beam_1 = beam_search(model, test.inputs, test.lengths, beam_width=1, max_len=max_len)
beam_5 = beam_search(model, test.inputs, test.lengths, beam_width=5, max_len=max_len)
assert np.array_equal(beam_1.tokens, greedy.tokens)
assert (beam_5.scores >= greedy.scores - 1e-9).all()

decode = task.target_vocab.decode
right = {name: np.mean([decode(row) == target for row, (_, target) in zip(found.tokens, task.test)])
         for name, found in (("greedy", greedy), ("beam 5", beam_5))}
print("test accuracy:", {name: round(float(value), 3) for name, value in right.items()})
differ = [b for b in range(len(task.test)) if decode(greedy.tokens[b]) != decode(beam_5.tokens[b])]
print(f"beam search changed {len(differ)} of {len(task.test)} outputs" + (", for example:" if differ else ""))
for b in differ[:3]:
    print(f"  {task.test[b][0]!r:>30}: greedy {decode(greedy.tokens[b])!r} ({greedy.scores[b]:.3f}), "
          f"beam {decode(beam_5.tokens[b])!r} ({beam_5.scores[b]:.3f}), truth {task.test[b][1]!r}")

# %% [markdown]
# A well-trained model is so sure of every symbol of a date that beam search seldom changes its output (the
# count is printed above); the untrained model of the quick run, with flat distributions, is changed often.
# Beam search pays off where several continuations stay plausible for a while, as in translation.
#
# ## The attention heatmap
#
# The weights say, for each symbol the decoder wrote, where in the source it looked. `plot_attention` draws
# them as a heatmap: output symbols down, source symbols across. We take a test date written with its month
# as a word, so that the model cannot just copy digits in order.

# %%
with_month = next(b for b, (source, _) in enumerate(task.test) if re.search(r"[A-Za-z]{3}", source)
                  and re.search(r"\d{4}", source))
source, target = task.test[with_month]
decoded = greedy_decode(model, test.inputs[with_month:with_month + 1], test.lengths[with_month:with_month + 1], max_len)
output = decode(decoded.tokens[0])
symbols_out = [task.target_vocab.itos[token] for token in decoded.tokens[0, :decoded.lengths[0]]]  # EOS included
attention = decoded.attention[0, :len(symbols_out), :len(source)]
show_png(plot_attention(attention, source, symbols_out, FIGURES / "10_attention.png",
                        title=f"{source!r} -> {output!r}"
                        + (" (quick run: an untrained model, its attention is noise)" if QUICK else "")))
print(f"{source!r} -> {output!r} (truth {target!r})")

year_at = source.index(re.search(r"\d{4}", source).group())
on_year = attention[:4, year_at:year_at + 4].sum(axis=1)  # the four year digits written first
print("attention of the four output year digits on the source's year:", np.round(on_year, 2))

# %% [markdown]
# The year digits of the output look at the year of the source (in the full run most of each row's weight
# sits there), the month digits at the month's name, and the day at the day: the alignment the model found
# by itself, with no one telling it where the fields are.

# %%
if not QUICK:
    assert output == target
    assert on_year.mean() > 0.5

# %% [markdown]
# ## What we learned
#
# * An encoder-decoder maps a sequence to a sequence of another length; the decoder writes one symbol at a
#   time, reading its previous symbol and an attention-weighted average of the encoder's vectors.
# * Attention weights are a softmax over the real source positions: they sum to 1 and are exactly 0 on
#   padding. Luong's step scores with the *new* state ($h_t^\top W_a h_j$) and builds the attentional state
#   $\tilde h_t = \tanh(W_c [c_t; h_t])$, fed to the next step (input feeding); Bahdanau's scores with the
#   *previous* state, additively ($v^\top \tanh(W s + U h_j)$), and feeds the context to the cell.
# * Without attention the decoder sees the source through one final vector, and its accuracy falls as
#   sources get longer; attention removes that bottleneck.
# * Teacher forcing feeds the truth while training; at test time the decoder reads itself. Scheduled
#   sampling feeds the model's own predictions with a growing probability; with ratio 0 training runs
#   exactly what greedy decoding runs.
# * Beam search keeps several prefixes; with width 1 it is greedy search, and it never scores below greedy.
# * The attention heatmap shows which source symbols each output symbol used.
#
# Next, tutorial 11 turns to images: a one-to-many captioner with attention over a grid, and visual question answering.
