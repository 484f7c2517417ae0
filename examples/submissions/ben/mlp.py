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
    ### BEGIN SOLUTION
    params = []
    for d_in, d_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        W = torch.randn(d_in, d_out, generator=generator) * math.sqrt(2.0 / d_in)
        params.append((W, torch.zeros(d_out)))
    return params
    ### END SOLUTION


def dense(x: Tensor, W: Tensor, b: Tensor) -> Tensor:
    """A dense (fully connected) layer: x @ W + b.

    Shapes: ``x`` ``(n, d_in)``, ``W`` ``(d_in, d_out)``, ``b`` ``(d_out,)``;
    the result is ``(n, d_out)`` in the dtype of ``x``.
    """
    ### BEGIN SOLUTION
    return x @ W + b
    ### END SOLUTION


def forward(x: Tensor, params: Params, activation: str = "relu") -> Tensor:
    """The forward pass of an MLP.

    Every layer but the last computes ``h = act(dense(h, W, b))``; the last
    layer is ``dense`` alone, so the result is the logits ``(n, d_out)``.
    ``activation`` names ``act``: ``"relu"``, ``"sigmoid"``, ``"tanh"`` or
    ``"step"``; any other name raises ``ValueError``.
    """
    ### BEGIN SOLUTION
    activations = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "step": step}
    if activation not in activations:
        raise ValueError(f"unknown activation {activation!r}")
    act = activations[activation]
    h = x
    for W, b in params[:-1]:
        h = act(dense(h, W, b))
    W, b = params[-1]
    return dense(h, W, b)
    ### END SOLUTION


def xor_params() -> Params:
    """Hand-chosen float32 parameters of a 2-2-1 network that computes XOR.

    Returns ``[(W1 (2, 2), b1 (2,)), (W2 (2, 1), b2 (1,))]`` such that
    ``step(forward(X, params, activation="step"))`` is ``[[0], [1], [1], [0]]``
    for ``X = [[0, 0], [0, 1], [1, 0], [1, 1]]``.
    Hint: XOR(a, b) = OR(a, b) and not AND(a, b).
    """
    ### BEGIN SOLUTION
    W1 = torch.tensor([[1.0, 1.0], [1.0, 1.0]])  # column 0: OR, column 1: AND
    b1 = torch.tensor([-0.5, -1.5])
    W2 = torch.tensor([[1.0], [-2.0]])  # OR and not AND
    b2 = torch.tensor([-0.5])
    return [(W1, b1), (W2, b2)]
    ### END SOLUTION
