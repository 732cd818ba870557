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
# # 9. Classification and tagging: bidirectional layers and padding
#
# So far our recurrent networks read one sequence and we looked at their states. Real tasks come in two
# common shapes:
#
# * **many-to-one**: one label for a whole sequence (is this review positive or negative?);
# * **many-to-many**: one label for every step (the part of speech of every word).
#
# Both meet the same two practical problems. Sentences have different lengths, so a batch must be
# **padded** to a rectangle, and the padding must change nothing. And a word's meaning often depends on what
# comes *after* it, which a left-to-right network has not read yet: a **bidirectional** layer runs a second
# network from right to left and joins the two. This tutorial shows how microseq handles both (the
# `lengths` argument of the recurrent layers, masked losses, `bidirectional=True`, stacked layers), checks
# every claim, and then trains a sentence classifier and a tagger on two small generated languages. You will
# write the reversal a bidirectional layer does and the loss that skips padding.

# %%
import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

import microseq as ms
from microseq import data, nn, optim

from common import QUICK, show
from exercises import check, exercises_of

exercise = exercises_of("09")  # your answers, or with MICROSEQ_TUTORIAL_SOLUTIONS=1 those in solutions/tutorial09.py
ms.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## Two small languages
#
# `microseq.data` generates both data sets from little grammars, so nothing is downloaded and a seed fixes
# them. The reviews take the polarity of their *last* clause, flipped by `not`; "A but B" and "although A,
# B" take B's side. The tagged sentences use words that are a noun in one place and a verb or adjective
# in another ("saw", "duck", "light", "fast", "can").

# %%
reviews, sentiments = data.sentiment_examples(rng, 5)
for words, label in zip(reviews, sentiments):
    print(f"{data.SENTIMENT_LABELS[label]:>8}: {' '.join(words)}")
sentences, tags = data.pos_examples(rng, 2)
for words, sentence_tags in zip(sentences, tags):
    print("  ".join(f"{w}/{t}" for w, t in zip(words, sentence_tags)))

# %% [markdown]
# ## Padding, and telling the layer where each sequence ends
#
# A vocabulary maps words to integer ids (`<pad>` is id 0, `<unk>` id 1). `data.collate` pads a list of
# id sequences at the end into one (B, T) array and returns each sequence's real length next to it.

# %%
vocab = data.WordVocab.build(reviews)
batch = data.collate([vocab.encode(words) for words in reviews], sentiments)
print(batch.inputs)
print("lengths:", batch.lengths)
mask = np.arange(batch.inputs.shape[1]) < batch.lengths[:, None]  # True at real words
assert (batch.inputs[~mask] == vocab.pad_index).all() and (batch.inputs[mask] != vocab.pad_index).all()

# %% [markdown]
# What does padding do to a recurrent layer? A *forward* layer reads step 0, 1, 2, ...: its outputs at the
# real steps come before any padding and are fine, but its final state `h_n` is taken after the padding,
# and so has read the pads. A *reverse* layer is worse: it starts at the end, inside the padding, and carries
# that into every real step.
#
# The cure is the `lengths` argument (PyTorch's packed sequences): sequence b then ends at step
# $L_b - 1$. The forward direction's `h_n[b]` is its state there, the reverse direction *starts* there,
# and the outputs at padded steps are zero. The promise is simple to state and to test: **a padded batch
# gives exactly what each sequence gives alone**. We check it on a bidirectional LSTM in float64, with
# random vectors standing in for word embeddings and large garbage in the padded slots.

# %%
E, H = 6, 5
layer = nn.LSTM(E, H, bidirectional=True, batch_first=True, dtype=np.float64)
lengths = np.array([4, 7, 2])
x = rng.standard_normal((3, 7, E))
x[np.arange(7) >= lengths[:, None]] = 1e3  # garbage where the padding is

with ms.no_grad():
    out_masked, (h_masked, _) = layer(ms.tensor(x), lengths=lengths)
    out_ignored, (h_ignored, _) = layer(ms.tensor(x))  # padding read as if it were data
    for b, L in enumerate(lengths):
        out_alone, (h_alone, _) = layer(ms.tensor(x[b:b + 1, :L]))
        assert np.allclose(out_masked.data[b, :L], out_alone.data[0], rtol=0, atol=1e-12)
        assert np.allclose(h_masked.data[:, b], h_alone.data[:, 0], rtol=0, atol=1e-12)
        assert (out_masked.data[b, L:] == 0).all()  # padded steps: zero output

short = 2  # the sequence with the most padding
print("forward half, real steps, same without lengths:",
      np.allclose(out_ignored.data[short, :2, :H], out_masked.data[short, :2, :H]))
print("reverse half, real steps, same without lengths:",
      np.allclose(out_ignored.data[short, :2, H:], out_masked.data[short, :2, H:]))
assert np.allclose(out_ignored.data[short, :2, :H], out_masked.data[short, :2, :H], rtol=0, atol=1e-12)
assert not np.allclose(out_ignored.data[short, :2, H:], out_masked.data[short, :2, H:], atol=1e-3)
assert not np.allclose(h_ignored.data[0, short], h_masked.data[0, short], atol=1e-3)  # forward h_n read pads

# %% [markdown]
# ## What a bidirectional layer returns
#
# With `bidirectional=True` the layer holds two sets of weights (`weight_ih_l0` and
# `weight_ih_l0_reverse`, PyTorch's names) and runs them in opposite directions. `output[:, t]` is the
# concatenation $[\overrightarrow{h}_t; \overleftarrow{h}_t]$, width $2H$: the forward state has read words
# $0..t$, the reverse state words $t..L-1$, so together they have read the whole sentence, *centred on
# word t*. That is what a tagger wants.
#
# `h_n` stacks the final states, forward first: `h_n[-2]` is the forward state after the last real word,
# `h_n[-1]` the reverse state after word 0. Each summarises the whole sentence from one side; a classifier
# concatenates them.

# %%
print(layer)
print([name for name, _ in layer.named_parameters()])
for b, L in enumerate(lengths):
    assert np.array_equal(out_masked.data[b, L - 1, :H], h_masked.data[-2, b])  # forward: last real step
    assert np.array_equal(out_masked.data[b, 0, H:], h_masked.data[-1, b])      # reverse: step 0

# %% [markdown]
# The reverse direction is nothing but a forward layer (with its own weights) reading each sentence
# backwards: reverse every sequence *within its length*, run, and reverse the outputs back. The padding must
# stay at the end, or the reverse layer would again start in the pads.
#
# **Exercise.** Write `reverse_padded(x, lengths)`: `x` of shape `(B, T, ...)`, row b real for its first
# `lengths[b]` steps; return a new array whose row b holds those steps in reverse order, followed by row b's
# padding unchanged.


# %%
@exercise
def reverse_padded(x, lengths):
    """Each row's first lengths[b] steps reversed, the padding left where it is. x (B, T, ...) -> same shape."""
    raise NotImplementedError("exercise: reverse x[b, :L] for each row")


# %% [markdown]
# The check builds, for Hypothesis-drawn lengths, a forward-only `nn.LSTM` holding the bidirectional layer's
# `_reverse` weights, and asserts that running it on `reverse_padded(x)` and reversing back gives exactly the
# bidirectional layer's reverse half at every real step.


# %%
def reverse_direction_is_a_reversed_forward_pass(reverse_padded):
    @settings(max_examples=12 if QUICK else 60, deadline=None, database=None)
    @given(st.lists(st.integers(1, 6), min_size=1, max_size=4), st.integers(0, 2**32 - 1))
    def halves_agree(lens, seed):
        lens = np.array(lens)
        draw = np.random.default_rng(seed)
        x_case = draw.standard_normal((len(lens), int(lens.max()), E))
        forward_only = nn.LSTM(E, H, batch_first=True, dtype=np.float64)
        forward_only.load_state_dict({name.replace("_reverse", ""): value.data
                                      for name, value in layer.named_parameters() if name.endswith("_reverse")})
        with ms.no_grad():
            both, _ = layer(ms.tensor(x_case), lengths=lens)
            backwards, _ = forward_only(ms.tensor(reverse_padded(x_case, lens)), lengths=lens)
        ours = reverse_padded(backwards.data, lens)
        assert np.shape(ours) == both.data[..., H:].shape, f"shape {np.shape(ours)}"
        real = np.arange(x_case.shape[1]) < lens[:, None]
        assert np.allclose(ours[real], both.data[..., H:][real], rtol=0, atol=1e-12), f"lengths {lens.tolist()}"

    halves_agree()


check(reverse_direction_is_a_reversed_forward_pass, reverse_padded)

# %% [markdown]
# ## Stacked layers
#
# `num_layers=2` stacks two recurrent layers: the second reads the *output sequence* of the first (for a
# bidirectional first layer, its $2H$-wide concatenation) as its input, step by step. The lower layer sees
# words; the upper one sees the lower one's states, so it can work at a coarser level (phrases rather than
# characters, in a language model). Each layer has its own weights (`weight_ih_l0`, `weight_ih_l1`, ...) and
# its own initial and final states: `h_n` has shape `(num_layers * directions, B, H)`, layer by layer, the
# forward direction first within each. The check: a 2-layer LSTM is exactly two 1-layer LSTMs chained.

# %%
stacked = nn.LSTM(E, H, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64)
weights = {name: value.data for name, value in stacked.named_parameters()}
lower = nn.LSTM(E, H, bidirectional=True, batch_first=True, dtype=np.float64)
upper = nn.LSTM(2 * H, H, bidirectional=True, batch_first=True, dtype=np.float64)
lower.load_state_dict({name: value for name, value in weights.items() if "_l0" in name})
upper.load_state_dict({name.replace("_l1", "_l0"): value for name, value in weights.items() if "_l1" in name})
with ms.no_grad():
    out_stacked, (h_stacked, _) = stacked(ms.tensor(x), lengths=lengths)
    out_lower, (h_lower, _) = lower(ms.tensor(x), lengths=lengths)
    out_upper, (h_upper, _) = upper(out_lower, lengths=lengths)
print("h_n of the stack:", h_stacked.shape, "= (layers x directions, B, H)")
assert np.allclose(out_stacked.data, out_upper.data, rtol=0, atol=1e-12)
assert np.allclose(h_stacked.data, np.concatenate([h_lower.data, h_upper.data]), rtol=0, atol=1e-12)

# %% [markdown]
# ## Losses that skip the padding
#
# A tagger produces logits for every step, padded ones included, and the loss must count only the real
# words. `nn.masked_cross_entropy(logits, targets, mask)` takes the layout a recurrent model gives, classes
# on the last axis ((B, T, C) logits, (B, T) targets and mask), and averages over the real targets only.
# (`data.collate` also pads per-step targets with -100, the losses' default `ignore_index`, which has the
# same effect without a mask.) Whatever sits in the padded logits changes neither the loss nor the gradient:

# %%
C = 4
logits = ms.tensor(rng.standard_normal((3, 7, C)), requires_grad=True)
targets = rng.integers(0, C, size=(3, 7))
step_mask = np.arange(7) < lengths[:, None]
loss = nn.masked_cross_entropy(logits, targets, step_mask)
loss.backward()

log_p = logits.data - np.log(np.exp(logits.data).sum(-1, keepdims=True))
by_hand = -np.take_along_axis(log_p, targets[..., None], -1)[..., 0][step_mask].mean()
print(f"masked loss {loss.item():.6f}, by hand {by_hand:.6f}")
assert np.isclose(loss.item(), by_hand, rtol=1e-12)
assert (logits.grad[~step_mask] == 0).all()  # no gradient flows into padded positions

garbage = logits.data.copy()
garbage[~step_mask] = 1e4
assert nn.masked_cross_entropy(ms.tensor(garbage), targets, step_mask).item() == loss.item()

# %% [markdown]
# **Exercise.** Write the masked loss yourself from primitive ops: `masked_loss(logits, targets, mask)` with
# `ms.log_softmax`, a pick of each target's log-probability (index the tensor with integer arrays), and the
# mean over the real positions only: divide by the number of True entries of the mask, not by B x T.


# %%
@exercise
def masked_loss(logits, targets, mask):
    """Mean cross entropy over the real positions: logits (B, T, C) Tensor, targets (B, T) ints, mask (B, T) bool."""
    raise NotImplementedError("exercise: log_softmax, pick the targets, average over the mask")


# %% [markdown]
# The check: for Hypothesis-drawn lengths and classes, the same value as `nn.masked_cross_entropy` and the
# right gradient by `ms.gradcheck` (finite differences), padding included, where the gradient must be 0.


# %%
def masks_like_the_library(masked_loss):
    @settings(max_examples=12 if QUICK else 60, deadline=None, database=None)
    @given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.integers(2, 4), st.integers(0, 2**32 - 1))
    def same_loss_and_gradient(lens, classes, seed):
        draw = np.random.default_rng(seed)
        real = np.arange(max(lens)) < np.array(lens)[:, None]
        z = draw.standard_normal(real.shape + (classes,))
        t = draw.integers(0, classes, size=real.shape)
        expected = nn.masked_cross_entropy(ms.tensor(z), t, real).item()
        assert np.isclose(masked_loss(ms.tensor(z), t, real).item(), expected, rtol=1e-10), "loss differs"
        ms.gradcheck(lambda zz: masked_loss(zz, t, real), [z], names=["logits"])

    same_loss_and_gradient()


check(masks_like_the_library, masked_loss)

# %% [markdown]
# ## Many-to-one: classifying reviews
#
# The classifier is an embedding, a bidirectional LSTM, and a linear layer on the two final states. The
# embedding's `padding_idx=0` keeps the `<pad>` vector at zero (and untrained), as in PyTorch.
#
# Is the recurrent network needed? Our reviews are built so that word *order* matters: "the plot was good
# but the acting was bad" and "the plot was bad but the acting was good" contain the same words and have
# opposite labels. As a baseline we train a **bag of words**: the average of the word vectors, then a linear
# layer, blind to order. (The zero padding vectors add nothing to the sum, so dividing by `lengths` gives
# the mean over the real words.)


# %%
class ReviewClassifier(nn.Module):
    """Embedding -> bidirectional LSTM -> linear layer on [forward h_n; reverse h_n]."""

    def __init__(self, vocab_size, embedding=32, hidden=32, classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding, padding_idx=0)
        self.lstm = nn.LSTM(embedding, hidden, bidirectional=True, batch_first=True)
        self.head = nn.Linear(2 * hidden, classes)

    def forward(self, ids, lengths):
        _, (h_n, _) = self.lstm(self.embedding(ids), lengths=lengths)
        return self.head(ms.cat([h_n[-2], h_n[-1]], axis=-1))  # (B, classes)


class BagOfWords(nn.Module):
    """Mean of the word vectors -> linear layer: sees which words occur, not their order."""

    def __init__(self, vocab_size, embedding=32, classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding, padding_idx=0)
        self.head = nn.Linear(embedding, classes)

    def forward(self, ids, lengths):
        summed = self.embedding(ids).sum(axis=1)  # padding vectors are zero
        return self.head(summed / ms.tensor(lengths[:, None].astype(np.float32)))


# %% [markdown]
# One training loop serves every model in this tutorial: Adam, gradient clipping (tutorial 5), and a
# test-set evaluation every few steps. `data.SequenceBatcher` serves shuffled, padded batches.

# %%
n_train, n_test = (1000, 300) if QUICK else (4000, 1000)
train_steps, eval_every = (60, 20) if QUICK else (400, 25)


def train(model, loss_fn, accuracy_fn, train_set, test_set, steps=train_steps, lr=1e-2):
    """Train ``model``; return the steps and test accuracies measured every ``eval_every`` steps."""
    batches = data.SequenceBatcher(*train_set, batch_size=32, seed=0)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    curve = []
    for step in range(1, steps + 1):
        batch = next(batches)
        model.train()
        loss = loss_fn(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        if step % eval_every == 0:
            model.eval()
            with ms.no_grad():
                curve.append((step, accuracy_fn(model, test_set)))
    return np.array(curve)


review_words, review_labels = data.sentiment_examples(np.random.default_rng(1), n_train + n_test)
review_vocab = data.WordVocab.build(review_words[:n_train])
review_ids = [review_vocab.encode(words) for words in review_words]
reviews_train = (review_ids[:n_train], review_labels[:n_train])
reviews_test = (review_ids[n_train:], review_labels[n_train:])


def review_loss(model, batch):
    return ms.cross_entropy(model(batch.inputs, batch.lengths), batch.targets)


def review_accuracy(model, test_set):
    batch = data.collate(*test_set)
    predicted = model(batch.inputs, batch.lengths).data.argmax(-1)
    return float((predicted == batch.targets).mean())


start = time.perf_counter()
classifiers = {"bag of words": BagOfWords(len(review_vocab)), "bidirectional LSTM": ReviewClassifier(len(review_vocab))}
review_curves = {name: train(model, review_loss, review_accuracy, reviews_train, reviews_test)
                 for name, model in classifiers.items()}
print(f"({time.perf_counter() - start:.0f} s)")
for name, curve in review_curves.items():
    print(f"{name:>18}: test accuracy {curve[-1, 1]:.3f}")

# %% [markdown]
# The LSTM gets (nearly) every review right within a few dozen batches. The bag of words stays at chance,
# and it has to: in these reviews every word, taken alone, is as frequent in positive reviews as in negative
# ones ("good" appears in "not good" as often as in "good"). The label depends on *combinations* of words,
# like an exclusive or of "good" and "not", and a linear function of word counts cannot express an
# exclusive or. The LSTM reads "not" and carries it to the adjective.

# %%
assert review_curves["bidirectional LSTM"][-1, 1] > 0.95
assert review_curves["bag of words"][-1, 1] < 0.6

# %% [markdown]
# ## Many-to-many: tagging words
#
# The tagger keeps the whole `output` (B, T, 2H) and applies a linear layer at every step, giving (B, T, C)
# logits for the masked loss. To see what the reverse direction adds, we train it twice: once
# bidirectional, once forward only (the same code with `bidirectional=False`).
#
# Where should the reverse direction help? A forward-only tagger must commit to word t having read only
# words 0..t. In "the light dog" *light* is an adjective, in "the light can fish" a noun, and nothing
# before it tells them apart. We call a word **ambiguous** if it carries more than one tag in the training
# data, and measure accuracy on ambiguous and unambiguous words separately.


# %%
class Tagger(nn.Module):
    """Embedding -> LSTM (one or two directions) -> linear layer at every step."""

    def __init__(self, vocab_size, classes, bidirectional, embedding=32, hidden=32):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding, padding_idx=0)
        self.lstm = nn.LSTM(embedding, hidden, bidirectional=bidirectional, batch_first=True)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), classes)

    def forward(self, ids, lengths):
        output, _ = self.lstm(self.embedding(ids), lengths=lengths)
        return self.head(output)  # (B, T, classes)


tag_words, tag_names = data.pos_examples(np.random.default_rng(2), n_train + n_test)
tag_vocab = data.WordVocab.build(tag_words[:n_train])
tag_index = {tag: i for i, tag in enumerate(data.POS_TAGS)}
tag_ids = [tag_vocab.encode(words) for words in tag_words]
tag_targets = [np.array([tag_index[t] for t in sentence_tags]) for sentence_tags in tag_names]
tags_train = (tag_ids[:n_train], tag_targets[:n_train])
tags_test = (tag_ids[n_train:], tag_targets[n_train:])

seen_tags = {}
for words, sentence_tags in zip(tag_words[:n_train], tag_names[:n_train]):
    for word, tag in zip(words, sentence_tags):
        seen_tags.setdefault(word, set()).add(tag)
ambiguous_ids = np.array(sorted(tag_vocab.index(w) for w, found in seen_tags.items() if len(found) > 1))
print("ambiguous words:", sorted(w for w, found in seen_tags.items() if len(found) > 1))


def tag_loss(model, batch):
    real = np.arange(batch.inputs.shape[1]) < batch.lengths[:, None]
    return nn.masked_cross_entropy(model(batch.inputs, batch.lengths), batch.targets, real)


def tag_correct(model, test_set):
    """Per real word of the test set: was its tag right, and is the word ambiguous."""
    batch = data.collate(*test_set)
    real = np.arange(batch.inputs.shape[1]) < batch.lengths[:, None]
    right = model(batch.inputs, batch.lengths).data.argmax(-1) == batch.targets
    return right[real], np.isin(batch.inputs[real], ambiguous_ids)


def tag_accuracy(model, test_set):
    return float(tag_correct(model, test_set)[0].mean())


start = time.perf_counter()
taggers = {"forward only": Tagger(len(tag_vocab), len(data.POS_TAGS), bidirectional=False),
           "bidirectional": Tagger(len(tag_vocab), len(data.POS_TAGS), bidirectional=True)}
tag_curves = {name: train(model, tag_loss, tag_accuracy, tags_train, tags_test) for name, model in taggers.items()}
print(f"({time.perf_counter() - start:.0f} s)")

by_kind = {}
for name, model in taggers.items():
    model.eval()
    with ms.no_grad():
        right, ambiguous = tag_correct(model, tags_test)
    by_kind[name] = (right[~ambiguous].mean(), right[ambiguous].mean())
    print(f"{name:>14}: unambiguous words {by_kind[name][0]:.3f}, ambiguous words {by_kind[name][1]:.3f} "
          f"({ambiguous.sum()} of {ambiguous.size} test words are ambiguous)")

fig = Figure(figsize=(12, 3.8))
left, middle, right_ax = fig.subplots(1, 3)
for name, curve in review_curves.items():
    left.plot(curve[:, 0], curve[:, 1], "o-", label=name)
left.set_title("Reviews (many-to-one)")
for name, curve in tag_curves.items():
    middle.plot(curve[:, 0], curve[:, 1], "o-", label=name)
middle.set_title("Tags, all words (many-to-many)")
for ax in (left, middle):
    ax.set_xlabel("training step (batches of 32)")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    ax.legend()
positions = np.arange(2)
for k, (name, accuracies) in enumerate(by_kind.items()):
    bars = right_ax.bar(positions + 0.38 * (k - 0.5), accuracies, width=0.38, label=name)
    right_ax.bar_label(bars, fmt="%.3f", fontsize=8)
right_ax.set_xticks(positions, ["unambiguous words", "ambiguous words"])
right_ax.set_ylim(0, 1.3)
right_ax.set_ylabel("test accuracy")
right_ax.set_title("Tagger accuracy by kind of word")
right_ax.legend(loc="upper center", ncol=2)
fig.suptitle(f"Classification and tagging ({n_train} training sentences, {n_test} test sentences)")
fig.tight_layout()
show(fig, "09_classification_and_tagging.png")

# %% [markdown]
# Both taggers get the unambiguous words right. On the ambiguous ones the forward-only tagger has to guess
# wherever the deciding word comes later, and the bidirectional one reads it:

# %%
forward_only, bidirectional = by_kind["forward only"], by_kind["bidirectional"]
assert bidirectional[0] > 0.98 and forward_only[0] > 0.98
assert bidirectional[1] > forward_only[1] + 0.03

# %% [markdown]
# Here is one sentence from the test set, tagged by both, with the words the forward tagger gets wrong
# marked `*`:

# %%
batch = data.collate(*tags_test)
with ms.no_grad():
    predictions = {name: model(batch.inputs, batch.lengths).data.argmax(-1) for name, model in taggers.items()}
wrong_forward = (predictions["forward only"] != batch.targets) & (np.arange(batch.inputs.shape[1]) < batch.lengths[:, None])
row = int(np.argmax(wrong_forward.sum(axis=1)))
words = tag_words[n_train + row]
print("  ".join(f"{w:>7}" for w in words))
for name in ("forward only", "bidirectional"):
    predicted = [data.POS_TAGS[i] + ("*" if name == "forward only" and wrong_forward[row, t] else "")
                 for t, i in enumerate(predictions[name][row, :len(words)])]
    print("  ".join(f"{p:>7}" for p in predicted), f"  <- {name}")
print("  ".join(f"{t:>7}" for t in tag_names[n_train + row]), "  <- truth")

# %% [markdown]
# ## What we learned
#
# * Pad a batch at the end and pass `lengths`: each sequence then ends where it really ends, the reverse
#   direction starts at its last real word, padded outputs are zero, and the batch gives exactly what each
#   sequence gives alone. Without `lengths`, the final states and the whole reverse direction read the pads.
# * A bidirectional layer's `output[:, t]` is $[\overrightarrow{h}_t; \overleftarrow{h}_t]$, context from
#   both sides of word t; `h_n[-2]` and `h_n[-1]` summarise the sentence from each end.
# * Many-to-one: a head on the final states. Many-to-many: a head on every step, with a loss that skips
#   padding (`masked_cross_entropy`, or `ignore_index`).
# * Order matters (the bag of words stalls) and so does the right-hand context (the forward-only tagger
#   misses words whose tag is decided by the next word).
#
# Next, tutorial 10 puts two recurrent networks end to end: an encoder reads a sequence, a decoder writes
# another one, and attention lets it look back at the input.
