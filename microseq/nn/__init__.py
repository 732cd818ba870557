"""Layers and models: ``Module`` and the layers a PyTorch user reaches for."""

from . import functional
from .layers import Dropout, Embedding, Linear
from .module import Module, ModuleList, Parameter, Sequential
from .bidirectional import Bidirectional
from .cells import GRUCell, LSTMCell, RNNCell
from .recurrent import GRU, LSTM, RNN
from .unroll import Recurrent
from .activation import (
    ELU, GELU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, Mish, ReLU, ReLU6, Sigmoid, SiLU,
    Softplus, Softsign, Tanh,
)
from .loss import (
    BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CosineSimilarity, CrossEntropyLoss, HuberLoss, KLDivLoss,
    L1Loss, MSELoss, NLLLoss, SmoothL1Loss, masked_cross_entropy,
)
from .conv import Conv2d
from .flatten import Flatten
from .normalization import BatchNorm2d
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
