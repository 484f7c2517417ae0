"""Assignment 03: layers of neurons overcome XOR.

A dense layer computes ``x @ W + b`` for a whole batch at once: ``x`` is
``(n, d_in)``, ``W`` is ``(d_in, d_out)``, ``b`` is ``(d_out,)`` and the
output is ``(n, d_out)``. A multi-layer perceptron (MLP) stacks dense layers
with an activation between them. Parameters are a list of ``(W, b)`` pairs,
one per layer.
"""

import math

import torch
from torch import Tensor

from activations import relu, sigmoid, tanh
from perceptron import step

Params = list[tuple[Tensor, Tensor]]


def init_params(layer_sizes: list[int], generator: torch.Generator | None = None) -> Params:
    """He initialisation for an MLP with the given layer sizes.

    For every consecutive pair ``(d_in, d_out)`` of ``layer_sizes``: ``W``, of
    shape ``(d_in, d_out)``, holds independent draws (made with ``generator``)
    from a normal distribution of mean 0 and variance 2 / d_in, He's scale for
    ReLU layers; ``b = zeros(d_out)``. All float32. The same generator seed
    must give the same parameters.

    Example: ``layer_sizes=[2, 8, 3]`` gives ``[(W1 (2, 8), b1 (8,)), (W2 (8, 3), b2 (3,))]``.
    """
    raise NotImplementedError("init_params is not implemented yet: replace this line with your code.")


def dense(x: Tensor, W: Tensor, b: Tensor) -> Tensor:
    """A dense (fully connected) layer: x @ W + b.

    Shapes: ``x`` ``(n, d_in)``, ``W`` ``(d_in, d_out)``, ``b`` ``(d_out,)``;
    the result is ``(n, d_out)`` in the dtype of ``x``.
    """
    raise NotImplementedError("dense is not implemented yet: replace this line with your code.")


def forward(x: Tensor, params: Params, activation: str = "relu") -> Tensor:
    """The forward pass of an MLP.

    Every layer but the last computes ``h = act(dense(h, W, b))``; the last
    layer is ``dense`` alone, so the result is the logits ``(n, d_out)``.
    ``activation`` names ``act``: ``"relu"``, ``"sigmoid"``, ``"tanh"`` or
    ``"step"``; any other name raises ``ValueError``.
    """
    raise NotImplementedError("forward is not implemented yet: replace this line with your code.")


def xor_params() -> Params:
    """Hand-chosen float32 parameters of a 2-2-1 network that computes XOR.

    Returns ``[(W1 (2, 2), b1 (2,)), (W2 (2, 1), b2 (1,))]`` such that
    ``step(forward(X, params, activation="step"))`` is ``[[0], [1], [1], [0]]``
    for ``X = [[0, 0], [0, 1], [1, 0], [1, 1]]``.
    Hint: XOR(a, b) = OR(a, b) and not AND(a, b).
    """
    raise NotImplementedError("xor_params is not implemented yet: replace this line with your code.")
