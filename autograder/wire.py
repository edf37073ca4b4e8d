"""The plain-data wire format between the judge and the child that runs student code.

A message is a JSON document plus binary blobs, each blob one ``.npy`` array:

    u64 json length | JSON (UTF-8) | u32 blob count | (u64 blob length | blob bytes) ...

JSON carries structure only: dicts, lists, strings, ints, finite floats, booleans and null,
with tagged objects for tuples (``{"$tuple": [...]}``), dicts with non-string keys
(``{"$dict": [[k, v], ...]}``), arrays (``{"$array": i}``, the i-th blob), non-finite floats
(``{"$float": "nan"}``) and values that cannot travel (``{"$object": "type name"}``).

Both sides use :func:`encode`; only the trusted side uses :func:`decode`, which trusts nothing:
sizes are capped before anything is read, NaN literals in the JSON are refused, ``.npy`` headers
are parsed and checked before the data is touched, and nothing is ever unpickled.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
from dataclasses import dataclass

import numpy as np

MAX_JSON_BYTES = 16 << 20
MAX_BLOBS = 4096
MAX_MESSAGE_BYTES = 512 << 20
MAX_DEPTH = 64
MAX_ITEMS = 100_000  # iterators are materialized up to this many items
MAX_TYPE_NAME = 200  # characters of an Unsupported marker's type name
MAX_DIMENSIONS = 32
# Array kinds that decode to arrays: bool, integers, floats, complex, bytes and text. Any other
# (void, datetime, timedelta) or an item size of 0 decodes to an Unsupported marker.
PLAIN_KINDS = "biufcSU"


class WireError(ValueError):
    """A message that breaks the format: truncated, oversized, or with forbidden content."""


@dataclass(frozen=True)
class Unsupported:
    """A value the child could not send as plain data (an arbitrary object, an object array...)."""

    type_name: str

    def __str__(self) -> str:
        return f"a {self.type_name} object"


# ---------------------------------------------------------------- encoding (either side)

def encode(document) -> bytes:
    """A plain-data document (see the module docstring) as one message."""
    return b"".join(encode_parts(document))


def encode_parts(document) -> list:
    """:func:`encode`'s message as a list of buffers to write in order: each array's data is a
    view of the array itself, so a large array is never copied on the sending side."""
    blobs: list[tuple[bytes, memoryview]] = []
    tree = _encode_value(document, blobs, 0)
    head = json.dumps(tree, allow_nan=False, separators=(",", ":")).encode("utf-8")
    parts = [struct.pack(">Q", len(head)), head, struct.pack(">I", len(blobs))]
    for header, data in blobs:
        parts += [struct.pack(">Q", len(header) + data.nbytes), header, data]
    return parts


def _encode_value(value, blobs, depth):
    if depth > MAX_DEPTH:
        return {"$object": "structure nested too deep"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else {"$object": "int too large"}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(float(value))}  # np.float64 is a float; its repr is not
    if isinstance(value, (np.ndarray, np.generic)):
        return _encode_array(value, blobs)
    if isinstance(value, tuple):
        return {"$tuple": [_encode_value(v, blobs, depth + 1) for v in value]}
    if isinstance(value, list):
        return [_encode_value(v, blobs, depth + 1) for v in value]
    if isinstance(value, dict):
        if all(type(k) is str and not k.startswith("$") for k in value):
            return {k: _encode_value(v, blobs, depth + 1) for k, v in value.items()}
        return {"$dict": [[_encode_value(k, blobs, depth + 1), _encode_value(v, blobs, depth + 1)]
                          for k, v in value.items()]}
    return {"$object": _type_name(value)}


def _encode_array(value, blobs):
    array = np.asarray(value)
    if array.dtype.hasobject or array.dtype.fields is not None or array.dtype.itemsize == 0:
        return {"$object": f"numpy array of dtype {array.dtype}"}
    if not array.flags.c_contiguous:
        array = array.copy(order="C")
    header = io.BytesIO()  # the .npy header numpy itself writes (version 1.0, C order)
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    blobs.append((header.getvalue(), memoryview(array.reshape(-1).view(np.uint8))))
    return {"$array": len(blobs) - 1}


def _type_name(value) -> str:
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


# ---------------------------------------------------------------- decoding (trusted side)

def decode(message: bytes, max_bytes: int = MAX_MESSAGE_BYTES):
    """Parse one untrusted message into plain Python data; raise :class:`WireError` if malformed.

    Total: whatever the bytes, the result is a value or a :class:`WireError`, never another
    exception. Memory stays within a small multiple of ``len(message)``: every array's size is
    checked against its blob before it is built, and the JSON part is at most ``MAX_JSON_BYTES``.
    """
    try:
        return _decode(message, max_bytes)
    except WireError:
        raise
    except (TypeError, ValueError, OverflowError, RecursionError, IndexError, KeyError) as error:
        # A backstop for a case the checks below missed: still the wire's own error, never the caller's.
        raise WireError(f"malformed message ({type(error).__name__}: {str(error)[:200]})") from error


def _decode(message, max_bytes: int):
    if len(message) > max_bytes:
        raise WireError(f"message of {len(message)} bytes exceeds the cap of {max_bytes}")
    view = memoryview(message).cast("B")
    (head_length,) = _unpack(">Q", view, 0)
    if head_length > MAX_JSON_BYTES:
        raise WireError(f"JSON part of {head_length} bytes exceeds the cap of {MAX_JSON_BYTES}")
    offset = 8
    head = bytes(view[offset:offset + head_length])
    if len(head) != head_length:
        raise WireError("truncated message")
    offset += head_length
    (count,) = _unpack(">I", view, offset)
    offset += 4
    if count > MAX_BLOBS:
        raise WireError(f"{count} arrays exceed the cap of {MAX_BLOBS}")
    blobs = []
    for _ in range(count):
        (length,) = _unpack(">Q", view, offset)
        offset += 8
        if offset + length > len(view):
            raise WireError("truncated array")
        blobs.append(view[offset:offset + length])
        offset += length
    if offset != len(view):
        raise WireError("trailing bytes after the message")
    # Numbers go through checking hooks only when the text holds a long digit run or a large
    # exponent: the hooks cost a Python call per number, and only such numbers need them.
    hooks = {"parse_int": _bounded_int, "parse_float": _finite_float} if _SUSPECT_NUMBER.search(head) else {}
    try:
        tree = json.loads(head.decode("utf-8"), parse_constant=_refuse_constant, **hooks)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise WireError(f"malformed JSON: {str(error)[:200]}") from error
    return _decode_value(tree, blobs, 0)


_SUSPECT_NUMBER = re.compile(rb"\d{19}|[eE][-+]?\d{3}")


def _bounded_int(text: str) -> int:
    """A JSON integer within int64 (what :func:`encode` sends); Python's own parser would accept
    thousands of digits (quadratic time) or raise ValueError past 4300 of them."""
    if len(text) > 20:
        raise WireError(f"JSON integer of {len(text)} digits")
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise WireError("JSON integer outside 64 bits")
    return value


def _finite_float(text: str) -> float:
    """A finite JSON number (``1e999`` would silently become inf; non-finite floats travel tagged)."""
    value = float(text)
    if not math.isfinite(value):
        raise WireError(f"JSON number {text[:40]} is not finite")
    return value


def _unpack(fmt, view, offset):
    size = struct.calcsize(fmt)
    if offset + size > len(view):
        raise WireError("truncated message")
    return struct.unpack_from(fmt, view, offset)


def _refuse_constant(name):
    raise WireError(f"JSON constant {name} is not allowed")


def _decode_value(tree, blobs, depth):
    if depth > MAX_DEPTH:
        raise WireError("structure nested too deep")
    if tree is None or isinstance(tree, (bool, str, int, float)):
        return tree
    if isinstance(tree, list):
        return [_decode_value(v, blobs, depth + 1) for v in tree]
    if not isinstance(tree, dict):
        raise WireError(f"unexpected JSON value {type(tree).__name__}")
    tags = [key for key in tree if key.startswith("$")]
    if not tags:
        return {k: _decode_value(v, blobs, depth + 1) for k, v in tree.items()}
    if len(tree) != 1:
        raise WireError(f"malformed tagged value {sorted(tree)}")
    tag, body = tags[0], tree[tags[0]]
    if tag == "$tuple" and isinstance(body, list):
        return tuple(_decode_value(v, blobs, depth + 1) for v in body)
    if tag == "$dict" and isinstance(body, list):
        pairs = {}
        for pair in body:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise WireError("malformed $dict entry")
            key = _decode_value(pair[0], blobs, depth + 1)
            try:  # a list, a dict, an array, or a tuple holding one: not usable as a key
                hash(key)
            except TypeError:
                raise WireError("unhashable dict key") from None
            pairs[key] = _decode_value(pair[1], blobs, depth + 1)
        return pairs
    if tag == "$array" and type(body) is int and 0 <= body < len(blobs):
        return read_npy(blobs[body])
    if tag == "$float" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "$object" and isinstance(body, str):
        return Unsupported(body[:MAX_TYPE_NAME])
    raise WireError(f"unknown or malformed tag {tag}")


# The header numpy itself writes; anything else goes through numpy's own (slower) safe parser.
_CANONICAL_HEADER = re.compile(
    rb"\{'descr': '([<>|=]?[a-zA-Z]\d{0,2})', 'fortran_order': (True|False), 'shape': \(((?:\d+, ?)*\d*)\), \} *\n")


def _canonical_header(blob) -> tuple[tuple, bool, np.dtype, int] | None:
    """Parse numpy's own header format with a regular expression (no literal_eval), or None."""
    head = bytes(blob[:10])
    if len(head) < 10 or head[:6] != b"\x93NUMPY" or head[6:8] != b"\x01\x00":
        return None
    length = struct.unpack("<H", head[8:10])[0]
    match = _CANONICAL_HEADER.fullmatch(bytes(blob[10:10 + length]))
    if match is None:
        return None
    try:
        dtype = np.dtype(match.group(1).decode("ascii"))
    except (TypeError, ValueError):
        return None
    shape = tuple(int(n) for n in match.group(3).split(b",") if n.strip())
    return shape, match.group(2) == b"True", dtype, 10 + length


def read_npy(blob, max_bytes: int = MAX_MESSAGE_BYTES) -> np.ndarray:
    """One untrusted ``.npy`` blob as an array: header checked and size capped before loading."""
    parsed = _canonical_header(blob)
    if parsed is not None:
        shape, fortran, dtype, start = parsed
        return _array_from(blob, shape, fortran, dtype, start, max_bytes)
    stream = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=10_000)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=10_000)
        else:
            raise WireError(f"unsupported .npy version {version}")
    except WireError:
        raise
    except Exception as error:  # numpy raises ValueError/SyntaxError on a forged header
        raise WireError(f"bad .npy header: {error}") from error
    return _array_from(blob, shape, fortran, dtype, stream.tell(), max_bytes)


def _array_from(blob, shape, fortran, dtype, start, max_bytes):
    """The array a checked header describes, or an :class:`Unsupported` marker for data of no
    numeric use (zero-size items, datetimes, raw void): numpy cannot even view some of them."""
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f".npy dtype {dtype} is not plain data")
    if not isinstance(shape, tuple) or len(shape) > MAX_DIMENSIONS or any(
            type(n) is not int or n < 0 for n in shape):
        raise WireError(f"bad .npy shape {str(shape)[:100]}")
    count = math.prod(shape)
    # Every dimension counts, even beside a zero one: numpy refuses a shape whose non-zero
    # dimensions overflow its index type, and no honest array has them.
    span = math.prod(max(n, 1) for n in shape) * max(dtype.itemsize, 1)
    if span > max_bytes:
        raise WireError(f".npy claims {span} bytes, over the cap of {max_bytes}")
    nbytes = count * dtype.itemsize
    if len(blob) - start != nbytes:
        raise WireError(f".npy header announces {nbytes} bytes of data, the blob has {len(blob) - start}")
    if dtype.kind not in PLAIN_KINDS or dtype.itemsize == 0:
        return Unsupported(f"numpy array of dtype {dtype}")
    array = np.frombuffer(blob, dtype=dtype, count=count, offset=start)
    return array.reshape(shape, order="F" if fortran else "C").copy()
