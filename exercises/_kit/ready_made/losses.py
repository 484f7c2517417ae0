"""Ready-made assignment 04 (see the package docstring)."""

import torch
from torch import Tensor


def mse(y_pred: Tensor, y_true: Tensor) -> Tensor:
    """mean((y_pred - y_true)**2), by torch.nn.functional.mse_loss."""
    return torch.nn.functional.mse_loss(y_pred, y_true)


def mse_derivative(y_pred: Tensor, y_true: Tensor) -> Tensor:
    """2 * (y_pred - y_true) / numel."""
    return 2 * (y_pred - y_true) / y_pred.numel()


def binary_cross_entropy(p: Tensor, y: Tensor, eps: float = 1e-7) -> Tensor:
    """BCE with p clamped to [eps, 1 - eps], by torch.nn.functional.binary_cross_entropy."""
    return torch.nn.functional.binary_cross_entropy(p.clamp(eps, 1 - eps), y)


def cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean of -log softmax(logits)[target], by torch.nn.functional.cross_entropy."""
    return torch.nn.functional.cross_entropy(logits, targets)


def cross_entropy_derivative(logits: Tensor, targets: Tensor) -> Tensor:
    """(softmax(logits) - one_hot(targets)) / n."""
    one_hot = torch.nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype)
    return (torch.softmax(logits, dim=1) - one_hot) / logits.shape[0]
