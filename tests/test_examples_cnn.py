"""The convolutional examples run, on real MNIST with a short budget, and learn.

Each example runs as its own process (the way a user runs it) from an empty
folder, on the first 1000 training digits and 200 validation and test digits,
for one epoch of minibatches of 20; cnn-mnist with a small net (8 and 16
filters, 32 dense units).  Each must beat multinomial logistic regression
(logistic-mnist) run here on the same digits with the same budget, and stay
far from chance (90 %).  Measured: logistic regression 23.0 %, lenet-mnist
12.0 %, cnn-mnist 15.5 %.
lenet-mnist also draws its first layer's filters (--plot).

A cold compile of the convolutions' Numba code takes minutes on a loaded
machine: each run gets half an hour, a bound on a hang, not on speed.
"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

import test_examples_mnist
from test_examples_mnist import EXAMPLES, QUICK, last_test_error, predictions, run_example
from test_viz import PNG_SIGNATURE

slow = pytest.mark.slow  # left out of `make test-quick`: trains on real data in subprocesses

from conftest import HANG  # seconds: a run that takes longer hangs
CHANCE = 90.0
FAR_FROM_CHANCE = 60.0  # an example that learned must be below this
PLOT = "filters.png"
RUNS = {
    "logistic-mnist": QUICK,
    "lenet-mnist": QUICK + ["--plot", PLOT],
    "cnn-mnist": QUICK + ["--n-filters", "8", "16", "--n-hidden", "32", "--learning-rate", "0.01"],
}


class LongerTimeout(object):
    """subprocess, with HANG as every run's timeout."""

    @staticmethod
    def run(*args, **kwargs):
        return subprocess.run(*args, **dict(kwargs, timeout=HANG))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """name -> (stdout, folder), two runs at a time."""
    folders = {name: tmp_path_factory.mktemp(name) for name in RUNS}
    with pytest.MonkeyPatch.context() as patch, ThreadPoolExecutor(max_workers=2) as pool:
        # run_example's 5 minutes suit the MLPs; a cold compile of the convolutions may need more
        patch.setattr(test_examples_mnist, "subprocess", LongerTimeout)
        futures = {name: pool.submit(run_example, name, *flags, cwd=folders[name]) for name, flags in RUNS.items()}
        return {name: (future.result(), folders[name]) for name, future in futures.items()}


@slow
@pytest.mark.parametrize("name", ["lenet-mnist", "cnn-mnist"])
def test_convolutional_example_beats_logistic_regression_on_the_same_digits(name, runs):
    stdout, _ = runs[name]
    error, baseline = last_test_error(stdout), last_test_error(runs["logistic-mnist"][0])
    assert len(predictions(stdout)) == 10
    assert error < FAR_FROM_CHANCE < CHANCE
    assert error < baseline, "%s %.1f %% against logistic regression %.1f %%" % (name, error, baseline)


@slow
def test_lenet_draws_its_first_layers_filters(runs):
    stdout, folder = runs["lenet-mnist"]
    assert (folder / PLOT).read_bytes()[:8] == PNG_SIGNATURE
    assert "test error after 20 epochs" not in stdout  # one epoch: no 20-epoch figure to report


def test_the_examples_take_the_common_flags_and_their_own():
    """--help, without training: its usage line lists the shared flags, --mode and the model's options."""
    env = dict(os.environ, PYTHONPATH=str(EXAMPLES.parent))
    for name, own in (("lenet-mnist", ["--learning-rate"]),
                      ("cnn-mnist", ["--n-filters", "--dropout-rates", "--decay"])):
        completed = subprocess.run([sys.executable, str(EXAMPLES / (name + ".py")), "--help"], env=env,
                                   capture_output=True, text=True, timeout=HANG)
        assert completed.returncode == 0, completed.stderr[-2000:]
        usage = completed.stdout.split("\n\n")[0]
        for flag in ["--subset", "--epochs", "--seed", "--batch-size", "--plot", "--mode"] + own:
            assert flag in usage, "%s --help lacks %s" % (name, flag)
