"""What hidden tests use: points, seeded inputs, and comparisons whose messages name the mistake.

Every failure raises ``Mistake`` with a message for the student. Messages
describe *what* is wrong and the likely cause; they never contain hidden
inputs, expected values or reference code.
"""

from __future__ import annotations

import math
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


# -- comparisons ---------------------------------------------------------------------------------
def tolerance(dtype: torch.dtype) -> tuple[float, float]:
    """(rtol, atol) for comparing with the reference in this dtype."""
    return (1e-9, 1e-11) if dtype == torch.float64 else (2e-5, 2e-6)


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


def close(got: Any, expected: torch.Tensor, what: str, hint: str, *, rtol: float | None = None,
          atol: float | None = None, likely: Mapping[str, Any] | None = None,
          nonfinite_hint: str = "") -> None:
    """``got`` must equal ``expected`` within tolerance; otherwise say which mistake it looks like.

    ``likely`` maps a message to a value a typical wrong implementation would
    return: when ``got`` matches one, that message is shown instead of ``hint``.
    """
    tensor_like(got, expected, what)
    d_rtol, d_atol = tolerance(expected.dtype) if expected.is_floating_point() else (0.0, 0.0)
    rtol, atol = (d_rtol if rtol is None else rtol), (d_atol if atol is None else atol)
    if expected.is_floating_point():
        bad = ~torch.isfinite(got) & torch.isfinite(expected)
        if bool(bad.any()):
            fail(f"{what} returned inf or nan where the result is finite"
                 + (f": {nonfinite_hint}" if nonfinite_hint else ""))
    if torch.allclose(got.to(expected.dtype), expected, rtol=rtol, atol=atol, equal_nan=True):
        return
    for message, alternative in (likely or {}).items():
        if matches(got, alternative, rtol, atol):
            fail(f"{what}: {message}")
    fail(f"{what}: {hint} (largest difference {max_difference(got, expected):.3g})")


def matches(got: Any, alternative: Any, rtol: float, atol: float) -> bool:
    if type(alternative) is not torch.Tensor or type(got) is not torch.Tensor:
        return False
    if got.shape != alternative.shape:
        return False
    try:
        return bool(torch.allclose(got.to(torch.float64), alternative.to(torch.float64),
                                   rtol=max(rtol, 1e-6), atol=max(atol, 1e-7), equal_nan=True))
    except RuntimeError:
        return False


def max_difference(got: torch.Tensor, expected: torch.Tensor) -> float:
    diff = (got.to(torch.float64) - expected.to(torch.float64)).abs()
    diff = torch.nan_to_num(diff, nan=math.inf)
    return float(diff.max()) if diff.numel() else 0.0


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
             f"per layer: {len(expected)}")
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
            likely: Mapping[str, Any] | None = None, nonfinite_hint: str = "",
            rtol: float | None = None, atol: float | None = None, **kwargs: Any) -> Any:
    """``call_both``, then the student's result must match the reference's."""
    got, expected = call_both(student, ref, name, *args, **kwargs)
    close(got, expected, name, hint, likely=likely, nonfinite_hint=nonfinite_hint, rtol=rtol, atol=atol)
    return got


def parameter_name(ref: Any, name: str, position: int) -> str:
    import inspect
    try:
        params = list(inspect.signature(getattr(ref.transport.server.module, name)).parameters)
        return params[position]
    except (AttributeError, IndexError, TypeError, ValueError):
        return f"#{position + 1}"
