"""Assignment 07: the same model in PyTorch.

``torch.nn`` provides layers, ``torch.optim`` the optimizers and autograd
computes every gradient: what took six assignments fits in a few lines. The
data is a custom ``Dataset`` of interleaved spirals, which no straight line
(and no single perceptron) can separate.
"""

import math

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset


class SpiralDataset(Dataset):
    """``n_classes`` interleaved 2-D spirals, ``n_per_class`` points each, made with torch alone.

    Class ``c`` is the arm whose point ``i`` has radius ``r = i / (n_per_class - 1)``
    and angle ``t = 4 r + 2 pi c / n_classes + noise * N(0, 1)``; the point is
    ``(r sin t, r cos t)``. The noise comes from
    ``torch.Generator().manual_seed(seed)``: the same arguments give the same
    data, another seed gives other data.

    ``len(ds) == n_per_class * n_classes``; ``ds[i]`` is ``(x, label)`` with
    ``x`` float32 of shape ``(2,)`` and ``label`` an int64 0-d tensor.
    """

    def __init__(self, n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int = 0):
        raise NotImplementedError("SpiralDataset.__init__ is not implemented yet: replace this line with your code.")

    def __len__(self) -> int:
        raise NotImplementedError("SpiralDataset.__len__ is not implemented yet: replace this line with your code.")

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        raise NotImplementedError("SpiralDataset.__getitem__ is not implemented yet: replace this line with your code.")


class MLP(nn.Module):
    """A multi-layer perceptron: ``nn.Linear`` layers with ``nn.ReLU`` between them.

    ``MLP(2, [64, 64], 3)`` is Linear(2, 64), ReLU, Linear(64, 64), ReLU,
    Linear(64, 3). ``forward(x)`` maps ``(n, in_features)`` to logits
    ``(n, out_features)`` (no activation after the last layer).
    """

    def __init__(self, in_features: int, hidden_sizes: list[int], out_features: int):
        super().__init__()
        raise NotImplementedError("MLP.__init__ is not implemented yet: replace this line with your code.")

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError("MLP.forward is not implemented yet: replace this line with your code.")


def train_epoch(model: nn.Module, loader: DataLoader, loss_fn: nn.Module,
                optimizer: torch.optim.Optimizer) -> float:
    """One pass over ``loader``; returns the mean batch loss as a float.

    Put the model in training mode (``model.train()``), then for every batch:
    zero the gradients, forward, loss, backward, optimizer step.
    """
    raise NotImplementedError("train_epoch is not implemented yet: replace this line with your code.")


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    """Accuracy of ``model`` on ``loader``: the fraction of all samples whose
    logits' argmax equals the label, a float in [0, 1].

    Use evaluation mode (``model.eval()``) and no gradient tracking (``torch.no_grad()``).
    """
    raise NotImplementedError("evaluate is not implemented yet: replace this line with your code.")


def fit(model: nn.Module, train_loader: DataLoader, epochs: int = 100, lr: float = 0.01) -> list[float]:
    """Train ``model`` with Adam (learning rate ``lr``) and ``nn.CrossEntropyLoss``
    for ``epochs`` epochs of :func:`train_epoch`; returns the list of epoch losses.
    """
    raise NotImplementedError("fit is not implemented yet: replace this line with your code.")
