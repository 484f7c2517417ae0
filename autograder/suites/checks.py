"""What hidden tests use: points, seeded inputs, and comparisons whose messages name the mistake.

Every failure raises ``Mistake`` with a message for the student. Messages
describe *what* is wrong and the likely cause; they never contain hidden
inputs, expected values or reference code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from autograder.worker.protocol import Fixture, Handle, Items, Opaque

FLOATS = (torch.float32, torch.float64)


class Mistake(AssertionError):
    """A failed check; its message is shown to the student as is."""


def points(value: float, item: str) -> Callable:
    """Mark a test as worth ``value`` points towards graded name ``item``."""
    def mark(fn: Callable) -> Callable:
        fn.dlkit_points = float(value)
        fn.dlkit_item = item
        return fn
    return mark


def fail(message: str) -> None:
    raise Mistake(message)


def check(condition: Any, message: str) -> None:
    if not condition:
        raise Mistake(message)


# -- inputs ------------------------------------------------------------------------------------
def rand(*shape: int, dtype: torch.dtype = torch.float32, seed: int = 0, scale: float = 1.0,
         low: float | None = None, high: float | None = None) -> torch.Tensor:
    """Seeded random input: normal(0, scale), or uniform(low, high) when both are given."""
    g = torch.Generator().manual_seed(seed)
    if low is not None and high is not None:
        return (torch.rand(*shape, generator=g, dtype=torch.float64) * (high - low) + low).to(dtype)
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def labels(n: int, classes: int, seed: int = 0) -> torch.Tensor:
    """Seeded int64 class labels in 0..classes-1, every class present when n >= classes."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    y[:min(n, classes)] = torch.arange(min(n, classes))
    return y[torch.randperm(n, generator=g)]


def fixture(name: str, *args: Any, **kwargs: Any) -> Fixture:
    """An object built on each side (student and reference) from the same data."""
    return Fixture(name, args, kwargs)


# -- describing what came back -------------------------------------------------------------------
def describe(value: Any) -> str:
    if value is None:
        return "None (did you forget to `return` the result?)"
    if type(value) is torch.Tensor:
        return f"a {str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
    if type(value) is Opaque:
        return f"an object of type {value.type}"
    if type(value) is Handle:
        return f"an object of type {value.type}"
    if type(value) is Items:
        return "a generator"
    if type(value) in (list, tuple):
        return f"a {type(value).__name__} of {len(value)} item{'s' if len(value) != 1 else ''}"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


# -- the tolerance policy ------------------------------------------------------------------------
# One policy for every comparison the suites make, so that correct work keeps its marks however it is
# written.
#
# Exact ("exact"): values the SYLLABUS defines by a comparison, a selection or a count, which every correct
#   implementation produces bit for bit: step's and relu_derivative's 0.0 / 1.0, predictions, labels and
#   class counts, integer counts, shapes and dtypes, the perceptron's mistake lists, the rows minibatches
#   picks, and a seeded function called twice with the same seed.
# Within a tolerance: everything computed by arithmetic. The tolerance admits any correct order of
#   operations in the input's dtype (float32 sums in another order, float32 means of booleans, float64
#   accumulation cast back, other stable forms such as logaddexp or log1p) and stays far below what any
#   mistake changes. The absolute part scales with the largest expected magnitude (at least 1), since
#   rounding errors grow with the size of the numbers summed.
#   "value": one evaluation of a formula;
#   "steps": the end of several optimisation steps (rounding differences compound from step to step);
#   "estimate": finite differences, which divide rounding noise of f by the step h.
# A result the SYLLABUS calls "a float" may be a Python float or a 0-d tensor (see ``number``), and is
# compared in float32's tolerance because either may have been computed in float32.
TOLERANCES: dict[str, dict[torch.dtype, tuple[float, float]]] = {
    "value": {torch.float32: (2e-5, 2e-6), torch.float64: (1e-9, 1e-11)},
    "steps": {torch.float32: (1e-4, 1e-5), torch.float64: (1e-8, 1e-10)},
    "estimate": {torch.float32: (1e-3, 1e-3), torch.float64: (1e-7, 1e-9)},
}


def tolerance(dtype: torch.dtype, kind: str = "value") -> tuple[float, float]:
    """(rtol, atol) for comparing results of this dtype; zero for "exact" and for non-float dtypes."""
    if kind == "exact" or dtype not in FLOATS:
        return 0.0, 0.0
    return TOLERANCES[kind][dtype]


def within(got: torch.Tensor, expected: torch.Tensor, kind: str = "value",
           dtype: torch.dtype | None = None) -> bool:
    """Does ``got`` equal ``expected`` under the policy? Both tensors of one shape; ``dtype`` is the one whose
    tolerance applies (by default ``expected``'s)."""
    if got.shape != expected.shape:
        return False
    rtol, atol = tolerance(dtype or expected.dtype, kind)
    g, e = got.to(torch.float64), expected.to(torch.float64)
    if rtol == 0 and atol == 0:
        return bool(((g == e) | (g.isnan() & e.isnan())).all())
    return bool(torch.allclose(g, e, rtol=rtol, atol=atol * magnitude(e), equal_nan=True))


def magnitude(expected: torch.Tensor) -> float:
    """The scale of the absolute tolerance: the largest finite expected magnitude, at least 1."""
    finite = expected[torch.isfinite(expected)]
    return max(1.0, float(finite.abs().max())) if finite.numel() else 1.0


def number(value: Any, what: str) -> float:
    """A result the SYLLABUS calls a float: a Python float or a 0-d floating-point tensor, as a float."""
    if type(value) is float:
        return value
    if type(value) is torch.Tensor and value.dim() == 0 and value.dtype in FLOATS:
        return float(value)
    fail(f"{what} returned {describe(value)}; expected a float (a Python float, or a 0-d tensor)")


def same_number(got: float, expected: float, kind: str = "value") -> bool:
    """Two floats (from ``number``) under the policy, in float32's tolerance."""
    return within(torch.tensor([got], dtype=torch.float64), torch.tensor([expected], dtype=torch.float64),
                  kind, dtype=torch.float32)


def tensor_like(got: Any, expected: torch.Tensor, what: str) -> torch.Tensor:
    """``got`` must be a plain tensor with the expected shape and dtype."""
    if type(got) is not torch.Tensor:
        fail(f"{what} returned {describe(got)}; expected a tensor")
    if got.shape != expected.shape:
        fail(f"{what} returned shape {tuple(got.shape)}; expected shape {tuple(expected.shape)}")
    if got.dtype != expected.dtype:
        exp, got_d = (str(d).removeprefix("torch.") for d in (expected.dtype, got.dtype))
        fail(f"{what} returned {got_d} for {exp} input; expected {exp}: the output dtype must follow "
             "the input's (a tensor made without `dtype=` is float32, and `.float()` converts)")
    return got


def close(got: Any, expected: torch.Tensor, what: str, hint: str, *, kind: str = "value",
          likely: Mapping[str, Any] | None = None, nonfinite_hint: str = "") -> None:
    """``got`` must equal ``expected`` under the policy (``kind``); otherwise say which mistake it looks like.

    ``likely`` maps a message to a value a typical wrong implementation would
    return: when ``got`` matches one, that message is shown instead of ``hint``.
    The message says how the result is wrong, never by how much or against what.
    """
    tensor_like(got, expected, what)
    if expected.is_floating_point():
        bad = ~torch.isfinite(got) & torch.isfinite(expected)
        if bool(bad.any()):
            fail(f"{what} returned inf or nan where the result is finite"
                 + (f": {nonfinite_hint}" if nonfinite_hint else ""))
    if within(got, expected, kind):
        return
    for message, alternative in (likely or {}).items():
        if matches(got, alternative, expected.dtype, kind):
            fail(f"{what}: {message}")
    fail(f"{what}: {hint} ({how_it_differs(got, expected, kind)})")


def matches(got: Any, alternative: Any, dtype: torch.dtype, kind: str) -> bool:
    """Does ``got`` look like ``alternative`` (a typical mistake), in at least float32's tolerance?"""
    if type(alternative) is not torch.Tensor or type(got) is not torch.Tensor or got.shape != alternative.shape:
        return False
    loose = torch.float32 if kind == "exact" or dtype == torch.float64 else dtype
    try:
        return within(got, alternative, "value" if kind == "exact" else kind, dtype=loose)
    except RuntimeError:
        return False


def how_it_differs(got: torch.Tensor, expected: torch.Tensor, kind: str) -> str:
    """How a wrong result differs from the right one, in words: no magnitude of the expected values."""
    g, e = got.to(torch.float64), expected.to(torch.float64)

    def like(candidate: torch.Tensor) -> bool:
        return within(candidate, e, kind, dtype=expected.dtype)

    if g.numel() and bool((g == 0).all()):
        return "every element is 0"
    if like(-g):
        return "the sign is flipped"
    if g.dim() == 2 and g.shape[0] == g.shape[1] > 1 and like(g.T):
        return "it looks transposed"
    if g.numel() > 1 and bool(torch.isfinite(g).all()) and bool(torch.isfinite(e).all()):
        ee = float((e * e).sum())
        if ee > 0:
            factor = float((g * e).sum()) / ee
            if factor != 0 and like(g / factor):
                return "it is off by a constant factor: something is scaled"
        offset = float((g - e).mean())
        if like(g - offset):
            return "it is off by a constant"
    if g.numel() > 1:
        rtol, atol = tolerance(expected.dtype, kind)
        wrong = ~torch.isclose(g, e, rtol=rtol, atol=atol * magnitude(e), equal_nan=True)
        return f"{int(wrong.sum())} of {g.numel()} elements differ beyond tolerance"
    return "it differs beyond tolerance"


def unchanged(before: Any, after: Any, what: str, argument: str) -> None:
    """An argument must not be modified in place."""
    if type(before) is torch.Tensor:
        if type(after) is not torch.Tensor or after.shape != before.shape or not torch.equal(after, before):
            fail(f"{what} modified its argument `{argument}` in place; graded functions must return new "
                 "tensors (avoid `+=`, `[...] =` and `*_()` methods on arguments, or `.clone()` first)")
    elif type(before) in (list, tuple):
        if type(after) is not type(before) or len(after) != len(before):
            fail(f"{what} modified its argument `{argument}` in place")
        for b, a in zip(before, after):
            unchanged(b, a, what, argument)


def pairs_like(got: Any, expected: list, what: str) -> list:
    """``got`` must be a list (or tuple) of (tensor, tensor) pairs, as long as ``expected``."""
    if type(got) not in (list, tuple):
        fail(f"{what} returned {describe(got)}; expected a list of (W, b) pairs")
    if len(got) != len(expected):
        fail(f"{what} returned {len(got)} pair{'s' if len(got) != 1 else ''}; expected one (W, b) pair "
             "per layer")
    for pair in got:
        if type(pair) not in (list, tuple) or len(pair) != 2:
            fail(f"{what} must return (W, b) pairs; found {describe(pair)}")
    return list(got)


def call_both(student: Any, ref: Any, name: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """Call ``name`` on both sides with the same arguments; the student's call must leave its
    arguments unchanged. Returns (the student's result, the reference's)."""
    got, args_after, kwargs_after = student.call_returning_args(name, *args, **kwargs)
    expected = ref.call(name, *args, **kwargs)
    for position, (before, after) in enumerate(zip(args, args_after)):
        unchanged(before, after, name, parameter_name(ref, name, position))
    for key, before in kwargs.items():
        unchanged(before, kwargs_after.get(key), name, key)
    return got, expected


def compare(student: Any, ref: Any, name: str, *args: Any, hint: str,
            likely: Mapping[str, Any] | None = None, nonfinite_hint: str = "", kind: str = "value",
            **kwargs: Any) -> Any:
    """``call_both``, then the student's result must match the reference's under the policy (``kind``)."""
    got, expected = call_both(student, ref, name, *args, **kwargs)
    close(got, expected, name, hint, likely=likely, nonfinite_hint=nonfinite_hint, kind=kind)
    return got


def parameter_name(ref: Any, name: str, position: int) -> str:
    import inspect
    try:
        params = list(inspect.signature(getattr(ref.transport.server.module, name)).parameters)
        return params[position]
    except (AttributeError, IndexError, TypeError, ValueError):
        return f"#{position + 1}"
