"""The worker channel carries plain data only, and rejects anything else."""

import struct

import pytest
import torch

from autograder.worker.protocol import Fixture, Handle, Items, Opaque, ProtocolError, decode, encode

pytestmark = pytest.mark.fast  # in the edit-test loop's tier (dlkit selftest --fast)


def roundtrip(value):
    return decode(encode({"value": value}))["value"]


def test_tensors_numbers_and_containers_survive():
    value = [torch.arange(6, dtype=torch.float64).reshape(2, 3), (1, 2.5, None, True, "x"),
             {"a": torch.tensor(3), 4: [torch.zeros(0, 5)]}, Handle(3, "MLP"), Items([1, 2], False),
             Fixture("generator", (5,), {}), float("inf")]
    got = roundtrip(value)
    assert torch.equal(got[0], value[0]) and got[0].dtype == torch.float64
    assert got[1] == value[1] and got[3] == value[3] and got[4] == value[4] and got[5] == value[5]
    assert torch.equal(got[2]["a"], torch.tensor(3)) and got[2][4][0].shape == (0, 5)
    assert got[6] == float("inf")


def test_non_contiguous_and_grad_tensors_become_plain_copies():
    t = torch.randn(4, 3, requires_grad=True)
    got = roundtrip(t.T)
    assert type(got) is torch.Tensor and not got.requires_grad and torch.equal(got, t.detach().T)


def test_subclasses_and_objects_do_not_cross():
    class Sneaky(torch.Tensor):
        pass

    class AlwaysEqual:
        def __eq__(self, other):
            return True

    class MyFloat(float):
        pass

    for value in (torch.zeros(2).as_subclass(Sneaky), AlwaysEqual(), MyFloat(1.0), torch.nn.Parameter(torch.ones(1))):
        got = roundtrip(value)
        assert type(got) is Opaque and got != got


def test_malformed_messages_are_rejected():
    good = encode({"value": torch.ones(3)})
    bad_json = struct.pack("<Q", 5) + b"{oops" + struct.pack("<I", 0)
    for data in (b"", good[:-3], bad_json, encode({"value": 1})[:9]):
        with pytest.raises(ProtocolError):
            decode(data)


def test_a_tensor_whose_bytes_do_not_match_its_shape_is_rejected():
    header = b'{"value": {"T": ["float32", [1000], 0]}}'
    data = struct.pack("<Q", len(header)) + header + struct.pack("<I", 1) + struct.pack("<Q", 8) + b"\0" * 8
    with pytest.raises(ProtocolError):
        decode(data)


def test_unknown_tags_are_rejected():
    header = b'{"value": {"X": 1}}'
    with pytest.raises(ProtocolError):
        decode(struct.pack("<Q", len(header)) + header + struct.pack("<I", 0))


def framed(header: bytes, blobs: bytes = b"", count: int = 0) -> bytes:
    return struct.pack("<Q", len(header)) + header + struct.pack("<I", count) + blobs


@pytest.mark.parametrize("data", [
    framed(b'{"ok": ' + b"9" * 5000 + b"}"),  # an integer longer than Python parses (ValueError)
    framed(b"[" * 100_000 + b"]" * 100_000),  # nesting deeper than the parser's stack (RecursionError)
    framed(b'{"v": {"T": ["float32", [0, 9223372036854775807, 9223372036854775807], 0]}}',
           struct.pack("<Q", 0), 1),  # a shape no tensor can have
    framed(b'{"v": {"T": ["float32", [4], 0]}}', struct.pack("<Q", 2**63) + b"\0" * 16, 1),  # a blob size beyond the data
    struct.pack("<Q", 2**63) + b"{}",  # a header size beyond the data
    framed(b'\xff\xfe'),  # not UTF-8
    framed(b'{"v": {"L": ' + b'{"L": [' * 50 + b"]}" * 50 + b"}}"),  # deeper than MAX_DEPTH
])
def test_every_way_of_not_being_a_message_is_a_protocol_error(data):
    with pytest.raises(ProtocolError):
        decode(data)


def test_a_whole_reply_has_a_deadline_not_each_read():
    """A peer that sends one byte at a time, each well within any per-read timeout, still fails at
    the deadline of the whole message."""
    import socket
    import threading
    import time

    from autograder.worker.channel import read_message

    reader, writer = socket.socketpair()

    def drip():
        writer.sendall(struct.pack("<Q", 1000))
        try:
            while True:
                writer.sendall(b" ")
                time.sleep(0.1)
        except OSError:
            pass

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        read_message(reader, deadline=started + 1.0)
    assert time.monotonic() - started < 1.5
    reader.close()
    writer.close()


def test_a_dataset_is_read_in_chunks_as_item_by_item():
    """``getitems`` gives what ``getitem`` gives for each index; a raising item is the student's
    error, as with ``getitem``; an oversized or malformed request is the grader's (a ProtocolError)."""
    import types

    from autograder.runner.session import LocalTransport, Session, StudentError
    from autograder.worker.server import MAX_GETITEMS, Server

    class Squares(torch.utils.data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            if i >= 5:
                raise IndexError("no such item")
            return torch.tensor([float(i * i)]), torch.tensor(i)

    session = Session(LocalTransport(Server(types.SimpleNamespace(Squares=Squares))), "torch_mlp")
    data = session.call("Squares", keep=True)
    chunk = session.items(data, [0, 1, 2, 3, 4])
    for i, (x, label) in enumerate(chunk):
        one_x, one_label = session.item(data, i)
        assert torch.equal(x, one_x) and torch.equal(label, one_label) and int(label) == i
    with pytest.raises(StudentError, match="no such item"):
        session.items(data, [3, 4, 5])
    server = Server(types.SimpleNamespace())
    for indices in (list(range(MAX_GETITEMS + 1)), "0:5", None):
        with pytest.raises(ProtocolError):
            server.handle({"op": "getitems", "target": None, "indices": indices})
