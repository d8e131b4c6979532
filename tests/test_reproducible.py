"""Reproducibility: the same seeds give the same parameters, bit for bit, in two
separate processes, for an MLP, an LSTM and a USE, each trained with dropout
(random masks every step) and adam.

Each process runs tests/scripts/train.py: one seed builds the data, the initial
weights and the dropout streams.  The MLP runs in the engine's default mode
(numba); the recurrent models in the C engine (CVM), which loads their scans
from its cache much faster.  All six processes run at once."""
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from DL import io
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

slow = pytest.mark.slow  # left out of `make test-quick`: trains in fresh processes

SCRIPT = Path(__file__).parent / "scripts" / "train.py"
RUNS = {"mlp": [], "lstm": ["--mode", "CVM"], "use": ["--mode", "CVM"]}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reproducible")
    processes = {}
    for model, extra in RUNS.items():
        for run in (1, 2):
            out = folder / ("%s-%d.npz" % (model, run))
            processes[model, run] = (out, subprocess.Popen(
                [sys.executable, str(SCRIPT), "--model", model, "--seed", "3", "--epochs", "3",
                 "--out", str(out)] + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    finished = {}
    for key, (out, process) in processes.items():
        _, stderr = process.communicate(timeout=HANG)
        assert process.returncode == 0, stderr.decode()[-3000:]
        finished[key] = io.load(out)
    return finished


@slow
@pytest.mark.parametrize("model", sorted(RUNS))
def test_same_seed_same_bits_in_two_processes(results, model):
    (first, meta_first), (second, meta_second) = results[model, 1], results[model, 2]
    assert len(first) == len(second) > 0
    for a, b in zip(first, second):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert numpy.array_equal(a, b)  # bit for bit: no tolerance
    assert meta_first == meta_second    # errors and validation history too


@slow
def test_the_runs_trained(results):
    """Not trivially equal: each run made every step of its 3 epochs (8 minibatches each)."""
    for model in RUNS:
        meta = results[model, 1][1]
        assert meta["iterations"] == 3 * 8 and len(meta["valid_errors"]) == 3


def test_same_seed_same_bits_twice_in_this_process():
    """The quick form of the check above: the MLP with dropout of tests/scripts/train.py,
    built and trained twice here from one seed, and once from another seed."""
    sys.path.insert(0, str(SCRIPT.parent))
    import train
    from DL.optimizers import optimize
    from DL.utils import flatten, load_data

    def trained(seed):
        sets, inputs, model, cost, errors = train.mlp(numpy.random.RandomState(seed))
        params = flatten(model.params)
        optimize(dataset=load_data(sets), inputs=inputs, cost=cost, params=params, errors=errors,
                 updates=model.updates, optimizer="adam", learning_rate=0.02, n_epochs=2, batch_size=6,
                 progress=False, verbose=False)
        return [p.get_value() for p in params]

    first, second, other = trained(3), trained(3), trained(4)
    assert all(numpy.array_equal(a, b) for a, b in zip(first, second))
    assert not all(numpy.array_equal(a, b) for a, b in zip(first, other))
