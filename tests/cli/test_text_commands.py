"""The word-vector and count-model commands end to end at tiny sizes: train word2vec / glove / ngram / sentiment
with Naive Bayes, resume bit for bit, neighbors, analogy, eval, plot, and their one-line errors."""

import os
import shutil

import numpy as np
import pytest

from microseq.checkpoint import load_checkpoint
from microseq.cli import main
from microseq.text import load_vectors
from microseq.training.checkpoints import RunCheckpoints

QUIET = ["--progress", "off"]
TINY_VECTORS = ["--train-size", "2000", "--embedding-size", "8", "--max-steps", "4", "--eval-interval", "2",
                "--checkpoint-interval", "2", *QUIET]
TINY_W2V = [*TINY_VECTORS, "--step-tokens", "5000"]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def w2v_run(tmp_path_factory):
    """A tiny word2vec run (trained once for the module's tests)."""
    where = str(tmp_path_factory.mktemp("w2v") / "run")
    assert main(["train", "word2vec", *TINY_W2V, "--out", where]) == 0
    return where


@pytest.mark.parametrize("task, options", [("word2vec", TINY_W2V), ("word2vec", [*TINY_W2V, "--cbow"]),
                                           ("glove", TINY_VECTORS)])
def test_train_vectors_writes_a_run_with_scores_and_a_vectors_file(capsys, task, options):
    status, out, err = run(capsys, "train", task, *options, "--out", "r")
    assert status == 0, err
    assert "analogy_accuracy" in out and "test: analogy_accuracy" in out
    assert [step for step, _ in RunCheckpoints("r").all()] == [2, 4]
    words, vectors = load_vectors("r/vectors.txt")
    assert vectors.shape == (len(words), 8) and "king" in words and np.isfinite(vectors).all()
    events = [line for line in open("r/metrics.jsonl") if '"train"' in line]
    assert len(events) == 4


@pytest.mark.parametrize("task", ["word2vec", "glove"])
def test_a_run_resumed_from_a_checkpoint_ends_bit_for_bit_as_the_whole_run(capsys, tmp_path, task):
    options = TINY_W2V if task == "word2vec" else TINY_VECTORS
    assert main(["train", task, *options, "--out", "whole"]) == 0
    shutil.copytree("whole", "split")
    os.remove(RunCheckpoints("split").latest()[1])  # back to the checkpoint of step 2
    capsys.readouterr()
    status, out, err = run(capsys, "train", "--resume", "split")
    assert status == 0 and "resuming at step 2" in out, err
    whole = load_checkpoint(RunCheckpoints("whole").latest()[1], restore_rng=False)["model_state"]
    resumed = load_checkpoint(RunCheckpoints("split").latest()[1], restore_rng=False)["model_state"]
    assert set(whole) == ({"v", "u"} if task == "word2vec" else {"w", "wc", "b", "bc", "gw", "gwc", "gb", "gbc"})
    for name in whole:
        np.testing.assert_array_equal(resumed[name], whole[name])
    started = load_checkpoint(RunCheckpoints("split").all()[0][1], restore_rng=False)["model_state"]
    assert any(not np.array_equal(started[name], whole[name]) for name in whole)  # steps 3 and 4 did train


def test_a_runs_vectors_start_an_embedding_in_a_vocabularys_order(w2v_run):
    from microseq import nn
    from microseq.text import WordVectors

    vectors = WordVectors(*load_vectors(os.path.join(w2v_run, "vectors.txt")))
    rows, found = vectors.rows_for(["<pad>", "queen", "king"])
    layer = nn.Embedding.from_pretrained(rows, padding_idx=0)
    assert found.tolist() == [False, True, True] and not layer.weight.requires_grad
    out = layer(np.array([2, 1, 0])).data
    np.testing.assert_array_equal(out[0], vectors.vectors[vectors.index["king"]])
    np.testing.assert_array_equal(out[2], 0.0)


def test_the_learning_rate_schedule_reaches_the_planted_analogies(capsys):
    status, out, err = run(capsys, "train", "word2vec", "--train-size", "6000", "--embedding-size", "30",
                           "--max-steps", "6", "--step-tokens", "30000", "--eval-interval", "6", *QUIET, "--out", "r")
    assert status == 0, err
    line = next(line for line in out.splitlines() if line.startswith("test:"))
    accuracy = float(line.split("analogy_accuracy ")[1].split(",")[0])
    assert accuracy > 0.1, out  # untrained vectors: about 0.005


def test_neighbors_analogy_eval_and_plot_of_a_vector_run(capsys, w2v_run):
    status, out, err = run(capsys, "neighbors", w2v_run, "king", "-k", "3")
    assert status == 0, err
    rows = out.splitlines()
    assert len(rows) == 3 and all(len(row.split()) == 2 and row.split()[1] != "king" for row in rows)
    status, out, err = run(capsys, "analogy", w2v_run, "man", "king", "woman", "-k", "2")
    assert status == 0, err
    answers = [row.split()[1] for row in out.splitlines()[1:]]
    assert len(answers) == 2 and not {"man", "king", "woman"} & set(answers)
    status, out, err = run(capsys, "eval", w2v_run)
    assert status == 0 and "test analogy_accuracy" in out and "spearman" in out
    status, out, err = run(capsys, "plot", w2v_run, "--words", "king", "queen", "paris", "--words-output", "w.png",
                           "--output", "c.png")
    assert status == 0, err
    assert out.split() == ["c.png", "w.png"] and os.path.getsize("w.png") > 1000


@pytest.mark.parametrize("argv, message", [
    (["neighbors", "RUN", "kingz"], "word not in the vocabulary: 'kingz'"),
    (["analogy", "RUN", "man", "king", "womanz"], "word not in the vocabulary: 'womanz'"),
    (["plot", "RUN", "--words", "king", "nope"], "word not in the vocabulary: 'nope'"),
    (["neighbors", "RUN", "king", "-k", "0"], "-k must be at least 1; got 0"),
    (["neighbors", "missing", "king"], "checkpoint not found: missing"),
])
def test_bad_input_is_one_line(capsys, w2v_run, argv, message):
    argv = [w2v_run if a == "RUN" else a for a in argv]
    status, out, err = run(capsys, *argv)
    assert status != 0 and err.count("\n") == 1 and message in err


def test_a_run_of_another_kind_is_refused_in_one_line(capsys):
    assert main(["train", "adding", "--seq-len", "4", "--hidden-size", "3", "--max-steps", "1", "--eval-size", "5",
                 *QUIET, "--out", "a"]) == 0
    capsys.readouterr()
    status, out, err = run(capsys, "neighbors", "a", "king")
    assert status == 1 and err == "microseq neighbors: error: a is a adding run; this command needs a word2vec or glove run\n"
    status, out, err = run(capsys, "plot", "a", "--words", "king")
    assert status == 2 and "--words and --words-output are for word2vec and glove runs" in err


@pytest.mark.parametrize("argv, message", [
    (["train", "glove", "--cbow"], "--cbow is for the word2vec task, not glove"),
    (["train", "charlm", "--window", "3"], "--window is for the word2vec, glove tasks, not charlm"),
    (["train", "word2vec", "--negatives", "0"], "negatives must be at least 1; got 0"),
])
def test_options_of_another_task_are_refused(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status != 0 and message in err and not os.path.exists("runs")


def test_a_corpus_with_too_few_words_for_the_negatives_is_one_line(capsys):
    status, out, err = run(capsys, "train", "word2vec", "--train-size", "2", "--negatives", "50", *QUIET)
    assert status == 1 and "50 negatives need at least 51" in err and not os.path.exists("runs")


def test_train_ngram_scores_charlms_held_out_text_and_stores_counts(capsys, tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("the quick brown fox jumps over the lazy dog. " * 200)
    status, out, err = run(capsys, "train", "ngram", "--text", str(text), "--order", "3", *QUIET, "--out", "r")
    assert status == 0, err
    assert "3-gram (kneser-ney)" in out and "bpc" in out and "train --resume" not in out
    [(step, path)] = RunCheckpoints("r").all()
    state = load_checkpoint(path, restore_rng=False)["model_state"]
    assert step == 1 and {"order1_counts", "order3_codes", "order3_continuation"} <= set(state)
    assert all(a.dtype == np.float64 for a in state.values())
    status, out, err = run(capsys, "eval", "r")
    assert status == 0 and "valid        bpc:" in out
    bpc = float(next(line for line in out.splitlines() if " bpc:" in line).split()[2])
    assert bpc < 0.5  # a repeated sentence is almost certain after two characters


@pytest.mark.parametrize("smoothing", ["ml", "add-k", "kneser-ney"])
def test_ngram_smoothings_score_the_same_text_as_the_library(capsys, tmp_path, smoothing):
    from microseq.data import CharVocab, split_text
    from microseq.text import NGramLM

    source = "abracadabra, said the cat to the bat. " * 40
    (tmp_path / "t.txt").write_text(source)
    status, out, err = run(capsys, "train", "ngram", "--text", "t.txt", "--order", "2", "--smoothing", smoothing,
                           *QUIET, "--out", "r")
    assert status == 0, err
    train, valid = split_text(source, 0.05)
    vocab = CharVocab.build(train)
    expected = NGramLM(2, len(vocab), smoothing).fit(vocab.encode(train)).cross_entropy(vocab.encode(valid))
    shown = float(next(line for line in out.splitlines() if line.strip().startswith("loss:")).split()[1])
    assert shown == pytest.approx(expected, abs=6e-5)


def test_sentiment_with_naive_bayes_is_one_step_and_beats_the_baseline(capsys):
    status, out, err = run(capsys, "train", "sentiment", "--model", "naive-bayes", "--train-size", "2000",
                           "--eval-size", "200", *QUIET, "--out", "r")
    assert status == 0, err
    assert "Naive Bayes" in out and [s for s, _ in RunCheckpoints("r").all()] == [1]
    accuracy = float(next(line for line in out.splitlines() if "accuracy:" in line).split()[1])
    assert accuracy > 0.6  # the baseline (the most frequent label) is about 0.5
    state = load_checkpoint(RunCheckpoints("r").latest()[1], restore_rng=False)["model_state"]
    assert state["documents"].sum() == 2000  # the counts themselves
    status, out, err = run(capsys, "eval", "r")
    assert status == 0 and "test   accuracy" in out


@pytest.mark.parametrize("argv, message", [
    (["train", "sentiment", "--model", "naive-bayes", "--max-steps", "3"], "counts in one pass: max_steps must be 1"),
    (["train", "ngram", "--max-steps", "2"], "counts in one pass: max_steps must be 1"),
    (["train", "adding", "--model", "naive-bayes"], "--model is for the sentiment task, not adding"),
    (["train", "ngram", "--smoothing", "witten-bell"], "invalid choice: 'witten-bell'"),
    (["train", "ngram", "--order", "0"], "order must be at least 1; got 0"),
])
def test_count_model_options_are_checked_in_one_line(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status != 0 and message in err and err.count("\n") == 1 and not os.path.exists("runs")


@pytest.mark.parametrize("argv, message", [
    (["train", "word2vec", "--hidden-size", "8"], "--hidden-size is for the charlm, adding, copy, sentiment, postag, "
                                                  "reverse, sort, dates, caption, vqa tasks, not word2vec"),
    (["train", "glove", "--optimizer", "adam"], "--optimizer is for the charlm"),
    (["train", "ngram", "--lr", "0.1"], "not ngram"),
    (["train", "sentiment", "--model", "naive-bayes", "--hidden-size", "8"],
     "--hidden-size is not read by sentiment --model naive-bayes (counted in one pass)"),
])
def test_network_and_optimizer_options_are_refused_by_models_without_them(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 1 and message in err and err.count("\n") == 1 and not os.path.exists("runs")
