"""Theano 1.0 code runs on DL's engine view with only its imports changed (issue 27).

tests/theano_scripts/ holds scripts written in the style of Theano 1.0's
tutorials (our own code): `import theano` and `import theano.tensor as T` became
`from DL.backend import theano, T`, and `from theano.X import Y` an attribute
look-up `Y = theano.X.Y`; nothing else.  Each runs in a fresh process on MNIST's
first 3000 training and 1000 test digits (or data it makes itself) and prints
one result line, which is checked here against a baseline computed on the same
data (the majority class, the nearest class mean, the mean digit) or against
its known answer (HMC: the Gaussian's mean and covariance).

On legacy Theano (scripts/theano-env.sh tests/test_theano_scripts.py) the same
scripts run unchanged on Theano itself.  The scripts that draw no random numbers
(logistic regression, the MLP, the recurrent net, the convolutional net) are also run on the other
engine when its environment is there, and must agree with it: the engines agree
to float32 rounding, so the first epoch's mean cost agrees to 1e-4 relative and
the test errors to a few examples.  Scripts that draw random numbers cannot agree
number for number (Theano and PyTensor draw different ones); they meet the same
baselines on both.
"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy
import pytest

from DL import datasets
from DL.backend import BACKEND, T, function, theano

slow = pytest.mark.slow  # left out of `make test-quick`: trains in fresh processes

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "tests" / "theano_scripts"
NAMES = ["logistic_sgd", "mlp", "dA", "rbm", "SdA", "hmc", "rnn", "convnet"]
DETERMINISTIC = ["logistic_sgd", "mlp", "rnn", "convnet"]  # no random draws: the engines must agree
N_TRAIN, N_TEST = 3000, 1000  # what the scripts' load_data takes
OTHER_ENGINE = {"pytensor": ("theano", REPO / ".venv-theano" / "bin" / "python"),
                "theano": ("pytensor", REPO / ".venv" / "bin" / "python")}


def parse_result(stdout):
    """{name: float or array} from the script's `result: name=value ...` line."""
    line = next(line for line in stdout.splitlines() if line.startswith("result:"))
    values = {}
    for pair in line[len("result:"):].split():
        name, value = pair.split("=")
        numbers = [float(v) for v in value.split(",")]
        values[name] = numbers[0] if len(numbers) == 1 else numpy.array(numbers)
    return values


def run_script(name, python=sys.executable, backend=BACKEND):
    env = dict(os.environ, DL_BACKEND=backend, MPLBACKEND="Agg",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if backend == "theano":
        env["THEANO_FLAGS"] = ",".join(filter(None, [env.get("THEANO_FLAGS"), "blas.ldflags="]))
    completed = subprocess.run([str(python), str(SCRIPTS / (name + ".py"))], env=env, capture_output=True,
                               text=True, timeout=3600)
    assert completed.returncode == 0, "%s on %s failed:\n%s" % (name, backend, completed.stderr[-3000:])
    return parse_result(completed.stdout)


@pytest.fixture(scope="module")
def results():
    """Each script's result on this engine, two at a time: name -> future."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(run_script, name) for name in NAMES}
        yield futures


@pytest.fixture(scope="module")
def digits():
    """The scripts' digits: (train_x, train_t), (test_x, test_t)."""
    (train_x, train_t), _, (test_x, test_t) = datasets.mnist(download=False)
    return (train_x[:N_TRAIN], train_t[:N_TRAIN]), (test_x[:N_TEST], test_t[:N_TEST])


@pytest.fixture(scope="module")
def baselines(digits):
    (train_x, train_t), (test_x, test_t) = digits
    majority = numpy.bincount(train_t).argmax()
    means = numpy.array([train_x[train_t == k].mean(axis=0) for k in range(10)])
    nearest_mean = ((test_x[:, None, :] - means[None]) ** 2).sum(axis=2).argmin(axis=1)
    mean_digit = numpy.clip(train_x.mean(axis=0), 1e-7, 1 - 1e-7)
    mean_digit_cost = -(test_x * numpy.log(mean_digit) + (1 - test_x) * numpy.log(1 - mean_digit)).sum(axis=1)
    return {"majority_error": numpy.mean(test_t != majority),
            "nearest_mean_error": numpy.mean(nearest_mean != test_t),
            "mean_digit_cost": mean_digit_cost.mean()}


def test_baselines_are_what_they_should_be(baselines):
    """The baselines themselves: chance-like, a weak classifier, a poor reconstruction."""
    assert baselines["majority_error"] > 0.85
    assert 0.15 < baselines["nearest_mean_error"] < 0.3
    assert baselines["mean_digit_cost"] > 150


@slow
@pytest.mark.parametrize("name", ["logistic_sgd", "mlp", "SdA", "convnet"])
def test_classifiers_learn(results, baselines, name):
    error = results[name].result()["test_error"]
    assert error < baselines["nearest_mean_error"] - 0.03, (error, baselines)
    assert error < baselines["majority_error"] / 5


@slow
def test_the_convolutional_net_beats_the_mlp(results):
    """conv2d and pool_2d as Theano had them: the convnet is the best of the classifiers."""
    assert results["convnet"].result()["test_error"] < results["mlp"].result()["test_error"]


@slow
@pytest.mark.parametrize("name", ["dA", "rbm"])
def test_autoencoders_reconstruct_far_better_than_the_mean_digit(results, baselines, name):
    cost = results[name].result()["test_reconstruction_cost"]
    assert cost < 0.6 * baselines["mean_digit_cost"], (cost, baselines)


@slow
def test_stacked_autoencoder_pretraining_learns(results, baselines):
    result = results["SdA"].result()
    assert result["pretrain_cost_layer0"] < 0.6 * baselines["mean_digit_cost"]


@slow
def test_hmc_recovers_the_gaussians_mean_and_covariance(results):
    result = results["hmc"].result()
    # the known answer, made as the script makes it
    rng = numpy.random.RandomState(123)
    mu = (rng.rand(3) * 10).astype("float32")
    cov = rng.rand(3, 3).astype("float32")
    cov = (cov + cov.T) / 2.0
    cov[numpy.arange(3), numpy.arange(3)] = 1.0
    numpy.testing.assert_allclose(result["true_mean"], mu, atol=1e-4)
    numpy.testing.assert_allclose(result["true_cov"], cov.ravel(), atol=1e-4)
    numpy.testing.assert_allclose(result["sampled_mean"], mu, atol=0.15)
    numpy.testing.assert_allclose(result["sampled_cov"], cov.ravel(), atol=0.1)
    assert 0.5 < result["acceptance_rate"] <= 1.0


@slow
def test_recurrent_net_learns_to_copy_the_lagged_bit(results):
    result = results["rnn"].result()
    assert result["test_bit_error"] < 0.05  # chance is 0.5
    assert result["last_epoch_cost"] < result["first_epoch_cost"] / 5


@slow
@pytest.mark.parametrize("name", DETERMINISTIC)
def test_the_engines_agree(results, name):
    other_backend, other_python = OTHER_ENGINE[BACKEND]
    if not other_python.exists():
        pytest.skip("the %s environment (%s) is not built here" % (other_backend, other_python))
    mine, theirs = results[name].result(), run_script(name, other_python, other_backend)
    assert mine["first_epoch_cost"] == pytest.approx(theirs["first_epoch_cost"], rel=1e-4)
    error = "test_bit_error" if name == "rnn" else "test_error"
    assert abs(mine[error] - theirs[error]) <= 0.005  # 5 of 1000 digits


def test_a_script_runs_in_this_process():
    """The view a script sees, without a fresh process: Theano paths, truthy inputs."""
    x = T.matrix("x")
    if not x:
        pytest.fail("a view-made variable must be true, as in Theano")
    MRG_RandomStreams = theano.sandbox.rng_mrg.MRG_RandomStreams
    mask = MRG_RandomStreams(1).binomial(size=x.shape, p=0.5, dtype=theano.config.floatX)
    y = theano.tensor.nnet.sigmoid(x * mask)
    f = function([x], y)
    values = f(numpy.zeros((3, 4), dtype=theano.config.floatX))
    numpy.testing.assert_allclose(values, 0.5)
