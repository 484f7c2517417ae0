"""Ready-made assignment 06 (see the package docstring): built on the ready-made 03 and 05."""

from collections.abc import Iterator

import torch
from torch import Tensor

from .backprop import backward
from .mlp import init_params

Params = list[tuple[Tensor, Tensor]]


def sgd_step(params: Params, grads: Params, lr: float) -> Params:
    """[(W - lr*gW, b - lr*gb), ...]."""
    return [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(params, grads)]


def minibatches(X: Tensor, y: Tensor, batch_size: int,
                generator: torch.Generator | None = None) -> Iterator[tuple[Tensor, Tensor]]:
    """Rows in order, or in the order of torch.randperm(n, generator=generator), batch_size at a time."""
    n = X.shape[0]
    order = torch.arange(n) if generator is None else torch.randperm(n, generator=generator)
    for rows in torch.split(order, batch_size):
        yield X[rows], y[rows]


def train(X: Tensor, y: Tensor, layer_sizes: list[int], lr: float = 0.5, epochs: int = 200,
          batch_size: int = 32, seed: int = 0) -> tuple[Params, list[float]]:
    """init_params with a seeded generator, then per epoch: minibatches, backward (ReLU), sgd_step."""
    generator = torch.Generator().manual_seed(seed)
    params = init_params(layer_sizes, generator=generator)
    losses = []
    for _ in range(epochs):
        batch_losses = []
        for X_batch, y_batch in minibatches(X, y, batch_size, generator=generator):
            loss, grads = backward(X_batch, y_batch, params, activation="relu")
            params = sgd_step(params, grads, lr)
            batch_losses.append(loss.item())
        losses.append(sum(batch_losses) / len(batch_losses))
    return params, losses
