"""How a graded module sees the others (DESIGN D1): the student's own helpers, ready-made graded names.

The first tests run the loader (``autograder/worker/siblings.py``) in this process, on small
modules; the others grade whole submissions in sandboxed workers, as ``dlkit grade`` does.
"""

from __future__ import annotations

import pytest

from autograder.grading.grade import grade_submission
from autograder.runner.session import Session
from autograder.support import ready_made_sources
from autograder.syllabus import BY_MODULE, EXERCISES, MODULES, SOLUTIONS, course
from autograder.runner.transport import ForkedTransport, LoadRequest
from autograder.worker.siblings import GradedImports

pytestmark = pytest.mark.fast  # in the edit-test loop's tier (dlkit selftest --fast)


def reference(module: str) -> str:
    return (SOLUTIONS / f"{module}.py").read_text()


def replace_once(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, old
    return source.replace(old, new)


def imports(module: str, sources: dict[str, str], **kwargs) -> GradedImports:
    return GradedImports(module, sources, ready_made_sources(module), course=course(), folder="/submission", **kwargs)


def ready_made(function) -> bool:
    return function.__code__.co_filename.startswith("<ready-made")


# -- the loader, in this process ----------------------------------------------------------------
def test_the_loader_knows_the_syllabus():
    assert imports("mlp", {}).graded == {a.module: a.items for a in BY_MODULE.values()}


def test_earlier_modules_give_own_helpers_and_ready_made_graded_names():
    sources = {
        "activations": "def relu(z):\n    return 'the student relu'\n\nSCALE = 3\n\ndef twice(v):\n    return 2 * v\n",
        "mlp": "import activations\nfrom activations import relu, SCALE as S, twice\n",
        "backprop": "import mlp\nfrom mlp import relu, S, twice\nimport activations as A\n",
    }
    with imports("backprop", sources).installed() as world:
        module = world.load()
        assert ready_made(module.relu) and ready_made(module.mlp.relu) and ready_made(module.A.relu)
        assert ready_made(module.A.twice.__globals__["relu"])  # the student's helpers call them too
        assert (module.S, module.twice(4)) == (3, 8)
        assert module.mlp.activations is module.A
        assert ready_made(module.A.sigmoid)  # a graded name the student never wrote
    assert "backprop" not in __import__("sys").modules


def test_a_graded_name_without_a_ready_made_version_says_so_when_called():
    sources = {"perceptron": "def train(X, y):\n    return 'mine'\n", "mlp": "from perceptron import train\n"}
    with imports("mlp", sources).installed() as world:
        module = world.load()
        with pytest.raises(ImportError, match=r"`train` is graded in assignment 01 \(`perceptron`\) and has no "
                                              r"ready-made version"):
            module.train([], [])


def test_a_missing_or_broken_earlier_module_names_the_name_the_module_and_why():
    with imports("backprop", {"backprop": "from mlp import dense, ACTIVATIONS\n"}).installed() as world:
        with pytest.raises(ImportError, match=r"^`ACTIVATIONS` comes from your `mlp.py`, which is not in your "
                                              r"submission$"):
            world.load()
    broken = {"mlp": "import torch\n\nLIMIT = 1\nx = LIMIT + undefined_name\n", "backprop": "import mlp\n"}
    with imports("backprop", broken).installed() as world:
        module = world.load()  # `import mlp` works: its graded names are ready-made
        assert ready_made(module.mlp.dense)
        with pytest.raises(ImportError, match=r"`LIMIT` comes from your `mlp.py`, which failed to import: "
                                              r"NameError: name 'undefined_name' is not defined \(line 4\)"):
            module.mlp.LIMIT
    rejected = imports("backprop", {"backprop": "from mlp import HELPER\n"},
                       unusable={"mlp": "`mlp.py` is a symbolic link; submit the file itself"})
    with rejected.installed() as world, pytest.raises(ImportError, match="could not be used .* symbolic link"):
        world.load()


def test_later_modules_and_the_module_itself_are_the_students_own():
    sources = {"mlp": "def helper():\n    from training import sgd_step\n    return sgd_step()\n",
               "training": "def sgd_step():\n    return 'the student sgd_step'\n"}
    with imports("mlp", sources).installed() as world:
        assert world.load().helper() == "the student sgd_step"
    with imports("mlp", {"mlp": "import losses\n"}).installed() as world:
        with pytest.raises(ModuleNotFoundError, match="`losses.py` is not in your submission"):
            world.load()


def test_circular_imports_behave_as_in_plain_python():
    sources = {"mlp": "import backprop\n\ndef helper():\n    return backprop.VALUE\n",
               "backprop": "import mlp\n\nVALUE = 5\n\ndef get():\n    return mlp.helper()\n"}
    with imports("backprop", sources).installed() as world:
        assert world.load().get() == 5
    # as in plain Python, mlp cannot import what backprop has not defined yet; being an earlier
    # module, it failed to import, so only its ready-made graded names are there
    too_early = {"mlp": "from backprop import VALUE\nHELPER = 1\n", "backprop": "import mlp\nVALUE = 5\n"}
    with imports("backprop", too_early).installed() as world:
        module = world.load()
        assert ready_made(module.mlp.dense)
        with pytest.raises(ImportError, match=r"`HELPER` comes from your `mlp.py`, which failed to import: "
                                              r"ImportError: cannot import name 'VALUE' .*circular import.*\(line 1\)"):
            module.mlp.HELPER


def test_graded_names_imported_during_a_circular_import_are_still_ready_made():
    """An earlier module that imports another while it runs cannot hand over its own graded names."""
    sources = {"activations": "def relu(z):\n    return 'the student relu'\n\nimport mlp\n",
               "mlp": "from activations import relu\n", "backprop": "import activations\nimport mlp\n"}
    with imports("backprop", sources).installed() as world:
        module = world.load()
        assert ready_made(module.mlp.relu) and ready_made(module.activations.relu)


def test_no_ready_made_version_of_the_module_under_test_or_a_later_one():
    for module in MODULES:
        world = GradedImports(module, {}, ready_made_sources("torch_mlp") | {"torch_mlp": "X = 1\n"}, course=course())
        assert set(world.ready_sources) == set(MODULES[:MODULES.index(module)]), module
    assert set(ready_made_sources("activations")) == {"perceptron"}
    with imports("losses", {"losses": "import mlp\n"}).installed() as world:
        world.load()
        assert set(world.ready) <= {"perceptron", "activations", "mlp"}  # only what was imported ran


def test_notebook_cells_run_in_order_and_their_errors_are_recorded():
    cells = ["import torch\nSCALE = 2.0", "import not_a_module_anywhere", "def relu(z):\n    return z * 0",
             "x = 1\ny = undefined + x", "def relu(z):\n    return z.clamp(min=0) * SCALE / SCALE",
             "from mlp import dense\nfrom mlp import ACTIVATIONS"]
    with imports("backprop", {"mlp": "ACTIVATIONS = {}\n"}, cells=cells).installed() as world:
        module = world.load()
        import torch
        assert module.relu(torch.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]  # the later definition
        assert ready_made(module.dense) and module.x == 1
    errors = [(e["cell"], e["type"], e["line"]) for e in world.cell_errors]
    assert errors == [(1, "ModuleNotFoundError", 1), (3, "NameError", 2), (5, "ImportError", 2)]
    assert "graded on its own" in world.cell_errors[-1]["message"]


# -- in sandboxed workers, through the grader ---------------------------------------------------
MLP_HELPERS = '''

ACTIVATIONS = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh}
LAST = -1


def layers_forward(x, params, act):
    """Each layer's input and pre-activation, and the logits."""
    inputs, pre, h = [], [], x
    for i, (W, b) in enumerate(params):
        inputs.append(h)
        z = dense(h, W, b)
        pre.append(z)
        h = act(z) if i < len(params) + LAST else z
    return inputs, pre, h
'''

BACKPROP_HELPERS = '''

DEFAULT_ACTIVATION = "relu"
STEPS = {"sgd": lambda p, g, lr: p - lr * g}


def mean(values):
    return sum(values) / len(values)
'''

BACKWARD_WITH_HELPERS = '''def backward(x: Tensor, targets: Tensor, params: Params, activation: str = "relu") -> tuple[Tensor, Params]:
    """Loss and gradients, with the forward pass of my own mlp helpers."""
    derivatives = {"relu": relu_backward, "sigmoid": sigmoid_backward,
                   "tanh": lambda g, z: g * tanh_derivative(z)}
    if activation not in derivatives:
        raise ValueError(f"unknown activation {activation!r}")
    inputs, pre, logits = layers_forward(x, params, ACTIVATIONS[activation])
    loss = cross_entropy(logits, targets)
    grad = cross_entropy_derivative(logits, targets)
    grads = []
    for i in reversed(range(len(params))):
        grad_x, grad_W, grad_b = dense_backward(grad, inputs[i], params[i][0])
        grads.append((grad_W, grad_b))
        if i > 0:
            grad = derivatives[activation](grad_x, pre[i - 1])
    return loss, grads[::-1]


def numerical_gradient('''


def with_helpers() -> dict[str, str]:
    """The reference, except that backprop and training use helpers of the student's own mlp and backprop."""
    files = {m: reference(m) for m in MODULES}
    files["mlp"] += MLP_HELPERS
    backprop = replace_once(files["backprop"], "from mlp import dense\n",
                            "from mlp import dense\nfrom mlp import ACTIVATIONS, layers_forward\n")
    start, end = backprop.index("def backward("), backprop.index("def numerical_gradient(")
    files["backprop"] = backprop[:start] + BACKWARD_WITH_HELPERS + backprop[end + len("def numerical_gradient("):] \
        + BACKPROP_HELPERS
    training = replace_once(files["training"], "from backprop import backward\n",
                            "import backprop as bp\nfrom backprop import DEFAULT_ACTIVATION, backward, mean\n")
    training = replace_once(training, "return [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(params, grads)]",
                            'step = bp.STEPS["sgd"]\n'
                            "    return [(step(W, gW, lr), step(b, gb, lr)) for (W, b), (gW, gb) in zip(params, grads)]")
    training = replace_once(training, 'activation="relu")', "activation=DEFAULT_ACTIVATION)")
    files["training"] = replace_once(training, "losses.append(sum(batch_losses) / len(batch_losses))",
                                     "losses.append(mean(batch_losses))")
    return files


def lost(result) -> list[str]:
    return [f"{r.test.nodeid}: {r.output}" for r in result.results if r.score < r.test.points]


@pytest.mark.slow
def test_helpers_from_the_students_own_earlier_modules_keep_full_marks(submission):
    result = grade_submission(submission("helpers", **with_helpers()))
    assert not lost(result), "\n".join(lost(result))
    assert result.score() == result.max_score() == 137


def test_a_missing_earlier_module_names_the_missing_name_and_module(submission):
    files = with_helpers()
    del files["mlp"]
    result = grade_submission(submission("no_mlp", **files), modules=("backprop", "training"))
    assert result.score() == 0
    assert "`ACTIVATIONS` comes from your `mlp.py`, which is not in your submission" in \
        result.module_messages["backprop"]
    training = result.module_messages["training"]
    assert "comes from your `backprop.py`, which failed to import: ImportError: `ACTIVATIONS` comes from " \
           "your `mlp.py`" in training, training


def test_bugs_and_failures_of_earlier_modules_cost_nothing_later(submission):
    """A wrong graded `dense` in the student's mlp.py, and an activations.py that fails to import:
    backprop, built on both, keeps full marks (its graded names are ready-made)."""
    files = with_helpers()
    files["mlp"] = replace_once(files["mlp"], "    return x @ W + b\n", "    return x @ W - b\n")
    files["activations"] = "raise RuntimeError('not finished yet')\n" + files["activations"]
    result = grade_submission(submission("earlier_bugs", **files), modules=("mlp", "backprop"))
    assert result.score("backprop") == result.max_score("backprop") > 0, "\n".join(lost(result))
    assert result.score("mlp") < result.max_score("mlp")  # the bug costs points where it is graded


def worker(module: str, sources: dict[str, str]) -> Session:
    transport = ForkedTransport(LoadRequest(module, sources=sources, ready_made=ready_made_sources(module)))
    transport.start()
    assert transport.import_error is None, transport.import_error
    return Session(transport, module)


def test_in_a_worker_a_later_module_is_the_students_own_and_an_earlier_one_composite():
    session = worker("mlp", {
        "mlp": "def probe():\n    import training, activations\n"
               "    return [training.sgd_step(), activations.relu.__code__.co_filename, activations.SCALE]\n",
        "training": "def sgd_step():\n    return 'the student sgd_step'\n",
        "activations": "def relu(z):\n    return z\n\nSCALE = 4\n"})
    try:
        assert session.call("probe") == ["the student sgd_step", "<ready-made activations>", 4]
    finally:
        session.close()


SEARCH = '''
import gc as _gc
import importlib as _importlib
import importlib.util
import sys as _sys
import types as _types

_GRADED = {graded!r}


def _ready_made_versions():
    """Every ready-made or reference version of this module's graded names that this process can reach."""
    found = {{}}
    for obj in _gc.get_objects():
        if isinstance(obj, (_types.FunctionType, type)) and getattr(obj, "__name__", "") in _GRADED:
            code = getattr(obj, "__code__", None)
            filename = code.co_filename if code else getattr(_sys.modules.get(obj.__module__), "__file__", "")
            if obj.__module__.endswith(__name__) and filename != __file__:
                found[obj.__name__] = obj
    for module in list(_sys.modules.values()):
        if module is not _sys.modules.get(__name__) and getattr(module, "__name__", "").endswith(__name__):
            found.update({{n: getattr(module, n) for n in _GRADED if hasattr(module, n)}})
    for name in ("autograder.support." + __name__, "autograder.support", "solutions." + __name__):
        try:
            module = _importlib.import_module(name)
            found.update({{n: getattr(module, n) for n in _GRADED if hasattr(module, n)}})
        except Exception:
            pass
    for path in ({support!r}, {solution!r}):
        try:
            spec = _importlib.util.spec_from_file_location("_other", path)
            module = _importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            found.update({{n: getattr(module, n) for n in _GRADED if hasattr(module, n)}})
        except Exception:
            pass
    return found


_FOUND = _ready_made_versions()
globals().update(_FOUND)


def found_versions():
    return sorted(_FOUND)
'''


@pytest.mark.parametrize("module", ["activations", "torch_mlp"])
def test_no_ready_made_version_of_the_module_under_test_can_be_found_in_its_worker(submission, module):
    from autograder.runner.sandbox import bubblewrap

    if bubblewrap() is None:
        pytest.skip("without a sandbox the worker can read the kit's files")
    attack = (EXERCISES / f"{module}.py").read_text() + SEARCH.format(
        graded=BY_MODULE[module].items, support=str(SOLUTIONS.parent / "autograder" / "support" / f"{module}.py"),
        solution=str(SOLUTIONS / f"{module}.py"))
    session = worker(module, {module: attack})
    try:
        assert session.call("found_versions") == []
    finally:
        session.close()
    result = grade_submission(submission(f"search_{module}", **{module: attack}), modules=(module,))
    assert result.score() == 0, [r.test.nodeid for r in result.results if r.score]


# -- the same rule for students: check.py in exercises/ (and so the Classroom template) ----------
def built_exercises(folder):
    """exercises/ as the build writes it, into ``folder``."""
    from autograder.build.exercises import exercise_files

    for path, text in exercise_files().items():
        target = folder / path.relative_to(EXERCISES)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return folder


def check(folder, *args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "check.py", *args], cwd=folder, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
def test_check_py_imports_earlier_modules_as_the_grader_does(tmp_path):
    """A correct backprop.py passes every public check of backprop while activations.py is a stub;
    a helper from the student's own mlp.py is theirs; a missing one is named."""
    folder = built_exercises(tmp_path / "student")
    assert (folder / "_kit" / "siblings.py").read_text() == \
        (SOLUTIONS.parent / "autograder" / "worker" / "siblings.py").read_text()
    files = with_helpers()
    (folder / "backprop.py").write_text(files["backprop"])
    (folder / "mlp.py").write_text((folder / "mlp.py").read_text() + MLP_HELPERS)  # the stub, with helpers
    run = check(folder, "backprop")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Every public check passed" in run.stdout
    import subprocess
    import sys
    plain = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/test_backprop.py"], cwd=folder,
                           capture_output=True, text=True, timeout=600)  # plain pytest too (conftest.py)
    assert plain.returncode == 0, plain.stdout[-2000:]
    (folder / "mlp.py").write_text((EXERCISES / "mlp.py").read_text())  # the helpers are gone: as in Python
    run = check(folder, "backprop")
    assert run.returncode == 1 and "cannot import name 'ACTIVATIONS' from 'mlp'" in run.stdout, run.stdout
    (folder / "mlp.py").write_text((EXERCISES / "mlp.py").read_text() + MLP_HELPERS + "\nbroken = 1 / 0\n")
    run = check(folder, "backprop")
    assert run.returncode == 1
    assert "`ACTIVATIONS` comes from your `mlp.py`, which failed to import: ZeroDivisionError: division by " \
           "zero (line" in run.stdout, run.stdout


def test_a_notebook_runs_cell_by_cell_and_its_cell_errors_become_notes(tmp_path):
    """Kernel-style: a free cell that raises is reported and the next cells still run; a name from
    another notebook's module is not there (each notebook is graded on its own)."""
    from notebook_helpers import add_free_cell, reference_answers, student_notebook, write_notebook

    from autograder.syllabus import BY_MODULE

    assignment = BY_MODULE["backprop"]
    notebook = student_notebook(assignment, reference_answers(assignment))
    plain = tmp_path / "nb_plain"
    write_notebook(plain / assignment.folder / assignment.notebook, notebook)
    add_free_cell(notebook, "shown = value_never_defined + 1", after=("answer", "dense_backward"))
    add_free_cell(notebook, "from mlp import dense\nfrom mlp import ACTIVATIONS", after=("answer", "relu_backward"))
    folder = tmp_path / "nb_student"
    write_notebook(folder / assignment.folder / assignment.notebook, notebook)
    result = grade_submission(folder, modules=("backprop",))
    assert result.score() == grade_submission(plain, modules=("backprop",)).score() > 0.8 * result.max_score()
    notes = "\n".join(result.notes.get("backprop", []))
    assert "raised NameError: name 'value_never_defined' is not defined (line 1)" in notes, notes
    assert "raised ImportError: `ACTIVATIONS` is not one of the graded names of `mlp`" in notes, notes
    assert "(line 2)" in notes
