"""The "from scratch" rule: decided statically, fair to correct work, closed to the catalogued evasions."""

from __future__ import annotations

import ast

import nbformat
import pytest

from autograder.cells import role_of
from autograder.grading.rules import find_violations
from autograder.mutants.catalogue import load
from autograder.syllabus import ASSIGNMENTS, BY_MODULE, MODULES, SOLUTIONS, SOURCE

pytestmark = pytest.mark.fast  # in the edit-test loop's tier (dlkit selftest --fast)

FROM_SCRATCH = tuple(a.module for a in ASSIGNMENTS if a.from_scratch)


def reference(module: str) -> str:
    return (SOLUTIONS / f"{module}.py").read_text()


def replace_def(source: str, function: str, code: str) -> str:
    """The source with the top-level def of `function` (decorators included) replaced by `code`."""
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == function)
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    lines = source.splitlines(keepends=True)
    return "".join(lines[:start - 1]) + code.strip("\n") + "\n" + "".join(lines[node.end_lineno:])


def all_references() -> dict[str, str]:
    return {m: reference(m) for m in MODULES}


def found(module: str, source: str, **others: str) -> dict:
    sources = {module: source, **others}
    return {v.item: v for v in find_violations(sources, module)}


def evasions():
    return [e for e in load() if e.kind == "evasion"]


def test_the_catalogue_is_large_and_well_formed():
    entries = evasions()
    assert len(entries) >= 40
    assert {e.module for e in entries} == set(FROM_SCRATCH)
    for entry in entries:
        assert entry.function in BY_MODULE[entry.module].items, entry.id
        assert entry.description and entry.code.strip(), entry.id
        for source in entry.files().values():
            ast.parse(source)


@pytest.mark.parametrize("entry", evasions(), ids=lambda e: f"{e.module}-{e.id}")
def test_every_evasion_costs_its_function(entry):
    violations = {v.item: v for v in find_violations(entry.files(), entry.module)}
    assert entry.function in violations, f"{entry.id} was not found"
    violation = violations[entry.function]
    text = violation.message(BY_MODULE[entry.module])
    assert f"line {violation.line}" in text and violation.call in text
    # the others lose points only to code that can rebind them (or that binds their own names)
    spill = {i for i, v in violations.items()
             if i != entry.function and v.kind not in ("rebinds_others", "binding")}
    assert not spill, f"{entry.id} also cost {sorted(spill)}"


# ---- fairness: correct work keeps its points ------------------------------------------------------

@pytest.mark.parametrize("module", FROM_SCRATCH)
def test_the_reference_follows_the_rule(module):
    assert find_violations(all_references(), module) == []
    assert find_violations({module: reference(module)}, module) == []


@pytest.mark.parametrize("edit", [e for e in load() if e.kind == "alternative" and e.module in FROM_SCRATCH],
                         ids=lambda e: f"{e.module}-{e.shelf}-{e.id}")
def test_catalogued_alternatives_follow_the_rule(edit):
    assert find_violations(edit.files(), edit.module) == []  # as the mutation harness hands it in
    assert find_violations({**all_references(), **edit.files()}, edit.module) == []  # with every module


CORRECT_ACTIVATIONS = {
    "where_clamp_logaddexp": '''
import math
import torch
from torch import Tensor
from typing import Callable
import torch.nn as nn  # only for the type hint below

EPS: float = 1e-12
ActivationFn = Callable[[Tensor], Tensor]

def sigmoid(z: Tensor) -> Tensor:
    return torch.exp(-torch.logaddexp(torch.zeros_like(z), -z))

def sigmoid_derivative(z: Tensor, layer: nn.Module | None = None) -> Tensor:
    s = sigmoid(z)
    return s * (1 - s)

def tanh(z):
    return 2 * sigmoid(2 * z) - 1

def tanh_derivative(z):
    return 1 - tanh(z) ** 2

def relu(z):
    return torch.maximum(z, torch.zeros_like(z))

def relu_derivative(z):
    return torch.where(z > 0, torch.ones_like(z), torch.zeros_like(z))

def softmax(z, dim=-1):
    shifted = z.double() - z.double().amax(dim=dim, keepdim=True)
    e = torch.exp(shifted)
    return (e / e.sum(dim=dim, keepdim=True)).to(z.dtype)

if __name__ == "__main__":
    z = torch.linspace(-5, 5, 11)
    y = torch.sigmoid(z)  # compare with torch's own, outside the graded functions
    print(sigmoid(z) - y, math.pi)
''',
    "stubs_loops_and_constants": '''
import torch
import numpy as np
from functools import reduce
from itertools import accumulate
from collections import OrderedDict

def sigmoid(z):
    raise NotImplementedError

def sigmoid(z):  # the stub above, answered further down (as in a notebook)
    out = torch.empty_like(z)
    flat, src = out.view(-1), z.reshape(-1)
    for i in range(src.numel()):
        v = float(src[i])
        flat[i] = 1 / (1 + np.exp(-v)) if v >= 0 else np.exp(v) / (1 + np.exp(v))
    return out

def sigmoid_derivative(z):
    s = sigmoid(z)
    return s - s * s

def _stable_exp_neg_abs(z, factor=2):
    return torch.exp(-factor * z.abs())

def tanh(z):
    e = _stable_exp_neg_abs(z)
    return torch.sign(z) * (1 - e) / (1 + e)

def tanh_derivative(z):
    return 1 - tanh(z).pow(2)

def relu(z):
    return z.clamp(min=0)

def relu_derivative(z):
    return (z > 0).to(z.dtype)

def softmax(z, dim=-1):
    m = z.max(dim=dim, keepdim=True).values
    e = (z - m).exp()
    return e / e.sum(dim, keepdim=True)

TABLE = OrderedDict(relu=relu, sigmoid=sigmoid)
TOTAL = reduce(lambda a, b: a + b, accumulate([1, 2, 3]))
''',
}


@pytest.mark.parametrize("name", sorted(CORRECT_ACTIVATIONS))
def test_common_correct_styles_pass(name):
    assert find_violations({"activations": CORRECT_ACTIVATIONS[name]}, "activations") == []


def test_helpers_from_earlier_modules_in_every_import_form_pass():
    mlp = '''
import torch
import activations
import activations as act
from activations import relu as r, sigmoid
from perceptron import step
from activations import SCALE

ACTIVATIONS = {"relu": r, "sigmoid": sigmoid, "tanh": act.tanh, "step": step}

def init_params(layer_sizes, generator=None):
    return [(torch.randn(a, b, generator=generator) * (2.0 / a) ** 0.5, torch.zeros(b))
            for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]

def dense(x, W, b):
    return x @ W + b

def forward(x, params, activation="relu"):
    act_fn = ACTIVATIONS[activation] if activation != "tanh" else activations.tanh
    h = x
    for W, b in params[:-1]:
        h = act_fn(dense(h, W, b)) * SCALE
    return dense(h, *params[-1])

def xor_params():
    return [(torch.tensor([[1.0, 1.0], [1.0, 1.0]]), torch.tensor([-0.5, -1.5])),
            (torch.tensor([[1.0], [-2.0]]), torch.tensor([-0.5]))]
'''
    activations = reference("activations") + "\nSCALE = 1.0\n"
    assert find_violations({"mlp": mlp, "activations": activations, "perceptron": reference("perceptron")},
                           "mlp") == []
    # the graded names of an earlier module are ready-made even when its file holds something forbidden
    bad_activations = activations + "\nsigmoid = torch.sigmoid\n"
    assert find_violations({"mlp": mlp, "activations": bad_activations}, "mlp") == []


def test_no_grad_decorator_and_type_hints_pass():
    source = replace_def(reference("training"), "sgd_step", '''
@torch.no_grad()
def sgd_step(params: "list[tuple[torch.nn.Parameter, torch.Tensor]]", grads, lr: float):
    return [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(params, grads)]
''')
    assert find_violations({"training": source}, "training") == []


# ---- specific decisions ---------------------------------------------------------------------------

def test_messages_name_the_call_the_line_and_the_helper():
    source = '''
import torch
import torch.nn.functional as F

def _helper(z):
    return F.relu(z)

def relu(z):
    return _helper(z)
'''
    violation = found("activations", source)["relu"]
    assert (violation.call, violation.line, violation.via) == ("torch.nn", 6, "_helper")
    text = violation.message(BY_MODULE["activations"])
    assert "`torch.nn`" in text and "line 6" in text and "`_helper`" in text and "from scratch" in text


def test_a_local_name_never_resolves_to_a_module_level_one():
    source = reference("activations") + '''
z = torch.linspace(-3, 3, 7)
y = torch.sigmoid(z)   # a plot cell's comparison
ACT = torch.tanh       # never read by a graded function
'''
    assert found("activations", source) == {}
    shadowing = source.replace("    s = sigmoid(z)\n    return s * (1 - s)",
                               "    y = sigmoid(z)\n    return y * (1 - y)")
    assert found("activations", shadowing) == {}


def test_a_finding_costs_only_its_function():
    source = replace_def(reference("activations"), "relu", "def relu(z):\n    return torch.relu(z)\n")
    assert set(found("activations", source)) == {"relu"}


def test_code_that_can_rebind_costs_every_function():
    source = reference("activations") + '\nexec("pass")\n'
    violations = found("activations", source)
    assert set(violations) == set(BY_MODULE["activations"].items)
    assert {v.kind for v in violations.values()} == {"rebinds_others"}


def test_a_later_module_is_traced_and_an_absent_one_is_not():
    code = "from losses import _p\ndef softmax(z, dim=-1):\n    return _p(z, dim)\n"
    source = replace_def(reference("activations"), "softmax", code)
    assert found("activations", source) == {}  # losses.py not handed in: it fails at run time
    clean = reference("losses") + "\ndef _p(z, dim):\n    e = torch.exp(z - z.amax(dim, keepdim=True))\n" \
                                  "    return e / e.sum(dim, keepdim=True)\n"
    assert found("activations", source, losses=clean) == {}
    dirty = reference("losses") + "\ndef _p(z, dim):\n    return torch.softmax(z, dim)\n"
    violation = found("activations", source, losses=dirty)["softmax"]
    assert violation.module == "losses" and "losses.py" in violation.message(BY_MODULE["activations"])


def test_cycles_between_modules_terminate():
    a = reference("activations").replace("import torch\n", "import torch\nimport mlp\n", 1) + \
        "\ndef _h(z):\n    return mlp._g(z)\n"
    m = reference("mlp") + "\nimport activations as _a\ndef _g(z):\n    return _a._h(z)\n"
    a = replace_def(a, "relu", "def relu(z):\n    return _h(z)\n")
    assert found("activations", a, mlp=m) == {}


def test_crafted_sources_never_crash():
    deep = "def relu(z):\n    return " + "(" * 90 + "z" + ")" * 90 + "\n"
    assert isinstance(find_violations({"activations": deep}, "activations"), list)
    nested = "def relu(z):\n" + "".join("    " * (i + 1) + "if z:\n" for i in range(90)) + "    " * 91 + "pass\n"
    assert isinstance(find_violations({"activations": nested}, "activations"), list)
    chain = "import torch\ndef relu(z):\n    return z" + ".clamp(min=0)" * 1000 + "\n"
    assert find_violations({"activations": chain}, "activations") == []


def test_time_is_linear_in_the_source():
    import time
    helpers = "".join(f"def _h{i}(z):\n    return _h{i - 1}(z) + {i}\n" for i in range(1, 3000))
    source = "import torch\ndef _h0(z):\n    return z\n" + helpers + "def relu(z):\n    return _h2999(z)\n"
    started = time.monotonic()
    find_violations({"activations": source}, "activations")
    assert time.monotonic() - started < 5


# ---- notebooks (DESIGN D2): setup cell + every code cell but checks and hidden tests -----------------

def notebook_source(module: str, extra_cells: tuple[str, ...] = ()) -> tuple[str, frozenset[str]]:
    assignment = BY_MODULE[module]
    notebook = nbformat.read(SOURCE / assignment.folder / assignment.notebook, as_version=4)
    cells, setup = [], ""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        role = (role_of(cell) or {}).get("role")
        if role == "setup":
            setup = cell.source
        elif role not in ("check", "tests"):
            cells.append("\n".join(line for line in cell.source.splitlines()
                                   if not line.lstrip().startswith(("%", "!"))))
    provided = frozenset(n.name for n in ast.parse(setup).body if isinstance(n, (ast.FunctionDef, ast.ClassDef)))
    return "\n\n".join([setup, *cells, *extra_cells]), provided


@pytest.mark.parametrize("module", FROM_SCRATCH)
def test_every_reference_notebook_follows_the_rule(module):
    source, provided = notebook_source(module)
    assert find_violations({module: source}, module, provided=provided) == []


def test_a_notebook_cell_redefining_a_provided_name_is_traced():
    redefined = '''
def relu(z):
    z = z.detach().requires_grad_(True)
    torch.autograd.grad(z.sum(), z)
    return z.clamp(min=0)
'''
    source, provided = notebook_source("backprop", (redefined,))
    assert "relu" in provided
    violations = {v.item: v for v in find_violations({"backprop": source}, "backprop", provided=provided)}
    assert "backward" in violations and violations["backward"].via == "relu"
    # the same name imported ready-made from its own assignment is still the kit's
    source, provided = notebook_source("backprop", ("from activations import relu",))
    assert find_violations({"backprop": source}, "backprop", provided=provided) == []


# ---- further cases, by the function they must cost -----------------------------------------------

RELU = "    return z.clamp(min=0)"
DECIDED = {  # name: (edit of the reference activations.py, the item(s) that must lose, or None: no finding)
    "local_import_alias": (lambda s: s.replace(RELU, "    import torch as T\n    return T.relu(z)"), "relu"),
    "closure_over_a_local_import": (lambda s: s + '''
def _outer():
    import torch.nn.functional as F
    def inner(z):
        return F.relu(z)
    return inner
_impl = _outer()
def relu_derivative(z):
    return (_impl(z) > 0).to(z.dtype)
''', "relu_derivative"),
    "torch_function_override": (lambda s: s + '''
class _T(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return torch.sigmoid(args[0])
def relu_derivative(z):
    return torch.exp(z.as_subclass(_T))
''', "relu_derivative"),
    "reduce_over_getattr": (lambda s: s.replace(
        RELU, "    import functools\n    return functools.reduce(getattr, ['relu'], torch)(z)"), "relu"),
    "attribute_stored_on_a_graded_function": (
        lambda s: s + "\nsetattr(relu, 'impl', torch.relu)\ndef relu_derivative(z):\n    return relu.impl(z)\n",
        "relu_derivative"),
    "exception_frame": (lambda s: s.replace(RELU, '''    try:
        1 / 0
    except Exception as e:
        return e.__traceback__.tb_frame.f_globals["torch"].relu(z)'''), "relu"),
    "torch_sys_way_out": (lambda s: s.replace(RELU, "    return torch.sys.modules['torch'].relu(z)"), "relu"),
    "typing_sys_way_out": (lambda s: s.replace(
        RELU, "    import typing\n    return typing.sys.modules['torch'].relu(z)"), "relu"),
    "rebound_torch": (lambda s: s + "\nclass _Fake:\n    exp = staticmethod(torch.sigmoid)\n"
                                    "    abs = staticmethod(torch.abs)\n    where = staticmethod(torch.where)\n"
                                    "torch = _Fake()\n", {"sigmoid", "tanh", "softmax"}),  # all that use torch
    "no_grad_block_is_fine": (lambda s: s.replace(RELU, "    with torch.no_grad():\n        return z.clamp(min=0)"),
                              None),
    "finfo_and_testing_are_fine": (lambda s: s.replace(
        RELU, "    torch.testing.assert_close(z, z)\n    return z.clamp(min=torch.finfo(z.dtype).tiny * 0)"), None),
    "dataclass_helper_is_fine": (lambda s: s.replace(
        "def relu(z: Tensor) -> Tensor:",
        "from dataclasses import dataclass\n@dataclass\nclass _C:\n    lo: float = 0.0\n\ndef relu(z: Tensor) -> Tensor:"
    ).replace(RELU, "    return z.clamp(min=_C().lo)"), None),
    "a_conditional_import_used_nowhere_is_fine": (lambda s: s.replace(
        "import torch\n", "import torch\nif False:\n    import torch.nn.functional as F\n", 1), None),
}


@pytest.mark.parametrize("name", sorted(DECIDED))
def test_decided_cases(name):
    edit, item = DECIDED[name]
    violations = {v.item: v for v in find_violations({"activations": edit(reference("activations"))},
                                                     "activations") if v.kind != "rebinds_others"}
    expected = item if isinstance(item, set) else {item} if item else set()
    assert set(violations) == expected, violations


def test_a_siblings_module_getattr_is_traced():
    activations = reference("activations").replace(RELU, "    import mlp\n    return mlp.anything(z)")
    mlp = reference("mlp") + "\ndef __getattr__(name):\n    import torch\n    return getattr(torch, 're' + 'lu')\n"
    assert set(found("activations", activations, mlp=mlp)) == {"relu"}


def test_something_stored_on_a_provided_name_is_traced():
    source, provided = notebook_source("backprop", ("relu.impl = torch.relu",))
    source = source.replace("h = act(z) if i < len(params) - 1 else z", "h = relu.impl(z) if i < len(params) - 1 else z")
    violations = {v.item for v in find_violations({"backprop": source}, "backprop", provided=provided)}
    assert violations == {"backward"}


def test_notebook_messages_name_the_cell():
    from autograder.grading.notebooks import join_cells
    from autograder.grading.rules import notebook_locator
    cells = ["import torch", "z = torch.ones(3)\nprint(z)", "def relu(z):\n    return torch.relu(z)"]
    labels = ["the setup cell", "cell 2", "the answer cell of `relu`"]
    violation = {v.item: v for v in find_violations({"activations": join_cells(cells)}, "activations")}["relu"]
    text = violation.message(BY_MODULE["activations"], notebook_locator(cells, labels))
    assert "the answer cell of `relu`, line 2" in text and "torch.relu" in text


def test_a_main_block_never_runs_in_the_grader():
    script = reference("activations") + '''
ACTS = {"relu": relu}
if __name__ == "__main__":
    ACTS["relu"] = torch.relu  # a comparison run as a script
    exec("print(1)")
def relu_derivative(z):
    return (ACTS["relu"](z) > 0).to(z.dtype)
'''
    assert found("activations", script) == {}
    renamed = script.replace("ACTS = {", "__name__ = \"__main__\"\nACTS = {")
    assert "relu_derivative" in found("activations", renamed)


def test_annotations_cannot_be_read_back():
    for trick in ("__annotations__['f'](z)", "dataclasses.fields(_A)[0].type(z)"):
        source = reference("activations").replace(
            "def relu(z: Tensor) -> Tensor:",
            "import dataclasses\n@dataclasses.dataclass\nclass _A:\n    f: torch.relu = None\n\n"
            "f: torch.relu\ndef relu(z: Tensor) -> Tensor:").replace(RELU, f"    return {trick}")
        assert set(found("activations", source)) - {"sigmoid"} >= {"relu"}, trick


def test_a_constant_key_into_globals_is_a_binding_of_that_name():
    source = reference("activations") + '\nglobals()["relu"] = torch.relu\n'
    violations = found("activations", source)
    assert set(violations) == {"relu"} and violations["relu"].kind == "binding"
    assert "globals()['relu'] = torch.relu" in violations["relu"].message(BY_MODULE["activations"])
