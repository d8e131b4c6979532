"""DL.datasets and DL.utils.load_data: finding, fetching and safely reading data.

The real MNIST is read once from $DL_DATA_DIR (conftest points it at the
shared copy).  Everything else uses tiny files made in a temporary folder;
"downloads" come from file:// addresses, so nothing touches the network.
"""
import gzip
import os
import pickle
import struct

import numpy
import pytest

import DL.datasets
from DL.backend import floatX
from DL.datasets import files
from DL.datasets.files import DataFileError, UnsafePickleError, load_pickles, locate, search_folders
from DL.utils import load_data


# --- the real MNIST -----------------------------------------------------------

def test_mnist_loads_from_DL_DATA_DIR():
    folder = os.environ["DL_DATA_DIR"]
    path = locate("mnist.pkl.gz", DL.datasets.MNIST_URL, download=False)
    assert path == os.path.join(folder, "mnist.pkl.gz")
    assert files.sha256_of(path) == DL.datasets.MNIST_SHA256

    sets = DL.datasets.mnist(download=False)

    assert [len(s) for s in sets] == [2, 2, 2]
    for (x, t), n in zip(sets, (50000, 10000, 10000)):
        assert x.shape == (n, 784) and x.dtype == numpy.float32
        assert t.shape == (n,) and t.dtype == numpy.int64
        assert x.min() == 0.0 and x.max() <= 1.0 and x.max() > 0.99
        assert set(numpy.unique(t)) == set(range(10))
    assert numpy.bincount(sets[0][1]).min() > 4000  # every digit is well represented


# --- tiny files in the classic layout ----------------------------------------

class Python2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 `str` (SHORT_BINSTRING / BINSTRING), as the
    classic data files (mnist.pkl.gz, written by Python 2's cPickle) have them."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_bytes(self, data):
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(data)

    dispatch[bytes] = save_bytes


def tiny_sets(marker=0.25):
    """(train, valid, test) of a few 784-pixel examples; `marker` tells files apart."""
    rng = numpy.random.RandomState(0)
    sets = []
    for n in (5, 3, 2):
        x = rng.rand(n, 784).astype("float32")
        x[0, 0] = marker
        sets.append((x, rng.randint(0, 10, size=n).astype("int64")))
    return tuple(sets)


def write_pickle(path, objects, protocol=2, compress=True, python2=False):
    """Pickle each of `objects` into `path` (gzip or plain), one after the other."""
    with (gzip.open(path, "wb") if compress else open(path, "wb")) as stream:
        for thing in objects:
            if python2:
                Python2Pickler(stream, protocol=2).dump(thing)
            else:
                pickle.dump(thing, stream, protocol=protocol)
    return path


def assert_same(a, b):
    """Nested containers of arrays and plain values, equal item by item."""
    if isinstance(a, numpy.ndarray):
        assert isinstance(b, numpy.ndarray) and a.dtype == b.dtype
        numpy.testing.assert_array_equal(a, b)
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, dict):
        assert sorted(a) == sorted(b)
        for key in a:
            assert_same(a[key], b[key])
    else:
        assert a == b and type(a) is type(b)


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """(DL_DATA_DIR, ./datasets): two empty folders, the second under a fresh cwd."""
    env, work = tmp_path / "env", tmp_path / "work"
    env.mkdir()
    (work / "datasets").mkdir(parents=True)
    monkeypatch.setenv("DL_DATA_DIR", str(env))
    monkeypatch.chdir(work)
    return env, work / "datasets"


# --- where files are looked for -------------------------------------------------

def test_search_order_is_DL_DATA_DIR_then_datasets_under_cwd(folders, monkeypatch):
    env, local = folders
    assert search_folders() == [str(env), str(local)]
    write_pickle(env / "mnist.pkl.gz", [tiny_sets(marker=0.125)], python2=True)
    write_pickle(local / "mnist.pkl.gz", [tiny_sets(marker=0.5)], python2=True)

    assert DL.datasets.mnist(download=False)[0][0][0, 0] == 0.125  # $DL_DATA_DIR first
    os.unlink(env / "mnist.pkl.gz")
    assert DL.datasets.mnist(download=False)[0][0][0, 0] == 0.5    # then ./datasets
    monkeypatch.delenv("DL_DATA_DIR")
    assert search_folders() == [str(local)]
    assert DL.datasets.mnist(download=False)[0][0][0, 0] == 0.5


def test_mnist_returns_the_classic_layout_as_float32_and_int64(folders):
    env, _ = folders
    expected = tiny_sets()
    write_pickle(env / "mnist.pkl.gz", [expected], python2=True)
    sets = DL.datasets.mnist(download=False)
    for (x, t), (x0, t0) in zip(sets, expected):
        assert x.dtype == numpy.float32 and t.dtype == numpy.int64
        numpy.testing.assert_array_equal(x, x0)
        numpy.testing.assert_array_equal(t, t0)


def test_a_missing_file_offline_names_the_file_the_folders_and_the_address(folders):
    env, local = folders
    with pytest.raises(DataFileError) as caught:
        DL.datasets.mnist(download=False)
    message = str(caught.value)
    for part in ("mnist.pkl.gz", str(env), str(local), DL.datasets.MNIST_URL):
        assert part in message
    assert os.listdir(env) == [] and os.listdir(local) == []


def test_a_failing_download_names_the_file_the_folders_and_the_address(folders, tmp_path, monkeypatch):
    env, local = folders
    unreachable = (tmp_path / "no-such-server" / "mnist.pkl.gz").as_uri()
    monkeypatch.setattr(DL.datasets, "MNIST_URL", unreachable)
    with pytest.raises(DataFileError) as caught:
        DL.datasets.mnist()
    message = str(caught.value)
    for part in ("mnist.pkl.gz", str(env), str(local), unreachable):
        assert part in message
    assert os.listdir(env) == []  # no .part left behind


# --- downloads -------------------------------------------------------------------

@pytest.fixture
def remote(tmp_path):
    """A 'server' folder holding a tiny mnist.pkl.gz: (path, its SHA-256)."""
    server = tmp_path / "server"
    server.mkdir()
    path = write_pickle(server / "mnist.pkl.gz", [tiny_sets(marker=0.75)], python2=True)
    return path, files.sha256_of(path)


def test_a_download_with_the_right_checksum_is_kept_and_loaded(folders, remote, monkeypatch):
    env, _ = folders
    source, sha256 = remote
    monkeypatch.setattr(DL.datasets, "MNIST_URL", source.as_uri())
    monkeypatch.setattr(DL.datasets, "MNIST_SHA256", sha256)

    sets = DL.datasets.mnist()

    assert sets[0][0][0, 0] == 0.75
    assert os.listdir(env) == ["mnist.pkl.gz"]  # into the first folder, no .part left
    assert (env / "mnist.pkl.gz").read_bytes() == source.read_bytes()


@pytest.mark.parametrize("damage", ["wrong checksum", "truncated"])
def test_a_corrupt_download_is_deleted(folders, remote, tmp_path, damage):
    env, local = folders
    source, sha256 = remote
    if damage == "wrong checksum":
        sha256 = "0" * 64
    else:
        short = tmp_path / "server" / "short.pkl.gz"
        short.write_bytes(source.read_bytes()[:200])
        source = short

    with pytest.raises(DataFileError) as caught:
        locate("mnist.pkl.gz", source.as_uri(), sha256)

    message = str(caught.value).lower()
    assert "corrupt" in message and "sha-256" in message
    assert os.listdir(env) == [] and os.listdir(local) == []  # no file, no .part


# --- the safe unpickler ----------------------------------------------------------

PLAIN = [
    tiny_sets(),
    [1, 2 ** 40, -3, 2.5, "three", None, True, (1, 2), {"k": [5, 6]}],
    {"int": numpy.int64(3), "float": numpy.float32(2.5), "ints": numpy.arange(6).reshape(2, 3),
     "fortran": numpy.asfortranarray(numpy.ones((2, 3))), "empty": numpy.zeros((0, 4))},
]


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_the_unpickler_reads_classic_python2_files(tmp_path, compress):
    path = write_pickle(tmp_path / "data.pkl", PLAIN, compress=compress, python2=True)
    assert_same(load_pickles(path, count=3), PLAIN)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_the_unpickler_reads_arrays_pickled_by_python3(tmp_path, protocol, compress):
    path = write_pickle(tmp_path / "data.pkl", PLAIN, protocol, compress)
    assert_same(load_pickles(path, count=3), PLAIN)


class SystemPayload(object):
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch %s" % self.marker,))


class EvalPayload(SystemPayload):
    def __reduce__(self):
        return (eval, ("open(%r, 'w').close()" % str(self.marker),))


@pytest.mark.parametrize("payload", [SystemPayload, EvalPayload])
@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_the_unpickler_refuses_payloads_which_have_no_effect(tmp_path, payload, compress):
    marker = tmp_path / "PWNED"
    # hidden inside an otherwise classic layout, after harmless data
    data = ((tiny_sets()[0], [payload(marker)]), tiny_sets()[1], tiny_sets()[2])
    path = write_pickle(tmp_path / "data.pkl", [data], pickle.DEFAULT_PROTOCOL, compress)

    with pytest.raises(UnsafePickleError) as caught:
        load_pickles(path)

    assert str(path) in str(caught.value)
    assert ("system" if payload is SystemPayload else "eval") in str(caught.value)
    assert not marker.exists()


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_a_truncated_pickle_is_reported_as_corrupt_or_truncated(tmp_path, compress):
    path = write_pickle(tmp_path / "data.pkl", [tiny_sets()], python2=True, compress=compress)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) * 2 // 3])
    with pytest.raises(DataFileError) as caught:
        load_pickles(path)
    assert "corrupt or truncated" in str(caught.value) and str(path) in str(caught.value)


# --- DL.utils.load_data ------------------------------------------------------------

def test_load_data_moves_every_array_to_shared_floatX():
    sets = tiny_sets()
    dataset = load_data(sets)
    assert len(dataset) == 3
    for moved, original in zip(dataset, sets):
        assert len(moved) == len(original)
        for variable, array in zip(moved, original):
            assert hasattr(variable, "get_value") and variable.dtype == floatX
            numpy.testing.assert_array_equal(variable.get_value(), array.astype(floatX))


def test_load_data_refuses_arrays_of_different_lengths():
    sets = list(tiny_sets())
    sets[1] = (sets[1][0], sets[1][1][:2])
    with pytest.raises(ValueError) as caught:
        load_data(sets)
    assert "valid" in str(caught.value) and "differ in length" in str(caught.value)


def test_load_data_refuses_ragged_lists_and_says_to_pad():
    ragged = [[[1.0, 2.0], [3.0]], [0, 1]]
    with pytest.raises(ValueError) as caught:
        load_data([ragged, ragged, ragged])
    assert "ragged" in str(caught.value) and "pad" in str(caught.value)


def test_load_data_wants_three_sets():
    with pytest.raises(ValueError) as caught:
        load_data(tiny_sets()[:2])
    assert "[train, valid, test]" in str(caught.value)
