"""The graded contract of ../shared/SYLLABUS.md, as data: assignments, modules and graded names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
EXERCISES = REPO / "exercises"
SOURCE = REPO / "source"
RELEASE = REPO / "release"


@dataclass(frozen=True)
class Assignment:
    folder: str  # nbgrader assignment name, e.g. "02_activations"
    module: str  # graded module, e.g. "activations"
    title: str
    items: tuple[str, ...]  # graded functions and classes, in teaching order
    from_scratch: bool = True

    @property
    def notebook(self) -> str:
        return f"{self.module}.ipynb"


ASSIGNMENTS: tuple[Assignment, ...] = (
    Assignment("01_perceptron", "perceptron", "The artificial neuron and the perceptron",
               ("weighted_sum", "step", "predict", "update", "train")),
    Assignment("02_activations", "activations", "Activation functions",
               ("sigmoid", "sigmoid_derivative", "tanh", "tanh_derivative", "relu", "relu_derivative", "softmax")),
    Assignment("03_mlp", "mlp", "Layers overcome XOR",
               ("init_params", "dense", "forward", "xor_params")),
    Assignment("04_losses", "losses", "Loss functions",
               ("mse", "mse_derivative", "binary_cross_entropy", "cross_entropy", "cross_entropy_derivative")),
    Assignment("05_backprop", "backprop", "Backpropagation",
               ("dense_backward", "relu_backward", "sigmoid_backward", "backward", "numerical_gradient")),
    Assignment("06_training", "training", "The whole training process",
               ("sgd_step", "minibatches", "train")),
    Assignment("07_torch_mlp", "torch_mlp", "The same model in PyTorch",
               ("SpiralDataset", "MLP", "train_epoch", "evaluate", "fit"), from_scratch=False),
)

MODULES: tuple[str, ...] = tuple(a.module for a in ASSIGNMENTS)
BY_MODULE: dict[str, Assignment] = {a.module: a for a in ASSIGNMENTS}
BY_FOLDER: dict[str, Assignment] = {a.folder: a for a in ASSIGNMENTS}
