"""The wire format carries data only: values round-trip exactly, objects and pickles never cross."""
import io
import json
import pickle
import struct

import numpy as np
import pytest

from autograder.worker.codec import Callback, CodecError, Handle, decode, encode, encode_parts, read_frame


def _round_trip(value):
    return decode(encode(value)[8:])


def test_data_round_trips_with_types_and_bits_intact():
    value = {
        "loss": 0.1 + 0.2, "nan": float("nan"), "n": 3, "flag": True, "none": None, "text": "é",
        "array": np.arange(6, dtype=np.float32).reshape(2, 3), "scalar": np.float64(2.5),
        "int_keys": {1: [0.5, 0.25], 10: (1, 2)}, "handle": Handle(4, "LinearSVM"), "callback": Callback(2),
    }
    back = _round_trip(value)
    assert back["loss"] == 0.1 + 0.2 and np.isnan(back["nan"])
    assert back["array"].dtype == np.float32 and np.array_equal(back["array"], value["array"])
    assert isinstance(back["scalar"], np.float64)
    assert back["int_keys"] == {1: [0.5, 0.25], 10: (1, 2)}
    assert back["handle"] == Handle(4, "LinearSVM") and back["callback"] == Callback(2)
    assert {k: back[k] for k in ("n", "flag", "none", "text")} == {"n": 3, "flag": True, "none": None, "text": "é"}


def test_a_seeded_generator_crosses_as_its_state():
    rng = np.random.default_rng(7)
    rng.integers(10, size=3)
    assert np.array_equal(_round_trip(rng).integers(100, size=5), rng.integers(100, size=5))


@pytest.mark.parametrize("value", [object(), np.array([object()]), {1, 2}, lambda: 1])
def test_objects_cannot_cross(value):
    with pytest.raises(CodecError):
        encode(value)


@pytest.mark.parametrize("dtype", ["|O", "O", "[('a', 'O')]"])
def test_an_object_array_in_a_frame_is_refused_never_unpickled(dtype):
    header = json.dumps({"message": {"__array__": 0, "scalar": False},
                         "arrays": [[dtype, [1], 0, 8]]}).encode()
    payload = struct.pack(">I", len(header)) + header + pickle.dumps(object())[:8].ljust(8, b"\0")
    with pytest.raises(CodecError):
        decode(payload)


def test_an_array_whose_size_does_not_match_its_bytes_is_refused():
    frame = encode(np.arange(4.0))[8:]
    size = struct.unpack(">I", frame[:4])[0]
    header = json.loads(frame[4:4 + size])
    header["arrays"][0][1] = [400]
    forged = json.dumps(header).encode()
    with pytest.raises(CodecError):
        decode(struct.pack(">I", len(forged)) + forged + frame[4 + size:])


def test_a_malformed_or_truncated_frame_is_an_error():
    frame = encode({"x": np.ones(3)})
    with pytest.raises(CodecError):
        decode(b"not an npz archive")
    with pytest.raises(EOFError):
        read_frame(io.BytesIO(frame[:-5]))


def _forged(arrays, body):
    """A payload whose header places the arrays as given, over ``body``."""
    header = json.dumps({"message": [{"__array__": i, "scalar": False} for i in range(len(arrays))],
                         "arrays": arrays}).encode()
    header += b" " * (-(4 + len(header)) % 8)
    return bytearray(struct.pack(">I", len(header)) + header + body)


def test_arrays_are_sent_from_their_own_memory_and_received_in_place():
    x = np.arange(12.0).reshape(3, 4)
    parts = encode_parts({"x": x, "mask": np.array([True, False, True]), "y": np.arange(3, dtype=np.int8)})
    assert any(isinstance(p, np.ndarray) and np.shares_memory(p, x) for p in parts)  # not copied to send
    payload = bytearray(b"".join(parts)[8:])
    back = decode(payload)
    for name in ("x", "mask", "y"):
        array = back[name]
        assert array.flags.writeable and array.flags.aligned
        assert np.shares_memory(array, np.frombuffer(payload, np.uint8))  # a view of what was read
    assert np.array_equal(back["x"], x) and back["mask"].tolist() == [True, False, True]
    back["y"][:] = 7  # each array has bytes of its own
    assert np.array_equal(back["x"], x) and back["mask"].tolist() == [True, False, True]
    from_bytes = decode(bytes(payload))["x"]
    assert from_bytes.flags.writeable and np.array_equal(from_bytes, x)  # copied out of read-only bytes


def test_arrays_whose_bytes_overlap_are_refused():
    body = np.arange(4.0).tobytes()
    assert len(decode(_forged([["<f8", [2], 0, 16], ["<f8", [2], 16, 16]], body))) == 2
    with pytest.raises(CodecError, match="share bytes"):
        decode(_forged([["<f8", [2], 0, 16], ["<f8", [2], 8, 16]], body))
