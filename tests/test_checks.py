"""The suites' one tolerance policy (autograder/suites/checks.py): correct forms pass, mistakes fail, and a failure
says how the result is wrong without any number taken from the expected values."""

from __future__ import annotations

import re

import pytest
import torch

from autograder.suites.checks import Mistake, close, number, same_number, within

pytestmark = pytest.mark.fast  # in the edit-test loop's tier (dlkit selftest --fast)

F32, F64 = torch.float32, torch.float64


def test_other_correct_orders_and_forms_pass():
    g = torch.Generator().manual_seed(0)
    x, w = torch.randn(64, 50, generator=g), torch.randn(50, generator=g)
    expected = x @ w
    assert within((x * w).flip(1).sum(dim=1), expected)  # float32, another summation order
    assert within((x.double() @ w.double()).float(), expected)  # float64 accumulation cast back
    z = torch.randn(7, 5, generator=g, dtype=F64)
    assert within(torch.exp(-torch.logaddexp(torch.zeros_like(z), -z)), 1 / (1 + torch.exp(-z)))  # a stable form
    matches = torch.tensor([1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0]).bool()
    assert same_number(number(matches.float().mean(), "evaluate"), 6 / 11)  # float32 mean of booleans
    assert same_number(number(matches.float().mean().item(), "evaluate"), 6 / 11)


def test_mistakes_and_lost_precision_fail():
    z = torch.randn(7, 5, generator=torch.Generator().manual_seed(1), dtype=F64)
    expected = torch.sigmoid(z)
    assert not within(torch.sigmoid(z.float()).double(), expected)  # float32 work returned as float64
    assert not within(expected * (1 + 1e-4), expected)
    assert not within(torch.tensor([0.0, 1.0]), torch.tensor([0.0, 1.0 + 2**-23]), "exact")
    with pytest.raises(Mistake):
        number(1, "evaluate")  # an int is not a float
    with pytest.raises(Mistake):
        number(torch.tensor([0.5]), "evaluate")  # nor a 1-element tensor


@pytest.mark.parametrize("wrong, words", [
    (lambda e: torch.zeros_like(e), "every element is 0"),
    (lambda e: -e, "the sign is flipped"),
    (lambda e: e.T, "it looks transposed"),
    (lambda e: 2 * e, "constant factor"),
    (lambda e: e + 0.25, "off by a constant"),
    (lambda e: torch.where(torch.arange(16).reshape(4, 4) < 3, e + 1, e), "3 of 16 elements differ"),
])
def test_a_failure_says_how_never_by_how_much(wrong, words):
    expected = torch.rand(4, 4, generator=torch.Generator().manual_seed(2), dtype=F64) * 7 + 0.5
    with pytest.raises(Mistake) as failure:
        close(wrong(expected), expected, "f", "the hint")
    message = str(failure.value)
    assert words in message
    numbers = set(re.findall(r"\d+\.\d+|\d+e-?\d+", message))
    assert not numbers, message
