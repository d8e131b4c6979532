"""Every MNIST example runs, on real MNIST with a short budget, and learns.

Each example runs as its own process (the way a user runs it) from an empty
folder, on the first 1000 training examples and 200 validation and test
examples for one epoch.  Its last line is `test error: X %`.  A model that
learned nothing misclassifies about 90 % of the digits, so each bound below
sits well under chance and well above what the run reaches (measured: SGD at
learning rate 0.01 about 40 %, logistic regression about 23 %, the others
14 to 19 %).  The modern recipe (mlp-mnist-relu-adam) must also beat the
logistic regression's run on the same digits and budget.  The save -> load
pair must print the same test error and the same predictions.
"""
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

slow = pytest.mark.slow  # left out of `make test-quick`: runs the MNIST examples on real data in subprocesses

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
QUICK = ["--epochs", "1", "--subset", "1000", "--batch-size", "20"]
TEST_ERROR = re.compile(r"^test error: ([0-9.]+) %$")


def run_example(name, *flags, cwd):
    """Run examples/NAME.py in `cwd`; its stdout (the run must exit 0)."""
    env = dict(os.environ)
    env.setdefault("DL_DATA_DIR", str((REPO / ".." / "shared" / "data").resolve()))
    env["MPLBACKEND"] = "Agg"
    # Minibatches of 20 gain nothing from BLAS threads, and two runs go at once:
    # threads would only fight over the cores.
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    completed = subprocess.run([sys.executable, str(EXAMPLES / (name + ".py"))] + list(flags),
                               cwd=cwd, env=env, capture_output=True, text=True, timeout=HANG)
    assert completed.returncode == 0, "%s exited %d:\n%s" % (name, completed.returncode,
                                                            completed.stderr[-3000:])
    return completed.stdout


def last_test_error(stdout):
    """The number on the last line, `test error: X %`."""
    lines = stdout.strip().splitlines()
    match = TEST_ERROR.match(lines[-1]) if lines else None
    assert match, "the last line is not 'test error: X %%':\n%s" % stdout[-2000:]
    return float(match.group(1))


def predictions(stdout):
    """The ten digits on the `predict:` line."""
    line = next(line for line in stdout.splitlines() if line.startswith("predict:"))
    return [int(digit) for digit in re.findall(r"\d", line.split(":", 1)[1])]


def save_then_load(folder):
    """Train and save with mlp-mnist-save, then load with mlp-mnist-load: both stdouts."""
    model = folder / "saved" / "mlp.npz"
    model.parent.mkdir(parents=True)
    saved = run_example("mlp-mnist-save", *QUICK, "--out", str(model), cwd=folder)
    assert model.is_file(), "mlp-mnist-save wrote no %s" % model
    loaded = run_example("mlp-mnist-load", "--subset", "1000", "--model", str(model), cwd=folder)
    return saved, loaded


BOUNDS = {"mlp-mnist-sgd": 50.0, "mlp-mnist-rmsprop": 30.0, "mlp-mnist-adadelta": 30.0,
          "mlp-mnist-dropout": 30.0, "dbn-mnist": 30.0, "logistic-mnist": 35.0,
          "mlp-mnist-relu-adam": 30.0}
PLOT = "history.png"  # the rmsprop run also draws its training curves


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every example's run, two at a time (they are independent): name -> future."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {}
        for name in BOUNDS:
            folder = tmp_path_factory.mktemp(name)
            extra = ["--plot", PLOT] if name == "mlp-mnist-rmsprop" else []
            futures[name] = pool.submit(run_example, name, *QUICK, *extra, cwd=folder)
            futures[name].folder = folder
        futures["save-load"] = pool.submit(save_then_load, tmp_path_factory.mktemp("save-load"))
        yield futures


@slow
@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_example_learns_in_one_epoch(name, runs):
    stdout = runs[name].result()
    assert len(predictions(stdout)) == 10
    assert last_test_error(stdout) < BOUNDS[name]


@slow
def test_the_modern_recipe_beats_logistic_regression_on_the_same_budget(runs):
    """mlp-mnist-relu-adam against logistic-mnist: the same 1000 digits, the same epoch."""
    mlp, logistic = (last_test_error(runs[name].result()) for name in ("mlp-mnist-relu-adam", "logistic-mnist"))
    assert mlp < logistic, "784-512-512-10 %.1f %% against logistic regression %.1f %%" % (mlp, logistic)


@slow
def test_saved_model_loads_with_the_same_test_error_and_predictions(runs):
    saved, loaded = runs["save-load"].result()
    assert last_test_error(saved) < 30.0
    assert last_test_error(loaded) == last_test_error(saved)
    assert predictions(loaded) == predictions(saved)
    assert "note:" not in loaded  # same subset: nothing to warn about


@slow
def test_plot_flag_writes_the_training_curves(runs):
    runs["mlp-mnist-rmsprop"].result()
    picture = runs["mlp-mnist-rmsprop"].folder / PLOT
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_subset_too_small_is_refused_with_a_clear_message(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    completed = subprocess.run([sys.executable, str(EXAMPLES / "mlp-mnist-sgd.py"), "--subset", "3"],
                               cwd=tmp_path, env=env, capture_output=True, text=True, timeout=HANG)
    assert completed.returncode == 2
    assert "--subset" in completed.stderr and ">= 5" in completed.stderr
