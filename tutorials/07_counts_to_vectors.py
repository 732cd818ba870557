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
# # 7. From counts to vectors
#
# Before recurrent networks, language was modelled by **counting**: how often each word occurs in positive
# and negative reviews (Naive Bayes), how often each character follows each context of n-1 characters
# (n-gram language models). These baselines are strong, cheap and still used; a learner should see exactly
# where a recurrent network beats them. Between the two sits the idea that made neural NLP work: a word is
# not a symbol but a **dense vector** learned from the contexts it appears in (word2vec, GloVe). This
# tutorial climbs that ladder with `microseq.text`:
#
# 1. words as one-hot vectors, and a bag of words as their sum;
# 2. **Naive Bayes** on generated movie reviews, side by side with a recurrent classifier, and the
#    reviews where word order decides ("good, but ...") which counting cannot read;
# 3. **word2vec** (skip-gram with negative sampling): its gradient derived by hand (and written by you),
#    then trained on a corpus with planted structure, where analogies like *man : woman :: king : ?* can be
#    checked; **GloVe**'s objective on the same corpus; neighbours of Python words in Python's own docs;
# 4. **n-gram language models** and their sparsity: most long contexts of a new text were never seen, which
#    is the problem a recurrent language model (tutorial 8) solves.

# %%
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: one BLAS thread is fastest (set before NumPy loads)

import math
import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

import microseq as ms
from microseq import data, nn, optim
from microseq.testing import arrays
from microseq.text import (Corpus, GloVe, NaiveBayes, NGramFeatures, NGramLM, Word2Vec, WordVectors, cooccurrence,
                           glove_loss, planted_corpus, python_docs_corpus, sgns_loss)
from microseq.training.models import SequenceClassifier
from microseq.training.plot import pca_2d

from common import QUICK, show
from exercises import check, exercises_of

exercise = exercises_of("07")  # your answers, or with MICROSEQ_TUTORIAL_SOLUTIONS=1 those in solutions/tutorial07.py
ms.manual_seed(0)

# %% [markdown]
# ## A word as a one-hot vector
#
# Give each of the $V$ words of a vocabulary an index. The plainest vector for word $i$ is the **one-hot**
# vector $e_i \in \{0, 1\}^V$: a 1 in place $i$, zeros elsewhere. A document becomes the sum of its words'
# one-hot vectors, its **bag of words**: how often each word occurs, order forgotten. (`NGramFeatures` makes
# these count matrices, and with `max_n > 1` counts word pairs and triples too.)
#
# One-hot vectors say nothing about meaning: any two different words are orthogonal, so "good" is exactly
# as far from "great" as from "bad". A model that learned something about "great" has learned nothing about
# "superb".

# %%
reviews, _ = data.sentiment_examples(np.random.default_rng(0), 200)
bag = NGramFeatures(1, 1).fit(reviews)  # the vocabulary: every word of 200 reviews
for words, counts in zip(reviews[:3], bag.transform(reviews[:3])):
    print(" ".join(words), "\n   ", {w: int(c) for w, c in zip(bag.names, counts) if c})
one_hot = np.eye(len(bag.names))
good, great, bad = (one_hot[bag.index[w]] for w in ("good", "great", "bad"))
print(f"{len(bag.names)} words; one-hot cosines: good . great = {good @ great}, good . bad = {good @ bad}")
assert (bag.transform(reviews).sum(axis=1) == [len(r) for r in reviews]).all()  # one count per word

# %% [markdown]
# ## Naive Bayes: counting words per class
#
# Naive Bayes classifies a document $x$ (its word counts $x_t$) by Bayes' rule, with the "naive" assumption
# that the words are drawn independently given the class $c$:
#
# $$ \log P(c \mid x) = \log P(c) + \sum_t x_t \log P(t \mid c) + \text{const}, \qquad
#    P(t \mid c) = \frac{N_{ct} + \alpha}{N_c + \alpha F} , $$
#
# where $N_{ct}$ is how often word (feature) $t$ occurs in the training documents of class $c$,
# $N_c = \sum_t N_{ct}$, $F$ the number of features, and $\alpha$ the **Laplace** pseudo-count (1) that
# keeps a word never seen in class $c$ from making $P(c \mid x) = 0$. Training is counting, one pass, no
# gradient; the prediction is a matrix product of counts with log-probabilities: a linear classifier.
#
# **Exercise.** Write `naive_bayes_fit(X, y, alpha)`: from counts `X` of shape `(D, F)` and labels `y` of
# shape `(D,)`, return `log_prior` `(C,)` (the share of each class among the documents) and
# `log_likelihood` `(C, F)` (the smoothed $\log P(t \mid c)$ above), classes in sorted order.


# %%
@exercise
def naive_bayes_fit(X, y, alpha):
    """Multinomial Naive Bayes: X (D, F) counts, y (D,) labels -> log P(c) (C,) and log P(t | c) (C, F)."""
    raise NotImplementedError("exercise: count per class, add alpha, normalise, take logs")


# %% [markdown]
# The check draws small count matrices and labels with Hypothesis and compares with the library's
# `NaiveBayes(alpha).fit(X, y)` (whose `log_prior` and `log_prob` are the same two tables; it matches
# scikit-learn's `MultinomialNB`).


# %%
def fits_like_the_library(naive_bayes_fit):
    @settings(max_examples=20 if QUICK else 100, deadline=None, database=None)
    @given(st.integers(1, 6), st.integers(1, 5), st.sampled_from([0.5, 1.0, 2.0]), st.data())
    def same_tables(docs, features, alpha, data_draw):
        X = data_draw.draw(arrays((docs, features), dtype=np.int64, domain=(0, 4)), label="X")
        y = data_draw.draw(arrays((docs,), dtype=np.int64, domain=(0, 2)), label="y")
        library = NaiveBayes(alpha).fit(X, y)
        log_prior, log_likelihood = naive_bayes_fit(X, y, alpha)
        assert np.allclose(log_prior, library.log_prior, rtol=1e-12), "log_prior differs"
        assert np.shape(log_likelihood) == library.log_prob.shape, f"shape {np.shape(log_likelihood)}"
        assert np.allclose(log_likelihood, library.log_prob, rtol=1e-12), "log_likelihood differs"

    same_tables()


check(fits_like_the_library, naive_bayes_fit)

# %% [markdown]
# ### Naive Bayes against a recurrent classifier on the reviews
#
# `data.sentiment_examples` generates reviews from a small grammar, built so that word order matters: a
# review takes the polarity of its *last* clause, flipped by "not"; "A but B" and "although A, B" take B's
# side (tutorial 9 classifies and tags such generated sentences in depth). Naive Bayes gets a bag of
# words, or of word n-grams (1- to 3-grams, "not good" and "but the acting" become features of their own).
# The recurrent classifier (`training.models.SequenceClassifier`: embedding, LSTM, linear layer on the final
# state, what `microseq train sentiment` trains) reads the words in order.

# %%
n_train, n_test = (2000, 500) if QUICK else (5000, 1000)
review_words, review_labels = data.sentiment_examples(np.random.default_rng(1), n_train + n_test)
train_words, train_y = review_words[:n_train], np.array(review_labels[:n_train])
test_words, test_y = review_words[n_train:], np.array(review_labels[n_train:])

predictions = {}
for name, top in (("Naive Bayes, words", 1), ("Naive Bayes, 1-3-grams", 3)):
    features = NGramFeatures(1, top).fit(train_words)
    nb = NaiveBayes(1.0).fit(features.transform(train_words), train_y)
    predictions[name] = nb.predict(features.transform(test_words))
    print(f"{name:24s} {len(features.names):6d} features, test accuracy {(predictions[name] == test_y).mean():.3f}")

# %% [markdown]
# Now the LSTM, trained with Adam on batches of 32 reviews. `data.SequenceBatcher` pads each batch to its
# longest review and passes the real `lengths`, so the classifier reads each review's last real word
# (tutorial 9 shows why that matters):

# %%
review_vocab = data.WordVocab.build(train_words)
encoded = [review_vocab.encode(w) for w in review_words]
lstm_classifier = SequenceClassifier(len(review_vocab), 2, embedding_size=32, hidden_size=64)
optimizer = optim.Adam(lstm_classifier.parameters(), lr=1e-2)
batches = data.SequenceBatcher(encoded[:n_train], list(train_y), batch_size=32, seed=0)
start = time.perf_counter()
for step in range(150 if QUICK else 400):
    batch = next(batches)
    optimizer.zero_grad()
    ms.cross_entropy(lstm_classifier(batch.inputs, batch.lengths), batch.targets).backward()
    optim.clip_grad_norm_(lstm_classifier.parameters(), max_norm=1.0)
    optimizer.step()
lstm_classifier.eval()
with ms.no_grad():
    test_batch = data.collate(encoded[n_train:], list(test_y))
    predictions["LSTM"] = lstm_classifier(test_batch.inputs, test_batch.lengths).data.argmax(-1)
print(f"LSTM: test accuracy {(predictions['LSTM'] == test_y).mean():.3f} ({time.perf_counter() - start:.0f} s)")

# %% [markdown]
# Where does each one go wrong? We sort the test reviews by their shape and measure accuracy per shape:

# %%
def shape_of(words):
    if "although" in words:
        return "although A , B"
    if "but" in words:
        return "A but B"
    return "A and B" if "and" in words else "one clause"


shapes = np.array([shape_of(w) for w in test_words])
shape_names = ["one clause", "A and B", "A but B", "although A , B"]
by_shape = {name: [float((p == test_y)[shapes == s].mean()) for s in shape_names] for name, p in predictions.items()}
for name, accuracies in by_shape.items():
    print(f"{name:24s}", "  ".join(f"{s}: {a:.2f}" for s, a in zip(shape_names, accuracies)))

fig = Figure(figsize=(8, 3.8))
ax = fig.add_subplot()
width = 0.8 / len(by_shape)
for k, (name, accuracies) in enumerate(by_shape.items()):
    ax.bar(np.arange(len(shape_names)) + (k - 1) * width, accuracies, width, label=name)
ax.axhline(0.5, color="0.3", ls=":", label="chance")
ax.set_xticks(np.arange(len(shape_names)), shape_names)
ax.set_ylim(0, 1.3)
ax.set_ylabel("test accuracy")
ax.set_title(f"Reviews by shape: counting words against reading them in order ({n_train} training reviews)")
ax.legend(ncol=4, fontsize=8, loc="upper center")
fig.tight_layout()
show(fig, "07_naive_bayes_vs_lstm.png")

# %% [markdown]
# A bag of words is at chance: every adjective is as frequent in positive reviews as in negative ones
# (half the clauses are negated, and "A but B" holds a clause of each polarity), so word counts carry
# almost no evidence. Bigrams and trigrams bring "not good" and "not very good" as features, which helps
# where the clauses agree (in our full run 0.84 on one clause and 0.90 on "A and B", against about 0.5 for
# words) and least where they disagree ("A but B" 0.76, "although A, B" 0.69): an n-gram sees a few words
# around "but", not *which* clause comes last, a fact about the order of the whole review. The LSTM reads
# it (1.00 on every shape). Here are two-clause reviews the 1-3-gram model gets wrong and the LSTM gets
# right:

# %%
two_clause = np.isin(shapes, ["A but B", "although A , B"])
nb_wrong = (predictions["Naive Bayes, 1-3-grams"] != test_y) & (predictions["LSTM"] == test_y)
for i in np.flatnonzero(nb_wrong & two_clause)[:6]:
    print(f"[{data.SENTIMENT_LABELS[test_y[i]]:>8}] {' '.join(test_words[i])}")
print(f"two-clause reviews: {two_clause.mean():.0%} of the test set, "
      f"{two_clause[predictions['Naive Bayes, 1-3-grams'] != test_y].mean():.0%} of Naive Bayes' mistakes")
assert (predictions["LSTM"] == test_y).mean() > (predictions["Naive Bayes, 1-3-grams"] == test_y).mean() + 0.05
assert abs((predictions["Naive Bayes, words"] == test_y).mean() - 0.5) < 0.1  # words alone: chance
assert two_clause[predictions["Naive Bayes, 1-3-grams"] != test_y].mean() > two_clause.mean()

# %% [markdown]
# ## Dense vectors: word2vec
#
# The distributional hypothesis: *a word is known by the company it keeps*. word2vec's **skip-gram** model
# gives every word $w$ two vectors of a small dimension $D$: an input vector $v_w$ (the one we keep) and an
# output vector $u_w$. Each word $c$ seen within a few words of $w$ is a *positive* pair, and $K$ words $n$
# drawn at random (from the unigram frequencies to the power 3/4) are *negatives*. **Negative sampling**
# trains a logistic regression to tell them apart, with the score $s = u \cdot v_w$:
#
# $$ \ell = -\log \sigma(u_c \cdot h) - \sum_{n=1}^{K} \log \sigma(-u_n \cdot h), \qquad h = v_w . $$
#
# (CBOW swaps the roles: $h$ is the mean of the context's input vectors and the centre word is the positive.)
# Words that appear in the same contexts get pulled towards the same output vectors, and so towards each
# other.
#
# ### The gradient, by hand
#
# Two facts about the sigmoid: $\sigma'(s) = \sigma(s)(1 - \sigma(s))$ and $1 - \sigma(s) = \sigma(-s)$.
# Hence
#
# $$ \frac{d}{ds}\big(-\log \sigma(s)\big) = -\frac{\sigma(s)\,\sigma(-s)}{\sigma(s)} = \sigma(s) - 1,
#    \qquad \frac{d}{ds}\big(-\log \sigma(-s)\big) = \sigma(s) . $$
#
# The chain rule through $s = u \cdot h$ (whose gradient is $h$ for $u$ and $u$ for $h$) gives the three
# gradients:
#
# $$ \frac{\partial \ell}{\partial u_c} = (\sigma(u_c \cdot h) - 1)\, h, \qquad
#    \frac{\partial \ell}{\partial u_n} = \sigma(u_n \cdot h)\, h, \qquad
#    \frac{\partial \ell}{\partial h} = (\sigma(u_c \cdot h) - 1)\, u_c + \sum_n \sigma(u_n \cdot h)\, u_n . $$
#
# Read them as error signals: the positive's "error" $\sigma - 1$ is negative (pull $u_c$ towards $h$ until
# $\sigma \to 1$), a negative's is $\sigma$ (push $u_n$ away until $\sigma \to 0$). Only $1 + K$ output rows
# and one input row change per pair: this is why word2vec trains on billions of words.
#
# **Exercise.** Write `sgns_gradients(h, u_pos, u_neg)`: for `h` and `u_pos` of shape `(D,)` and `u_neg` of
# shape `(K, D)`, return the three gradients above, shapes `(D,)`, `(D,)` and `(K, D)`.


# %%
@exercise
def sgns_gradients(h, u_pos, u_neg):
    """d loss / d h (D,), d loss / d u_pos (D,), d loss / d u_neg (K, D) of skip-gram negative sampling."""
    raise NotImplementedError("exercise: (s(u.h) - 1) for the positive, s(u.h) for each negative")


# %% [markdown]
# The check compares with autograd through the library's `sgns_loss` (the readable path of `Word2Vec`: an
# embedding lookup, dot products and `binary_cross_entropy_with_logits`), on a table whose row 0 is `h` and
# whose output rows are `u_pos` and `u_neg`, for Hypothesis-drawn sizes and values.


# %%
def matches_autograd(sgns_gradients):
    @settings(max_examples=20 if QUICK else 100, deadline=None, database=None)
    @given(st.integers(1, 5), st.integers(1, 4), st.data())
    def same_gradients(dim, negatives, data_draw):
        h = data_draw.draw(arrays((dim,)), label="h")
        u = data_draw.draw(arrays((1 + negatives, dim)), label="u")  # row 0 positive, then the negatives
        v_table, u_table = ms.tensor(h[None, :], requires_grad=True), ms.tensor(u, requires_grad=True)
        targets = np.arange(1 + negatives)[None, :]  # one example: input word 0, targets 0 (positive), 1..K
        sgns_loss(v_table, u_table, np.array([0, 1]), np.array([0]), targets).backward()
        d_h, d_pos, d_neg = sgns_gradients(h, u[0], u[1:])
        assert np.allclose(d_h, v_table.grad[0], rtol=1e-9, atol=1e-12), "d loss / d h differs"
        assert np.allclose(d_pos, u_table.grad[0], rtol=1e-9, atol=1e-12), "d loss / d u_pos differs"
        assert np.allclose(d_neg, u_table.grad[1:], rtol=1e-9, atol=1e-12), "d loss / d u_neg differs"

    same_gradients()


check(matches_autograd, sgns_gradients)

# %% [markdown]
# `Word2Vec` does exactly these updates, one pair at a time with a learning rate that falls linearly to zero
# (as the original C tool), in a compiled kernel; `engine="composed"` runs the same steps through
# `sgns_loss` and `backward()`, and the library's tests check that the two agree.
#
# ### A corpus where the answers are known
#
# `planted_corpus` generates sentences from a small grammar whose words are built from known factors: people
# have a role, a gender and a number (*king, queen, kings, queens*), places are a country or its capital,
# companies have a head, adjectives come as base, comparative and superlative. Each sentence holds one such
# word and context words of each of its factors ("he", "his" for male; "crown", "throne" for royalty). So
# *king* and *queen* share their royal contexts and differ in their gendered ones, exactly as *man* and
# *woman* do, and the analogy *man : woman :: king : queen* holds by construction. Half of the analogy
# questions are held out (never used to choose any setting).

# %%
corpus = planted_corpus(20_000 if QUICK else 60_000)
print(f"{len(corpus.sentences):,} sentences, {sum(map(len, corpus.sentences)):,} tokens; e.g.")
for sentence in corpus.sentences[:3]:
    print("   ", " ".join(sentence))
print(f"{len(corpus.held_out)} held-out analogy questions, e.g. {corpus.held_out[:3]}")

start = time.perf_counter()
w2v = Word2Vec(dim=50, window=5, epochs=5, min_count=1).fit(corpus.sentences)
w2v_vectors = WordVectors(w2v.words, w2v.vectors)
print(f"word2vec skip-gram, D = 50: {len(w2v.words)} words, {time.perf_counter() - start:.1f} s; "
      f"mean loss per pair by epoch {np.round(w2v.losses, 3).tolist()}")

# %% [markdown]
# ### One-hot against dense, side by side
#
# The cosine similarity of every pair among a few words: one-hot vectors give the identity matrix, word2vec's
# vectors give blocks (a royal block, a country block, ...) with finer structure inside them.

# %%
shown = ["man", "woman", "king", "queen", "france", "paris", "japan", "tokyo", "big", "bigger", "cold", "colder"]
unit = w2v_vectors.unit[w2v_vectors.ids(shown)]
fig = Figure(figsize=(12, 5))
fig.subplots_adjust(wspace=0.35, left=0.08, right=0.88, bottom=0.2)
for ax, matrix, title in zip(fig.subplots(1, 2), [np.eye(len(shown)), unit @ unit.T],
                             ["one-hot", "word2vec (D = 50)"]):
    image = ax.imshow(matrix, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(shown)), shown, rotation=90)
    ax.set_yticks(range(len(shown)), shown)
    ax.set_title(f"cosine similarity: {title}")
fig.colorbar(image, ax=fig.axes, shrink=0.8)
show(fig, "07_one_hot_vs_dense.png")

cos = dict(zip(shown, unit @ unit[shown.index("king")]))
print({w: round(float(c), 2) for w, c in cos.items()})
assert cos["queen"] > cos["france"] and cos["queen"] > cos["big"]

# %% [markdown]
# ### Analogies: 3CosAdd and 3CosMul
#
# If gender is a direction, then $v_{woman} - v_{man} \approx v_{queen} - v_{king}$, and the answer to
# *a : b :: c : ?* is the word nearest to $b - a + c$. With unit vectors that is **3CosAdd**:
# $\arg\max_d \cos(d, b) - \cos(d, a) + \cos(d, c)$. Levy and Goldberg's **3CosMul** multiplies instead,
# $\arg\max_d \cos'(d, b)\cos'(d, c) / (\cos'(d, a) + \epsilon)$ with cosines shifted to $[0, 1]$, so that
# one large similarity cannot outvote the others. Both must exclude $a$, $b$ and $c$ themselves, which
# are usually the nearest words to $b - a + c$ (`WordVectors.analogy` does).

# %%
for a, b, c in [("man", "woman", "king"), ("france", "paris", "japan"), ("big", "bigger", "cold"),
                ("acme", "smith", "hooli")]:
    print(f"{a} : {b} :: {c} : {w2v_vectors.analogy(a, b, c, k=3)}")
accuracy = {"word2vec": {m: w2v_vectors.analogy_accuracy(corpus.held_out, m) for m in ("add", "mul")}}
print(f"word2vec, held-out questions: 3CosAdd {accuracy['word2vec']['add']:.1%}, "
      f"3CosMul {accuracy['word2vec']['mul']:.1%}")

# %% [markdown]
# ## GloVe: fitting the logarithm of co-occurrence counts
#
# word2vec streams over the text; GloVe first counts. $X_{ij}$ is how often word $j$ occurs near word $i$
# (each co-occurrence at distance $d$ adds $1/d$). Its motivation is the *ratio* of co-occurrence
# probabilities $P(k \mid i) = X_{ik} / X_i$: for $i$ = king and $j$ = queen, a context word $k$ tied to
# one of them (he, she) has a ratio $P(k \mid i) / P(k \mid j)$ far from 1, a word tied to both (crown,
# throne) a ratio near 1.
# Ratios are differences of logarithms, and GloVe asks dot products to reproduce log counts:

# %%
counted = Corpus(corpus.sentences)
rows, cols, values = cooccurrence(counted.ids, counted.sentence, len(counted), window=5)
X = np.zeros((len(counted), len(counted)))
X[rows, cols] = values
P = X / X.sum(axis=1, keepdims=True)
king, queen = counted.index["king"], counted.index["queen"]
ratios = {k: P[king, counted.index[k]] / P[queen, counted.index[k]] for k in ("he", "she", "crown", "throne")}
print({k: round(float(r), 2) for k, r in ratios.items()}, " = P(k | king) / P(k | queen)")
assert ratios["he"] > 3 and ratios["she"] < 1 / 3 and 0.5 < ratios["crown"] < 2 and 0.5 < ratios["throne"] < 2

# %% [markdown]
# The objective, over the nonzero entries, with word vectors $w$, context vectors $\tilde w$ and biases:
#
# $$ J = \tfrac12 \sum_{i,j:\, X_{ij} > 0} f(X_{ij}) \big(w_i \cdot \tilde w_j + b_i + \tilde b_j - \log X_{ij}\big)^2,
#    \qquad f(x) = \min\big(1, (x / x_{\max})^{\alpha}\big) , $$
#
# with $x_{\max} = 100$ and $\alpha = 3/4$: rare pairs (noisy counts) weigh little, and frequent ones weigh 1,
# not more, so "the" does not dominate. It is a weighted least-squares factorisation of the log-count matrix,
# minimised with AdaGrad one entry at a time. The vectors kept are $w + \tilde w$. `glove_loss` is $J$
# through the autograd engine; `GloVe` runs the fused AdaGrad kernel.

# %%
start = time.perf_counter()
glove = GloVe(dim=50, window=5, epochs=10 if QUICK else 25, min_count=1).fit(corpus.sentences)
glove_vectors = WordVectors(glove.words, glove.vectors)
J = glove_loss(*(ms.tensor(a) for a in (glove.w, glove.wc, glove.b, glove.bc)),
               rows, cols, values).item()  # same word order: Corpus numbers words the same way
print(f"GloVe, D = 50: {len(values):,} nonzero counts, {time.perf_counter() - start:.1f} s; J per entry "
      f"{J / len(values):.4f} at the end, {glove.losses[0]:.4f} during the first epoch")
accuracy["GloVe"] = {m: glove_vectors.analogy_accuracy(corpus.held_out, m) for m in ("add", "mul")}
for name, acc in accuracy.items():
    print(f"{name:9s} held-out analogies: 3CosAdd {acc['add']:.1%}, 3CosMul {acc['mul']:.1%}")
assert glove.words == counted.words and J / len(values) < glove.losses[0]
assert min(accuracy["word2vec"]["add"], accuracy["GloVe"]["add"]) > (0.5 if QUICK else 0.9)

# %% [markdown]
# In our full run both found nearly every held-out analogy (3CosAdd: word2vec 100%, GloVe 99.7%); the quick
# run's GloVe, with a third of the text and 10 epochs instead of 25, about 70%. A picture: the first two
# principal components of a few pairs, each pair joined by an arrow. Parallel arrows of equal length are the
# "directions" the analogies use.

# %%
pairs = {"gender": [("man", "woman"), ("king", "queen"), ("prince", "princess"), ("actor", "actress")],
         "country -> capital": [("france", "paris"), ("japan", "tokyo"), ("italy", "rome"), ("egypt", "cairo")]}
fig = Figure(figsize=(9, 8))
axes = fig.subplots(2, 2)
for row, (name, vectors) in zip(axes, [("word2vec", w2v_vectors), ("GloVe", glove_vectors)]):
    for ax, (relation, group), colour in zip(row, pairs.items(), ("tab:purple", "tab:green")):
        words = [w for pair in group for w in pair]
        points = pca_2d(vectors.unit[vectors.ids(words)])  # a PCA of these eight words only
        for k in range(0, len(words), 2):
            ax.annotate("", points[k + 1], points[k], arrowprops=dict(arrowstyle="->", color=colour))
        for word, (x, y) in zip(words, points):
            ax.annotate(word, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=9, color=colour)
        ax.scatter(*points.T, s=10, color=colour)
        ax.margins(0.2)
        ax.set_title(f"{name}: {relation}")
        ax.set_xticks([])
        ax.set_yticks([])
fig.suptitle("Pairs of the planted corpus on their first two principal components")
fig.tight_layout()
show(fig, "07_planted_analogies.png")

# %% [markdown]
# ## Real text: neighbours in Python's documentation
#
# `python_docs_corpus` reads English that ships with every Python: the `pydoc_data` help topics and the
# docstrings of the standard library's modules. A word's nearest neighbours by cosine similarity should
# make sense to a Python programmer.

# %%
docs = python_docs_corpus(1_000_000 if QUICK else 5_000_000)
start = time.perf_counter()
docs_w2v = Word2Vec(dim=100, window=3, epochs=3 if QUICK else 10, min_count=5).fit(docs)
docs_vectors = WordVectors(docs_w2v.words, docs_w2v.vectors)
print(f"{sum(map(len, docs)):,} tokens, {len(docs_w2v.words):,} words kept, {time.perf_counter() - start:.1f} s")
neighbours = {word: [w for w, _ in docs_vectors.neighbors(word, 8)] for word in ("list", "file", "error", "thread")}
for word, near in neighbours.items():
    print(f"{word:8s}", ", ".join(near))
assert any(w.endswith("error") or w == "exception" for w in neighbours["error"])

# %% [markdown]
# (In our full run: *list* is near *lists, series, tuple, sorted, sequence, append*; *file* near *files,
# reading, filename, zipfile, gzip*; *error* near *warning, lookuperror, errors, oserror, exception*;
# *thread* near *lock, process, acquire, reentrant*. The quick run reads under half of the text, for three
# epochs instead of ten, and is noisier.) Vectors of the same dimension do not make a model of the text, but as
# the first layer of one they carry what a word is like; `nn.Embedding.from_pretrained` starts a
# classifier or a language model from them.

# %%
embedding = nn.Embedding.from_pretrained(docs_vectors.vectors, freeze=True)
looked_up = embedding(docs_vectors.ids(["list", "file"]))
assert np.array_equal(looked_up.data, docs_vectors.vectors[docs_vectors.ids(["list", "file"])])
assert not embedding.weight.requires_grad

# %% [markdown]
# Does starting from such vectors help when labelled data is scarce? `python -m microseq.text.benchmark
# pretrained` measures it on the reviews and on the tagging task of tutorial 9: skip-gram vectors trained
# on 20,000 *unlabelled* sentences of the same generator, then the task's LSTM trained for 400 steps on a few labelled
# sentences, its embedding random, or the vectors frozen, or the vectors fine-tuned; test accuracy, mean
# over 5 seeds. In our run, tagging with 5 labelled sentences (a third of the test words never seen in
# them) went from 0.72 with a random embedding to 0.94 with the vectors, and the reviews with 100 labelled
# sentences from 0.54 to 0.74 (with a wide spread, 0.55 to 0.97 over seeds). The gap closes with data:
# at 500 labelled reviews every start reaches 1.00, at 50 tagged sentences 0.985 against 0.996. Frozen and
# fine-tuned vectors were within 0.01 of each other everywhere.
# (The unlabelled text comes from the very generator of the task: the kindest case for pretraining.)

# %% [markdown]
# ## n-gram language models and their sparsity
#
# Back to counting, now to predict the next symbol. An **n-gram model** conditions only on the last $n - 1$
# symbols and estimates $P(x_t \mid x_{t-n+1..t-1})$ from counts. Raw frequencies give probability 0 to
# everything not seen after that context, and an infinite loss the first time it happens; smoothing moves
# some probability to the unseen. **Interpolated Kneser-Ney** (`NGramLM`'s default) subtracts a discount $D$
# from every count and hands the freed mass to the model of order $n - 1$, whose counts are *continuation*
# counts: in how many different contexts a symbol was seen, not how often.
#
# The trouble grows with $n$: there are $V^n$ possible n-grams and a text has only so many. The measure is
# simple: the share of the n-grams of held-out text that never occur in the training text.
#
# **Exercise.** Write `unseen_fraction(train, test, n)`: for two sequences of ids, the share of the n-grams of
# `test` (one at each of its `len(test) - n + 1` positions, so a repeated n-gram counts each time) that occur
# nowhere in `train`.


# %%
@exercise
def unseen_fraction(train, test, n):
    """Share of the n-grams of test (each position counted) never seen in train."""
    raise NotImplementedError("exercise: the set of training n-grams, then count the test positions outside it")


# %% [markdown]
# The check compares with `NGramLM(n, V).fit(train).unseen_fraction(test)` (which looks n-grams up with
# `np.searchsorted` in sorted codes, no Python sets) on short Hypothesis-drawn sequences over a few symbols,
# where repeats are common.


# %%
def counts_like_the_library(unseen_fraction):
    @settings(max_examples=30 if QUICK else 150, deadline=None, database=None)
    @given(st.integers(1, 4), st.integers(2, 4), st.data())
    def same_share(n, symbols, data_draw):
        train_ids = data_draw.draw(arrays((data_draw.draw(st.integers(n, 12)),), dtype=np.int64,
                                          domain=(0, symbols - 1)), label="train")
        test_ids = data_draw.draw(arrays((data_draw.draw(st.integers(n, 12)),), dtype=np.int64,
                                         domain=(0, symbols - 1)), label="test")
        expected = NGramLM(n, symbols).fit(train_ids).unseen_fraction(test_ids)
        assert math.isclose(unseen_fraction(train_ids, test_ids, n), expected), f"expected {expected}"

    same_share()


check(counts_like_the_library, unseen_fraction)

# %% [markdown]
# Now on the text that tutorial 8 models (the standard library's sources, split as `microseq train` splits
# them: the last 5% held out), for n = 1 to 8: the unseen share, the bits per character of a Kneser-Ney model on the
# held-out text, and the number of distinct n-grams the model stores.

# %%
text = data.stdlib_corpus(300_000 if QUICK else 1_000_000)
train_text, valid_text = data.split_text(text, valid_fraction=0.05)
chars = data.CharVocab.build(train_text)
train_ids, valid_ids = chars.encode(train_text), chars.encode(valid_text)
orders = range(1, 7 if QUICK else 9)
table = {}
start = time.perf_counter()
for n in orders:
    lm = NGramLM(n, len(chars)).fit(train_ids)
    table[n] = dict(unseen=lm.unseen_fraction(valid_ids), bpc=lm.bits_per_token(valid_ids),
                    stored=sum(len(o.codes) for o in lm.orders))
print(f"{len(train_ids):,} training and {len(valid_ids):,} held-out characters, V = {len(chars)} "
      f"({time.perf_counter() - start:.1f} s)")
print("   n   unseen n-grams   bits/char   n-grams stored")
for n, row in table.items():
    print(f"{n:4d} {row['unseen']:14.1%} {row['bpc']:11.2f} {row['stored']:16,d}")
assert table[1]["unseen"] < table[3]["unseen"] < table[max(orders)]["unseen"]
assert table[3]["bpc"] < table[1]["bpc"]

# %% [markdown]
# The first orders help a lot: on the full text, 4.3 bits per character with no context, 2.5 with two
# characters of it. Then the unseen share climbs (a fifth of the 6-grams of new code, and over a third of
# its 8-grams, were never seen in a million characters of training) and each longer context helps less:
# Kneser-Ney backs off to shorter contexts where the long one is unseen, so the loss keeps falling, slowly,
# while the tables grow by millions of entries. An n-gram model can only look up contexts it has seen; it
# cannot tell that `self.assertEqual(` and `self.assertTrue(` are alike, or carry an open bracket over more
# than n characters.
#
# A recurrent model answers both: its state is a learned, dense summary of *all* of the context.
# On the full text (1 million characters, n = 1..8), Kneser-Ney gives 4.31, 3.34, 2.49, 2.03, 1.90, 1.86,
# 1.84, 1.84 bits per character (`python -m microseq.text.benchmark ngram`), and the LSTM of
# `microseq train` (800 steps, 2.56 million characters read, H = 256) reaches 1.94: better than every
# n ≤ 4, 0.04 to 0.10 bits behind n ≥ 5. It does so with 0.36 million parameters, where the 8-gram model
# stores 0.97 million n-grams with two counts each, and it is still improving when it stops (its
# validation loss fell by 0.095 bits over the last 200 steps), while the n-gram column has stopped at n = 7.

# %%
LSTM_BPC = 1.94  # `python -m microseq train` (charlm's defaults, 800 steps) on the full text: its final validation bpc
fig = Figure(figsize=(11, 4))
left, right = fig.subplots(1, 2)
left.plot(list(table), [row["unseen"] for row in table.values()], "o-")
left.set_xlabel("n")
left.set_ylabel("held-out n-grams never seen in training")
left.set_ylim(0, 1)
left.set_title("Sparsity: the share of unseen n-grams")
right.plot(list(table), [row["bpc"] for row in table.values()], "o-", label="Kneser-Ney n-gram")
right.axhline(LSTM_BPC, color="tab:red", ls="--",
              label=f"LSTM of `microseq train`, 800 steps: {LSTM_BPC} (full text, measured apart)")
right.set_xlabel("n (context of n - 1 characters)")
right.set_ylabel("held-out bits per character")
right.set_title(f"Kneser-Ney, {len(train_ids):,} training characters")
right.legend(fontsize=8)
for ax in (left, right):
    ax.grid(alpha=0.3)
fig.tight_layout()
show(fig, "07_ngram_sparsity.png")

# %% [markdown]
# ## What we learned
#
# * One-hot vectors make every two words equally unrelated; a bag of words (their sum) forgets order.
# * Naive Bayes is counting: $\log P(c) + \sum_t x_t \log P(t \mid c)$ with Laplace smoothing, a linear
#   classifier trained in one pass. On reviews whose label depends on order ("A but B" takes B's side) it
#   fails where a recurrent classifier reads the order, even with n-gram features.
# * Skip-gram with negative sampling: $\partial \ell / \partial u_c = (\sigma(u_c \cdot h) - 1) h$,
#   $\partial \ell / \partial u_n = \sigma(u_n \cdot h) h$, and their sum through $u$ for $h$; only $1 + K$
#   rows change per pair.
# * GloVe fits $w_i \cdot \tilde w_j + b_i + \tilde b_j \approx \log X_{ij}$ by weighted least squares;
#   ratios of co-occurrence probabilities become differences of vectors, and analogies (3CosAdd, 3CosMul,
#   question words excluded) read them.
# * n-gram models run out of data: the share of unseen n-grams climbs with n, and the bits per character
#   stop improving while the tables grow. A recurrent model summarises unbounded context in a small state.
#
# Next, tutorial 8 trains that recurrent character model properly.
