"""Ready-made assignment 05 (see the package docstring)."""

import torch
from torch import Tensor


def dense_backward(grad_out: Tensor, x: Tensor, W: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(grad_out @ W.T, x.T @ grad_out, grad_out summed over the batch)."""
    return grad_out @ W.T, x.T @ grad_out, grad_out.sum(dim=0)


def relu_backward(grad_out: Tensor, z: Tensor) -> Tensor:
    """grad_out where z > 0, else 0."""
    return grad_out * torch.heaviside(z, torch.zeros_like(z))


def sigmoid_backward(grad_out: Tensor, z: Tensor) -> Tensor:
    """grad_out * sigmoid(z) * (1 - sigmoid(z))."""
    s = torch.sigmoid(z)
    return grad_out * s * (1 - s)


def backward(x: Tensor, targets: Tensor, params: list[tuple[Tensor, Tensor]],
             activation: str = "relu") -> tuple[Tensor, list[tuple[Tensor, Tensor]]]:
    """Cross-entropy loss of the MLP and its gradients, by torch.autograd."""
    act = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[activation]
    leaves = [(W.detach().requires_grad_(), b.detach().requires_grad_()) for W, b in params]
    with torch.enable_grad():
        h = x
        for i, (W, b) in enumerate(leaves):
            h = torch.addmm(b, h, W)
            if i < len(leaves) - 1:
                h = act(h)
        loss = torch.nn.functional.cross_entropy(h, targets)
        flat = torch.autograd.grad(loss, [t for pair in leaves for t in pair])
    return loss.detach(), [(flat[2 * i], flat[2 * i + 1]) for i in range(len(leaves))]
