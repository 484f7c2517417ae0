"""Assignment 04: loss functions measure how wrong a prediction is.

Every loss returns a 0-d tensor in the dtype of its input. The derivatives
return the gradient of that loss with respect to its first argument, with
the shape of that argument.
"""

import torch
from torch import Tensor

from activations import softmax


def mse(y_pred: Tensor, y_true: Tensor) -> Tensor:
    """Mean squared error: mean((y_pred - y_true)**2) over all elements; a 0-d tensor."""
    ### BEGIN SOLUTION
    return ((y_pred - y_true) ** 2).mean()
    ### END SOLUTION


def mse_derivative(y_pred: Tensor, y_true: Tensor) -> Tensor:
    """d mse / d y_pred = 2 * (y_pred - y_true) / N, where N = y_pred.numel().

    Shape and dtype of ``y_pred``.
    """
    ### BEGIN SOLUTION
    return 2 * (y_pred - y_true) / y_pred.numel()
    ### END SOLUTION


def binary_cross_entropy(p: Tensor, y: Tensor, eps: float = 1e-7) -> Tensor:
    """Binary cross-entropy: -mean(y * log(p) + (1 - y) * log(1 - p)).

    ``p`` holds predicted probabilities and ``y`` targets in {0, 1}, both of
    the same shape. ``log(0)`` is ``-inf``, so first clamp ``p`` to
    ``[eps, 1 - eps]``: the loss stays finite for ``p`` of exactly 0 or 1.
    Returns a 0-d tensor.
    """
    ### BEGIN SOLUTION
    p = p.clamp(eps, 1 - eps)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
    ### END SOLUTION


def cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy of raw scores: mean over rows of -log softmax(logits)[target].

    Shapes: ``logits`` ``(n, C)``, ``targets`` ``(n,)`` int64 class indices.
    Stable form (log-sum-exp): with m the row maximum,
        log softmax(z)_k = (z_k - m) - log(sum_j exp(z_j - m))
    which stays finite for logits up to 1e4 in magnitude. Returns a 0-d tensor.
    """
    ### BEGIN SOLUTION
    shifted = logits - logits.amax(dim=1, keepdim=True)
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    return -log_probs[torch.arange(logits.shape[0]), targets].mean()
    ### END SOLUTION


def cross_entropy_derivative(logits: Tensor, targets: Tensor) -> Tensor:
    """d cross_entropy / d logits = (softmax(logits) - one_hot(targets)) / n.

    ``one_hot(targets)`` is ``(n, C)`` with a 1 at each row's target column.
    Result: ``(n, C)``, dtype of ``logits``.
    """
    ### BEGIN SOLUTION
    one_hot = torch.zeros_like(logits)
    one_hot[torch.arange(logits.shape[0]), targets] = 1
    return (softmax(logits, dim=1) - one_hot) / logits.shape[0]
    ### END SOLUTION
