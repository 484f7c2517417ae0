"""Build examples/submissions/: a small class of example submissions for the demo and the docs.

They are generated from solutions/, the mutant catalogue and the stubs, so
they always match the current reference.
"""

from __future__ import annotations

from pathlib import Path

from autograder.build.code import stub_source
from autograder.mutants.catalogue import load
from autograder.syllabus import MODULES, REPO, SOLUTIONS

EXAMPLES = REPO / "examples" / "submissions"
NOTE = "These notes are not Python: the grader ignores every file but the graded modules.\n"


def reference(module: str) -> str:
    return (SOLUTIONS / f"{module}.py").read_text()


def stub(module: str) -> str:
    return stub_source(reference(module), module)


def with_bugs(module: str, *ids: str) -> str:
    source = reference(module)
    for edit in load((module,)):
        if edit.id in ids:
            source = source.replace(edit.old, edit.new)
    return source


def example_files() -> dict[Path, str]:
    students: dict[str, dict[str, str]] = {
        # every module right
        "ada": {m: reference(m) for m in MODULES},
        # typical mistakes, one or two per module
        "ben": {m: reference(m) for m in MODULES}
        | {"activations": with_bugs("activations", "softmax_no_max_shift", "relu_derivative_at_zero_is_one")},
        # halfway through the course: the rest still stubs
        "cleo": {m: (reference(m) if m in MODULES[:3] else stub(m)) for m in MODULES},
        # a syntax error, a missing module and stray files
        "dev": {
            "perceptron": reference("perceptron"),
            "activations": reference("activations").replace("def relu(z: Tensor) -> Tensor:", "def relu(z: Tensor) -> Tensor"),
            "losses": reference("losses"),
        },
        # nothing but notes
        "eli": {},
    }
    files: dict[Path, str] = {}
    for student, modules in students.items():
        for module, source in modules.items():
            files[EXAMPLES / student / f"{module}.py"] = source
    files[EXAMPLES / "dev" / "notes.txt"] = NOTE
    files[EXAMPLES / "eli" / "README.txt"] = NOTE
    return files
