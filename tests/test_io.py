"""DL.io: save, load, the same predictions; atomic writes; refusing bad files.

A model file is an .npz of plain arrays (the nesting spelled in the keys) and
JSON meta.  Loading never unpickles, and every refusal names the file.
"""
import gzip
import os
import pickle

import numpy
import pytest

from DL import io as model_io
from DL.backend import T, function, floatX
from DL.models.DBN import DBN
from DL.models.MLP import MLP
from DL.utils import flatten

N_IN, N_OUT = 6, 3
INPUTS = numpy.random.RandomState(99).randn(10, N_IN).astype(floatX)


def build(kind, seed, params=None, n_hidden=5):
    """(x, model): a small MLP, or a DBN with two hidden layers (deeper nesting)."""
    x = T.matrix("x")
    rng = numpy.random.RandomState(seed)
    if kind == "MLP":
        return x, MLP(rng, x, n_in=N_IN, n_hidden=n_hidden, n_out=N_OUT, params=params)
    return x, DBN(rng, x, n_in=N_IN, n_out=N_OUT, layer_sizes=[n_hidden, 4], params=params)


def predictions(x, model):
    """Class probabilities and predicted classes on INPUTS."""
    return function([x], [model.output_deterministic, model.pred])(INPUTS)


def shapes(nested):
    if isinstance(nested, (list, tuple)):
        return [shapes(item) for item in nested]
    value = nested.get_value() if hasattr(nested, "get_value") else nested
    return numpy.shape(value)


@pytest.fixture
def saved(tmp_path):
    """(path, the MLP's parameter values) of a freshly saved MLP."""
    _, model = build("MLP", seed=1)
    path = tmp_path / "model.npz"
    model_io.save(path, model.params, epochs=3)
    return path, [p.get_value() for p in flatten(model.params)]


def rewrite(path, change):
    """Rewrite the archive at `path` with its arrays passed through change(dict)."""
    with numpy.load(path) as archive:
        arrays = {key: archive[key] for key in archive.keys()}
    change(arrays)
    os.unlink(path)
    with open(path, "wb") as stream:
        numpy.savez(stream, **arrays)


# --- the round trip ----------------------------------------------------------

@pytest.mark.parametrize("kind", ["MLP", "DBN"])
def test_save_then_load_gives_the_same_predictions(tmp_path, kind):
    x, model = build(kind, seed=1)
    path = tmp_path / ("%s.npz" % kind)
    model_io.save(path, model.params)

    params, meta = model_io.load(path)
    y, loaded = build(kind, seed=2, params=params)

    assert meta == {}
    assert shapes(params) == shapes(model.params)  # the nesting comes back
    assert all(p.dtype == floatX for p in flatten(params))
    expected, got = predictions(x, model), predictions(y, loaded)
    for a, b in zip(expected, got):
        numpy.testing.assert_array_equal(a, b)
    # without params=, seed 2 makes another model: the equality above is the file's doing
    other = predictions(*build(kind, seed=2))
    assert not numpy.array_equal(other[0], expected[0])


def test_meta_round_trips(tmp_path):
    meta = dict(epochs=3, learning_rate=0.01, name="mlp", sizes=[784, 500, 10],
                settings={"dropout": 0.5, "L2": None}, done=True)
    path = tmp_path / "model.npz"
    model_io.save(path, build("MLP", seed=1)[1].params, **meta)
    assert model_io.load(path)[1] == meta


# --- atomic writes -----------------------------------------------------------

def test_save_leaves_only_the_file(saved):
    path, _ = saved
    assert os.listdir(path.parent) == [path.name]
    model_io.save(path, [numpy.ones(3)])  # overwriting, too
    assert os.listdir(path.parent) == [path.name]


@pytest.mark.parametrize("params, meta, words", [
    ([numpy.ones(2)], dict(optimizer=object()), ["JSON"]),
    ([numpy.array([{"a": 1}, None], dtype=object)], {}, ["object"]),
], ids=["meta not JSON", "object array"])
def test_a_failing_save_keeps_the_old_file(saved, params, meta, words):
    path, _ = saved
    before = path.read_bytes()
    with pytest.raises(TypeError) as caught:
        model_io.save(path, params, **meta)
    for word in words:
        assert word in str(caught.value)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]


def test_a_save_that_dies_while_writing_keeps_the_old_file(saved, monkeypatch):
    # The disk fills up after the first array is written: the temporary file
    # is half written, and must neither replace the old file nor stay behind.
    path, _ = saved
    before = path.read_bytes()
    real_write_array = numpy.lib.format.write_array
    written = []

    def write_then_fail(*args, **kwargs):
        if written:
            raise OSError(28, "No space left on device")
        written.append(real_write_array(*args, **kwargs))

    monkeypatch.setattr(numpy.lib.format, "write_array", write_then_fail)
    with pytest.raises(OSError):
        model_io.save(path, build("MLP", seed=3)[1].params, epochs=4)
    monkeypatch.undo()

    assert written  # it did die in the middle
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]
    assert model_io.load(path)[1] == {"epochs": 3}


# --- the writer (DL.durable, re-exported by DL.io) for bytes and text ---------------

@pytest.mark.parametrize("data", [b"\x00\x01 npz bytes\r\n", "lr,valid\r\n0.1,0.25\n\u00e9\n"],
                         ids=["bytes", "text"])
def test_write_atomically_writes_bytes_and_text_as_given(tmp_path, data):
    path = tmp_path / "file"
    path.write_bytes(b"old")
    assert model_io.write_atomically(path, data) == path
    expected = data if isinstance(data, bytes) else data.encode("utf-8")  # newlines untranslated
    assert path.read_bytes() == expected
    assert os.listdir(tmp_path) == ["file"]


@pytest.mark.parametrize("mode", ["wb", "w"])
def test_an_error_inside_atomic_write_keeps_the_old_file_and_no_temporary(tmp_path, mode):
    path = tmp_path / "results.csv"
    path.write_bytes(b"old")
    with pytest.raises(KeyError):
        with model_io.atomic_write(path, mode) as stream:
            stream.write(b"new, half" if mode == "wb" else "new, half")
            raise KeyError("stopped half way")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["results.csv"]


@pytest.mark.parametrize("call, error, words", [
    (lambda path: model_io.atomic_write(path, "a").__enter__(), ValueError, ["'wb'", "'w'", "'a'"]),
    (lambda path: model_io.write_atomically(path, [1, 2]), TypeError, ["bytes or a str", "list"]),
    (lambda path: model_io.write_atomically(path / "missing" / "x", b""), FileNotFoundError,
     ["does not exist", "create it"]),
], ids=["append mode", "a list", "no folder"])
def test_the_writer_refuses_what_it_cannot_write_saying_why(tmp_path, call, error, words):
    with pytest.raises(error) as caught:
        call(tmp_path)
    for word in words:
        assert word in str(caught.value)
    assert os.listdir(tmp_path) == []


# --- refusing bad files ------------------------------------------------------

class Payload(object):
    """Unpickling this runs a shell command that creates a file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch %s" % self.marker,))


def _object_array(path):
    rewrite(path, lambda arrays: arrays.update({"p/0/1": numpy.array([{"b": 1}, None], dtype=object)}))


def _payload_pickle(path):
    os.unlink(path)
    with open(path, "wb") as stream:
        pickle.dump([[Payload(path.parent / "PWNED")]], stream)


def _plain_pickle(path):
    os.unlink(path)
    with open(path, "wb") as stream:
        pickle.dump([[numpy.ones((6, 5)), numpy.zeros(5)]], stream)


def _gzip_pickle(path):
    os.unlink(path)
    with gzip.open(path, "wb") as stream:
        pickle.dump([[Payload(path.parent / "PWNED")]], stream)


def _truncated(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def _empty(path):
    path.write_bytes(b"")


def _without(key):
    return lambda path: rewrite(path, lambda arrays: arrays.pop(key))


def _foreign(path):
    os.unlink(path)
    numpy.savez(path, weights=numpy.ones(3))


REFUSED = [
    ("object array", _object_array, ["pickle"]),
    ("pickle with a payload, renamed .npz", _payload_pickle, ["pickle"]),
    ("plain pickle, renamed .npz", _plain_pickle, ["pickle"]),
    ("gzipped pickle, renamed .npz", _gzip_pickle, []),
    ("truncated", _truncated, ["truncated"]),
    ("empty", _empty, []),
    ("first key missing", _without("p/0/0"), ["missing"]),
    ("last key missing", _without("p/1/1"), ["missing"]),
    ("not a DL file", _foreign, ["not a DL.io"]),
]


@pytest.mark.parametrize("case, damage, words", REFUSED, ids=[case[0] for case in REFUSED])
def test_load_refuses_bad_files_naming_them(saved, case, damage, words):
    path, _ = saved
    damage(path)
    with pytest.raises(model_io.LoadError) as caught:
        model_io.load(path)
    message = str(caught.value)
    assert str(path) in message
    for word in words:
        assert word in message
    assert not (path.parent / "PWNED").exists()  # no payload ran


def test_load_of_a_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        model_io.load(tmp_path / "nothing.npz")
    assert str(tmp_path / "nothing.npz") in str(caught.value)


def test_a_loaded_param_that_does_not_fit_names_the_layer(saved):
    path, _ = saved
    params, _ = model_io.load(path)
    with pytest.raises(ValueError) as caught:
        build("MLP", seed=2, params=params, n_hidden=7)
    message = str(caught.value)
    assert "MLP.hiddenLayer" in message and "(6, 5)" in message and "(6, 7)" in message
