"""nn: modules, layers, initialisers, losses, optimisers, model files and data splits, on autotensor.

    import nn
    model = nn.MLP([3, 3, 2, 1], "tanh")              # x @ W + b layers, W of shape (in, out)
    opt = nn.optim.Adam(model.parameters(), lr=0.01)
    loss = nn.mse(model(X), y)
    opt.zero_grad(); loss.backward(); opt.step()
    nn.save(model, "model.npz", metadata={...}); model, metadata = nn.load("model.npz")

Any model built from nn's modules can be saved; a model class of your own too, once it says how
to rebuild it (``get_config()``) and is registered (``@nn.register_module``).

The top level is the library only.  What is built with it lives in subpackages that the library
never imports: ``nn.carprice`` (the car-price application), ``nn.backprop`` (the documents'
hand-derived backprop and its comparison with autograd) and ``nn.cli`` (the command line).
"""
from nn import data, init, optim
from nn.architecture import register_module
from nn.clipping import clip_grad_norm
from nn.conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from nn.layers import (
    ACTIVATIONS, MLP, Dropout, Identity, LeakyReLU, Linear, ReLU, Sigmoid, Softplus, Tanh, activation_module,
    split_bias_row,
)
from nn.losses import (
    LOSSES, binary_cross_entropy, binary_cross_entropy_with_logits, get_loss, half_sse, l2_penalty, mse,
    softmax_cross_entropy,
)
from nn.module import IncompatibleKeys, Module, ModuleList, Parameter, Sequential, StateDictError
from nn.optim import SGD, Adam
from nn.serialization import LoadedModel, ModelFileError, load, save

__all__ = [
    "ACTIVATIONS", "Adam", "Dropout", "Identity", "IncompatibleKeys", "LOSSES", "LeakyReLU", "Linear",
    "LoadedModel", "MLP", "ModelFileError", "Module", "ModuleList", "Parameter", "ReLU", "SGD", "Sequential",
    "Sigmoid", "Softplus", "StateDictError", "Tanh", "activation_module", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "clip_grad_norm", "data", "get_loss", "half_sse", "init", "l2_penalty",
    "load", "mse", "optim", "register_module", "save", "softmax_cross_entropy", "split_bias_row",
    "AvgPool2d", "Conv2d", "Flatten", "MaxPool2d",
]
