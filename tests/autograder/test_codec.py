"""The wire format carries data only: values round-trip exactly, objects and pickles never cross."""
import io
import pickle

import numpy as np
import pytest

from autograder.worker.codec import Callback, CodecError, Handle, decode, encode, read_frame


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


def test_a_pickle_inside_a_frame_is_refused_not_loaded():
    evil = pickle.dumps(object())
    buffer = io.BytesIO()
    np.savez(buffer, __message__=np.array('{"__array__": 0, "scalar": false}'),
             a0=np.array([evil], dtype=object))
    with pytest.raises(CodecError):
        decode(buffer.getvalue())


def test_a_malformed_or_truncated_frame_is_an_error():
    frame = encode({"x": np.ones(3)})
    with pytest.raises(CodecError):
        decode(b"not an npz archive")
    with pytest.raises(EOFError):
        read_frame(io.BytesIO(frame[:-5]))
