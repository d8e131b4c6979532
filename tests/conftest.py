"""Shared test setup: data folder, a headless plot backend, and small fixtures.

The environment is set before any test module imports DL, so the data
folder and the matplotlib backend apply to every test.
"""
import os
import signal
from pathlib import Path

# Before NumPy loads OpenBLAS: one thread (small matrices, 2 cores, noisy neighbours).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI draws the same property-test examples on every run (HYPOTHESIS_PROFILE=ci, set
# by .ci/run), so whether a commit lands never depends on a random draw; developers'
# runs keep drawing new examples, and a failure found that way is pinned with @example.
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parents[1]

# The timeout of every subprocess a test starts (`from conftest import HANG`): it bounds a
# hang, not speed.  A fresh process compiles with cold caches, which on a loaded 2-core
# machine takes minutes (a cold Numba compile of an LSTM's training step: over a minute);
# no test may fail because a compile was slow.
HANG = 3600

# Developers and CI keep real data files beside the checkout (never in it).
os.environ.setdefault("DL_DATA_DIR", str((REPO / ".." / "shared" / "data").resolve()))
# Tests never open a window.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def sigint_disposition():
    """Set SIGINT's disposition for one test, put the suite's own back after it.

    The suite may start with SIGINT ignored (`nohup make test &`, any background
    job), and optimize then leaves Ctrl-C alone; a test of Ctrl-C sets what it tests:
    `sigint_disposition(signal.default_int_handler)` or `(signal.SIG_IGN)`."""
    previous = signal.getsignal(signal.SIGINT)
    yield lambda handler: signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def default_sigint(sigint_disposition):
    """Python's own Ctrl-C handler (KeyboardInterrupt) for one test, as in a terminal."""
    sigint_disposition(signal.default_int_handler)


@pytest.fixture
def rng():
    """A fresh, seeded NumPy RandomState (the kind the models take)."""
    return numpy.random.RandomState(1234)


def central_differences(f, values, eps=1e-6):
    """Numerical gradients of the scalar `f(*values)` w.r.t. each array in `values`.

    Central differences, one entry at a time: (f(v + eps) - f(v - eps)) / 2 eps.
    In float64 the error is O(eps^2) plus rounding of order 1e-10 / eps."""
    values = [numpy.array(value, dtype="float64") for value in values]
    gradients = []
    for value in values:
        gradient = numpy.zeros_like(value)
        for index in numpy.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + eps
            above = float(f(*values))
            value[index] = saved - eps
            below = float(f(*values))
            value[index] = saved
            gradient[index] = (above - below) / (2 * eps)
        gradients.append(gradient)
    return gradients


@pytest.fixture
def numeric_grad():
    """`central_differences(f, values, eps)`, as a fixture for the test modules."""
    return central_differences

