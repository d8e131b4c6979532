"""A script written in the original package's style runs on DL with only its engine import changed.

tests/original/mlp-mnist.py uses the original's idioms (see tests/original/README.md):
`from DL.utils import *`, float targets cast to int64, `optimize(..., optimizer="sgd",
momentum=0.2)` and patience counted in minibatches.

Its body is not edited to make it quick.  Instead it runs on a small MNIST
file in the classic layout (a gzipped pickle of three (x, t) pairs) holding
the first 2000 training and 400 validation and test digits, found through
DL_DATA_DIR like the real one.  With 100 minibatches an epoch, its patience
of 1000 minibatches ends training on its own after some tens of epochs.

The other scripts there use the original's other calls (issue 15): a random
stream from `T.shared_randomstreams` handed to the MLP with `srng=`,
`optimizer="rmsprop"`, `layers_params`, a model saved with `numpy.savez` and
loaded back as object arrays (mlp-mnist-dropout.py, then mlp-mnist-load.py),
`load_data(..., output=...)`, a USE on T + 1 observations and T actions, and
predictions compiled by the script and called with NumPy's float64 data
(use-map1d.py, rnn-lag.py).  They run two at a time.
"""
import gzip
import os
import pickle
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy
import pytest

from DL import datasets
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

slow = pytest.mark.slow  # left out of `make test-quick`: runs scripts in the original package's style in subprocesses

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tests" / "original" / "mlp-mnist.py"
SIZES = (2000, 400, 400)  # train, valid, test


def write_small_mnist(folder):
    """mnist.pkl.gz with the first SIZES examples of each set, as the original file holds them."""
    sets = tuple((x[:n].astype("float32"), t[:n].astype("int64"))
                 for (x, t), n in zip(datasets.mnist(download=False), SIZES))
    with gzip.open(folder / "mnist.pkl.gz", "wb") as stream:
        # Protocol 4: Python 3's protocol 2 spells bytes as calls to _codecs.encode,
        # which the safe unpickler refuses; 5 would pass arrays out of band.
        pickle.dump(sets, stream, protocol=4)
    return sets


def digits_after(label, stdout):
    line = next(line for line in stdout.splitlines() if line.startswith(label))
    return [int(digit) for digit in re.findall(r"\d", line[len(label):])]


def run_script(name, cwd, data):
    """stdout of tests/original/NAME.py, run in `cwd` on the data in `data`."""
    env = dict(os.environ, DL_DATA_DIR=str(data), MPLBACKEND="Agg",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    completed = subprocess.run([sys.executable, str(SCRIPT.parent / (name + ".py"))], cwd=cwd, env=env,
                               capture_output=True, text=True, timeout=HANG)
    assert completed.returncode == 0, "%s failed:\n%s" % (name, completed.stderr[-3000:])
    return completed.stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The scripts' stdout, two at a time: name -> future (the load script after the save)."""
    folder = tmp_path_factory.mktemp("original")
    data = folder / "data"
    data.mkdir()
    test_set = write_small_mnist(data)[2]

    def saved_then_loaded():
        return run_script("mlp-mnist-dropout", folder, data), run_script("mlp-mnist-load", folder, data)

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {"mlp-mnist": pool.submit(run_script, "mlp-mnist", folder, data),
                   "mlp-mnist-dropout": pool.submit(saved_then_loaded),
                   "use-map1d": pool.submit(run_script, "use-map1d", folder, data),
                   "rnn-lag": pool.submit(run_script, "rnn-lag", folder, data)}
        yield futures, test_set


@slow
def test_a_script_in_the_original_style_runs(runs):
    futures, (test_x, test_t) = runs
    stdout = futures["mlp-mnist"].result()

    assert "training on %d examples, 100 minibatches of 20" % SIZES[0] in stdout
    assert "stopped (patience)" in stdout  # early stopping ended it, not the 1000 epochs
    # optimize's summary: errors with the best parameters; chance is 90 %, the run gets 10 to 15 %.
    test_error = float(re.search(r"errors with the best parameters: .* test ([0-9.]+) %", stdout).group(1))
    assert test_error < 30.0
    predicted = digits_after("predict:", stdout)
    answer = digits_after("answer: ", stdout)
    assert answer == list(test_t[:10])
    assert len(predicted) == 10
    # The seed is the clock (as in the original), so allow a few misses among the ten.
    assert sum(p == a for p, a in zip(predicted, answer)) >= 4


def numbers_after(label, stdout):
    """The numbers on each line that starts with `label`, one list a line."""
    return [[float(n) for n in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", line[len(label):])]
            for line in stdout.splitlines() if line.startswith(label)]


@slow
def test_dropout_save_and_load_in_the_original_style(runs):
    futures, (test_x, test_t) = runs
    saved, loaded = futures["mlp-mnist-dropout"].result()
    assert "rmsprop: training on %d examples" % SIZES[0] in saved  # optimizer="rmsprop", by name
    # a script's own function over the dropped-out output draws a new mask at every call
    distributions = numbers_after("distribution:", saved)
    assert len(distributions) == 4 and all(len(row) == 10 for row in distributions)
    assert len(set(tuple(row) for row in distributions)) == 4, distributions
    # the model comes back from numpy.load's object arrays: the same losses, and it predicts
    assert numbers_after("loaded:", loaded) == numbers_after("saved: ", saved)
    test_error = numbers_after("saved: ", saved)[0][2]
    assert test_error < 0.5  # chance is 0.9
    predicted, answer = digits_after("predict:", loaded), digits_after("answer: ", loaded)
    assert answer == list(test_t[:10]) and len(predicted) == 10
    assert sum(p == a for p, a in zip(predicted, answer)) >= 4


@slow
def test_use_on_t_plus_one_observations_in_the_original_style(runs):
    futures, _ = runs
    stdout = futures["use-map1d"].result()
    rows = [line for line in stdout.splitlines() if line.count("  |  ") == 2]
    assert len(rows) == 9  # the steps 1 .. T - 1 of one walk, as the original printed them
    wrong = float(re.search(r"bits wrong in that walk: ([0-9.]+)", stdout).group(1))
    # guessing "no cell" gets 1 bit in 5 wrong; the trained USE gets fewer
    assert wrong < 0.2, stdout[-2000:]


@slow
def test_rnn_with_int32_targets_in_the_original_style(runs):
    futures, _ = runs
    stdout = futures["rnn-lag"].result()
    wrong = float(re.search(r"classes wrong on the test walks: ([0-9.]+)", stdout).group(1))
    baseline = float(re.search(r"guessing the most common class: ([0-9.]+)", stdout).group(1))
    assert wrong < baseline - 0.1, stdout[-2000:]


def test_the_small_mnist_file_loads_as_the_original_layout(tmp_path, monkeypatch):
    """The scripts' data: a file in the classic layout that DL reads through DL_DATA_DIR
    as it reads the real one, holding exactly the first SIZES examples."""
    written = write_small_mnist(tmp_path)
    monkeypatch.setenv("DL_DATA_DIR", str(tmp_path))
    loaded = datasets.mnist(download=False)
    for (x, t), (x_read, t_read), n in zip(written, loaded, SIZES):
        assert x_read.shape == (n, 784) and len(t_read) == n
        assert numpy.array_equal(x_read, x) and numpy.array_equal(t_read, t)
