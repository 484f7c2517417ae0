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
        ### BEGIN SOLUTION
        generator = torch.Generator().manual_seed(seed)
        points, labels = [], []
        for c in range(n_classes):
            r = torch.linspace(0.0, 1.0, n_per_class)
            t = 4 * r + 2 * math.pi * c / n_classes + noise * torch.randn(n_per_class, generator=generator)
            points.append(torch.stack([r * torch.sin(t), r * torch.cos(t)], dim=1))
            labels.append(torch.full((n_per_class,), c, dtype=torch.int64))
        self.x = torch.cat(points).to(torch.float32)
        self.y = torch.cat(labels)
        ### END SOLUTION

    def __len__(self) -> int:
        ### BEGIN SOLUTION
        return len(self.y)
        ### END SOLUTION

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        ### BEGIN SOLUTION
        return self.x[i], self.y[i]
        ### END SOLUTION


class MLP(nn.Module):
    """A multi-layer perceptron: ``nn.Linear`` layers with ``nn.ReLU`` between them.

    ``MLP(2, [64, 64], 3)`` is Linear(2, 64), ReLU, Linear(64, 64), ReLU,
    Linear(64, 3). ``forward(x)`` maps ``(n, in_features)`` to logits
    ``(n, out_features)`` (no activation after the last layer).
    """

    def __init__(self, in_features: int, hidden_sizes: list[int], out_features: int):
        super().__init__()
        ### BEGIN SOLUTION
        sizes = [in_features, *hidden_sizes, out_features]
        layers: list[nn.Module] = []
        for d_in, d_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(d_in, d_out), nn.ReLU()]
        self.net = nn.Sequential(*layers[:-1])
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION
        return self.net(x)
        ### END SOLUTION


def train_epoch(model: nn.Module, loader: DataLoader, loss_fn: nn.Module,
                optimizer: torch.optim.Optimizer) -> float:
    """One pass over ``loader``; returns the mean batch loss as a float.

    Put the model in training mode (``model.train()``), then for every batch:
    zero the gradients, forward, loss, backward, optimizer step.
    """
    ### BEGIN SOLUTION
    model.train()
    total, batches = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
        batches += 1
    return total / batches
    ### END SOLUTION


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    """Accuracy of ``model`` on ``loader``: the fraction of all samples whose
    logits' argmax equals the label, a float in [0, 1].

    Use evaluation mode (``model.eval()``) and no gradient tracking (``torch.no_grad()``).
    """
    ### BEGIN SOLUTION
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(dim=1) == y).sum().item()
            total += len(y)
    return correct / total
    ### END SOLUTION


def fit(model: nn.Module, train_loader: DataLoader, epochs: int = 100, lr: float = 0.01) -> list[float]:
    """Train ``model`` with Adam (learning rate ``lr``) and ``nn.CrossEntropyLoss``
    for ``epochs`` epochs of :func:`train_epoch`; returns the list of epoch losses.
    """
    ### BEGIN SOLUTION
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    return [train_epoch(model, train_loader, loss_fn, optimizer) for _ in range(epochs)]
    ### END SOLUTION
