"""Safe loading: data files, model files and checkpoints that carry a pickle payload
are refused and the payload has no effect; damaged files are refused, never read as
other numbers; a download that is cut, truncated or corrupted never takes the
file's name.  (tests/test_io.py and tests/test_datasets.py cover the classic cases
one by one; these try many payloads, every truncation and every flipped byte.)"""
import gzip
import http.client
import io as bytes_io
import os
import pickle
import subprocess
import sys
import zipfile

import numpy
import pytest

import DL.datasets
from DL import io
from DL.backend import shared
from DL.checkpoint import CheckpointError, TrainingState
from DL.datasets import files
from DL.datasets.files import DataFileError, UnsafePickleError, load_pickles


# --- payloads -----------------------------------------------------------------------

def reduce_to(function, *args):
    class Payload(object):
        def __reduce__(self):
            return (function, args)
    return Payload()


def payloads(marker):
    """(name, pickle bytes): each would create `marker` (or worse) when unpickled."""
    command = "touch %s" % marker
    evil = [
        ("os.system", reduce_to(os.system, command)),
        ("builtins.open", reduce_to(open, str(marker), "w")),
        ("builtins.exec", reduce_to(exec, "open(%r, 'w').close()" % str(marker))),
        ("subprocess.Popen", reduce_to(subprocess.Popen, ["touch", str(marker)])),
        ("pickle.loads of a payload", reduce_to(pickle.loads, pickle.dumps(reduce_to(os.system, command)))),
    ]
    blobs = [(name, pickle.dumps([numpy.ones(3), {"ok": 1}, payload], protocol))
             for name, payload in evil for protocol in (2, pickle.HIGHEST_PROTOCOL)]
    blobs += [
        # protocol 0, INST opcode: find_class, then call
        ("INST os.system", b"(S'" + command.encode() + b"'\nios\nsystem\n."),
        # copyreg._reconstructor asked to build os.system(...)
        ("copyreg._reconstructor(os.system)",
         b"ccopy_reg\n_reconstructor\n(cos\nsystem\ncbuiltins\nobject\nNtR."),
        # a whitelisted name with arguments it must not take
        ("_codecs.encode with another codec", b"c_codecs\nencode\n(S'x'\nS'rot13'\ntR."),
        ("bytes of a huge size", b"c__builtin__\nbytes\n(I100000000000\ntR."),
    ]
    return blobs


def test_every_payload_in_a_data_file_is_refused_and_does_nothing(tmp_path):
    marker = tmp_path / "PWNED"
    for name, blob in payloads(marker):
        for compress in (False, True):
            path = tmp_path / ("data.pkl.gz" if compress else "data.pkl")
            path.write_bytes(gzip.compress(blob) if compress else blob)
            with pytest.raises(UnsafePickleError) as caught:
                load_pickles(path)
            assert str(path) in str(caught.value), name
            assert "refusing" in str(caught.value), name
    assert not marker.exists()


def test_mnist_refuses_a_payload_in_its_file(tmp_path, monkeypatch):
    marker = tmp_path / "PWNED"
    sets = [[numpy.zeros((2, 784), "float32"), numpy.zeros(2, "int64")]] * 2
    sets.append([numpy.zeros((2, 784), "float32"), reduce_to(os.system, "touch %s" % marker)])
    (tmp_path / "mnist.pkl.gz").write_bytes(gzip.compress(pickle.dumps(sets, 2)))
    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path))
    with pytest.raises(UnsafePickleError, match="mnist.pkl.gz.*system"):
        DL.datasets.mnist(download=False)
    assert not marker.exists()


def test_plain_data_of_every_protocol_still_loads(tmp_path):
    data = [numpy.arange(6, dtype="float32").reshape(2, 3), numpy.asfortranarray(numpy.eye(3)),
            b"", b"bytes", [1, 2.5, "s", None, (True,)], {"k": numpy.int64(3)}]
    for protocol in range(0, pickle.HIGHEST_PROTOCOL + 1):
        path = tmp_path / "data.pkl"
        path.write_bytes(pickle.dumps(data, protocol))
        (loaded,) = load_pickles(path)
        assert repr(loaded) == repr(data), protocol


def npz_with_member(path, name, data):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("format.npy", _npy(numpy.array("DL.io/1")))
        archive.writestr(name, data)


def _npy(array, allow_pickle=False):
    stream = bytes_io.BytesIO()
    numpy.save(stream, array, allow_pickle=allow_pickle)
    return stream.getvalue()


def test_model_files_carrying_payloads_are_refused_and_do_nothing(tmp_path):
    marker = tmp_path / "PWNED"
    payload = reduce_to(os.system, "touch %s" % marker)
    object_array = numpy.array([payload, 1], dtype=object)
    cases = {
        "object array member": _npy(object_array, allow_pickle=True),
        "raw pickle member": pickle.dumps(payload),
    }
    for name, member in cases.items():
        path = tmp_path / "model.npz"
        npz_with_member(path, "p/0.npy", member)
        with pytest.raises(io.LoadError) as caught:
            io.load(path)
        assert str(path) in str(caught.value), name
        # a checkpoint is a model file too: resuming refuses it the same way
        state = TrainingState([shared(numpy.zeros(2))], [], {})
        with pytest.raises(CheckpointError, match="cannot resume"):
            state.restore(path)
    path.write_bytes(pickle.dumps(payload))          # a pickle named .npz
    with pytest.raises(io.LoadError, match="pickle"):
        io.load(path)
    assert not marker.exists()


# --- damage -------------------------------------------------------------------------

def flat(params):
    return [array for _, array in io._leaves(params)]


def test_no_truncation_and_no_flipped_byte_loads_as_other_numbers(tmp_path):
    """Every prefix of a model file is refused; every single flipped bit (the lowest
    of each byte) is refused or leaves the contents identical (bytes the format
    does not read, such as timestamps).  Never different numbers."""
    path = tmp_path / "model.npz"
    params = [[numpy.arange(6, dtype="float32").reshape(2, 3), numpy.ones(3, "float32")],
              [numpy.linspace(0, 1, 6).reshape(3, 2)]]
    io.save(path, params, epochs=3)
    original = path.read_bytes()
    for end in range(len(original)):
        path.write_bytes(original[:end])
        with pytest.raises(io.LoadError):
            io.load(path)
    refused = unchanged = 0
    for position in range(len(original)):
        damaged = bytearray(original)
        damaged[position] ^= 1
        path.write_bytes(bytes(damaged))
        try:
            loaded, meta = io.load(path)
        except io.LoadError:
            refused += 1
            continue
        assert meta == {"epochs": 3}, position
        for got, want in zip(flat(loaded), flat(params)):
            assert got.dtype == want.dtype and numpy.array_equal(got, want), position
        assert len(flat(loaded)) == 3
        unchanged += 1
    assert refused > len(original) // 2


# --- downloads ----------------------------------------------------------------------

class Response(object):
    """An HTTP response that sends `data` and then, if `cut`, drops the connection."""

    def __init__(self, data, cut=False):
        self.stream = bytes_io.BytesIO(data)
        self.cut = cut
        self.headers = {"Content-Length": str(len(data) * (2 if cut else 1))}

    def read(self, size):
        block = self.stream.read(size)
        if not block and self.cut:
            raise http.client.IncompleteRead(b"")
        return block

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv("DL_DATA_DIR", str(folder))
    monkeypatch.chdir(tmp_path)
    return folder


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_download_cut_half_way_is_not_kept_and_the_error_says_where_to_put_it(data_dir, monkeypatch):
    content = gzip.compress(pickle.dumps([1, 2, 3]))
    monkeypatch.setattr(files.urllib.request, "urlopen", lambda url, timeout: Response(content[:40], cut=True))
    with pytest.raises(DataFileError) as caught:
        files.locate("sets.pkl.gz", "http://example.org/sets.pkl.gz", files.hashlib.sha256(content).hexdigest())
    message = str(caught.value)
    for part in ("sets.pkl.gz", str(data_dir), "http://example.org/sets.pkl.gz"):
        assert part in message
    assert os.listdir(data_dir) == []


def test_a_killed_downloads_leftover_is_removed_by_the_next_download(data_dir, monkeypatch):
    content = gzip.compress(pickle.dumps([1, 2, 3]))
    data_dir.mkdir()
    leftover = data_dir / (".sets.pkl.gz.%s.%d.0123abcd.tmp" % (io._host(), dead_pid()))
    leftover.write_bytes(content[:10])
    monkeypatch.setattr(files.urllib.request, "urlopen", lambda url, timeout: Response(content))
    path = files.locate("sets.pkl.gz", "http://example.org/sets.pkl.gz", files.hashlib.sha256(content).hexdigest())
    assert os.listdir(data_dir) == ["sets.pkl.gz"]
    assert load_pickles(path) == [[1, 2, 3]]


def test_a_corrupted_download_is_deleted_and_the_error_names_file_folder_and_address(data_dir, monkeypatch):
    content = gzip.compress(pickle.dumps([1, 2, 3]))
    corrupted = content[:20] + bytes([content[20] ^ 0xFF]) + content[21:]
    monkeypatch.setattr(files.urllib.request, "urlopen", lambda url, timeout: Response(corrupted))
    with pytest.raises(DataFileError) as caught:
        files.locate("sets.pkl.gz", "http://example.org/sets.pkl.gz", files.hashlib.sha256(content).hexdigest())
    message = str(caught.value)
    for part in ("sets.pkl.gz", str(data_dir), "http://example.org/sets.pkl.gz", "SHA-256", "deleted"):
        assert part in message
    assert os.listdir(data_dir) == []


@pytest.mark.parametrize("load, name, url", [
    (lambda: DL.datasets.mnist(download=False), "mnist.pkl.gz", DL.datasets.MNIST_URL),
    (lambda: DL.datasets.imdb(download=False), "imdb.pkl", DL.datasets._imdb.IMDB_URL),
])
def test_offline_the_error_names_the_file_the_folder_and_the_address(data_dir, load, name, url):
    with pytest.raises(DataFileError) as caught:
        load()
    message = str(caught.value)
    for part in (name, str(data_dir), url):
        assert part in message
