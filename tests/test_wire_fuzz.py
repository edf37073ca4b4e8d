"""Decoding is total: whatever bytes a child sends, the judge gets a value or the wire's own
WireError (never another exception), for that message alone, in bounded memory. Fuzzed with
hypothesis (random bytes and mutations of valid messages) and pinned by the cases found."""

from __future__ import annotations

import json
import os
import struct
import threading
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from autograder.sandbox import messages
from autograder.sandbox.launcher import Channel, ChildCrashed, ChildTimeout
from autograder.wire import MAX_JSON_BYTES, Unsupported, WireError, decode, encode

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def message(document, blobs=()) -> bytes:
    """A message of the wire format with a hand-written JSON part and blobs."""
    head = document if isinstance(document, bytes) else json.dumps(document).encode()
    parts = [struct.pack(">Q", len(head)), head, struct.pack(">I", len(blobs))]
    for blob in blobs:
        parts += [struct.pack(">Q", len(blob)), blob]
    return b"".join(parts)


def npy(descr: str, shape: str, data: bytes = b"", fortran: bool = False) -> bytes:
    """A .npy blob whose header says what we like (numpy's own layout: padded, newline)."""
    header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}".encode()
    header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def decodes_or_refuses(data: bytes):
    try:
        return decode(data)
    except WireError:
        return WireError


# ---------------------------------------------------------------- the cases that used to escape

@pytest.mark.parametrize("data", [
    message({"$dict": [[{"$tuple": [[1]]}, 1]]}),  # a tuple key holding a list
    message({"$dict": [[{"$tuple": [{"$array": 0}]}, 1]]}, [npy("<f8", "(1,)", bytes(8))]),  # ... an array
    message({"$array": 0}, [npy("<f8", "(0, 10000000000000000000000)")]),  # a dimension past 64 bits
    message({"$array": 0}, [npy("<f8", "(0, 4611686018427387904, 4)")]),  # dimensions whose product overflows
    message(b"1" * 5000),  # an integer past Python's 4300-digit limit
    message(b"[" * 100_000 + b"]" * 100_000),  # nesting far past the recursion limit
    message(b"[1e999]"),  # a JSON number that is not finite
], ids=["tuple-key-with-list", "tuple-key-with-array", "huge-dimension", "overflowing-shape",
        "huge-integer", "deep-nesting", "infinite-number"])
def test_a_message_that_used_to_raise_something_else_is_a_wire_error(data):
    with pytest.raises(WireError):
        decode(data)


@pytest.mark.parametrize("descr", ["|V0", "|S0", "<U0", "<M8", "<m8", "|V8"])
def test_arrays_of_no_numeric_use_arrive_as_unsupported_markers(descr):
    itemsize = np.dtype(descr).itemsize
    value = decode(message({"$array": 0}, [npy(descr, "(3,)", bytes(3 * itemsize))]))
    assert isinstance(value, Unsupported) and str(np.dtype(descr)) in str(value)


def test_a_fortran_ordered_array_decodes_to_the_same_values_in_c_order():
    data = np.arange(6, dtype=np.float64).reshape(2, 3)
    value = decode(message({"$array": 0}, [npy("<f8", "(2, 3)", data.T.tobytes(), fortran=True)]))
    assert value.flags.c_contiguous and np.array_equal(value, data)


# ---------------------------------------------------------------- fuzzing

plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=True) | st.text(max_size=20)
    | st.builds(lambda n, t: np.arange(n).astype(t), st.integers(0, 5), st.sampled_from(["f8", "f4", "i1", "u8", "?"])),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=3),
    max_leaves=12)


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_decode_to_a_value_or_a_wire_error(data):
    decodes_or_refuses(data)
    decodes_or_refuses(struct.pack(">Q", min(len(data), 2048)) + data)  # a plausible length first


@FUZZ
@given(plain, st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_valid_messages_decode_to_a_value_or_a_wire_error(document, flips):
    data = bytearray(encode(document))
    for position, byte in flips:
        data[position % len(data)] = byte
    decodes_or_refuses(bytes(data))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["$tuple", "$dict", "$array", "$float", "$object", "a", "$x"]), inner, max_size=2),
    max_leaves=16)


@FUZZ
@given(json_values, st.lists(st.sampled_from([
    npy("<f8", "(2,)", bytes(16)), npy("|V0", "(3,)"), npy("<f8", "(0, 99999999999999999999)"),
    npy("<i1", "(3, 1)", bytes(3), fortran=True), npy("<f8", "(5,)", bytes(8)), b"\x93NUMPY\x02\x00garbage",
    npy("|O", "(1,)", bytes(8)), npy("[('a', '<f8')]", "(1,)", bytes(8)),
]), max_size=3))
def test_any_json_with_any_tags_and_blobs_decodes_to_a_value_or_a_wire_error(document, blobs):
    decodes_or_refuses(message(document, blobs))


def test_decoding_the_largest_json_part_stays_within_a_bounded_memory():
    """A JSON part at its cap of small numbers: the decoded lists, nothing more (no per-item arrays)."""
    count = MAX_JSON_BYTES // 2 - 8
    data = message(b"[" + b"0," * count + b"0]")
    tracemalloc.start()
    try:
        value = decode(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(value) == count + 1
    assert peak < 20 * MAX_JSON_BYTES  # two lists of 8 M pointers (128 MB) and the parser's text


def test_an_array_claiming_more_than_its_blob_is_refused_before_any_allocation():
    tracemalloc.start()
    try:
        with pytest.raises(WireError):
            decode(message({"$array": 0}, [npy("<f8", "(100000000,)", bytes(64))]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


# ---------------------------------------------------------------- the transport, judge side

class PipeChild(Channel):
    """A 'child' that is a pipe the test writes raw frames into."""

    def __init__(self):
        to_child_r, to_child = os.pipe()
        from_child, self.writer = os.pipe()
        self._drain = to_child_r
        self._attach(to_child, from_child, messages.SharedRegion.create(1 << 20))
        self.killed = False

    def kill(self) -> None:
        self.killed = True

    def _death_note(self) -> str:
        return "the pipe closed"

    def close(self) -> None:
        for fd in (self._drain, self.writer):
            try:
                os.close(fd)
            except OSError:
                pass
        self._close_pipes()


frames = st.one_of(
    st.binary(max_size=256),  # anything at all
    st.builds(lambda body: struct.pack(">Q", len(body)) + body, st.binary(max_size=256)),  # framed garbage
    st.builds(lambda doc, flip: (lambda body: struct.pack(">Q", len(body)) + body[:flip % (len(body) + 1)]
                                 + bytes([flip % 256]) + body[flip % (len(body) + 1) + 1:])(encode(doc)),
              plain, st.integers(0, 4096)),  # a mutated valid answer
    st.builds(lambda n: struct.pack(">Q", n), st.integers(0, 2**64 - 1)),  # any announced length, shared flag included
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames)
def test_whatever_a_child_writes_the_channel_returns_a_value_or_reports_a_crash(frame):
    child = PipeChild()
    try:
        writer = threading.Thread(target=lambda: (os.write(child.writer, frame) if frame else None,
                                                  os.close(child.writer)))
        writer.start()
        try:
            child.request({"op": "get"}, timeout=5)
        except (ChildCrashed, ChildTimeout):
            pass
        writer.join()
    finally:
        child.writer = -1
        child.close()
