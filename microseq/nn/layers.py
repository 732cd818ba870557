"""The basic layers: ``Linear``, ``Embedding``, ``Dropout``, with PyTorch's parameter names and init."""

from __future__ import annotations

import math

import numpy as np

from .._checks import check_float_dtype
from ..ops import dropout
from ..random import default_generator
from . import functional as F
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["Linear", "Embedding", "Dropout", "uniform_parameter"]


def uniform_parameter(shape: tuple, bound: float, dtype=np.float32, generator=None) -> Parameter:
    """A parameter drawn from U(-bound, bound) (PyTorch's default for linear and recurrent layers)."""
    rng = generator or default_generator()
    return Parameter(rng.uniform(-bound, bound, size=shape).astype(dtype))


class Linear(Module):
    """``y = x W^T + b``.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
    dtype : float32 (default) or float64

    Shapes: input (..., in_features) -> output (..., out_features). ``weight`` is (out_features,
    in_features), initialised like PyTorch from U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=np.float32) -> None:
        super().__init__()
        dtype = check_float_dtype("Linear", dtype)
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features) if in_features else 0.0
        self.weight = uniform_parameter((out_features, in_features), bound, dtype)
        self.register_parameter("bias", uniform_parameter((out_features,), bound, dtype) if bias else None)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, initialised N(0, 1).

    Shapes: integer indices (...) -> (..., embedding_dim). The row ``padding_idx`` starts at zero and
    receives no gradient. :meth:`from_pretrained` starts from given vectors instead.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, dtype=np.float32,
                 _weight=None) -> None:
        super().__init__()
        dtype = check_float_dtype("Embedding", dtype)
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for {num_embeddings} rows")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        if _weight is not None:  # from_pretrained: the given table as it is, no random draw
            self.weight = _weight
            return
        table = default_generator().standard_normal((num_embeddings, embedding_dim)).astype(dtype)
        if self.padding_idx is not None:
            table[self.padding_idx] = 0
        self.weight = Parameter(table)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None) -> "Embedding":
        """An Embedding whose weight is ``embeddings`` (V, D), as ``torch.nn.Embedding.from_pretrained``.

        ``freeze`` leaves the weight out of training (it does not require grad). The row ``padding_idx`` is
        kept as given (not zeroed) and receives no gradient. A float ndarray or Tensor is used without a
        copy (its dtype kept); other inputs are converted to float32.
        """
        table = embeddings.data if isinstance(embeddings, Tensor) else embeddings
        if not (isinstance(table, np.ndarray) and table.dtype in (np.float32, np.float64)):
            table = np.asarray(table, dtype=np.float32)
        if table.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-dimensional (V, D), got shape "
                             f"{table.shape}")
        rows, dim = table.shape
        return cls(rows, dim, padding_idx, dtype=table.dtype, _weight=Parameter(table, requires_grad=not freeze))

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


class Dropout(Module):
    """Inverted dropout with probability ``p`` in training mode; the identity in eval mode."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return dropout(x, self.p, training=self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
