"""The "from scratch" rule is checked statically and names the call it found."""

from autograder.grading.rules import find_violations
from autograder.syllabus import BY_MODULE, SOLUTIONS

ITEMS = BY_MODULE["activations"].items


def violations(source):
    return {v.item: v for v in find_violations(source, ITEMS)}


def test_the_reference_follows_the_rule():
    for module in ("perceptron", "activations", "mlp", "losses", "backprop", "training"):
        assert find_violations((SOLUTIONS / f"{module}.py").read_text(), BY_MODULE[module].items) == []


def test_direct_aliased_method_and_helper_uses_are_found():
    found = violations('''
import torch
import torch.nn.functional as F
from torch import sigmoid as sg
def _helper(z):
    return F.relu(z)
def relu(z):
    return _helper(z)
def sigmoid(z):
    return sg(z)
def tanh(z):
    return z.tanh()
def softmax(z, dim=-1):
    e = torch.exp(z - z.amax(dim, keepdim=True))
    return e / e.sum(dim, keepdim=True)
def relu_derivative(z):
    return getattr(torch, "relu")(z)
''')
    assert set(found) == {"relu", "sigmoid", "tanh", "relu_derivative"}
    assert found["relu"].call == "torch.nn.functional.relu" and found["relu"].via == "_helper"
    assert found["sigmoid"].call == "torch.sigmoid"
    assert "torch.sigmoid" in found["sigmoid"].message("02") and "from scratch" in found["sigmoid"].message("02")


def test_module_level_aliases_and_imports_inside_functions_are_found():
    found = violations('''
import torch
act = torch.softmax
def softmax(z, dim=-1):
    return act(z, dim=dim)
def sigmoid(z):
    from torch.nn.functional import sigmoid as s
    return s(z)
''')
    assert set(found) == {"softmax", "sigmoid"}


def test_calls_into_graded_siblings_are_allowed():
    found = find_violations('''
import activations
from activations import relu
def forward(x, params, activation="relu"):
    return activations.sigmoid(x) + relu(x)
''', BY_MODULE["mlp"].items)
    assert found == []
