"""The primitive ops: each computes a value and states its gradient next to it."""

from .activation import *  # noqa: F403  (leaky_relu, elu, selu, gelu, silu, softplus, ...)
from .activation import __all__ as _activation_all
from .creation import empty, eye, full_like, linspace, ones_like, rand_like, randn_like, zeros_like
from .dropout import dropout
from .elementwise import (
    abs, add, astype, bitwise_and, bitwise_not, bitwise_or, clip, div, eq, exp, ge, gt, le, log, lt,
    masked_fill, mul, ne, neg, pow, relu, sigmoid, sign, sqrt, sub, tanh, where,
)
from .einsum import einsum
from .indexing import (
    ValuesIndices, argsort, gather, index_add, index_select, one_hot, scatter, scatter_add, sort, take_along_dim, topk,
)
from .layout import (
    diagonal, expand, flatten, flip, movedim, narrow, pad, repeat, repeat_interleave, roll, tile, tril,
    triu, unflatten,
)
from .linalg import matmul
from .loss import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cosine_embedding_loss, cosine_similarity,
    cross_entropy, huber_loss, kl_div, l1_loss, mse_loss, nll_loss, smooth_l1_loss,
)
from .math import *  # noqa: F403  (sin, cos, maximum, floor, erf, isnan, ...)
from .math import __all__ as _math_all
from .reduction import log_softmax, logsumexp, max, mean, min, softmax, sum
from .scan import cumprod, cumsum
from .shape import (
    broadcast_to, chunk, concatenate, getitem, moveaxis, reshape, split, squeeze, stack, swapaxes, transpose, unsqueeze,
)
from .statistics import all, amax, amin, any, argmax, argmin, norm, prod, std, var

clamp = clip
cat = concatenate

__all__ = [
    "abs", "add", "astype", "binary_cross_entropy_with_logits", "bitwise_and", "bitwise_not", "bitwise_or", "cat", "chunk", "clamp", "clip", "concatenate",
    "cross_entropy", "div", "dropout", "eq", "exp", "ge", "getitem", "gt", "le", "log", "log_softmax",
    "logsumexp", "lt", "masked_fill", "matmul", "max", "mean", "min", "mse_loss", "mul", "ne", "neg",
    "nll_loss", "pow", "relu", "reshape", "sigmoid", "sign", "softmax", "split", "sqrt", "squeeze", "stack", "sub",
    "sum", "swapaxes", "tanh", "transpose", "unsqueeze", "where",
    # losses (microseq.ops.loss), math (microseq.ops.math), activations (microseq.ops.activation)
    "binary_cross_entropy", "cosine_embedding_loss", "cosine_similarity", "huber_loss", "kl_div", "l1_loss",
    "smooth_l1_loss", *_math_all, *_activation_all,
    # layout (microseq.ops.layout)
    "broadcast_to", "diagonal", "expand", "flatten", "flip", "moveaxis", "movedim", "narrow", "pad", "repeat",
    "repeat_interleave", "roll", "tile", "tril", "triu", "unflatten",
    # reductions (microseq.ops.statistics, microseq.ops.scan)
    "all", "amax", "amin", "any", "argmax", "argmin", "cumprod", "cumsum", "norm", "prod", "std", "var",
    # indexing (microseq.ops.indexing, microseq.ops.einsum)
    "ValuesIndices", "argsort", "einsum", "gather", "index_add", "index_select", "one_hot", "scatter",
    "scatter_add", "sort", "take_along_dim", "topk",
    # creation (microseq.ops.creation)
    "empty", "eye", "full_like", "linspace", "ones_like", "rand_like", "randn_like", "zeros_like",
]
