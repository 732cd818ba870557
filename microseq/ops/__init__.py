"""The primitive ops: each computes a value and states its gradient next to it."""

from .activation import *  # noqa: F403  (leaky_relu, elu, selu, gelu, silu, softplus, ...)
from .activation import __all__ as _activation_all
from .dropout import dropout
from .elementwise import (
    abs, add, astype, bitwise_and, bitwise_not, bitwise_or, clip, div, eq, exp, ge, gt, le, log, lt,
    masked_fill, mul, ne, neg, pow, relu, sigmoid, sign, sqrt, sub, tanh, where,
)
from .linalg import matmul
from .loss import (
    binary_cross_entropy, binary_cross_entropy_with_logits, cosine_embedding_loss, cosine_similarity,
    cross_entropy, huber_loss, kl_div, l1_loss, mse_loss, nll_loss, smooth_l1_loss,
)
from .math import *  # noqa: F403  (sin, cos, maximum, floor, erf, isnan, ...)
from .math import __all__ as _math_all
from .reduction import log_softmax, logsumexp, max, mean, min, softmax, sum
from .shape import chunk, concatenate, getitem, reshape, split, squeeze, stack, swapaxes, transpose, unsqueeze

clamp = clip
cat = concatenate

__all__ = [
    "abs", "add", "astype", "binary_cross_entropy_with_logits", "bitwise_and", "bitwise_not", "bitwise_or", "cat", "chunk", "clamp", "clip", "concatenate",
    "cross_entropy", "div", "dropout", "eq", "exp", "ge", "getitem", "gt", "le", "log", "log_softmax",
    "logsumexp", "lt", "masked_fill", "matmul", "max", "mean", "min", "mse_loss", "mul", "ne", "neg",
    "nll_loss", "pow", "relu", "reshape", "sigmoid", "sign", "softmax", "split", "sqrt", "squeeze", "stack", "sub",
    "sum", "swapaxes", "tanh", "transpose", "unsqueeze", "where",
    "binary_cross_entropy", "cosine_embedding_loss", "cosine_similarity", "huber_loss", "kl_div", "l1_loss",
    "smooth_l1_loss", *_math_all, *_activation_all,
]
