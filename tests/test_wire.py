"""The plain-data wire format: what the child sends is decoded with caps, never unpickled."""

import io
import json
import struct

import numpy as np
import pytest

from autograder.wire import Unsupported, WireError, decode, encode, read_npy


def roundtrip(value):
    return decode(encode(value))


def test_plain_values_roundtrip_with_types_kept():
    value = {"a": (1, 2.5, None, True), "b": [np.arange(6, dtype=np.float32).reshape(2, 3)], 3: "x"}
    back = roundtrip(value)
    assert back["a"] == (1, 2.5, None, True)
    assert back[3] == "x"
    assert back["b"][0].dtype == np.float32 and back["b"][0].shape == (2, 3)
    np.testing.assert_array_equal(back["b"][0], value["b"][0])


def test_scalars_keep_zero_dimensions_and_non_finite_floats_travel_tagged():
    assert roundtrip(np.float32(1.5)).shape == ()
    assert np.isnan(roundtrip(float("nan")))
    assert roundtrip(float("-inf")) == float("-inf")


def test_objects_and_object_arrays_become_unsupported_markers():
    class Liar:
        def __eq__(self, other):
            return True

    assert roundtrip(Liar()) == Unsupported(f"{__name__}.test_objects_and_object_arrays_become_unsupported_markers.<locals>.Liar")
    assert isinstance(roundtrip(np.array([1, "a"], dtype=object)), Unsupported)
    assert isinstance(roundtrip(1 + 2j), Unsupported)


def _message(head: bytes, blobs=()):
    parts = [struct.pack(">Q", len(head)), head, struct.pack(">I", len(blobs))]
    for blob in blobs:
        parts += [struct.pack(">Q", len(blob)), blob]
    return b"".join(parts)


def test_nan_literals_in_json_are_refused():
    with pytest.raises(WireError, match="NaN"):
        decode(_message(b'{"x": NaN}'))


def test_truncated_trailing_and_oversized_messages_are_refused():
    good = encode({"x": np.zeros(3)})
    with pytest.raises(WireError):
        decode(good[:-1])
    with pytest.raises(WireError, match="trailing"):
        decode(good + b"\0")
    with pytest.raises(WireError, match="cap"):
        decode(good, max_bytes=10)


def test_a_npy_header_claiming_terabytes_is_refused_before_any_allocation():
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"
    blob = io.BytesIO()
    np.lib.format.write_array_header_1_0(blob, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    with pytest.raises(WireError, match="over the cap"):
        read_npy(blob.getvalue() + b"\0" * 16)
    assert header  # the forged header above is what a hostile child would send


def test_a_npy_whose_data_does_not_match_its_header_is_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(4))
    with pytest.raises(WireError, match="announces"):
        read_npy(buffer.getvalue()[:-8])


def test_pickled_object_npy_is_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(WireError, match="not plain data"):
        read_npy(buffer.getvalue())


def test_unknown_tags_and_bad_array_indices_are_refused():
    with pytest.raises(WireError):
        decode(_message(json.dumps({"$array": 0}).encode()))
    with pytest.raises(WireError):
        decode(_message(json.dumps({"$pickle": "x"}).encode()))


def test_non_finite_numpy_scalars_travel_like_python_floats():
    for value in (np.float64("inf"), np.float64("-inf"), np.float64("nan")):
        back = decode(encode({"x": value}))["x"]
        assert isinstance(back, float) and repr(back) == repr(float(value))
