"""The parts optimize() is made of, used on their own: compile_functions,
EarlyStopping, train_loop and its callbacks; metrics shown in their units; the
run's log (JSON lines, TensorBoard); training sets smaller than a minibatch.

DL.md's "Writing your own loop" is run here as written: its blocks train an
MLP on XOR (no straight line separates the classes: a logistic regression stays
near 50 % error) and must end, bit for bit, where optimize() ends with the same
seeds and settings."""
import importlib.util
import json
import os
import re
import signal
import struct
import sys
import warnings
from pathlib import Path

import numpy
import pytest
from sklearn.linear_model import LogisticRegression as SklearnLogistic

from DL.backend import BACKEND, T, floatX
from DL.models.LogisticRegression import LogisticRegression
from DL.models.RNN import RNN
from DL.optimizers import (Callback, EarlyStopping, KeepBest, NonFiniteCostError, NonFiniteStep, compile_functions,
                           optimize, records, train_loop)
from DL.optimizers.metrics import Metric, as_metric
from DL.utils import flatten, load_data

DL_MD = Path(__file__).resolve().parent.parent / "DL.md"
QUIET = dict(progress=False, verbose=False)


def own_loop_blocks():
    """The python blocks of DL.md's "Writing your own loop": setup, hand loop, train_loop."""
    text = DL_MD.read_text()
    section = text.split("### Writing your own loop", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def run_blocks(*blocks):
    namespace = {}
    for block in blocks:
        exec(compile(block, str(DL_MD), "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def optimize_reference():
    """optimize() on DL.md's setup (same seeds): (result, parameter values, the XOR data)."""
    setup = own_loop_blocks()[0]
    namespace = run_blocks(setup)
    x, t, mlp = namespace["x"], namespace["t"], namespace["mlp"]
    result = optimize(dataset=namespace["dataset"], inputs=[x, t], cost=mlp.loss(t), params=namespace["params"],
                      errors=mlp.errors(t), optimizer="adam", learning_rate=0.01, n_epochs=30, batch_size=20,
                      **QUIET)
    rng = numpy.random.RandomState(0)
    xor = namespace["xor_blobs"]
    data = [xor(400, rng), xor(100, rng), xor(100, rng)]
    return result, [p.get_value() for p in namespace["params"]], data


def test_dl_md_has_the_three_blocks_in_about_30_lines():
    blocks = own_loop_blocks()
    assert len(blocks) == 3
    assert len((blocks[0] + blocks[1]).strip().splitlines()) <= 36


def test_the_hand_written_loop_learns_and_ends_where_optimize_ends(optimize_reference, capsys):
    result, reference, data = optimize_reference
    setup, hand_loop, _ = own_loop_blocks()
    namespace = run_blocks(setup, hand_loop)

    (train_x, train_t), _, (test_x, test_t) = data
    baseline = 1 - SklearnLogistic().fit(train_x, train_t).score(test_x, test_t)  # a straight line
    mine = namespace["functions"].test()
    assert baseline > 0.3 and mine == 0.0  # as DL.md says: 0.000 % (chance: 50 %)
    assert capsys.readouterr().out.strip().splitlines()[-1] == "test error: %.3f %%" % (100 * mine)
    assert mine == result.test_loss
    for ours, theirs in zip(namespace["params"], reference):
        assert numpy.array_equal(ours.get_value(), theirs)


def test_train_loop_with_callbacks_ends_where_optimize_ends(optimize_reference, tmp_path, monkeypatch):
    result, reference, _ = optimize_reference
    setup, _, with_callbacks = own_loop_blocks()
    monkeypatch.chdir(tmp_path)
    namespace = run_blocks(setup, with_callbacks)

    state = namespace["state"]
    assert state.stopped == "n_epochs" and state.iteration == result.iterations == 30 * 20
    for ours, theirs in zip(namespace["params"], reference):
        assert numpy.array_equal(ours.get_value(), theirs)
    assert [r["valid_error"] for r in state.history] == [r["valid_error"] for r in result.history]
    assert all(r["weight_norm"] > 0 for r in state.history)  # the callback of our own
    logged = [json.loads(line) for line in (tmp_path / "xor-run.jsonl").read_text().splitlines()]
    assert logged == state.history


# --- EarlyStopping ------------------------------------------------------------

def test_early_stopping_follows_the_tutorials_rule():
    stopping = EarlyStopping(validation_frequency=5, patience=20, patience_increase=2, improvement_threshold=0.9)
    assert [i for i in range(1, 21) if stopping.validation_due(i)] == [5, 10, 15, 20]
    assert stopping.update(0.5, 5) and stopping.patience == 20          # 5 * 2 < 20
    assert stopping.update(0.46, 15) and stopping.patience == 20        # better, but not by 10 %
    assert (stopping.best_valid, stopping.best_iteration) == (0.46, 15)
    assert not stopping.update(0.46, 16)                                # equal is no new best
    assert stopping.update(0.40, 30) and stopping.patience == 60        # 0.40 < 0.9 * 0.46
    assert not stopping.should_stop(59) and stopping.should_stop(60)


@pytest.mark.parametrize("arguments, word", [
    (dict(validation_frequency=0), "validation_frequency"),
    (dict(validation_frequency=2.5), "validation_frequency"),
    (dict(validation_frequency=1, patience=0), "patience"),
])
def test_early_stopping_refuses_bad_settings(arguments, word):
    with pytest.raises(ValueError, match=word):
        EarlyStopping(**arguments)


# --- metrics ------------------------------------------------------------------

def test_metrics_format_in_their_units():
    assert as_metric("error rate").format(0.12) == "12.000 %"
    assert as_metric("mse").format(0.0294) == "0.0294"
    assert as_metric("bits per character").format(2.0994) == "2.099"
    assert as_metric(Metric("time", "s", 1)).format(1.5) == "1.5 s"
    assert as_metric("perplexity") == Metric("perplexity", "", 1)
    with pytest.raises(TypeError, match="metric must be"):
        as_metric(3)


def test_the_metric_is_read_from_the_errors_graph():
    x, t = T.matrix("x"), T.ivector("t")
    classes = RNN(numpy.random.RandomState(0), T.tensor3("s"), 2, 3, 2)
    reals = RNN(numpy.random.RandomState(0), T.tensor3("s"), 2, 3, 2, outputActivation="linear")
    assert classes.metric == as_metric(None, classes.errors(T.imatrix("c"))).name == "error rate"
    assert reals.metric == as_metric(None, reals.errors(T.tensor3("r"))).name == "mse"
    model = LogisticRegression(None, x, 2, 2)
    assert as_metric(None, model.errors(t) * 1).name == "error"  # a graph of its own: a plain number
    assert as_metric("bits per character", model.errors(t)).name == "bits per character"


def regression_data(n, seed):
    rng = numpy.random.RandomState(seed)
    x = rng.randn(n, 3).astype(floatX)
    return [x, (x @ numpy.array([[1.0], [-2.0], [0.5]])).astype(floatX)]


def test_optimize_prints_an_mse_as_a_number_and_an_error_rate_in_percent(capsys):
    x, y = T.matrix("x"), T.matrix("y")
    from DL.models.HiddenLayer import HiddenLayer
    layer = HiddenLayer(numpy.random.RandomState(0), x, 3, 1, activation="linear")
    result = optimize(dataset=load_data([regression_data(n, s) for n, s in ((60, 1), (20, 2), (20, 3))]),
                      inputs=[x, y], cost=layer.loss(y), params=flatten(layer.params), errors=layer.errors(y),
                      n_epochs=2, batch_size=20, optimizer="sgd", learning_rate=0.05, progress=False)
    out = capsys.readouterr().out
    assert result.metric.name == "mse" and all(r["metric"] == "mse" for r in result.history)
    first = result.history[0]["valid_error"]
    assert "epoch 1, minibatch 3/3: validation mse %.4g, test mse of the best model" % first in out
    assert "%" not in out
    assert "best validation mse %.4g" % result.best_valid_error in out


# --- the run's log --------------------------------------------------------------

def classes(n, seed, nan_at=None):
    rng = numpy.random.RandomState(seed)
    x = rng.randn(n, 4).astype(floatX)
    t = (x[:, 0] - x[:, 1] > 0).astype("int32")
    if nan_at is not None:
        x[nan_at, 0] = numpy.nan
    return [x, t]


def logistic(sets, **settings):
    x, t = T.matrix("x"), T.ivector("t")
    model = LogisticRegression(None, x, 4, 2)
    options = dict(dataset=load_data(sets), inputs=[x, t], cost=model.loss(t), params=flatten(model.params),
                   errors=model.errors(t), n_epochs=3, batch_size=10, optimizer="sgd", learning_rate=0.5)
    options.update(QUIET)
    options.update(settings)
    return optimize(**options), model


SETS = [classes(50, 1), classes(20, 2), classes(20, 3)]


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_log_writes_the_history_as_json_lines_appending(tmp_path):
    path = tmp_path / "run.jsonl"
    first, _ = logistic(SETS, log=path, validation_frequency=2)
    assert first.log == str(path) and len(first.history) == 7
    assert read_jsonl(path) == first.history
    assert {"epoch", "iteration", "train_cost", "valid_error", "test_error", "metric", "seconds"} <= set(
        first.history[0]) and first.history[0]["metric"] == "error rate"
    second, _ = logistic(SETS, log=path, n_epochs=1)
    assert read_jsonl(path) == first.history + second.history


def test_a_crashed_run_keeps_the_lines_it_wrote(tmp_path):
    path = tmp_path / "run.jsonl"
    with pytest.raises(NonFiniteCostError) as caught:
        logistic([classes(50, 1, nan_at=35), SETS[1], SETS[2]], log=path, validation_frequency=1)
    assert len(caught.value.history) == 3 and read_jsonl(path) == caught.value.history


def test_log_into_a_missing_folder_is_refused_before_compiling(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        logistic(SETS, log=tmp_path / "no" / "run.jsonl")


def tensorboard_scalars(folder):
    """{tag: [(step, value)]} read from the TFRecord event files in `folder`."""
    from tensorboardX.proto import event_pb2
    scalars = {}
    for name in os.listdir(folder):
        if "tfevents" not in name:
            continue
        data = (Path(folder) / name).read_bytes()
        offset = 0
        while offset < len(data):
            length, = struct.unpack("<Q", data[offset:offset + 8])
            event = event_pb2.Event.FromString(data[offset + 12:offset + 12 + length])
            offset += 12 + length + 4  # length, its crc, the record, its crc
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def test_log_into_a_folder_writes_tensorboard_files(tmp_path):
    pytest.importorskip("tensorboardX")
    folder = str(tmp_path / "runs" / "logistic") + os.sep  # a new folder
    result, _ = logistic(SETS, log=folder)
    assert read_jsonl(os.path.join(folder, "log.jsonl")) == result.history
    scalars = tensorboard_scalars(folder)
    valid = [(r["iteration"], r["valid_error"]) for r in result.history]
    assert [step for step, _ in scalars["valid/error_rate"]] == [step for step, _ in valid]
    numpy.testing.assert_allclose([v for _, v in scalars["valid/error_rate"]], [v for _, v in valid], rtol=1e-6)
    assert len(scalars["train/cost"]) == len(valid)
    assert len(scalars["test/error_rate"]) == sum(r["test_error"] is not None for r in result.history)


def test_without_tensorboardx_a_folder_gets_the_json_lines_and_one_warning(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import tensorboardX fails
    monkeypatch.setattr(records, "_warned", [])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for run in ("a", "b"):
            (tmp_path / run).mkdir()
            result, _ = logistic(SETS, log=tmp_path / run)  # an existing folder
            assert read_jsonl(tmp_path / run / "log.jsonl") == result.history
            assert os.listdir(tmp_path / run) == ["log.jsonl"]
    messages = [str(w.message) for w in caught if "tensorboard" in str(w.message).lower()]
    assert len(messages) == 1 and "pip install DL[tensorboard]" in messages[0]


# --- small training sets --------------------------------------------------------

HAS_JAX = importlib.util.find_spec("jax") is not None


@pytest.mark.parametrize("mode", [None, pytest.param("JAX", marks=[
    pytest.mark.skipif(not HAS_JAX or BACKEND != "pytensor",
                       reason="JAX is an optional engine of PyTensor (pip install DL[jax])"),
    pytest.mark.filterwarnings("ignore::UserWarning")])])  # JAX drops shape checks and 64-bit types, and says so
def test_a_training_set_smaller_than_a_minibatch_is_one_partial_minibatch(mode):
    # 7 training examples, minibatches of 20: one step an epoch, on all 7
    sets = [classes(7, 4), classes(30, 5), classes(30, 6)]
    x, t = sets[0]
    result, model = logistic(sets, batch_size=20, n_epochs=40, mode=mode, optimizer="sgd", learning_rate=1.0)
    assert result.iterations == 40 and len(result.history) == 40
    majority = min(numpy.mean(sets[2][1]), 1 - numpy.mean(sets[2][1]))  # one class for everything
    assert majority > 0.3 and result.test_loss < majority / 2
    # the one step an epoch saw every example: the train error is exact over all 7
    scores = x @ model.W.get_value() + model.b.get_value()
    assert result.train_loss == pytest.approx(numpy.mean(scores.argmax(1) != t), abs=1e-6)


# --- the loop's own behaviour ----------------------------------------------------

def test_without_a_guard_train_loop_skips_a_non_finite_step_and_goes_on():
    sets = [classes(50, 1, nan_at=35), SETS[1], SETS[2]]  # minibatch 3 of 5 holds a NaN
    x, t = T.matrix("x"), T.ivector("t")
    model = LogisticRegression(None, x, 4, 2)
    functions = compile_functions(load_data(sets), [x, t], model.loss(t), model.params, model.errors(t),
                                  batch_size=10, rule="sgd", rule_options=dict(learning_rate=0.5))
    with pytest.raises(NonFiniteStep, match="minibatch 3"):
        functions.train(3)
    assert not numpy.any(model.W.get_value())  # refused: the weights are still zero

    state = train_loop(functions, EarlyStopping(validation_frequency=5), n_epochs=4, callbacks=[KeepBest(model.params)])
    assert state.stopped == "n_epochs" and state.iteration == 20 and len(state.history) == 4
    assert numpy.all(numpy.isfinite(model.W.get_value())) and state.stopping.best_valid < 0.3


class SignalSeen(Callback):
    def __init__(self):
        self.seen = []

    def on_step(self, state, cost):
        self.seen.append(signal.getsignal(signal.SIGINT))


@pytest.mark.parametrize("disposition", ["ignored", "default"])
def test_an_ignored_sigint_stays_ignored(disposition):
    x, t = T.matrix("x"), T.ivector("t")
    model = LogisticRegression(None, x, 4, 2)
    functions = compile_functions(load_data(SETS), [x, t], model.loss(t), model.params, model.errors(t),
                                  batch_size=10, rule="sgd", rule_options=dict(learning_rate=0.5))
    before = signal.SIG_IGN if disposition == "ignored" else signal.default_int_handler
    previous = signal.signal(signal.SIGINT, before)
    try:
        seen = SignalSeen()
        train_loop(functions, EarlyStopping(validation_frequency=5), n_epochs=1, callbacks=[seen])
        after = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert after is before and len(seen.seen) == 5
    if disposition == "ignored":
        assert all(handler is signal.SIG_IGN for handler in seen.seen)
    else:  # the loop's own handler while it runs: a first Ctrl-C only asks to stop
        assert all(handler not in (signal.SIG_IGN, signal.default_int_handler) for handler in seen.seen)
