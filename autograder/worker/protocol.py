"""Plain-data messages between the grader and a worker: JSON plus raw tensor bytes.

No pickle, ever. A message is ``[8-byte header length][JSON header][blobs]``;
tensors travel as ``{"T": [dtype, shape, blob index]}`` and are rebuilt as
fresh, plain ``torch.Tensor``s, so nothing a student defines (a subclass, an
object that claims to be equal to everything) survives the trip. Decoding
checks every type, size and shape and raises ``ProtocolError`` on anything odd.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any

import torch

DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64,
    torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool)}
MAX_MESSAGE_BYTES = 64 * 2**20
MAX_ITEMS = 100_000  # list elements, dict entries and iterator items in one message
MAX_DEPTH = 20
MAX_STR = 4000


class ProtocolError(Exception):
    """A message that is not well-formed plain data."""


@dataclass(frozen=True)
class Handle:
    """An object that lives in the worker (a model, a dataset), named by number."""
    id: int
    type: str


@dataclass(frozen=True)
class Opaque:
    """Something a student returned that is not plain data; only its type name crosses."""
    type: str

    def __eq__(self, other: object) -> bool:  # never equal, not even to itself
        return False

    __hash__ = object.__hash__


@dataclass(frozen=True)
class Fixture:
    """A worker-side object the grader asks to build (a callable, a loader, an optimizer)."""
    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Items:
    """What a generator or iterator yielded; ``complete`` is False when it yielded too many."""
    items: list
    complete: bool


def encode(message: dict) -> bytes:
    """Serialise a message; tensors become blobs, plain containers stay JSON."""
    blobs = _Blobs()
    header = json.dumps({str(k): _to_json(v, blobs, 0) for k, v in message.items()}, allow_nan=True).encode()
    parts = [struct.pack("<Q", len(header)), header, struct.pack("<I", len(blobs))]
    for blob in blobs:
        parts += [struct.pack("<Q", len(blob)), blob]
    return b"".join(parts)


class _Blobs(list):
    """Tensor bytes of one message, with their running total."""
    total = 0


def decode(data: bytes) -> dict:
    """Rebuild a message from bytes, validating everything; raises ProtocolError.

    Every way bytes can fail to be a message (a truncated header, invalid UTF-8, a JSON integer too
    long to parse, nesting deeper than the parser's stack, a size no memory can hold, ...) is the same
    failure for the caller: the sender did not send plain data."""
    try:
        return _decode(data)
    except ProtocolError:
        raise
    except Exception as exc:  # noqa: BLE001 - ValueError, RecursionError, MemoryError, OverflowError...
        raise ProtocolError(f"malformed message ({type(exc).__name__})") from None


def _decode(data: bytes) -> dict:
    (hlen,) = struct.unpack_from("<Q", data, 0)
    if 8 + hlen + 4 > len(data):
        raise ProtocolError("truncated message")
    header = json.loads(data[8:8 + hlen].decode())
    (nblobs,) = struct.unpack_from("<I", data, 8 + hlen)
    offset, blobs = 12 + hlen, []
    if nblobs > MAX_ITEMS:
        raise ProtocolError("too many tensors")
    for _ in range(nblobs):
        (blen,) = struct.unpack_from("<Q", data, offset)
        blobs.append(memoryview(data)[offset + 8:offset + 8 + blen])
        offset += 8 + blen
        if offset > len(data):
            raise ProtocolError("truncated message")
    if type(header) is not dict:
        raise ProtocolError("a message must be a JSON object")
    return {k: _from_json(v, blobs, 0) for k, v in header.items()}


def _to_json(value: Any, blobs: _Blobs, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    kind = type(value)  # exact types only: subclasses of int, str, tensor... are not plain data
    if value is None or kind is bool or kind is int or kind is float:
        return value
    if kind is str:
        return value if len(value) <= MAX_STR else value[:MAX_STR] + " [...]"
    if kind is torch.Tensor:
        t = value.detach()
        if t.layout != torch.strided or t.is_complex() or str(t.dtype).removeprefix("torch.") not in DTYPES:
            return {"O": f"tensor of {t.dtype}"}
        t = t.cpu().contiguous()
        if blobs.total + t.numel() * t.element_size() > MAX_MESSAGE_BYTES:
            raise ProtocolError(f"the result is larger than {MAX_MESSAGE_BYTES // 2**20} MiB")
        blobs.total += t.numel() * t.element_size()
        blobs.append(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        return {"T": [str(t.dtype).removeprefix("torch."), list(t.shape), len(blobs) - 1]}
    if kind is list or kind is tuple:
        if len(value) > MAX_ITEMS:
            raise ProtocolError("list too long")
        return {"L" if kind is list else "U": [_to_json(v, blobs, depth + 1) for v in value]}
    if kind is dict:
        if len(value) > MAX_ITEMS:
            raise ProtocolError("dict too long")
        return {"D": [[_to_json(k, blobs, depth + 1), _to_json(v, blobs, depth + 1)] for k, v in value.items()]}
    if kind is Handle:
        return {"H": [value.id, value.type]}
    if kind is Fixture:
        return {"F": [value.name, _to_json(list(value.args), blobs, depth + 1),
                      _to_json(dict(value.kwargs), blobs, depth + 1)]}
    if kind is Items:
        return {"I": [_to_json(list(value.items), blobs, depth + 1), value.complete]}
    if kind is Opaque:
        return {"O": value.type}
    return {"O": _type_name(value)}


def _type_name(value: Any) -> str:
    try:
        name = type(value).__qualname__
    except Exception:  # a hostile metaclass
        name = "object"
    return name if type(name) is str and len(name) <= 100 else "object"


def _from_json(value: Any, blobs: list, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value
    if type(value) is not dict or len(value) != 1 or next(iter(value)) not in tuple("TLUDHFIO"):
        raise ProtocolError("unexpected JSON value")
    tag, body = next(iter(value.items()))
    if tag == "T":
        return _tensor(body, blobs)
    if tag in "LU":
        if type(body) is not list or len(body) > MAX_ITEMS:
            raise ProtocolError("bad list")
        items = [_from_json(v, blobs, depth + 1) for v in body]
        return items if tag == "L" else tuple(items)
    if tag == "D":
        if type(body) is not list or len(body) > MAX_ITEMS:
            raise ProtocolError("bad dict")
        out = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise ProtocolError("bad dict entry")
            key = _from_json(pair[0], blobs, depth + 1)
            if type(key) not in (str, int):
                raise ProtocolError("dict keys must be str or int")
            out[key] = _from_json(pair[1], blobs, depth + 1)
        return out
    if tag == "H":
        if type(body) is not list or len(body) != 2 or type(body[0]) is not int or type(body[1]) is not str:
            raise ProtocolError("bad handle")
        return Handle(body[0], body[1][:100])
    if tag == "F":
        if type(body) is not list or len(body) != 3 or type(body[0]) is not str:
            raise ProtocolError("bad fixture")
        args, kwargs = _from_json(body[1], blobs, depth + 1), _from_json(body[2], blobs, depth + 1)
        if type(args) is not list or type(kwargs) is not dict:
            raise ProtocolError("bad fixture arguments")
        return Fixture(body[0], tuple(args), kwargs)
    if tag == "I":
        if type(body) is not list or len(body) != 2 or type(body[1]) is not bool:
            raise ProtocolError("bad items")
        items = _from_json(body[0], blobs, depth + 1)
        if type(items) is not list:
            raise ProtocolError("bad items")
        return Items(items, body[1])
    if type(body) is not str:
        raise ProtocolError("bad opaque value")
    return Opaque(body[:100])


def _tensor(body: Any, blobs: list) -> torch.Tensor:
    if type(body) is not list or len(body) != 3:
        raise ProtocolError("bad tensor")
    dtype_name, shape, index = body
    if type(dtype_name) is not str or dtype_name not in DTYPES:
        raise ProtocolError("bad tensor dtype")
    if type(shape) is not list or len(shape) > 16 or any(type(s) is not int or s < 0 for s in shape):
        raise ProtocolError("bad tensor shape")
    if type(index) is not int or not 0 <= index < len(blobs):
        raise ProtocolError("bad tensor blob")
    dtype = DTYPES[dtype_name]
    blob = blobs[index]
    itemsize = torch.empty((), dtype=dtype).element_size()
    if math.prod(shape) * itemsize != len(blob):
        raise ProtocolError("tensor size does not match its shape")
    if len(blob) == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(blob), dtype=dtype).reshape(shape)
