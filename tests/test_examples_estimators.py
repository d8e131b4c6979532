"""Every state-estimator example (and dbnc-mnist) runs briefly as a user runs it.

One or two epochs on little data: the runs show that the scripts work end to end and
print what they promise (a sparkprob row per step, then `test error: X %`).
muse-map1d, euse-map1d and dbnc-mnist must also beat the majority class of
their own data, computed here (the most frequent next cell of the training
walks; the most frequent digit of the training subset), by the margin in
BEATS; learning itself is tested in test_learning.py and test_use.py and
measured by benchmarks/.
"""
from concurrent.futures import ThreadPoolExecutor

import pytest

from DL import datasets

from test_examples_mnist import last_test_error, run_example
from test_learning import majority_error

slow = pytest.mark.slow  # left out of `make test-quick`: runs every estimator example in a subprocess

RUNS = {  # name (the example, then :variant): (flags, rows printed, what a row starts with)
    "use-map1d-binary": (["--epochs", "1", "--n-train", "40", "--encoding", "binary"], 20, "observed "),
    "use-map1d-softmax": (["--epochs", "1", "--n-train", "40", "--ff-size", "8", "--n-hidden", "10"], 20, "observed "),
    "use-map1d-rmsprop": (["--epochs", "1", "--n-train", "40"], 20, "observed "),
    "muse-map1d": (["--epochs", "1"], 20, "observed "),
    "euse-map1d": (["--epochs", "1", "--n-obs", "7"], 20, "observed "),
    "sse-dice": (["--epochs", "1", "--n-train", "100", "--n-hidden", "10"], 9, "observed "),
    # the original dice's recipe: the SSE also trained to predict the next top face
    "sse-dice:original": (["--dice", "original", "--epochs", "1", "--n-train", "100", "--n-hidden", "10"], 9,
                          "observed "),
    "dbnc-mnist": (["--epochs", "2", "--subset", "1000", "--ff-sizes", "20", "--n-parallel", "3",
                    "--learning-rate", "0.1"], 0, None),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every example's stdout, two runs at a time: name -> future."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield {name: pool.submit(run_example, name.split(":")[0], *flags,
                                 cwd=tmp_path_factory.mktemp(name.replace(":", "-")))
               for name, (flags, _, _) in RUNS.items()}


@slow
@pytest.mark.parametrize("name", sorted(RUNS))
def test_example_runs_and_prints_its_rows_and_error(name, runs):
    stdout = runs[name].result()
    _, n_rows, start = RUNS[name]
    if start is not None:
        rows = [line for line in stdout.splitlines() if line.startswith(start)]
        assert len(rows) == n_rows, stdout[-3000:]
        assert all(" | " in row for row in rows)
    assert 0 <= last_test_error(stdout) <= 100


def map1d_majority_error(n_obs):
    """Test error (%) of always guessing the training walks' most frequent next cell (the examples' walks)."""
    train, _, test = datasets.seeded_sets(datasets.map1d, sizes=(200, 50, 50), seed=1234, n_obs=n_obs,
                                          n_steps=20, encoding="ids")
    return 100 * majority_error(train[0][:, 1:], test[0][:, 1:])


def mnist_majority_error(subset):
    (_, train_t), _, (_, test_t) = datasets.mnist()
    return 100 * majority_error(train_t[:subset], test_t[:subset // 5])


BEATS = {  # name: (its baseline, the margin in points of test error it must beat it by); measured:
    "muse-map1d": (lambda: map1d_majority_error(5), 40),     # 9.5 % against 80.7 %
    "euse-map1d": (lambda: map1d_majority_error(7), 10),     # 65.8 % against 86.3 % (one epoch)
    "dbnc-mnist": (lambda: mnist_majority_error(1000), 40),  # 23.5 % against 88.0 %
}


@slow
@pytest.mark.parametrize("name", sorted(BEATS))
def test_example_beats_the_majority_class(name, runs):
    baseline, margin = BEATS[name]
    error, majority = last_test_error(runs[name].result()), baseline()
    assert error < majority - margin, "%s: %.1f %% against the majority class's %.1f %%" % (name, error, majority)


def test_the_majority_baselines_sit_near_chance_on_the_examples_data():
    """The bars in BEATS: always guessing the most frequent next cell of a 5- or 7-cell map,
    or the most frequent digit, is wrong about as often as chance (80 %, 86 %, 90 %)."""
    assert 70 < map1d_majority_error(5) < 90
    assert 75 < map1d_majority_error(7) < 95
    assert 85 < mnist_majority_error(1000) < 95
