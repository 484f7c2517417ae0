"""Objects the grader asks a worker to build: callables, loaders, optimizers, probes.

The grader cannot send code, only data, so anything that is not a tensor or a
number is named here and built on the spot, identically for the student's
code (in the worker) and for the reference (in the grader's own process).
Nothing here is secret.
"""

from __future__ import annotations

import math
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
def loader(x: torch.Tensor, y: torch.Tensor, batch_size: int) -> DataLoader:
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


@builder
def cross_entropy_loss() -> nn.Module:
    return nn.CrossEntropyLoss()


@builder
def sgd(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=lr)


class Probe(nn.Module):
    """A linear classifier that records, at every forward call, its mode and whether grad is on."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor):
        super().__init__()
        self.linear = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.linear.weight.copy_(weight)
            self.linear.bias.copy_(bias)
        self.seen_training: list[bool] = []
        self.seen_grad_enabled: list[bool] = []
        self.seen_batch_sizes: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen_training.append(bool(self.training))
        self.seen_grad_enabled.append(torch.is_grad_enabled())
        self.seen_batch_sizes.append(int(x.shape[0]))
        return self.linear(x)


@builder
def probe(weight: torch.Tensor, bias: torch.Tensor, training: bool = True) -> Probe:
    model = Probe(weight, bias)
    model.train(training)
    return model


@builder
def constant_model(logits: torch.Tensor) -> nn.Module:
    """A model whose output for a batch is a fixed row of logits per sample index in that batch."""
    class Constant(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.offset = 0
            self.register_buffer("logits", logits.clone())

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = self.logits[self.offset:self.offset + x.shape[0]]
            self.offset = (self.offset + x.shape[0]) % len(self.logits)
            return out
    return Constant()


def build(name: str, args: tuple, kwargs: dict) -> Any:
    if name not in BUILDERS:
        raise KeyError(f"unknown fixture {name!r}")
    return BUILDERS[name](*args, **kwargs)


__all__ = ["BUILDERS", "build", "math"]
