"""Checkpoints: bit-exact round trips, exact resumption, atomic writes, clear errors for bad files."""

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microseq as ms
from microseq import checkpoint, nn, optim
from microseq.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

safetensors_numpy = pytest.importorskip("safetensors.numpy")


class Bag(nn.Module):
    """A module holding the given arrays as parameters, named ``p0``, ``p1``, ... inside ``inner``."""

    def __init__(self, arrays):
        super().__init__()
        self.inner = nn.Module()
        for i, array in enumerate(arrays):
            setattr(self.inner, f"p{i}", nn.Parameter(array))


class Tagger(nn.Module):
    """Embedding -> dropout -> Linear: small, with randomness in the forward pass."""

    def __init__(self, dtype=np.float64):
        super().__init__()
        self.embed = nn.Embedding(7, 5, dtype=dtype)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(5, 4, dtype=dtype)

    def forward(self, tokens):
        return self.head(self.drop(self.embed(tokens)))


def any_floats(dtype):
    """Every float of the dtype, NaN, infinities, -0.0 and subnormals included."""
    return hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))


@given(st.lists(st.sampled_from([np.float32, np.float64]).flatmap(any_floats), min_size=1, max_size=4))
def test_save_then_load_reproduces_every_parameter_bit_for_bit(arrays):
    model = Bag([a.copy() for a in arrays])
    target = Bag([np.zeros(a.shape, a.dtype) for a in arrays])
    with tempfile.TemporaryDirectory() as directory:
        path = save_checkpoint(Path(directory) / "bag.safetensors", model)
        load_checkpoint(path, target)
    for original, (_, loaded) in zip(arrays, target.named_parameters()):
        assert loaded.dtype == original.dtype and loaded.shape == original.shape
        assert loaded.data.tobytes() == original.tobytes()


# -- resuming training -------------------------------------------------------------------------------------
OPTIMIZERS = [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.05),
    lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
]


def _train(model, optimizer, scheduler, steps, data):
    losses = []
    for tokens, labels in data[:steps]:
        loss = nn.CrossEntropyLoss()(model(tokens).reshape(-1, 4), labels.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS, ids=["SGD", "Adam", "AdamW", "Adagrad", "RMSprop"])
def test_resumed_training_equals_uninterrupted_training_bit_for_bit(make_optimizer, tmp_path):
    rng = np.random.default_rng(0)
    data = [(rng.integers(0, 7, (3, 4)), rng.integers(0, 4, (3, 4))) for _ in range(8)]

    def fresh(seed):
        ms.manual_seed(seed)
        model = Tagger()
        optimizer = make_optimizer(model.parameters())
        return model, optimizer, optim.lr_scheduler.warmup_cosine(optimizer, warmup_steps=2, total_steps=8)

    model, optimizer, scheduler = fresh(1)
    straight = _train(model, optimizer, scheduler, 8, data)

    first, first_optimizer, first_scheduler = fresh(1)
    resumed_losses = _train(first, first_optimizer, first_scheduler, 3, data)
    save_checkpoint(tmp_path / "ckpt.safetensors", first, first_optimizer, first_scheduler, step=3)
    ms.default_generator().random(10)  # the save must not depend on what happens afterwards

    resumed, resumed_optimizer, resumed_scheduler = fresh(99)  # other weights, other random stream
    meta = load_checkpoint(tmp_path / "ckpt.safetensors", resumed, resumed_optimizer, resumed_scheduler)
    assert meta["step"] == 3
    resumed_losses += _train(resumed, resumed_optimizer, resumed_scheduler, 8, data[3:])

    assert resumed_losses == straight
    for (name, p), (_, q) in zip(model.named_parameters(), resumed.named_parameters()):
        assert p.data.tobytes() == q.data.tobytes(), name


def test_rng_state_round_trips(tmp_path):
    ms.manual_seed(5)
    ms.default_generator().random(3)
    save_checkpoint(tmp_path / "c.safetensors")
    expected = ms.default_generator().random(4)
    ms.manual_seed(123)
    meta = load_checkpoint(tmp_path / "c.safetensors")
    np.testing.assert_array_equal(ms.default_generator().random(4), expected)
    assert meta["rng_state"]["bit_generator"] == "PCG64"

    ms.manual_seed(123)
    untouched = np.random.default_rng(123).random(4)
    load_checkpoint(tmp_path / "c.safetensors", restore_rng=False)
    np.testing.assert_array_equal(ms.default_generator().random(4), untouched)


def test_metadata_vocab_arrays_and_config_round_trip(tmp_path):
    class Vocab:
        def to_dict(self):
            return {"symbols": ["a", "b"], "pad": 0}

    hidden = np.arange(6, dtype=np.float32).reshape(2, 3)
    config = {"hidden": 5, "dropout": np.float32(0.25), "layers": (1, 2)}
    save_checkpoint(tmp_path / "c.safetensors", step=42, config=config, vocab=Vocab(), extra={"bpc": 1.5},
                    arrays={"hidden": hidden})
    meta = load_checkpoint(tmp_path / "c.safetensors", restore_rng=False)
    assert meta["step"] == 42 and meta["format_version"] == checkpoint.FORMAT_VERSION
    assert meta["config"] == {"hidden": 5, "dropout": 0.25, "layers": [1, 2]}
    assert meta["vocab"] == {"symbols": ["a", "b"], "pad": 0} and meta["extra"] == {"bpc": 1.5}
    np.testing.assert_array_equal(meta["arrays"]["hidden"], hidden)
    assert meta["arrays"]["hidden"].dtype == np.float32


# -- atomic writes ---------------------------------------------------------------------------------------------
def _half_then_crash(file, data):
    file.write(bytes(data[: len(data) // 2]))
    raise OSError("disk full (simulated)")


def _failing_replace(source, destination):
    raise OSError("power cut before the rename (simulated)")


@pytest.mark.parametrize("where", ["during the write", "before the rename"])
def test_a_crash_mid_save_leaves_the_previous_checkpoint_intact(where, tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, Tagger(), step=1)
    before = path.read_bytes()
    if where == "during the write":
        monkeypatch.setattr(checkpoint, "_write_all", _half_then_crash)
    else:
        monkeypatch.setattr(checkpoint.os, "replace", _failing_replace)
    with pytest.raises(OSError, match="simulated"):
        save_checkpoint(path, Tagger(), step=2)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]  # no temporary file left behind
    monkeypatch.undo()
    assert load_checkpoint(path, Tagger(), restore_rng=False)["step"] == 1


def test_unserialisable_metadata_fails_before_touching_the_file(tmp_path):
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, step=1)
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match=r"config is not JSON-serialisable"):
        save_checkpoint(path, step=2, config={"activation": np.tanh})
    assert path.read_bytes() == before


# -- bad files ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved_file():
    """Bytes of a full checkpoint (model, optimizer with state, scheduler)."""
    ms.manual_seed(0)
    model = Tagger(np.float32)
    optimizer = optim.Adam(model.parameters())
    scheduler = optim.lr_scheduler.StepLR(optimizer, 2)
    model(np.array([[1, 2]])).sum().backward()
    optimizer.step()
    with tempfile.TemporaryDirectory() as directory:
        path = save_checkpoint(Path(directory) / "c.safetensors", model, optimizer, scheduler, step=1)
        return path.read_bytes()


def _load_bytes(data: bytes):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "broken.safetensors"
        path.write_bytes(data)
        model = Tagger(np.float32)
        optimizer = optim.Adam(model.parameters())
        with pytest.raises(CheckpointError, match=r"checkpoint .*broken\.safetensors") as error:
            load_checkpoint(path, model, optimizer, optim.lr_scheduler.StepLR(optimizer, 2))
        return str(error.value)


@given(data=st.data())
def test_a_truncated_file_is_a_clear_error(saved_file, data):
    length = data.draw(st.integers(0, len(saved_file) - 1))
    message = _load_bytes(saved_file[:length])
    assert "truncated or corrupted" in message


@given(data=st.data())
def test_any_flipped_byte_is_caught(saved_file, data):
    position = data.draw(st.integers(0, len(saved_file) - 1))
    flip = data.draw(st.integers(1, 255))
    corrupted = bytearray(saved_file)
    corrupted[position] ^= flip
    message = _load_bytes(bytes(corrupted))
    assert "corrupted" in message or "malformed" in message or "unknown format" in message


def test_tampered_metadata_with_a_valid_layout_is_caught(tmp_path, saved_file):
    from safetensors import safe_open

    path = tmp_path / "c.safetensors"
    path.write_bytes(saved_file)
    with safe_open(str(path), framework="numpy") as file:
        metadata = file.metadata()
        tensors = {name: file.get_tensor(name) for name in file.keys()}
    metadata["step"] = json.dumps(1000)
    safetensors_numpy.save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(CheckpointError, match=r"c\.safetensors is corrupted or was modified .* SHA-256"):
        load_checkpoint(path)


def test_loading_into_the_wrong_model_reports_every_mismatch_and_changes_nothing(tmp_path):
    ms.manual_seed(0)
    path = save_checkpoint(tmp_path / "c.safetensors", Tagger(np.float32), step=1)

    class Other(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(9, 5)  # wrong shape
            self.head = nn.Linear(5, 4, dtype=np.float64)  # wrong dtype (both parameters)
            self.extra = nn.Linear(2, 2)  # missing from the file

    other = Other()
    before = {name: p.data.copy() for name, p in other.named_parameters()}
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path, other, optim.SGD(other.parameters(), lr=0.1))
    message = str(error.value)
    assert "does not fit (6 problems)" in message
    assert "parameter embed.weight: shape (7, 5) in the checkpoint, (9, 5) in the model" in message
    assert "parameter head.weight: dtype float32 in the checkpoint, float64 in the model" in message
    assert "parameter head.bias: dtype float32" in message
    assert "parameter extra.weight: in the model, not in the checkpoint" in message
    assert "parameter extra.bias: in the model, not in the checkpoint" in message
    assert "optimizer: the checkpoint holds no optimizer state" in message
    assert all(np.array_equal(p.data, before[name]) for name, p in other.named_parameters())

    partial = load_checkpoint(path, Bag([]), strict=False)
    assert partial["unexpected"] == ["embed.weight", "head.weight", "head.bias"]


def test_a_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.safetensors"):
        load_checkpoint(tmp_path / "nothing.safetensors")


# -- interoperability ------------------------------------------------------------------------------------
def test_plain_safetensors_sees_pytorch_names(tmp_path):
    model = Tagger(np.float32)
    path = save_checkpoint(tmp_path / "weights.safetensors", model)
    assert list(safetensors_numpy.load_file(path)) == sorted(model.state_dict())
    assert sorted(model.state_dict()) == ["embed.weight", "head.bias", "head.weight"]

    optimizer = optim.Adam(model.parameters())
    model(np.array([[1]])).sum().backward()
    optimizer.step()
    path = save_checkpoint(tmp_path / "full.safetensors", model, optimizer)
    names = set(safetensors_numpy.load_file(path))
    assert {n for n in names if not n.startswith("optimizer.")} == set(model.state_dict())
    assert "optimizer.state.0.exp_avg" in names


def test_pytorch_loads_our_weights_and_we_load_pytorchs(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    ms.manual_seed(3)
    ours = Tagger().eval()
    theirs = torch.nn.ModuleDict({"embed": torch.nn.Embedding(7, 5), "head": torch.nn.Linear(5, 4)}).double()
    path = save_checkpoint(tmp_path / "ours.safetensors", ours)
    theirs.load_state_dict(safetensors_torch.load_file(path), strict=True)
    tokens = np.array([[1, 6, 0]])
    for name, value in theirs.state_dict().items():
        assert value.numpy().tobytes() == ours.state_dict()[name].tobytes()
    expected = theirs["head"](theirs["embed"](torch.tensor(tokens))).detach().numpy()
    np.testing.assert_allclose(ours(tokens).data, expected, rtol=1e-13)

    torch.nn.init.normal_(theirs["head"].weight)
    safetensors_torch.save_file(theirs.state_dict(), str(tmp_path / "theirs.safetensors"))
    meta = load_checkpoint(tmp_path / "theirs.safetensors", ours)
    assert meta["format_version"] is None
    np.testing.assert_array_equal(ours.head.weight.data, theirs["head"].weight.detach().numpy())
