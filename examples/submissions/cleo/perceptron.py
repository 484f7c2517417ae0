"""Assignment 01: the artificial neuron and Rosenblatt's perceptron rule.

A neuron computes a weighted sum of its inputs plus a bias, then fires (1.0)
or stays silent (0.0). The perceptron rule nudges the weights towards every
example the neuron gets wrong. Shapes: ``x`` is ``(d,)`` for one example or
``(n, d)`` for a batch, ``w`` is ``(d,)`` and ``b`` is a 0-d tensor or a float.
"""

import torch
from torch import Tensor


def weighted_sum(x: Tensor, w: Tensor, b: Tensor | float) -> Tensor:
    """The neuron's input: z = x @ w + b.

    Args:
        x: one example ``(d,)`` or a batch ``(n, d)``, float32 or float64.
        w: weights ``(d,)``, same dtype as ``x``.
        b: bias, a 0-d tensor or a Python float.

    Returns:
        ``z`` of shape ``()`` for one example or ``(n,)`` for a batch, in the
        dtype of ``x``.
    """
    ### BEGIN SOLUTION
    return x @ w + b
    ### END SOLUTION


def step(z: Tensor) -> Tensor:
    """The Heaviside step function: 1.0 where z >= 0, else 0.0.

    Convention: step(0) = 1. The result has the same shape and dtype as ``z``
    (a float tensor of zeros and ones, not a bool tensor).
    """
    ### BEGIN SOLUTION
    return (z >= 0).to(z.dtype)
    ### END SOLUTION


def predict(x: Tensor, w: Tensor, b: Tensor | float) -> Tensor:
    """The perceptron's output: step(weighted_sum(x, w, b)).

    Returns 0.0 or 1.0 per example: shape ``()`` for ``x`` of shape ``(d,)``,
    ``(n,)`` for ``x`` of shape ``(n, d)``; dtype of ``x``.
    """
    ### BEGIN SOLUTION
    return step(weighted_sum(x, w, b))
    ### END SOLUTION


def update(x: Tensor, y: Tensor | float, w: Tensor, b: Tensor | float, lr: float) -> tuple[Tensor, Tensor]:
    """One step of Rosenblatt's rule on one example.

    With the error e = y - predict(x, w, b) (which is -1, 0 or +1):

        w_new = w + lr * e * x
        b_new = b + lr * e

    Args:
        x: one example ``(d,)``.
        y: its target, 0 or 1 (a float or a 0-d tensor).
        w: weights ``(d,)``; b: bias (0-d tensor or float); lr: learning rate.

    Returns:
        ``(w_new, b_new)``: new tensors, ``w_new`` of shape ``(d,)`` and
        ``b_new`` a 0-d tensor, both in the dtype of ``w``. ``w`` and ``b``
        are not modified.
    """
    ### BEGIN SOLUTION
    e = y - predict(x, w, b)
    return w + lr * e * x, torch.as_tensor(b + lr * e, dtype=w.dtype)
    ### END SOLUTION


def train(X: Tensor, y: Tensor, lr: float = 1.0, max_epochs: int = 100) -> tuple[Tensor, Tensor, list[int]]:
    """Train a perceptron with Rosenblatt's rule.

    Start from ``w = zeros(d)`` and ``b = 0`` (dtype of ``X``). Each epoch visits
    the rows of ``X`` in order; for each row, count it as a mistake if it is
    misclassified *before* its update, then apply :func:`update`. Stop after the
    first epoch with no mistakes, or after ``max_epochs`` epochs.

    Args:
        X: inputs ``(n, d)``; y: targets ``(n,)`` of 0.0 and 1.0.

    Returns:
        ``(w, b, mistakes)``: weights ``(d,)``, bias (0-d tensor) and a
        ``list[int]`` with the number of mistakes of every epoch that ran.
    """
    ### BEGIN SOLUTION
    w = torch.zeros(X.shape[1], dtype=X.dtype)
    b = torch.zeros((), dtype=X.dtype)
    mistakes: list[int] = []
    for _ in range(max_epochs):
        errors = 0
        for xi, yi in zip(X, y):
            if predict(xi, w, b) != yi:
                errors += 1
            w, b = update(xi, yi, w, b, lr)
        mistakes.append(errors)
        if errors == 0:
            break
    return w, b, mistakes
    ### END SOLUTION
