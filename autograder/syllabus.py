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
    """One assignment, declared once: everything else of the kit (the worker's import rule, the
    ready-made versions, the student kit, the notebooks, the reports) derives from this entry.
    Its points are the suite's ``@points``; ``tests/test_registration.py`` lists any missing part."""

    number: int  # its place in the course, from 1
    module: str  # graded module, e.g. "activations"
    title: str
    items: tuple[str, ...]  # graded functions and classes, in teaching order
    dependencies: tuple[str, ...] = ()  # earlier modules whose graded names its solution imports
    from_scratch: bool = True  # PyTorch's ready-made functions are forbidden in its graded names

    @property
    def label(self) -> str:
        """``02``: how the students and the reports number it."""
        return f"{self.number:02d}"

    @property
    def folder(self) -> str:
        """nbgrader's assignment name, e.g. ``02_activations``."""
        return f"{self.label}_{self.module}"

    @property
    def notebook(self) -> str:
        return f"{self.module}.ipynb"


ASSIGNMENTS: tuple[Assignment, ...] = (
    Assignment(1, "perceptron", "The artificial neuron and the perceptron",
               ("weighted_sum", "step", "predict", "update", "train")),
    Assignment(2, "activations", "Activation functions",
               ("sigmoid", "sigmoid_derivative", "tanh", "tanh_derivative", "relu", "relu_derivative", "softmax")),
    Assignment(3, "mlp", "Layers overcome XOR",
               ("init_params", "dense", "forward", "xor_params"), dependencies=("activations", "perceptron")),
    Assignment(4, "losses", "Loss functions",
               ("mse", "mse_derivative", "binary_cross_entropy", "cross_entropy", "cross_entropy_derivative"),
               dependencies=("activations",)),
    Assignment(5, "backprop", "Backpropagation",
               ("dense_backward", "relu_backward", "sigmoid_backward", "backward", "numerical_gradient"),
               dependencies=("activations", "losses", "mlp")),
    Assignment(6, "training", "The whole training process",
               ("sgd_step", "minibatches", "train"), dependencies=("backprop", "mlp")),
    Assignment(7, "torch_mlp", "The same model in PyTorch",
               ("SpiralDataset", "MLP", "train_epoch", "evaluate", "fit"), from_scratch=False),
)


def _validate(assignments: tuple[Assignment, ...]) -> None:
    """Numbers 1, 2, ... in order, one module each, dependencies only on earlier modules: a
    mistake here would otherwise show up much later, as a module that scores zero."""
    seen: list[str] = []
    for place, a in enumerate(assignments, start=1):
        if a.number != place:
            raise ValueError(f"assignment {a.module!r} is number {a.number}, but is at place {place} in the course")
        if a.module in seen or not a.module.isidentifier():
            raise ValueError(f"assignment {a.number}: module {a.module!r} is repeated or not a name")
        if not a.items or len(set(a.items)) != len(a.items):
            raise ValueError(f"assignment {a.number}: its graded items are empty or repeated")
        if not set(a.dependencies) <= set(seen):
            raise ValueError(f"assignment {a.number} depends on {sorted(set(a.dependencies) - set(seen))}, "
                             "which do not come before it")
        seen.append(a.module)


_validate(ASSIGNMENTS)
MODULES: tuple[str, ...] = tuple(a.module for a in ASSIGNMENTS)
BY_MODULE: dict[str, Assignment] = {a.module: a for a in ASSIGNMENTS}
BY_FOLDER: dict[str, Assignment] = {a.folder: a for a in ASSIGNMENTS}


def course() -> list[list]:
    """The graded names of each module, in course order, as plain data: what the sandboxed worker
    and the student kit's ``check.py`` receive (``worker/siblings.py`` may import nothing of the kit)."""
    return [[a.module, list(a.items)] for a in ASSIGNMENTS]


def depended_on() -> set[str]:
    """The modules a later assignment imports graded names from: those need a ready-made version."""
    return {m for a in ASSIGNMENTS for m in a.dependencies}
