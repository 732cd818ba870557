"""What ``microseq bench`` times beyond one recurrent layer, each in microseq and in PyTorch: whole training
steps of the CLI's models, and the layers of the captioning CNN.

A training step is what ``microseq train`` does per batch: draw the batch, forward, loss, backward, clip the
gradient norm, step the optimizer and the learning-rate schedule. The microseq step is built by the CLI's own
code (:func:`~microseq.training.config.make_config`, :func:`~microseq.training.tasks.make_task`,
``task.build_model``, :func:`~microseq.training.trainer.make_optimizer`), so it times exactly what a user
runs. The PyTorch step rebuilds the same architecture (same sizes, same attention, teacher forcing) and
draws its batches from the same data code, so that both sides pay for the data alike.

Rows (:data:`STEPS`), each a task and its settings on top of the task's defaults:

- ``charlm``: the default ``microseq train`` model (Embedding, LSTM H=256, Linear head; B=32, T=100);
- ``charlm 2 layers``: a two-layer LSTM, H=128, B=16, T=50;
- ``dates``: the ``dates`` encoder-decoder (bidirectional GRU encoder, GRU decoder with Luong's general
  attention and input feeding, B=64), trained with teacher forcing.

The CNN rows (:func:`cnn_layers`) time forward and backward of each layer of the captioning and VQA encoder
(:func:`microseq.vision.encoder.conv_encoder`: conv 3x3, BatchNorm2d in training mode, ReLU, 2x2 max-pool per
block) at the input it meets there, at the caption task's batch and image size, and the whole encoder.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["STEPS", "QUICK_SETTINGS", "microseq_step", "torch_step", "step_config", "cnn_layers"]

STEPS = {  # row name: (task, settings on top of the task's defaults)
    "charlm": ("charlm", {}),
    "charlm 2 layers": ("charlm", dict(layers=2, hidden_size=128, batch_size=16, seq_len=50)),
    "dates": ("dates", {}),
}
#: ``--quick``: the same code at toy sizes (a smoke test).
QUICK_SETTINGS = {
    "charlm": dict(hidden_size=8, embedding_size=4, batch_size=2, seq_len=6, corpus_chars=5000),
    "dates": dict(hidden_size=4, decoder_hidden_size=4, embedding_size=4, batch_size=2, eval_size=4, test_size=4),
}


def step_config(name: str, quick: bool = False):
    """The validated :class:`~microseq.training.config.TrainConfig` of row ``name`` (``quick``: toy sizes)."""
    from .training.config import make_config

    task, settings = STEPS[name]
    return make_config(task, **{**settings, **(QUICK_SETTINGS[task] if quick else {}), "progress": "off"})


def microseq_step(config):
    """One ``microseq train`` step of ``config``'s task, built by the CLI's code; returns ``(step, task, model)``."""
    from .optim import clip_grad_norm_
    from .random import manual_seed
    from .training.tasks import make_task
    from .training.trainer import make_optimizer, make_scheduler

    manual_seed(config.seed)
    task = make_task(config)
    model = task.build_model()
    optimizer = make_optimizer(config, model.parameters())
    scheduler = make_scheduler(config, optimizer)
    parameters = list(model.parameters())

    def step():  # the trainer's step (Trainer._steps) without its bookkeeping
        optimizer.zero_grad()
        task.train_step(model)
        clip_grad_norm_(parameters, config.clip or math.inf)
        optimizer.step()
        scheduler.step()

    return step, task, model


def torch_step(config, task):
    """The same step in PyTorch: the model of ``config`` rebuilt with ``torch.nn``, batches drawn from ``task``'s
    data (a stream of its own), Adam, norm clipping and a constant or cosine schedule as the CLI's; returns
    ``(step, model)``."""
    import torch

    torch.manual_seed(config.seed)
    if config.task == "charlm":
        model, draw, loss_of = _torch_charlm(torch, config, task)
    else:
        model, draw, loss_of = _torch_seq2seq(torch, config, task)
    if config.optimizer != "adam":
        raise ValueError(f"torch_step: only the adam optimizer is rebuilt, not {config.optimizer!r}")
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    if config.schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.max_steps)
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    parameters = list(model.parameters())

    def step():
        batch = draw()
        optimizer.zero_grad()
        loss = loss_of(batch)
        loss.backward()
        loss.item()
        torch.nn.utils.clip_grad_norm_(parameters, config.clip or math.inf)
        optimizer.step()
        scheduler.step()

    return step, model


def _torch_charlm(torch, config, task):
    """Embedding -> RNN/LSTM/GRU -> Linear, with the state carried between batches (detached) as
    :func:`~microseq.training.tbptt.tbptt_backward` does with ``bptt = seq_len``."""
    from .data import LMStream

    nn = torch.nn
    if (config.bptt or config.seq_len) != config.seq_len or config.dropout:
        raise ValueError("torch_step: the charlm rebuild has no truncation inside a batch and no dropout")
    vocab = len(task.vocab)
    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[config.cell]
    options = dict(nonlinearity=config.nonlinearity) if config.cell == "rnn" else {}

    class CharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, config.embedding_size)
            self.rnn = layer(config.embedding_size, config.hidden_size, config.layers, batch_first=True, **options)
            self.head = nn.Linear(config.hidden_size, vocab)

        def forward(self, ids, state):
            output, state = self.rnn(self.embedding(ids), state)
            return self.head(output), state

    model = CharLM()
    stream = LMStream(task.train_ids, config.batch_size, config.seq_len, seed=[config.seed, 1])
    carried = {"state": None}

    def loss_of(batch):
        state = None if batch.reset else carried["state"]
        logits, state = model(torch.from_numpy(batch.inputs), state)
        carried["state"] = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        targets = torch.from_numpy(batch.targets).reshape(-1)
        return torch.nn.functional.cross_entropy(logits.reshape(targets.numel(), -1), targets,
                                                 reduction="sum") / targets.numel()

    return model.to(getattr(torch, config.dtype)), lambda: next(stream), loss_of


def _torch_seq2seq(torch, config, task):
    """The :class:`~microseq.seq2seq.Seq2Seq` of ``task`` in PyTorch: a packed (lengths) recurrent encoder, the
    bridge ``tanh(W_b [h_fwd; h_bwd])``, and a Luong decoder (dot or general score, input feeding) run step by
    step with teacher forcing; the loss counts each target up to its first EOS (``sequence_loss``)."""
    from .seq2seq.model import mask_after_eos
    from .seq2seq.tasks import EOS, PAD, make_batch

    nn, F = torch.nn, torch.nn.functional
    c = task.model_settings
    if c.attention not in ("dot", "general") or not c.input_feeding or c.layers != 1 or c.decoder_layers != 1 \
            or c.dropout or config.teacher_forcing != 1.0:
        raise ValueError("torch_step: the seq2seq rebuild is one layer each, Luong dot or general attention with "
                         "input feeding, no dropout, teacher forcing 1")
    H, K = c.decoder_hidden_size, c.hidden_size * (2 if c.bidirectional else 1)
    layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[c.cell]
    cell = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[c.cell]

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.source_embedding = nn.Embedding(c.source_vocab_size, c.embedding_size, padding_idx=PAD)
            self.encoder = layer(c.embedding_size, c.hidden_size, batch_first=True, bidirectional=c.bidirectional)
            self.target_embedding = nn.Embedding(c.target_vocab_size, c.embedding_size, padding_idx=PAD)
            self.W_a = nn.Linear(K, H, bias=False) if c.attention == "general" else nn.Identity()
            self.cell = cell(c.embedding_size + H, H)
            self.bridge = nn.Linear(K, H)
            self.attentional = nn.Linear(K + H, H, bias=False)
            self.output = nn.Linear(H, c.target_vocab_size)

        def forward(self, src, lengths, tgt_in):
            packed = nn.utils.rnn.pack_padded_sequence(self.source_embedding(src), lengths, batch_first=True,
                                                       enforce_sorted=False)
            keys, h_n = self.encoder(packed)
            keys, _ = nn.utils.rnn.pad_packed_sequence(keys, batch_first=True, total_length=src.shape[1])
            h_n = h_n[0] if isinstance(h_n, tuple) else h_n
            final = torch.cat([h_n[-2], h_n[-1]], -1) if c.bidirectional else h_n[-1]
            h = torch.tanh(self.bridge(final))
            state = (h, torch.zeros_like(h)) if c.cell == "lstm" else h
            mask = (torch.arange(src.shape[1])[None, :] < lengths[:, None])
            prepared = self.W_a(keys)  # (B, S, H)
            feed, logits = torch.zeros_like(h), []
            for t in range(tgt_in.shape[1]):
                state = self.cell(torch.cat([self.target_embedding(tgt_in[:, t]), feed], -1), state)
                top = state[0] if isinstance(state, tuple) else state
                scores = torch.bmm(prepared, top.unsqueeze(2)).squeeze(2).masked_fill(~mask, -math.inf)
                context = torch.bmm(torch.softmax(scores, -1).unsqueeze(1), keys).squeeze(1)
                feed = torch.tanh(self.attentional(torch.cat([context, top], -1)))
                logits.append(self.output(feed))
            return torch.stack(logits, 1)

    model = Seq2Seq()
    rng = np.random.default_rng([config.seed, 1])

    def draw():
        return make_batch(task.pairs.sample(config.batch_size, rng), task.pairs.source_vocab, task.pairs.target_vocab)

    def loss_of(batch):
        logits = model(torch.from_numpy(batch.inputs), torch.from_numpy(batch.lengths), torch.from_numpy(batch.decoder_inputs))
        counted = np.where(mask_after_eos(batch.targets, EOS), batch.targets, -100)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(counted.reshape(-1)),
                               ignore_index=-100)

    return model, draw, loss_of


def cnn_layers(quick: bool = False) -> dict:
    """``{name: (microseq step, PyTorch step)}``: forward and backward (a fixed random upstream gradient) of each
    layer of the captioning encoder but its ReLUs, at the input it meets there, then of the whole encoder.

    The batch and image side are the caption task's defaults (``quick``: 2 images of 8x8). The images need no
    gradient, every later layer's input does, as in training; BatchNorm2d runs in training mode.
    """
    import torch

    from .nn import ReLU
    from .training.config import FIELDS, TASK_DEFAULTS
    from .vision.encoder import conv_encoder

    batch, side = (2, 8) if quick else (TASK_DEFAULTS["caption"]["batch_size"], FIELDS["image_size"].default)
    encoder = conv_encoder()
    twin = torch.nn.Sequential(*(_torch_layer(torch, layer) for layer in encoder))
    images = np.random.default_rng(0).standard_normal((batch, encoder[0].in_channels, side, side)).astype(np.float32)
    steps, x = {}, images
    for position, (layer, torch_layer) in enumerate(zip(encoder, twin)):
        if not isinstance(layer, ReLU):
            name = f"{_describe(layer)} {'x'.join(map(str, x.shape))}"
            steps[name] = _module_steps(torch, layer, torch_layer, x, input_grad=position > 0)
        x = layer(x).data
    steps[f"encoder, {len(encoder) // 4} blocks {'x'.join(map(str, images.shape))}"] = _module_steps(
        torch, encoder, twin, images, input_grad=False)
    return steps


def _describe(layer) -> str:
    from .nn import BatchNorm2d, Conv2d

    if isinstance(layer, Conv2d):
        return f"conv2d {layer.in_channels}->{layer.out_channels} {'x'.join(map(str, layer.kernel_size))}"
    if isinstance(layer, BatchNorm2d):
        return "batchnorm2d"
    return f"max_pool2d {layer.kernel_size}"


def _torch_layer(torch, layer):
    """The ``torch.nn`` layer with ``layer``'s settings (a Conv2d, BatchNorm2d, ReLU or MaxPool2d of microseq)."""
    from .nn import BatchNorm2d, Conv2d, MaxPool2d, ReLU

    nn = torch.nn
    if isinstance(layer, Conv2d):
        return nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
                         layer.dilation, layer.groups, bias=layer.bias is not None)
    if isinstance(layer, BatchNorm2d):
        return nn.BatchNorm2d(layer.num_features, layer.eps, layer.momentum, layer.affine, layer.track_running_stats)
    if isinstance(layer, MaxPool2d):
        return nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding, layer.dilation, ceil_mode=layer.ceil_mode)
    if isinstance(layer, ReLU):
        return nn.ReLU()
    raise ValueError(f"_torch_layer: no PyTorch twin for {type(layer).__name__}")


def _module_steps(torch, module, torch_module, x: np.ndarray, input_grad: bool):
    """Forward and backward of ``module`` and of its PyTorch twin on ``x`` (float32), the same upstream gradient."""
    from .tensor import Tensor

    inputs = Tensor(x, requires_grad=input_grad)
    torch_inputs = torch.from_numpy(x.copy()).requires_grad_(input_grad)
    upstream = np.random.default_rng(1).standard_normal(module(inputs).shape).astype(np.float32)
    torch_upstream = torch.from_numpy(upstream.copy())

    def step():
        module.zero_grad()
        inputs.grad = None
        module(inputs).backward(upstream)

    def torch_step():
        torch_module.zero_grad()
        torch_inputs.grad = None
        torch_module(torch_inputs).backward(torch_upstream)

    return step, torch_step
