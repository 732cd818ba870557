"""The primitive ops: each computes a value and states its gradient next to it."""

from .dropout import dropout
from .elementwise import (
    abs, add, astype, bitwise_and, bitwise_not, bitwise_or, clip, div, eq, exp, ge, gt, le, log, lt,
    masked_fill, mul, ne, neg, pow, relu, sigmoid, sign, sqrt, sub, tanh, where,
)
from .linalg import matmul
from .loss import binary_cross_entropy_with_logits, cross_entropy, mse_loss, nll_loss
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
]
