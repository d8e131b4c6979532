"""Every recurrent example runs, with a short budget, the way a user runs it.

Each runs as its own process (two at a time) from an empty folder, on a few
sequences for an epoch or two, and ends with its result line.  The bounds sit
between what these short runs reach (measured: binary 20 %, softmax 25 %,
real mse 0.13, dropout mse 0.06) and what a model that learned nothing would
score (40 %, 55 %, 0.8, 0.8).  lstm-imdb (3 epochs on all its reviews) and
bilstm-imdb (2 epochs on the same reviews) must beat the majority class of
their data, computed here, and mrnn-text the unigram baseline it prints (the
character frequencies of its training text).
"""
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from DL import datasets

from test_examples_mnist import run_example
from test_learning import majority_error

slow = pytest.mark.slow  # left out of `make test-quick`: runs the recurrent examples on real data in subprocesses

IMDB_MARGIN = 8  # points of test error below the majority class (measured: 31.8 % against 45.1 %)
MRNN_MARGIN = 0.5  # bits per character below the unigram baseline (measured: 3.46 against 4.74)
SEQUENCES = ["--epochs", "2", "--sequences", "60"]
RUNS = {
    "rnn-lag-binary": SEQUENCES,
    "rnn-lag-softmax": SEQUENCES,
    "rnn-lag-real": SEQUENCES,
    "rnn-lag-dropout": SEQUENCES,
    "lstm-imdb": ["--epochs", "3"],  # all 2064 reviews: on a subset of the shortest it stays at the majority
    "bilstm-imdb": ["--epochs", "2", "--maxlen", "100"],  # the same 2064 reviews (measured: 14.6 %)
    "mrnn-text": ["--epochs", "2", "--chars", "40000", "--n-hidden", "64", "--n-fact", "64",
                  "--sample-length", "40", "--learning-rate", "0.01"],
}
LAST_LINE = {
    "test error": re.compile(r"^test error: ([0-9.]+) %$"),
    "test mse": re.compile(r"^test mse: ([0-9.]+)$"),
    "bits": re.compile(r"^test bits per character: ([0-9.]+) \(unigram baseline ([0-9.]+), -?[0-9.]+ % below\)$"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recurrent-examples")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(run_example, name, *flags, cwd=folder) for name, flags in RUNS.items()}
        return {name: future.result() for name, future in futures.items()}


def last_number(stdout, kind):
    lines = stdout.strip().splitlines()
    match = LAST_LINE[kind].match(lines[-1]) if lines else None
    assert match, "the last line is not the %s line:\n%s" % (kind, stdout[-2000:])
    return [float(group) for group in match.groups()]


@pytest.mark.parametrize("name, kind, bound", [
    ("rnn-lag-binary", "test error", 35),
    ("rnn-lag-softmax", "test error", 45),
    ("rnn-lag-real", "test mse", 0.5),
    ("rnn-lag-dropout", "test mse", 0.5),
])
@slow
def test_example_runs_and_reports(runs, name, kind, bound):
    assert last_number(runs[name], kind)[0] < bound


@slow
@pytest.mark.parametrize("name", ["lstm-imdb", "bilstm-imdb"])
def test_imdb_examples_beat_the_majority_class(runs, name):
    train, _, test = datasets.imdb(validation_ratio=0.1, vocabulary_size=10000, maxlen=100, seed=1234)
    majority = 100 * majority_error(train[1], test[1])
    error = last_number(runs[name], "test error")[0]
    assert majority > 40 and error < majority - IMDB_MARGIN, (error, majority)


@slow
def test_dropout_example_shows_masks_in_training_only(runs):
    lines = runs["rnn-lag-dropout"].splitlines()
    training = next(line for line in lines if line.startswith("training output"))
    prediction = next(line for line in lines if line.startswith("prediction"))
    first, second = re.findall(r"\[[^\]]*\]", training)
    assert first != second
    first, second = re.findall(r"\[[^\]]*\]", prediction)
    assert first == second


@slow
def test_mrnn_text_scores_bits_per_character_and_writes_a_sample(runs):
    stdout = runs["mrnn-text"]
    bits, unigram = last_number(stdout, "bits")
    assert 3.5 < unigram < 5.5 and bits < unigram - MRNN_MARGIN, (bits, unigram)
    sample = stdout.split("sample:\n", 1)[1].rsplit("\ntest bits", 1)[0]
    assert len(sample) == 41 and sample.startswith("T")


def test_the_result_line_check_fails_a_run_that_ended_elsewhere():
    """The harness above reads each run's last line: a run that printed its result and then
    a crash report, or no result at all, fails it."""
    assert last_number("epoch 1\ntest error: 12.500 %\n", "test error") == [12.5]
    assert last_number("test bits per character: 3.100 (unigram baseline 4.600, 32.6 % below)",
                       "bits") == [3.1, 4.6]
    for stdout in ("test error: 12.500 %\nTraceback (most recent call last):", "", "test mse: 0.1"):
        with pytest.raises(AssertionError, match="not the test error line"):
            last_number(stdout, "test error")
