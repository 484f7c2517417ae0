"""Assignment 06: the whole learning process, from scratch.

Training repeats three steps: take a minibatch, compute the loss and its
gradients (backpropagation), and move every parameter a small step against
its gradient (stochastic gradient descent).
"""

from collections.abc import Iterator

import torch
from torch import Tensor

from backprop import backward
from mlp import init_params

Params = list[tuple[Tensor, Tensor]]


def sgd_step(params: Params, grads: Params, lr: float) -> Params:
    """One step of gradient descent: returns ``[(W - lr*gW, b - lr*gb), ...]``.

    ``grads`` is shaped like ``params``. Returns new tensors; ``params`` is
    not modified.
    """
    ### BEGIN SOLUTION
    return [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(params, grads)]
    ### END SOLUTION


def minibatches(X: Tensor, y: Tensor, batch_size: int,
                generator: torch.Generator | None = None) -> Iterator[tuple[Tensor, Tensor]]:
    """Yield ``(X_batch, y_batch)`` pairs that cover every row of ``X`` exactly once.

    Without ``generator`` the rows come in order. With one, visit them in the
    order of a permutation drawn from it (for example
    ``torch.randperm(n, generator=generator)``). Batches hold
    ``batch_size`` rows, except the last, which holds what is left (it is not
    dropped).
    """
    ### BEGIN SOLUTION
    n = X.shape[0]
    order = torch.arange(n) if generator is None else torch.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        rows = order[start:start + batch_size]
        yield X[rows], y[rows]
    ### END SOLUTION


def train(X: Tensor, y: Tensor, layer_sizes: list[int], lr: float = 0.5, epochs: int = 200,
          batch_size: int = 32, seed: int = 0) -> tuple[Params, list[float]]:
    """Train a ReLU MLP classifier with minibatch SGD.

    ``generator = torch.Generator().manual_seed(seed)``; the parameters come
    from ``init_params(layer_sizes, generator)``. Each epoch then takes the
    batches of ``minibatches(X, y, batch_size, generator)`` (shuffled with that
    same generator), and for each batch computes ``backward(...)`` with ReLU
    and applies ``sgd_step``.

    Args:
        X: inputs ``(n, d)`` float32; y: labels ``(n,)`` int64.

    Returns:
        ``(params, losses)``: the trained parameters and a ``list[float]`` with
        the mean batch loss of each epoch.
    """
    ### BEGIN SOLUTION
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
    ### END SOLUTION
