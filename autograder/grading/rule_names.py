"""What the "from scratch" rule allows, by name: torch attribute paths, modules, builtins, attributes.

Everything here is decided on names and on attribute walks of the real ``torch``
(and of a few kit-chosen modules: math, numpy, ...). No module a student
names is ever imported: a module outside the lists below is simply not allowed.
"""

from __future__ import annotations

import functools
import importlib
import re
import types

# The SYLLABUS list and its equivalents. A torch attribute whose name (leading
# underscores aside) matches is forbidden wherever it sits (torch.special.expit,
# torch._softmax, torch.rrelu_, torch.Tensor.sigmoid ...).
_NN_NAMES = ("sigmoid", "tanh", "relu", "softmax", "log_softmax", "logsumexp", "logcumsumexp",
             "expit", "logit", "softplus", "silu", "gelu", "elu", "selu", "celu", "rrelu", "prelu",
             "hardtanh", "hardsigmoid", "hardswish", "relu6", "leaky_relu", "mish", "logsigmoid",
             "log_sigmoid", "softmin", "softsign", "tanhshrink", "threshold", "glu", "kl_div", "backward")
_NN_PATTERN = re.compile(r"(^|_)(" + "|".join(_NN_NAMES) + r")(_|$)|sigmoid|softmax|logsumexp|backward|loss"
                         r"|cross_entropy|nll|relu")

# torch namespaces the assignments may not touch at all (torch.<name>...).
TORCH_FORBIDDEN_NAMESPACES = frozenset({
    "nn", "autograd", "func", "ops", "distributions", "overrides", "utils", "library", "hub", "package",
    "jit", "fx", "export", "compiler", "onnx", "serialization", "load", "multiprocessing", "optim"})
# Implementation modules behind those namespaces: an object defined there is forbidden
# whatever path reached it (torch.vmap is torch.func's).
_FORBIDDEN_ORIGINS = ("torch.nn", "torch.autograd", "torch.func", "torch._functorch", "torch.distributions",
                      "torch.utils", "torch.library", "torch.overrides", "torch.hub", "torch.jit", "torch.fx",
                      "torch.export", "torch.serialization", "torch._ops", "torch._C._nn")
# grad-mode switches are fine (they compute nothing): @torch.no_grad(), with torch.inference_mode(): ...
GRAD_MODE = frozenset({"no_grad", "inference_mode", "set_grad_enabled", "enable_grad", "is_grad_enabled",
                       "is_inference_mode_enabled"})

# Modules the assignments may use besides torch, each with the names of it that are not allowed.
ALLOWED_MODULES: dict[str, frozenset[str]] = {
    "math": frozenset(), "cmath": frozenset(), "numbers": frozenset(), "fractions": frozenset(),
    "decimal": frozenset(), "statistics": frozenset(), "random": frozenset(), "itertools": frozenset(),
    "functools": frozenset(), "collections": frozenset(),
    "dataclasses": frozenset({"fields"}),  # fields(...).type reads an annotation back
    "abc": frozenset(), "enum": frozenset(), "__future__": frozenset(),
    "copy": frozenset(), "warnings": frozenset(), "time": frozenset(), "heapq": frozenset(),
    "bisect": frozenset(), "contextlib": frozenset(),
    "typing": frozenset({"get_type_hints", "ForwardRef", "evaluate_forward_ref"}),
    "typing_extensions": frozenset({"get_type_hints", "ForwardRef", "evaluate_forward_ref", "get_annotations"}),
    "operator": frozenset({"attrgetter", "methodcaller"}),
    "numpy": frozenset({"ctypeslib", "load", "loads", "lib", "f2py", "distutils", "testing", "core", "_core"}),
}
# Modules that reach into the interpreter itself (frames, namespaces, other modules, memory):
# using them makes a program's calls impossible to see, so they are never allowed.
INTROSPECTION_MODULES = frozenset({
    "sys", "gc", "ctypes", "inspect", "builtins", "importlib", "types", "pickle", "marshal", "copyreg",
    "pydoc", "pkgutil", "runpy", "code", "codeop", "dis", "imp", "zipimport", "threading", "_thread",
    "weakref", "atexit", "traceback", "linecache", "string", "annotationlib", "ast", "dill", "cloudpickle"})
# Plain facts about the interpreter that reach nothing (sys.float_info.epsilon for a tolerance).
HARMLESS_SYS = frozenset({"float_info", "maxsize", "version", "version_info", "platform", "path", "argv",
                          "stdout", "stderr", "byteorder", "int_info", "exit"})

# Builtins that look names up or run code: `getattr(x, "const")` is read as `x.const`.
REBINDING_BUILTINS = frozenset({"eval", "exec", "compile", "globals", "locals", "vars", "__import__",
                                "breakpoint", "setattr", "delattr"})
LOOKUP_BUILTINS = frozenset({"getattr"})

# Dunder attributes with nothing behind them; every other one (__dict__, __globals__,
# __class__, __code__, __closure__, __builtins__, __subclasses__ ...) opens a back door.
HARMLESS_DUNDERS = frozenset({
    "__init__", "__name__", "__qualname__", "__doc__", "__len__", "__iter__", "__next__", "__enter__",
    "__exit__", "__repr__", "__str__", "__eq__", "__ne__", "__hash__", "__post_init__", "__version__",
    "__add__", "__sub__", "__mul__", "__truediv__", "__matmul__", "__neg__", "__lt__", "__le__", "__gt__",
    "__ge__", "__contains__", "__getitem__", "__call__", "__float__", "__int__", "__bool__"})
# (not __annotations__: annotations are not checked, so reading them back would be a way round)
HARMLESS_DUNDER_NAMES = frozenset({"__name__", "__doc__", "__file__", "__debug__", "__class__"})
FRAME_ATTRIBUTES = frozenset({"f_globals", "f_locals", "f_back", "f_builtins", "f_code", "tb_frame", "tb_next",
                              "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "co_consts",
                              "co_names", "cell_contents"})
# Methods that only read a container: calling them at module level changes nothing.
READ_ONLY_METHODS = frozenset({"items", "keys", "values", "get", "copy", "index", "count", "format", "join",
                               "startswith", "endswith", "lower", "upper", "strip", "split"})


def forbidden_torch_name(name: str) -> bool:
    return bool(_NN_PATTERN.search(name.lstrip("_"))) and name.lstrip("_") not in ("atanh", "arctanh")


@functools.cache
def method_forms() -> frozenset[str]:
    """Forbidden names that are also tensor methods: forbidden on any object (`z.sigmoid()`)."""
    import torch
    names = {n for n in dir(torch.Tensor) if not n.startswith("__") and forbidden_torch_name(n)}
    return frozenset(names | {"sigmoid", "tanh", "relu", "softmax", "log_softmax", "logsumexp", "backward",
                              "sigmoid_", "tanh_", "relu_", "grad_fn"})


@functools.cache
def private_tensor_attributes() -> frozenset[str]:
    import torch
    return frozenset(n for n in dir(torch.Tensor) if n.startswith("_") and not n.startswith("__"))


@functools.cache
def _forbidden_objects() -> frozenset[int]:
    """ids of the forbidden functions themselves, to catch them under any other name."""
    import torch
    import torch.nn.functional as F
    objects = [getattr(torch, n) for n in dir(torch) if forbidden_torch_name(n)]
    objects += [getattr(torch.Tensor, n) for n in dir(torch.Tensor) if forbidden_torch_name(n)]
    objects += [getattr(torch.special, n) for n in dir(torch.special) if forbidden_torch_name(n)]
    objects += [v for v in vars(F).values() if callable(v) and not isinstance(v, type)]
    return frozenset(id(o) for o in objects)


def _forbidden_origin(obj: object) -> bool:
    origin = getattr(obj, "__module__", None) if callable(obj) or isinstance(obj, types.ModuleType) else None
    if isinstance(obj, types.ModuleType):
        origin = obj.__name__
    return isinstance(origin, str) and any(origin == o or origin.startswith(o + ".") for o in _FORBIDDEN_ORIGINS)


@functools.cache
def check_torch_path(parts: tuple[str, ...]) -> tuple[str, str] | None:
    """Why ``torch.<parts>`` is not allowed, as (kind, shown name), or None when it is allowed.

    kind is "forbidden" (a forbidden function or namespace) or "module" (the path is a
    module, so using it as a value hides what is called)."""
    import torch
    shown = ".".join(("torch", *parts))
    for i, part in enumerate(parts):
        upto = ".".join(("torch", *parts[:i + 1]))
        if part.startswith("__") and part.endswith("__"):
            if part not in HARMLESS_DUNDERS:
                return "dynamic", upto
        elif part.startswith("_"):
            return "forbidden", upto
        if i == 0 and part in TORCH_FORBIDDEN_NAMESPACES:
            return "forbidden", upto
        if forbidden_torch_name(part):
            return "forbidden", upto
    obj: object = torch
    for i, part in enumerate(parts):
        if not isinstance(obj, (types.ModuleType, type)):
            return None  # an attribute of a value (torch.float32.itemsize): nothing more to resolve
        try:
            obj = getattr(obj, part)
        except Exception:  # noqa: BLE001 - a missing attribute fails at run time, not here
            return None
        if id(obj) in _forbidden_objects():
            return "forbidden", ".".join(("torch", *parts[:i + 1]))
        if isinstance(obj, types.ModuleType) and obj.__name__.split(".")[0] != "torch":
            return "dynamic", ".".join(("torch", *parts[:i + 1]))  # torch.sys, torch.inspect: not torch's
        if _forbidden_origin(obj) and not (i == 0 and part in GRAD_MODE):
            return "forbidden", ".".join(("torch", *parts[:i + 1]))
    if isinstance(obj, types.ModuleType):
        return "module", shown
    return None


@functools.cache
def check_allowed_path(module: str, parts: tuple[str, ...]) -> tuple[str, str] | None:
    """Like check_torch_path for a kit-allowed module (math, numpy, operator ...)."""
    shown = ".".join((module, *parts))
    denied = ALLOWED_MODULES[module]
    for i, part in enumerate(parts):
        upto = ".".join((module, *parts[:i + 1]))
        if part.startswith("__") and part.endswith("__") and part not in HARMLESS_DUNDERS:
            return "dynamic", upto
        if i == 0 and part in denied:
            return ("lookup" if module == "operator" else "dynamic"), upto
    try:
        obj: object = importlib.import_module(module)
    except ImportError:
        return None
    for i, part in enumerate(parts):
        if not isinstance(obj, (types.ModuleType, type)):
            return None
        try:
            obj = getattr(obj, part)
        except Exception:  # noqa: BLE001
            return None
        if isinstance(obj, types.ModuleType) and not allowed_module(obj.__name__):
            return "dynamic", ".".join((module, *parts[:i + 1]))  # typing.sys, os.sys: a way out
    if isinstance(obj, types.ModuleType):
        return "module", shown
    return None


def allowed_module(name: str) -> bool:
    """Whether a dotted module name ("numpy.linalg", "collections.abc") is one the assignments may use."""
    return name.split(".")[0] in ALLOWED_MODULES
