"""A script written in the original package's style runs on DL with only its engine import changed.

tests/original/mlp-mnist.py uses the original's idioms (see tests/original/README.md):
`from DL.utils import *`, float targets cast to int64, `optimize(..., optimizer="sgd",
momentum=0.2)` and patience counted in minibatches.

Its body is not edited to make it quick.  Instead it runs on a small MNIST
file in the classic layout (a gzipped pickle of three (x, t) pairs) holding
the first 2000 training and 400 validation and test digits, found through
DL_DATA_DIR like the real one.  With 100 minibatches an epoch, its patience
of 1000 minibatches ends training on its own after some tens of epochs.
"""
import gzip
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy

from DL import datasets

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


def test_a_script_in_the_original_style_runs(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    test_x, test_t = write_small_mnist(data)[2]
    env = dict(os.environ, DL_DATA_DIR=str(data), MPLBACKEND="Agg",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    completed = subprocess.run([sys.executable, str(SCRIPT)], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    stdout = completed.stdout

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
