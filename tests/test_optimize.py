"""DL.optimizers: optimize() and its front doors, on tiny synthetic tasks.

The task: 4 inputs, 2 classes, the label says on which side of the plane
`DIRECTION . x = 0` an example lies.  `separable` pushes the two classes half a
unit apart along DIRECTION, so a logistic regression can reach zero error;
`noise` flips a fraction of the labels, so the errors stay above zero and
validation error wanders.  The sets hold 210 / 67 / 53 examples with
minibatches of 20: none is a multiple of 20, so the last, partial minibatch of
every set is always in play.  Each test trains for a few epochs (about a
second once the compiled code is cached in ~/.pytensor).
"""
import importlib
import os
import pickle
import signal

import numpy
import pytest

import DL.optimizers
from DL.backend import T, floatX
from DL.models.LogisticRegression import LogisticRegression
from DL.models.MLP import MLP
from DL.optimizers import NonFiniteCostError, optimize, training
from DL.optimizers.adadelta import adadelta
from DL.optimizers.adam import adam
from DL.optimizers.rmsprop import rmsprop
from DL.optimizers.sgd import sgd
from DL.utils import flatten, load_data

N_TRAIN, N_VALID, N_TEST = 210, 67, 53
BATCH = 20
N_TRAIN_BATCHES = -(-N_TRAIN // BATCH)  # 11, the last one holds 10 examples
DIRECTION = numpy.array([1.0, -1.0, 0.5, 0.0])
QUIET = dict(progress=False, verbose=False)
# Option sets used by several tests: the same constants compile to the same
# (cached) C code, which keeps the file fast.
RMSPROP = dict(optimizer="rmsprop_tieleman", learning_rate=0.05)
NOISY_SGD = dict(optimizer="sgd", learning_rate=1.0)   # large steps: validation error wanders


def examples(n, seed, noise=0.0, margin=0.5):
    """[x (n, 4) floatX, t (n,) int64]: t = [DIRECTION . x > 0], `noise` of them flipped."""
    rng = numpy.random.RandomState(seed)
    x = rng.randn(n, 4)
    side = x @ DIRECTION > 0
    x += numpy.outer(numpy.where(side, margin, -margin), DIRECTION)
    t = side.astype("int64")
    flipped = rng.rand(n) < noise
    return [x.astype(floatX), numpy.where(flipped, 1 - t, t)]


def task(noise=0.0):
    """[train, valid, test] as NumPy arrays."""
    return [examples(N_TRAIN, 1, noise), examples(N_VALID, 2, noise), examples(N_TEST, 3, noise)]


def logistic_problem(arrays, target=T.ivector, **settings):
    """(optimize keywords, model) for a fresh zero-initialized LogisticRegression."""
    x, t = T.matrix("x"), target("t")
    model = LogisticRegression(numpy.random.RandomState(0), x, 4, 2)
    problem = dict(dataset=load_data(arrays), inputs=[x, t], cost=model.loss(t),
                   params=flatten(model.params), errors=model.errors(t), batch_size=BATCH, **QUIET)
    problem.update(settings)
    return problem, model


def numpy_error(model, x, t):
    """The model's error rate on (x, t), computed in NumPy from its weights."""
    scores = x @ model.W.get_value() + model.b.get_value()
    return float(numpy.mean(scores.argmax(axis=1) != t))


def values(params):
    return [p.get_value() for p in flatten(params)]


def params_at(iteration, arrays, **settings):
    """The parameters of a fresh run stopped right after `iteration` minibatches.

    patience=iteration stops the loop exactly there, and with no validation
    before it nothing is restored: this replays the trajectory of a run with
    the same settings (the runs are deterministic) without relying on the
    restore that the tests check."""
    problem, model = logistic_problem(arrays, **settings)
    problem.update(patience=iteration, validation_frequency=iteration + 1, n_epochs=10 ** 6)
    result = optimize(**problem)
    assert result.iterations == iteration and result.stopped == "patience" and not result.history
    return values(model.params)


# --- learning ---------------------------------------------------------------

@pytest.mark.parametrize("optimizer, options, rule", [
    ("sgd", dict(learning_rate=0.1, momentum=0.9), "momentum"),
    ("momentum", dict(learning_rate=0.1), "momentum"),
    ("nesterov_momentum", dict(learning_rate=0.1), "nesterov_momentum"),
])
def test_optimize_by_name_reaches_zero_error_on_a_separable_task(optimizer, options, rule):
    # (rmsprop, adadelta, adam and plain sgd go through optimize(optimizer=NAME)
    # in the front-door test below)
    arrays = task()
    problem, model = logistic_problem(arrays, optimizer=optimizer, n_epochs=10, **options)
    assert numpy_error(model, *arrays[0]) > 0.3  # untrained, it errs on about half

    result = optimize(**problem)

    assert tuple(result) == (0.0, 0.0, 0.0)
    assert result.optimizer == rule  # sgd with momentum is classic momentum
    for x, t in arrays:
        assert numpy_error(model, x, t) == 0.0


@pytest.mark.parametrize("name, options", [
    ("sgd", dict(learning_rate=0.5, momentum=0)),
    ("rmsprop", dict(learning_rate=0.05)),
    ("adadelta", dict()),
    ("adam", dict(learning_rate=0.05)),
])
def test_front_doors_reach_zero_error_and_report_their_history(name, options):
    door = {"sgd": sgd, "rmsprop": rmsprop, "adadelta": adadelta, "adam": adam}[name]  # own modules
    assert door is getattr(DL.optimizers, name)
    assert door is getattr(importlib.import_module("DL.optimizers." + name), name)
    arrays = task()
    n_epochs = 6
    problem, model = logistic_problem(arrays, n_epochs=n_epochs)
    assert numpy_error(model, *arrays[0]) > 0.3

    result = door(**problem, **options)

    assert isinstance(result, tuple) and len(result) == 3
    assert all(isinstance(loss, float) for loss in result)
    assert (result.train_loss, result.valid_loss, result.test_loss) == tuple(result) == (0.0, 0.0, 0.0)
    for x, t in arrays:
        assert numpy_error(model, x, t) == 0.0
    assert result.optimizer == name and result.stopped == "n_epochs" and result.epochs == n_epochs
    history = result.history
    assert len(history) == n_epochs  # validation once an epoch by default
    for record in history:
        assert {"epoch", "iteration", "valid_error", "test_error", "seconds"} <= set(record)
        assert 0.0 <= record["valid_error"] <= 1.0 and record["seconds"] >= 0
        assert record["test_error"] is None or 0.0 <= record["test_error"] <= 1.0
    assert [r["epoch"] for r in history] == list(range(1, n_epochs + 1))
    assert [r["iteration"] for r in history] == [N_TRAIN_BATCHES * e for e in range(1, n_epochs + 1)]
    seconds = [r["seconds"] for r in history]
    assert seconds == sorted(seconds)
    assert history[0]["test_error"] is not None  # the first validation is always a new best


# --- early stopping and the best parameters ---------------------------------

def test_early_stopping_when_validation_stops_improving():
    patience, n_epochs = 30, 50
    problem, _ = logistic_problem(task(), n_epochs=n_epochs, patience=patience, **RMSPROP)

    result = optimize(**problem)

    assert result.stopped == "patience" and result.epochs < n_epochs
    # Replay the tutorial's rule over the recorded validations: an improvement
    # by more than improvement_threshold extends patience to 2 x its iteration.
    best = numpy.inf
    for record in result.history:
        if record["valid_error"] < best:
            if record["valid_error"] < best * 0.995:
                patience = max(patience, record["iteration"] * 2)
            best = record["valid_error"]
    assert result.iterations == patience
    assert result.best_valid_error == best == 0.0
    assert result.history[-1]["valid_error"] >= best  # the last validations brought nothing


def test_best_validation_parameters_are_restored():
    arrays = task(noise=0.2)
    settings = dict(validation_frequency=2, **NOISY_SGD)
    problem, model = logistic_problem(arrays, n_epochs=4, **settings)

    result = optimize(**problem)

    errors = [record["valid_error"] for record in result.history]
    later = [r["valid_error"] for r in result.history if r["iteration"] > result.best_iteration]
    # the case this test is about: validation got worse after its best
    assert later and max(later) > result.best_valid_error == min(errors)
    assert result.history[-1]["iteration"] > result.best_iteration
    # what the model ends with is what it had at the best validation ...
    assert result.valid_loss == result.best_valid_error
    assert numpy_error(model, *arrays[1]) == pytest.approx(result.best_valid_error, abs=1e-6)
    # ... bit for bit, as a replay of the run stopped at that iteration shows
    for restored, reference in zip(values(model.params), params_at(result.best_iteration, arrays, **settings)):
        numpy.testing.assert_array_equal(restored, reference)


@pytest.mark.usefixtures("default_sigint")
def test_ctrl_c_stops_cleanly_and_keeps_the_best_parameters(monkeypatch, capsys):
    # A real Ctrl-C: SIGINT sent to this process while the second validation
    # runs (the hook is optimize's own set_error, wrapped).  Whether optimize
    # stops at once or after the minibatch under way, it must return, say it
    # was interrupted, and hand back the parameters of the best validation.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    arrays = task(noise=0.2)
    real_set_error = training.set_error
    validations = []

    def set_error_then_ctrl_c(error_function, n_examples, batch_size, batches=None):
        if n_examples == N_VALID:
            validations.append(n_examples)
            if len(validations) == 2:
                os.kill(os.getpid(), signal.SIGINT)
        return real_set_error(error_function, n_examples, batch_size, batches)

    monkeypatch.setattr(training, "set_error", set_error_then_ctrl_c)
    n_epochs = 5
    problem, model = logistic_problem(arrays, n_epochs=n_epochs, **NOISY_SGD)

    try:
        result = optimize(**problem)
    except KeyboardInterrupt:
        pytest.fail("optimize let the Ctrl-C escape instead of returning")

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C works as before
    assert result.stopped == "interrupted"
    # the 2nd validation ends epoch 2: no minibatch of a later epoch ran
    assert result.iterations == 2 * N_TRAIN_BATCHES
    assert result.epochs == 2 < n_epochs
    assert "interrupted" in capsys.readouterr().out  # said so even with verbose=False
    assert result.valid_loss == result.best_valid_error
    assert result.best_iteration in [r["iteration"] for r in result.history]
    assert result.best_iteration < result.iterations  # so keeping the best is not a no-op
    monkeypatch.setattr(training, "set_error", real_set_error)
    for kept, reference in zip(values(model.params), params_at(result.best_iteration, arrays, **NOISY_SGD)):
        numpy.testing.assert_array_equal(kept, reference)


def test_with_sigint_ignored_optimize_leaves_it_ignored_and_trains_to_the_end(
        monkeypatch, sigint_disposition):
    # As under `nohup` or in a background job: the user asked for no Ctrl-C, so
    # optimize installs no handler, and a SIGINT sent mid-run changes nothing.
    sigint_disposition(signal.SIG_IGN)
    arrays = task(noise=0.2)
    real_set_error = training.set_error
    seen = []

    def set_error_then_sigint(error_function, n_examples, batch_size, batches=None):
        if n_examples == N_VALID:
            seen.append(signal.getsignal(signal.SIGINT))
            os.kill(os.getpid(), signal.SIGINT)
        return real_set_error(error_function, n_examples, batch_size, batches)

    monkeypatch.setattr(training, "set_error", set_error_then_sigint)
    n_epochs = 3
    problem, model = logistic_problem(arrays, n_epochs=n_epochs, **NOISY_SGD)
    result = optimize(**problem)

    assert len(seen) >= n_epochs and set(seen) == {signal.SIG_IGN}  # no handler while training
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert result.stopped == "n_epochs" and result.iterations == n_epochs * N_TRAIN_BATCHES


def test_a_non_finite_cost_stops_naming_epoch_and_minibatch():
    arrays = task()
    arrays[0][0][2 * BATCH + 5, 1] = numpy.nan  # an example of the 3rd minibatch
    problem, model = logistic_problem(arrays, n_epochs=3, validation_frequency=1, **RMSPROP)

    with pytest.raises(NonFiniteCostError) as caught:
        optimize(**problem)

    error = caught.value
    assert (error.epoch, error.minibatch) == (1, 3)
    assert "epoch 1" in str(error) and "minibatch 3" in str(error)
    assert len(error.history) == 2  # validated after minibatches 1 and 2
    for value in values(model.params):
        assert numpy.all(numpy.isfinite(value))
    # restored to the best of those validations, not merely to something finite
    best = min(record["valid_error"] for record in error.history)
    assert numpy_error(model, *arrays[1]) == pytest.approx(best, abs=1e-6)


# --- exact evaluation --------------------------------------------------------

def test_errors_are_exact_over_every_example():
    arrays = task(noise=0.2)
    arrays[1][1][-7:] = 1 - arrays[1][1][-7:]  # the last, partial validation minibatch: mostly wrong
    problem, model = logistic_problem(arrays, n_epochs=2, **NOISY_SGD)

    result = optimize(**problem)

    exact = [numpy_error(model, x, t) for x, t in arrays]
    assert list(result) == pytest.approx(exact, abs=1e-6)
    # the original's way (drop the partial minibatch, average minibatch means)
    # gives another number here, so the equality above is not an accident
    x, t = arrays[1]
    full = N_VALID // BATCH * BATCH
    dropped = numpy.mean([numpy_error(model, x[i:i + BATCH], t[i:i + BATCH]) for i in range(0, full, BATCH)])
    assert abs(dropped - exact[1]) > 0.01
    assert result.best_valid_error == pytest.approx(exact[1], abs=1e-6)


def test_test_batches_samples_that_many_test_minibatches(monkeypatch):
    arrays = task(noise=0.2)
    real_set_error = training.set_error
    test_calls = []

    def recording_set_error(error_function, n_examples, batch_size, batches=None):
        error = real_set_error(error_function, n_examples, batch_size, batches)
        if n_examples == N_TEST:
            test_calls.append((None if batches is None else list(batches), error))
        return error

    monkeypatch.setattr(training, "set_error", recording_set_error)
    problem, model = logistic_problem(arrays, n_epochs=1, test_batches=2, **NOISY_SGD)

    result = optimize(**problem)

    # one validation (a new best: the test error is measured on a sample), then
    # the final test error over the whole set
    (sample, sampled_error), (everything, final_error) = test_calls
    n_test_batches = -(-N_TEST // BATCH)
    assert len(sample) == len(set(sample)) == 2 and set(sample) <= set(range(n_test_batches))
    assert everything is None
    x, t = arrays[2]
    rows = numpy.concatenate([numpy.arange(i * BATCH, min((i + 1) * BATCH, N_TEST)) for i in sample])
    assert sampled_error == result.test_error_at_best
    assert sampled_error == pytest.approx(numpy_error(model, x[rows], t[rows]), abs=1e-6)
    assert final_error == result.test_loss == pytest.approx(numpy_error(model, x, t), abs=1e-6)


# --- data types and the model's updates -------------------------------------

def _cast_targets(dataset):
    """The original package's data layout: targets as a symbolic int32 cast of floatX."""
    return [[x, T.cast(t, "int32")] for x, t in dataset]


@pytest.mark.parametrize("target, targets_of, dataset_of", [
    (T.ivector, lambda t: t, lambda d: d),
    (T.vector, lambda t: t.astype("int64"), lambda d: d),  # original style: cast in the graph
    (T.ivector, lambda t: t, _cast_targets),                 # original style: cast the data
], ids=["ivector", "vector-astype", "cast-dataset"])
def test_floatX_targets_fit_integer_and_float_inputs(target, targets_of, dataset_of):
    arrays = task()
    dataset = load_data(arrays)
    assert dataset[0][1].dtype == floatX  # load_data stores targets as floatX
    x, t = T.matrix("x"), target("t")
    model = LogisticRegression(numpy.random.RandomState(0), x, 4, 2)
    labels = targets_of(t)

    result = optimize(dataset=dataset_of(dataset), inputs=[x, t], cost=model.loss(labels),
                      params=flatten(model.params), errors=model.errors(labels), batch_size=BATCH,
                      n_epochs=5, **RMSPROP, **QUIET)

    assert tuple(result) == (0.0, 0.0, 0.0)


def _generator_state(shared_generator):
    value = shared_generator.get_value()
    state = value.bit_generator.state if hasattr(value, "bit_generator") else value.get_state()
    return pickle.dumps(state)


@pytest.mark.parametrize("pass_updates", [True, False], ids=["passed", "forgotten"])
def test_dropout_masks_are_redrawn_every_minibatch(pass_updates):
    # One minibatch of training data and a tiny learning rate: the weights
    # barely move, so the training cost changes between iterations only if the
    # dropout mask does, that is, only if the generator's update is applied.
    arrays = [examples(BATCH, 1), examples(N_VALID, 2), examples(N_TEST, 3)]
    x, t = T.matrix("x"), T.ivector("t")
    mlp = MLP(numpy.random.RandomState(0), x, n_in=4, n_hidden=16, n_out=2, dropout_rate=0.5)
    assert mlp.updates
    generators = [generator for generator, _ in mlp.updates]
    before = [_generator_state(g) for g in generators]

    result = optimize(dataset=load_data(arrays), inputs=[x, t], cost=mlp.loss(t),
                      params=flatten(mlp.params), errors=mlp.errors(t), batch_size=BATCH,
                      updates=mlp.updates if pass_updates else None, n_epochs=6,
                      validation_frequency=1, optimizer="sgd", learning_rate=1e-6, **QUIET)

    costs = [record["train_cost"] for record in result.history]
    assert len(costs) == 6 and numpy.std(costs) > 1e-3
    assert all(_generator_state(g) != b for g, b in zip(generators, before))


# --- bad input: a clear error before anything compiles ----------------------

def _bad_set(which, arrays_of):
    """A problem whose set `which` (0, 1, 2) is replaced by arrays_of(x, t)."""
    def build(problem, arrays):
        arrays = [list(a) for a in arrays]
        arrays[which] = arrays_of(*arrays[which])
        problem["dataset"] = load_data(arrays)
        return problem
    return build


def _with(**changes):
    def build(problem, arrays):
        problem.update(changes)
        return problem
    return build


BAD_INPUT = [
    ("inputs differ in length", _bad_set(0, lambda x, t: [x[:100], t[:90]]),
     ValueError, ["train", "differ in length", "100", "90"]),
    ("batch_size not an integer", _with(batch_size=2.5), ValueError, ["batch_size", "2.5"]),
    ("an empty set", _bad_set(1, lambda x, t: [x[:0], t[:0]]), ValueError, ["valid", "empty"]),
    ("wrong number of arrays", _bad_set(2, lambda x, t: [x]), ValueError, ["test", "one array per input"]),
    ("input rank mismatch", _bad_set(0, lambda x, t: [x[:, :, None], t]), ValueError, ["2-D", "3-D"]),
    ("unknown optimizer", _with(optimizer="adagrad"),
     ValueError, ["adagrad", "sgd", "momentum", "nesterov_momentum", "rmsprop", "adadelta", "adam"]),
    ("unknown rule option", _with(optimizer="adam", rho=0.9),
     TypeError, ["rho", "learning_rate", "beta1", "beta2", "epsilon"]),
    ("non-scalar cost", lambda problem, arrays: dict(problem, cost=problem["errors"] * T.ones((2,))),
     ValueError, ["cost", "scalar"]),
]


@pytest.fixture
def no_compiling(monkeypatch):
    """Any compile fails the test: input errors must come before compiling."""
    def compile_attempt(*args, **kwargs):
        raise AssertionError("optimize compiled a function before checking its input")

    monkeypatch.setattr(training, "function", compile_attempt)


@pytest.mark.parametrize("case, build, exception, words", BAD_INPUT, ids=[case[0] for case in BAD_INPUT])
def test_bad_input_fails_clearly_before_compiling(no_compiling, case, build, exception, words):
    arrays = task()
    problem, _ = logistic_problem(arrays, n_epochs=1)

    with pytest.raises(exception) as caught:
        optimize(**build(problem, arrays))

    for word in words:
        assert word in str(caught.value)


def test_a_front_door_rejects_an_option_of_another_rule(no_compiling):
    problem, _ = logistic_problem(task())
    with pytest.raises(TypeError) as caught:
        rmsprop(beta1=0.9, **problem)
    for word in ("beta1", "rho", "epsilon"):
        assert word in str(caught.value)


# --- mode, progress bar and printing -----------------------------------------

def test_mode_passes_through_and_progress_and_printing_run(monkeypatch, capsys):
    real_function = training.function
    modes = []

    def recording_function(*args, **kwargs):
        modes.append(kwargs.get("mode"))
        return real_function(*args, **kwargs)

    monkeypatch.setattr(training, "function", recording_function)
    problem, _ = logistic_problem(task(), n_epochs=2, mode="FAST_RUN", **RMSPROP)
    problem.update(progress=True, verbose=True, print_cost=True)

    result = optimize(**problem)

    assert tuple(result) == (0.0, 0.0, 0.0)
    assert len(modes) >= 3 and set(modes) == {"FAST_RUN"}  # train, validate, test (and final) functions
    captured = capsys.readouterr()
    assert captured.out.count("cost: ") == 2 * N_TRAIN_BATCHES
    assert captured.out.count("/%d: validation error" % N_TRAIN_BATCHES) == 2
    assert "stopped (n_epochs)" in captured.out
    assert "rmsprop" in captured.err and "batch" in captured.err  # the tqdm bar
