"""Layers and models: ``Module`` and the layers a PyTorch user reaches for."""

from . import functional
from .layers import Dropout, Embedding, Linear
from .module import Module, ModuleList, Parameter, Sequential
