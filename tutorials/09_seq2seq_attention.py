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
# # 9. Sequence to sequence with attention
#
# Tutorial 8 gave one label per sequence, or one per step. Many tasks map a sequence to *another* sequence
# of a different length: translation, summarising, or our example here, reading a date written the way
# people write it ("3rd of March 1999", "03/03/99", "Wed, 03 Mar 1999") and writing it in ISO form
# ("1999-03-03"). The classic model (Sutskever et al., 2014; Bahdanau et al., 2015) has two recurrent
# networks:
#
# * an **encoder** reads the source, here a bidirectional GRU as in tutorial 8, giving one vector per
#   source symbol;
# * a **decoder** writes the output one symbol at a time, each step reading the symbol it wrote last, and
#   **attention**: a weighted average of the encoder's vectors, with weights the decoder chooses at each
#   step. It looks back at the part of the source it needs now.
#
# We go through training with **teacher forcing** and **scheduled sampling**, decoding with **greedy** and
# **beam search**, and the **attention heatmap**, all with `microseq.seq2seq`.

# %%
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: one BLAS thread is fastest (set before NumPy loads)

import io
import re
import tempfile
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import microseq as ms
from microseq.seq2seq import (DateTask, Seq2Seq, Seq2SeqConfig, beam_search, greedy_decode, make_batch,
                              plot_attention, sequence_loss)
from microseq.training import Trainer, make_config
from microseq.training.metrics import read_metrics
from microseq.training.teacher_forcing import TeacherForcingSchedule

QUICK = os.environ.get("MICROSEQ_TUTORIAL_QUICK") == "1"
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
FIGURES = Path(os.environ.get("MICROSEQ_TUTORIAL_OUT", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)
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
# `make_batch` pads the sources (with their lengths, as in tutorial 8) and builds two views of the targets:
# `tgt_in`, what the decoder *reads* (BOS, then the target), and `tgt_out`, what it must *predict* at each
# step (the target, then EOS). They are the same sequence shifted by one: at step t the decoder reads
# symbol t - 1 and predicts symbol t.

# %%
batch = make_batch(pairs, task.source_vocab, task.target_vocab)
print("src", batch.inputs.shape, "lengths", batch.lengths)
print("tgt_in \n", batch.decoder_inputs, "\ntgt_out\n", batch.targets)
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
# Calling the model with `tgt_in` runs every decoder step and returns the logits of each step and the
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
# ## Teacher forcing, and the loss
#
# What the decoder reads at step t is what we just passed in: the *true* previous symbol `tgt_in[:, t]`,
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
settings = dict(max_steps=steps, eval_interval=eval_every, batch_size=32, beam_width=3 if QUICK else 5,
                eval_size=n_held_out, test_size=n_held_out, progress="off", **sizes)
runs, models, step_logs, histories = {}, {}, {}, {}
for name, teacher_forcing in [("teacher forcing", {}),
                              ("scheduled sampling", dict(teacher_forcing_decay="linear", teacher_forcing_floor=0.5,
                                                          teacher_forcing_k=steps))]:
    start = time.perf_counter()
    trainer = Trainer(make_config("dates", **settings, **teacher_forcing), tempfile.mkdtemp(), out=io.StringIO())
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
fig.savefig(FIGURES / "09_training.png", dpi=120)

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
plot_attention(attention, source, symbols_out, FIGURES / "09_attention.png",
               title=f"{source!r} -> {output!r}")
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
#   padding.
# * Teacher forcing feeds the truth while training; at test time the decoder reads itself. Scheduled
#   sampling feeds the model's own predictions with a growing probability; with ratio 0 training runs
#   exactly what greedy decoding runs.
# * Beam search keeps several prefixes; with width 1 it is greedy search, and it never scores below greedy.
# * The attention heatmap shows which source symbols each output symbol used.
#
# Next, tutorial 10: what makes the recurrent layers fast, and how we know the fast path is right.
