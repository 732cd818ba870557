"""Optimizers, gradient clipping and learning-rate schedules, each matching its PyTorch namesake.

>>> import microseq as ms
>>> from microseq import nn, optim
>>> model = nn.Linear(3, 1)
>>> optimizer = optim.Adam(model.parameters(), lr=1e-3)
>>> scheduler = optim.lr_scheduler.warmup_cosine(optimizer, warmup_steps=10, total_steps=100)
>>> loss = model(ms.ones(4, 3)).sum()
>>> loss.backward()
>>> total_norm = optim.clip_grad_norm_(model.parameters(), max_norm=1.0)
>>> optimizer.step(); scheduler.step(); optimizer.zero_grad()
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "clip_grad_norm_", "clip_grad_value_",
    "lr_scheduler",
]
