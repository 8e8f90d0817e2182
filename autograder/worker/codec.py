"""Data-only wire format between the trusted grader and the worker.

A message is one frame: an 8-byte big-endian length, then a 4-byte length
and a JSON header, then the raw bytes of every array the message holds. The
header gives each array's dtype, shape and place; only plain numeric, boolean
and string dtypes are accepted (never ``object``), and arrays are rebuilt
with ``np.frombuffer``, so no object, class or code can cross in either
direction (nothing is unpickled). Only None, bool, int, float, str, lists,
tuples, dicts and numpy arrays and scalars cross, plus opaque references:

* ``Handle(id)`` names an object that lives in the worker (a classifier);
* ``Callback(id)`` names a function that lives on the trusted side (the ``f``
  handed to a gradient checker), which the worker may ask the grader to call.

A ``numpy.random.Generator`` crosses as its PCG64 state (plain integers), so
a function that takes ``rng`` can be called with a seeded generator.
"""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass

import numpy as np

_LENGTH = struct.Struct(">Q")
_HEADER = struct.Struct(">I")
# No test sends or expects more than a few MB; this bounds what a reply can make the grader allocate.
MAX_FRAME_BYTES = 256 << 20
_ARRAY_KINDS = "biufcUS"  # bool, integers, floats, complex, strings: data, never objects
_ALIGN = 8  # bytes: where each array starts in a payload, so that it can be used in place


class CodecError(ValueError):
    """A value that cannot cross the boundary, or a malformed frame."""


@dataclass(frozen=True)
class Handle:
    """An object that stays in the worker, referred to by id."""

    id: int
    type_name: str = ""


@dataclass(frozen=True)
class Callback:
    """A function that stays on the trusted side, referred to by id."""

    id: int


def encode(message):
    """Bytes of one frame holding ``message``."""
    return b"".join(encode_parts(message))


def encode_parts(message):
    """One frame holding ``message`` as buffers to write in turn: the arrays' own memory, not copies.

    The header is padded so that every array starts at a multiple of 8 bytes of the payload,
    where the receiver can use it in place (``decode``).
    """
    arrays = []
    tree = _to_json(message, arrays)
    layout, blobs, offset = [], [], 0
    for array in arrays:
        blob = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
        layout.append([array.dtype.str, list(array.shape), offset, blob.nbytes])
        blobs.append(blob)
        padding = -blob.nbytes % _ALIGN
        if padding:
            blobs.append(bytes(padding))
        offset += blob.nbytes + padding
    header = json.dumps({"message": tree, "arrays": layout}, allow_nan=True).encode()
    header += b" " * (-(_HEADER.size + len(header)) % _ALIGN)  # JSON allows trailing spaces
    length = _HEADER.size + len(header) + offset
    return [_LENGTH.pack(length) + _HEADER.pack(len(header)) + header, *blobs]


def check(value):
    """Raise ``CodecError`` unless ``value`` can cross the boundary (``encode`` would accept it)."""
    _to_json(value, [])


def decode(payload):
    """The message in one frame's payload (without its length prefix).

    From a ``bytearray`` the arrays are views of it (each in its own bytes: the header's
    places may not overlap), from ``bytes`` copies, so that every array is writable.
    """
    try:
        (size,) = _HEADER.unpack_from(payload)
        header = json.loads(bytes(memoryview(payload)[_HEADER.size:_HEADER.size + size]))
        body = memoryview(payload)[_HEADER.size + size:]
        entries = header["arrays"]
        _check_apart(entries)
        arrays = [_array(body, *entry) for entry in entries]
        return _from_json(header["message"], arrays)
    except CodecError:
        raise
    except Exception as exc:  # any malformed frame is the sender's fault
        raise CodecError(f"malformed frame: {exc}") from exc


def _check_apart(entries):
    """Refuse arrays whose bytes overlap: in place, one would change when another is written."""
    end = 0
    for offset, nbytes in sorted((int(entry[2]), int(entry[3])) for entry in entries):
        if offset < end:
            raise CodecError("two arrays share bytes")
        end = offset + nbytes


def _array(body, dtype, shape, offset, nbytes):
    dtype = np.dtype(dtype)
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in _ARRAY_KINDS:
        raise CodecError(f"arrays of dtype {dtype} cannot cross the boundary")
    shape = tuple(int(n) for n in shape)
    offset, nbytes = int(offset), int(nbytes)
    count = math.prod(shape)  # not np.prod: this runs for every array of every reply
    if min(shape, default=0) < 0 or offset < 0 or count * dtype.itemsize != nbytes or offset + nbytes > len(body):
        raise CodecError("an array's size does not match its bytes")
    array = np.frombuffer(body, dtype=dtype, count=count, offset=offset).reshape(shape)
    return array if array.flags.writeable and array.flags.aligned else array.copy()


def write_frame(stream, message):
    for part in encode_parts(message):
        stream.write(part)
    stream.flush()


def read_frame(stream):
    """The next message from a binary stream; EOFError when the peer is gone."""
    header = _read_exactly(stream, _LENGTH.size)
    (length,) = _LENGTH.unpack(header)
    if length > MAX_FRAME_BYTES:
        raise CodecError(f"frame of {length} bytes exceeds the limit")
    return decode(_read_exactly(stream, length))


def _read_exactly(stream, size):
    chunks, remaining = [], size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _to_json(value, arrays):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.ndarray, np.generic)):  # first: np.float64 is also a float
        array = np.asarray(value)
        if array.dtype.hasobject or array.dtype.fields is not None or array.dtype.kind not in _ARRAY_KINDS:
            raise CodecError(f"arrays of dtype {array.dtype} cannot cross the boundary")
        arrays.append(array)
        return {"__array__": len(arrays) - 1, "scalar": isinstance(value, np.generic)}
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return {"__float__": float.__repr__(value)}  # keeps nan, inf and every bit of the value
    if isinstance(value, list):
        return [_to_json(item, arrays) for item in value]
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(item, arrays) for item in value]}
    if isinstance(value, dict):
        return {"__dict__": [[_to_json(k, arrays), _to_json(v, arrays)] for k, v in value.items()]}
    if isinstance(value, Handle):
        return {"__handle__": value.id, "type": value.type_name}
    if isinstance(value, Callback):
        return {"__callback__": value.id}
    if isinstance(value, np.random.Generator):
        state = value.bit_generator.state
        if state.get("bit_generator") != "PCG64":
            raise CodecError("only PCG64 generators (np.random.default_rng) can cross the boundary")
        return {"__rng__": state}
    raise CodecError(f"values of type {type(value).__name__} cannot cross the boundary")


def _from_json(value, arrays):
    if isinstance(value, list):
        return [_from_json(item, arrays) for item in value]
    if not isinstance(value, dict):
        return value
    if "__float__" in value:
        return float(value["__float__"])
    if "__array__" in value:
        array = arrays[int(value["__array__"])]
        return array[()] if value.get("scalar") else array
    if "__tuple__" in value:
        return tuple(_from_json(item, arrays) for item in value["__tuple__"])
    if "__dict__" in value:
        return {_hashable(_from_json(k, arrays)): _from_json(v, arrays) for k, v in value["__dict__"]}
    if "__handle__" in value:
        return Handle(int(value["__handle__"]), str(value.get("type", "")))
    if "__callback__" in value:
        return Callback(int(value["__callback__"]))
    if "__rng__" in value:
        return _generator(value["__rng__"])
    raise CodecError(f"unknown tagged value {sorted(value)}")


def _generator(state):
    if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
        raise CodecError("only PCG64 generator states are accepted")
    bit_generator = np.random.PCG64()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise CodecError(f"malformed generator state: {exc}") from exc
    return np.random.Generator(bit_generator)


def _hashable(key):
    if isinstance(key, np.ndarray):
        raise CodecError("arrays cannot be dict keys")
    return key
