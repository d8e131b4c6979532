"""Crash-safe files: a process killed with SIGKILL at any moment of `DL.io.save`
leaves the complete old file or the complete new one, and the next save or load
removes the temporary file the dead writer could not.

The writer is a forked child (fast to start: 60 trials take a few seconds) that
saves two different contents in turn, over and over, until the parent kills it
after a random delay of up to three saves' time."""
import os
import random
import signal
import time

import numpy
import pytest

from DL import io

slow = pytest.mark.slow  # left out of `make test-quick`: kills saving processes

TRIALS = 60


def contents(version):
    """Two model files that differ everywhere: a few MB of arrays, nested."""
    rng = numpy.random.RandomState(version)
    return [[rng.randn(400, 500).astype("float32"), rng.randn(500).astype("float32")],
            [rng.randn(500, 300).astype("float32"), rng.randn(300)]]


VERSIONS = [contents(0), contents(1)]


def writer(path, write):
    """Fork a child that writes versions 1, 0, 1, 0, ... to `path` until killed;
    return once it has started."""
    started, tell = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        try:
            os.write(tell, b"!")
            version = 1
            while True:
                write(path, version)
                version = 1 - version
        finally:
            os._exit(1)
    os.read(started, 1)
    os.close(started)
    os.close(tell)
    return pid


def kill_after(pid, delay):
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)  # reaped: its PID no longer runs


def timed(write, *args):
    """Seconds `write(*args)` takes: the kills are spread over a few saves."""
    start = time.time()
    write(*args)
    return time.time() - start


def which_version(path):
    """0 or 1 when `path` is one complete version, else None."""
    try:
        params, meta = io.load(path)
    except io.LoadError:
        return None
    version = meta.get("version")
    expected = VERSIONS[version] if version in (0, 1) else None
    if expected is None or len(params) != 2:
        return None
    for got_layer, expected_layer in zip(params, expected):
        if len(got_layer) != len(expected_layer):
            return None
        for got, want in zip(got_layer, expected_layer):
            if got.dtype != want.dtype or not numpy.array_equal(got, want):
                return None
    return version


def save_version(path, version):
    io.save(path, VERSIONS[version], version=version)


@slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_save_killed_at_any_moment_leaves_a_complete_file_and_no_temporary(tmp_path):
    path = tmp_path / "model.npz"
    max_delay = 3 * timed(save_version, path, 0)
    delays = random.Random(7)
    seen = {0: 0, 1: 0}
    caught_mid_write = 0
    for trial in range(TRIALS):
        kill_after(writer(path, save_version), delays.uniform(0, max_delay))
        left = sorted(os.listdir(tmp_path))
        caught_mid_write += len(left) > 1
        assert all(name == "model.npz" or name.startswith(".model.npz.") for name in left), left
        version = which_version(path)    # the load also removes the dead writer's temporary
        assert version in (0, 1), "trial %d: the file on disk is torn" % trial
        seen[version] += 1
        assert os.listdir(tmp_path) == ["model.npz"], "trial %d left %s" % (trial, left)
    # the kills landed at many moments: inside writes, and both versions were on disk
    assert caught_mid_write >= TRIALS // 4, caught_mid_write
    assert seen[0] > 0 and seen[1] > 0, seen


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_the_next_save_removes_a_dead_writers_temporary(tmp_path):
    path = tmp_path / "model.npz"
    duration = timed(save_version, path, 0)
    for _ in range(20):
        kill_after(writer(path, save_version), random.uniform(0, duration))
        if len(os.listdir(tmp_path)) > 1:
            break
    assert len(os.listdir(tmp_path)) > 1, "no kill landed inside a write"
    save_version(path, 1)
    assert os.listdir(tmp_path) == ["model.npz"]
    assert which_version(path) == 1


def test_a_running_writers_temporary_is_left_alone(tmp_path):
    """Only dead writers' files are removed: this process is alive and writing."""
    path = tmp_path / "model.npz"
    with io.atomic_write(path) as stream:
        stream.write(b"partial")
        (temporary,) = [name for name in os.listdir(tmp_path)]
        assert io.remove_stale_temporaries(path) == []
        assert os.listdir(tmp_path) == [temporary]
    assert os.listdir(tmp_path) == ["model.npz"]


def test_an_error_while_writing_leaves_the_old_file(tmp_path):
    path = tmp_path / "model.npz"
    save_version(path, 0)
    with pytest.raises(TypeError, match="object array"):
        io.save(path, [numpy.array([{"a": 1}], dtype=object)])
    assert which_version(path) == 0 and os.listdir(tmp_path) == ["model.npz"]


@slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_the_harness_sees_torn_files_when_writes_are_not_atomic(tmp_path):
    """The control: numpy.savez straight to the path, killed the same way, tears the
    file; so the trials above would catch a writer that is not atomic."""
    path = tmp_path / "model.npz"

    def naive(path, version):
        with open(path, "wb") as stream:
            numpy.savez(stream, **{"format": numpy.array("DL.io/1"), "meta/version": numpy.array(str(version)),
                                   "p/0/0": VERSIONS[version][0][0], "p/0/1": VERSIONS[version][0][1],
                                   "p/1/0": VERSIONS[version][1][0], "p/1/1": VERSIONS[version][1][1]})
    max_delay = 3 * timed(naive, path, 0)
    assert which_version(path) == 0
    delays = random.Random(3)
    torn = 0
    for _ in range(10):
        kill_after(writer(path, naive), delays.uniform(0, max_delay))
        torn += which_version(path) is None
    assert torn >= 1
