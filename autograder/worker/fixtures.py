"""Objects the grader asks a worker to build: callables, generators, loaders, optimizers, models.

The grader cannot send code, only data, so anything that is not a tensor or a
number is named here and built on the spot, identically for the student's
code (in the worker) and for the reference (in the grader's own process).
Nothing here is secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

BUILDERS: dict[str, Callable[..., Any]] = {}


def builder(fn: Callable[..., Any]) -> Callable[..., Any]:
    BUILDERS[fn.__name__] = fn
    return fn


@builder
def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@builder
def generator_from_state(state: torch.Tensor) -> torch.Generator:
    """A generator in the given state (what the worker sends back for a generator, see ``Server``)."""
    generator = torch.Generator()
    generator.set_state(state)
    return generator


@builder
def cubic_mix(c: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """f(x) = sum(c * x**3) + tanh(sum(c * x))**2: smooth, every element coupled to every other."""
    def f(x: torch.Tensor) -> torch.Tensor:
        return (c * x ** 3).sum() + torch.tanh((c * x).sum()) ** 2
    return f


@builder
def log_sum_exp_of(c: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """f(x) = log(sum(exp(c * x))): a smooth function with no separable structure."""
    def f(x: torch.Tensor) -> torch.Tensor:
        s = c * x
        m = s.max()
        return m + torch.log(torch.exp(s - m).sum())
    return f


@builder
def transposed(x: torch.Tensor) -> torch.Tensor:
    """``x.T``: a view whose memory is not contiguous (tensors arrive contiguous, so it is made here)."""
    return x.T


@builder
def loader(x: torch.Tensor, y: torch.Tensor, batch_size: int) -> DataLoader:
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


@builder
def cross_entropy_loss() -> nn.Module:
    return nn.CrossEntropyLoss()


@builder
def sgd(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=lr)


def linear_layer(weight: torch.Tensor, bias: torch.Tensor) -> nn.Linear:
    """An nn.Linear holding the given weights."""
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return layer


@builder
def linear(weight: torch.Tensor, bias: torch.Tensor) -> nn.Module:
    """A linear classifier: logits = x @ weight.T + bias."""
    return linear_layer(weight, bias)


@builder
def batch_norm_classifier(weight: torch.Tensor, bias: torch.Tensor) -> nn.Module:
    """BatchNorm1d, then a linear classifier: its output, its gradients and its running statistics all
    depend on the mode (batch statistics in training mode, running statistics in evaluation mode)."""
    return nn.Sequential(nn.BatchNorm1d(weight.shape[1]), linear_layer(weight, bias))


class GradModeClassifier(nn.Module):
    """A linear classifier whose logits gain ``shift`` while autograd records: it stands for a model whose
    answers differ when gradients are tracked, so that evaluating it without ``torch.no_grad()`` (or
    ``torch.inference_mode()``) gives other predictions."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, shift: torch.Tensor):
        super().__init__()
        self.linear = linear_layer(weight, bias)
        self.register_buffer("shift", shift.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.linear(x)
        return logits + self.shift if torch.is_grad_enabled() else logits


@builder
def grad_mode_classifier(weight: torch.Tensor, bias: torch.Tensor, shift: torch.Tensor) -> nn.Module:
    return GradModeClassifier(weight, bias, shift)


@builder
def relu_network(sizes: list, seed: int) -> nn.Module:
    """Linear layers of ``sizes`` with ReLU between them, initialised by PyTorch from ``seed`` (the global
    random state is left as it was)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        layers: list[nn.Module] = []
        for d_in, d_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(d_in, d_out), nn.ReLU()]
        return nn.Sequential(*layers[:-1])


def build(name: str, args: tuple, kwargs: dict) -> Any:
    if name not in BUILDERS:
        raise KeyError(f"unknown fixture {name!r}")
    return BUILDERS[name](*args, **kwargs)


__all__ = ["BUILDERS", "build"]
