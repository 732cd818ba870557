"""Measurements of issue 16: n-gram bits per character, planted-corpus analogies, word2vec throughput.

Run ``python -m microseq.text.benchmark [ngram] [sentiment] [planted] [docs] [speed] [pretrained]`` (all but
``pretrained`` by default, which trains 120 small models). Times are wall clock on whatever else the machine is
doing: state ``uptime``'s load beside them.

* ``ngram``: bits per character of Kneser-Ney character models, n = 1..8, on the held-out split of the
  default corpus that ``microseq train`` (charlm) evaluates on (``stdlib_corpus`` then ``split_text(text,
  0.05)``), with the fraction of held-out n-grams never seen in training.
* ``sentiment``: Naive Bayes accuracy on the generated reviews of ``microseq train sentiment`` (the same
  sets), bags of words and of n-grams, and reviews a bag of words gets wrong.
* ``planted``: held-out analogy accuracy (3CosAdd, 3CosMul) and similarity correlation of word2vec
  (skip-gram, CBOW) and GloVe on the planted corpus, with the training times.
* ``docs``: word2vec on the Python docs corpus and the neighbours of a few Python words.
* ``pretrained``: do word2vec vectors, trained on unlabelled text of the same generator, help the recurrent
  ``sentiment`` classifier and ``postag`` tagger when few labelled sentences are given? Test accuracy from a
  random embedding against ``nn.Embedding.from_pretrained`` frozen and fine-tuned, over training-set sizes
  and seeds.
* ``speed``: word2vec skip-gram words per second (corpus tokens per second of training), fused kernel and
  autograd path with the same settings, and gensim's if it is importable.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from .. import nn, optim
from ..data import CharVocab, WordVocab, pos_examples, sentiment_examples, split_text, stdlib_corpus
from ..random import manual_seed
from ..training.config import make_config
from ..training.tasks import PosTagTask, SentimentTask
from .corpora import planted_corpus, python_docs_corpus
from .features import NGramFeatures
from .glove import GloVe
from .naive_bayes import NaiveBayes
from .ngram import NGramLM
from .similarity import WordVectors
from .word2vec import Word2Vec


def ngram_table(max_order: int = 8) -> None:
    train, valid = split_text(stdlib_corpus(), 0.05)
    vocab = CharVocab.build(train)
    train_ids, valid_ids = vocab.encode(train), vocab.encode(valid)
    print(f"character n-grams, Kneser-Ney D=0.75: {len(train_ids)} training, {len(valid_ids)} held-out characters")
    print("   n  bits/char  perplexity  unseen n-grams  fit+score s")
    for n in range(1, max_order + 1):
        start = time.perf_counter()
        lm = NGramLM(n, len(vocab)).fit(train_ids)
        bpc = lm.bits_per_token(valid_ids)
        seconds = time.perf_counter() - start
        print(f"{n:4d}  {bpc:9.3f}  {2 ** bpc:10.2f}  {lm.unseen_fraction(valid_ids):14.3f}  {seconds:11.1f}")


def _report(name: str, words, vectors, corpus, seconds: float) -> None:
    wv = WordVectors(words, vectors)
    add, mul = wv.analogy_accuracy(corpus.held_out, "add"), wv.analogy_accuracy(corpus.held_out, "mul")
    rho = wv.similarity_correlation(corpus.similarity)
    print(f"{name:16s} 3CosAdd {add:6.1%}  3CosMul {mul:6.1%}  Spearman {rho:5.3f}  {seconds:6.1f} s")


def planted(n_sentences: int = 60_000) -> None:
    corpus = planted_corpus(n_sentences)
    tokens = sum(map(len, corpus.sentences))
    print(f"planted corpus: {n_sentences} sentences, {tokens} tokens, {len(corpus.held_out)} held-out questions")
    Word2Vec(dim=4, epochs=1, min_count=1).fit(corpus.sentences[:50])  # compile the kernels outside the timing
    GloVe(dim=4, epochs=1, min_count=1).fit(corpus.sentences[:50])
    for cbow in (False, True):
        start = time.perf_counter()
        model = Word2Vec(dim=50, window=5, epochs=5, min_count=1, cbow=cbow).fit(corpus.sentences)
        _report("word2vec " + ("CBOW" if cbow else "skip-gram"), model.words, model.vectors, corpus,
                time.perf_counter() - start)
    start = time.perf_counter()
    model = GloVe(dim=50, window=5, epochs=25, min_count=1).fit(corpus.sentences)
    _report("GloVe", model.words, model.vectors, corpus, time.perf_counter() - start)


def speed(n_sentences: int = 60_000, composed_sentences: int = 2_000, repeats: int = 3) -> None:
    """Best of ``repeats`` runs of each, taken in turn (on a shared machine the fastest run is the one least
    disturbed)."""
    corpus = planted_corpus(n_sentences)
    sentences, few = corpus.sentences, corpus.sentences[:composed_sentences]
    settings = dict(dim=100, window=5, negatives=5, sample=1e-3, min_count=1, epochs=1, lr=0.025)
    runs = {
        "fused, batch 1": (sentences, lambda s: Word2Vec(**settings).fit(s)),
        "fused, batch 64": (sentences, lambda s: Word2Vec(**settings, batch_size=64).fit(s)),
        "composed, batch 64": (few, lambda s: Word2Vec(**settings, batch_size=64, engine="composed").fit(s)),
    }
    try:
        from gensim.models import Word2Vec as GensimWord2Vec

        runs["gensim, workers=1"] = (sentences, lambda s: GensimWord2Vec(
            s, vector_size=100, window=5, negative=5, sample=1e-3, min_count=1, sg=1, workers=1, epochs=1,
            alpha=0.025, seed=0))
    except ImportError:
        pass
    print(f"word2vec skip-gram, D=100, window 5, 5 negatives, sample 1e-3, 1 epoch, one thread, best of {repeats}")
    Word2Vec(**{**settings, "dim": 4}).fit(sentences[:50])  # compile
    best = dict.fromkeys(runs, 0.0)
    for _ in range(repeats):
        for name, (data, fit) in runs.items():
            start = time.perf_counter()
            fit(data)
            best[name] = max(best[name], sum(map(len, data)) / (time.perf_counter() - start))
    for name, rate in best.items():
        tokens = sum(map(len, runs[name][0]))
        print(f"  {name:20s} {rate:10,.0f} words/s  ({tokens} tokens, vocabulary scan included)")
    if "gensim, workers=1" not in runs:
        print("  gensim: not installed")


def docs(words: tuple = ("list", "file", "error", "thread", "socket", "exception")) -> None:
    """word2vec skip-gram on the standard library's English; the neighbours of a few Python words."""
    sentences = python_docs_corpus()
    start = time.perf_counter()
    model = Word2Vec(dim=100, window=3, epochs=10, min_count=5, sample=1e-3).fit(sentences)
    seconds = time.perf_counter() - start
    print(f"Python docs: {sum(map(len, sentences))} tokens, {len(model.words)} words, word2vec {seconds:.1f} s")
    vectors = WordVectors(model.words, model.vectors)
    for word in words:
        print(f"  {word:10s} {' '.join(w for w, _ in vectors.neighbors(word, 8))}")


def sentiment(seed: int = 0, train_size: int = 5000, eval_size: int = 1000) -> None:
    """Naive Bayes on the sets ``microseq train sentiment`` draws (its streams 1, 2, 3 of ``[seed, stream]``)."""
    train, train_y = sentiment_examples(np.random.default_rng([seed, 1]), train_size)
    valid, valid_y = sentiment_examples(np.random.default_rng([seed, 2]), eval_size)
    test, test_y = sentiment_examples(np.random.default_rng([seed, 3]), eval_size)
    print(f"Naive Bayes on sentiment: {train_size} training, {eval_size} validation and test reviews")
    for low, high in ((1, 1), (1, 2), (1, 3)):
        features = NGramFeatures(low, high).fit(train)
        X = features.transform(train)
        for kind in ("multinomial", "bernoulli"):
            nb = NaiveBayes(1.0, kind).fit(X, train_y)
            print(f"  {kind:11s} n-grams {low}..{high}: valid {nb.accuracy(features.transform(valid), valid_y):6.1%}"
                  f"  test {nb.accuracy(features.transform(test), test_y):6.1%}")
    features = NGramFeatures(1, 1).fit(train)
    nb = NaiveBayes().fit(features.transform(train), train_y)
    wrong = np.flatnonzero(nb.predict(features.transform(valid)) != np.asarray(valid_y))
    print("  bag of words, wrong on:")
    for i in wrong[:5]:
        print(f"    [{'positive' if valid_y[i] else 'negative'}] {' '.join(valid[i])}")


STARTS = ("random", "word2vec, frozen", "word2vec, fine-tuned")


SIZES = {"sentiment": (100, 250, 500, 1000), "postag": (5, 10, 25, 50)}  # from chance (or near) to nearly solved


def pretrained_accuracy(task: str = "sentiment", sizes=None, seeds=range(5), steps: int = 400,
                        unlabelled: int = 20_000) -> tuple[dict, dict]:
    """Test accuracy of the ``task`` model (``microseq train sentiment|postag``'s defaults: LSTM, H 64,
    embedding 32, Adam 3e-3, batch up to 32, gradient norm clipped at 1) after ``steps`` steps on ``size``
    labelled sentences (``sizes``, default :data:`SIZES` of the task), for each start of its embedding in
    :data:`STARTS`. Returns {(start, size): [accuracy per seed]} and the share of test tokens whose word is in
    no training sentence, {size: [share per seed]}.

    The vectors: skip-gram (D 32, window 5, 5 epochs) on ``unlabelled`` sentences drawn from the task's
    generator with their labels thrown away (stream ``[10_000, 5]``, apart from every seed's training and
    test sets). The vocabulary is that text's, so a word missing from a small labelled set still has a
    vector; the random start uses the same vocabulary. The vectors are scaled to standard deviation 1, the
    scale of the random N(0, 1) start, and ``<pad>``/``<unk>`` start at zero.
    """
    if task not in ("sentiment", "postag"):
        raise ValueError(f"pretrained_accuracy: task must be 'sentiment' or 'postag', got {task!r}")
    generate, make_task = (sentiment_examples, SentimentTask) if task == "sentiment" else (pos_examples, PosTagTask)
    text, _ = generate(np.random.default_rng([10_000, 5]), unlabelled)
    w2v = Word2Vec(dim=32, window=5, epochs=5, min_count=1).fit(text)
    vocab = WordVocab.build(text)
    rows, found = WordVectors(w2v.words, w2v.vectors).rows_for(vocab.itos)
    rows = (rows / rows[found].std()).astype(np.float32)
    accuracy, unseen = {}, {}
    for size in SIZES[task] if sizes is None else sizes:
        for seed in seeds:
            config = make_config(task, train_size=size, seed=seed, eval_size=1000)
            job = make_task(config, metadata={"vocab": vocab.to_dict()})
            first_batch = job.batcher.state_dict()  # every start sees the same batches
            seen = {w for sentence in job.train_sentences for w in sentence}
            tokens = [w for s in generate(job.rng(3), config.eval_size)[0] for w in s]  # the test set's words
            unseen.setdefault(size, []).append(float(np.mean([w not in seen for w in tokens])))
            for start in STARTS:
                manual_seed(seed)
                model = job.build_model()
                if start != "random":
                    model.embedding = nn.Embedding.from_pretrained(rows, freeze=start.endswith("frozen"),
                                                                   padding_idx=vocab.pad_index)
                optimizer = optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.lr)
                job.batcher.load_state_dict(first_batch)
                for _ in range(steps):
                    optimizer.zero_grad()
                    job.train_step(model)
                    optim.clip_grad_norm_(model.parameters(), config.clip)
                    optimizer.step()
                accuracy.setdefault((start, size), []).append(job.evaluate(model, "test")["accuracy"])
    return accuracy, unseen


def pretrained(tasks=("sentiment", "postag"), **options) -> None:
    """The table of :func:`pretrained_accuracy` for each task: mean and range over the seeds."""
    for task in tasks:
        start = time.perf_counter()
        accuracy, unseen = pretrained_accuracy(task, **options)
        sizes = sorted(unseen)
        seeds = len(unseen[sizes[0]])
        print(f"{task}: test accuracy, mean [min, max] over {seeds} seeds ({time.perf_counter() - start:.0f} s)")
        print(f"  {'training sentences':30s}" + "".join(f"{size:>21d}" for size in sizes))
        print(f"  {'test words unseen in training':30s}" + "".join(f"{np.mean(unseen[s]):>21.1%}" for s in sizes))
        for name in STARTS:
            cells = [accuracy[name, s] for s in sizes]
            print(f"  {name:30s}" + "".join(f"{np.mean(a):>8.3f} [{min(a):.2f}, {max(a):.2f}]" for a in cells))


def main(argv: list[str] | None = None) -> int:
    parts = (argv if argv is not None else sys.argv[1:]) or ["ngram", "sentiment", "planted", "docs", "speed"]
    jobs = {"ngram": ngram_table, "sentiment": sentiment, "planted": planted, "docs": docs, "speed": speed,
            "pretrained": pretrained}
    unknown = [p for p in parts if p not in jobs]
    if unknown:
        print(f"unknown part {unknown[0]!r}; choose from {', '.join(jobs)}", file=sys.stderr)
        return 2
    for part in parts:
        jobs[part]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
