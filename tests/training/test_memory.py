"""The up-front memory estimate: exact parameter counts, and a one-line refusal with the figure in GiB."""

import sys

import pytest

from microseq.training.config import ConfigError, make_config
from microseq.training.memory import GIB, check_memory, total_memory, training_bytes
from microseq.training.tasks import make_task

MODELS = {
    "adding": dict(hidden_size=7, layers=2),
    "charlm": dict(corpus_chars=20_000, hidden_size=9, embedding_size=5, cell="gru"),
    "postag": dict(train_size=50, hidden_size=6, embedding_size=4, layers=2),  # bidirectional by default
    "copy": dict(hidden_size=5, cell="rnn"),
    "sentiment": dict(train_size=50, hidden_size=6, embedding_size=4, dtype="float64"),
}


@pytest.mark.parametrize("task", sorted(MODELS))
def test_the_parameter_estimate_is_the_built_models_size(task):
    config = make_config(task, **MODELS[task])
    built = make_task(config)
    itemsize = 8 if config.dtype == "float64" else 4
    estimate = training_bytes(config, built.model_config(), built.sequence_length())
    assert estimate["parameters"] == built.build_model().num_parameters() * itemsize
    assert estimate["gradients and optimizer"] == 3 * estimate["parameters"]  # Adam: gradient and two moments
    assert estimate["activations"] > 0


def test_a_run_larger_than_the_machine_is_refused_with_the_figure():
    config = make_config("adding", hidden_size=100_000)
    estimate = training_bytes(config, {"input_size": 2})
    assert 140 * GIB < estimate["parameters"] < 160 * GIB  # the 149 GiB matrix of issue 12
    with pytest.raises(ConfigError) as error:
        check_memory(config, estimate, available=16 * GIB)
    message = str(error.value)
    assert message.startswith("--hidden-size 100000 (with --layers 1, --batch-size 50) needs about 607.2 GiB")
    assert "but this machine has 16.0 GiB" in message and "\n" not in message
    check_memory(make_config("adding"), training_bytes(make_config("adding"), {"input_size": 2}), available=GIB)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sysconf and /proc are Linux's")
def test_the_machine_memory_is_known_on_linux():
    with open("/proc/meminfo", encoding="ascii") as f:
        physical = int(f.readline().split()[1]) * 1024  # MemTotal: N kB
    assert 0 < total_memory() <= physical * 1.01
