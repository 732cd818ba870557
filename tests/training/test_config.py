"""The options: task defaults, overrides, bad values named, TOML files, the round trip through a dict."""

import pytest

from microseq.training.config import FIELDS, RESUMABLE_OVERRIDES, TASK_DEFAULTS, TASKS, ConfigError, TrainConfig, load_toml, make_config


def test_task_defaults_name_real_fields_and_validate():
    for task, defaults in TASK_DEFAULTS.items():
        assert task in TASKS and set(defaults) <= set(FIELDS)
        make_config(task)
    assert RESUMABLE_OVERRIDES <= set(FIELDS)


def test_settings_override_task_defaults():
    config = make_config("adding", hidden_size=7, lr=1)
    assert (config.hidden_size, config.seq_len, config.lr) == (7, 100, 1.0)
    assert isinstance(config.lr, float)


@pytest.mark.parametrize("settings, message", [
    ({"hiden_size": 3}, "unknown key 'hiden_size' (did you mean 'hidden_size'?)"),
    ({"layers": 0}, "layers must be at least 1"),
    ({"layers": 1.5}, "layers must be an int"),
    ({"cell": "lstmm"}, "cell must be one of rnn, lstm, gru"),
    ({"dropout": 1.0}, "dropout must be in [0, 1)"),
    ({"bptt": 500}, "bptt must be between 1 and seq_len (100)"),
    ({"bidirectional": True}, "charlm cannot be bidirectional"),
    ({"lr": float("nan")}, "lr must be a positive number"),
    ({"seed": -1}, "seed must not be negative; got -1"),
    ({"train_size": 10}, "--train-size is for the sentiment, postag, word2vec, glove, caption, vqa tasks, not charlm"),
])
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ConfigError) as error:
        make_config("charlm", **settings)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_unknown_task():
    with pytest.raises(ConfigError, match="unknown task 'nope'; choose from charlm, adding"):
        make_config("nope")


def test_load_toml(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('task = "adding"\nhidden-size = 16\nlr = 0.01\nbidirectional = true\n')
    assert load_toml(str(path)) == {"task": "adding", "hidden_size": 16, "lr": 0.01, "bidirectional": True}
    path.write_text("hiden_size = 3\n")
    with pytest.raises(ConfigError, match=r"run.toml: unknown key 'hiden_size' \(did you mean 'hidden_size'\?\)"):
        load_toml(str(path))
    path.write_text("hidden_size = 'big'\n")
    with pytest.raises(ConfigError, match="hidden_size must be an int; got 'big'"):
        load_toml(str(path))
    path.write_text("hidden_size = \n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_toml(str(path))
    with pytest.raises(ConfigError, match="config file not found"):
        load_toml(str(tmp_path / "missing.toml"))


def test_config_round_trips_through_a_dict():
    config = make_config("postag", seed=3)
    assert TrainConfig(**config.to_dict()) == config


# -- metrics -----------------------------------------------------------------------------------------------------
