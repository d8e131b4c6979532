"""Checkpoints: a run killed at any moment and resumed ends bit for bit where an
uninterrupted run ends; Ctrl-C and a non-finite cost leave a checkpoint to continue
from; a checkpoint that does not fit the run is refused with a clear error.

The kill-and-resume test runs tests/scripts/train.py in subprocesses that SIGKILL
themselves (no handler runs, as in a power cut)."""
import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from DL import io
from DL.backend import T
from DL.checkpoint import CheckpointError, TrainingState
from DL.models.LogisticRegression import LogisticRegression
from DL.models.MLP import MLP
from DL.optimizers import NonFiniteCostError, optimize, training
from DL.utils import flatten, load_data
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

SCRIPT = Path(__file__).parent / "scripts" / "train.py"
# The C engine compiles these tiny graphs fastest in a fresh process.
SCRIPT_ARGS = ["--model", "mlp", "--mode", "CVM", "--epochs", "5"]
N_TRAIN, BATCH = 45, 6          # 8 minibatches an epoch, the last one partial
N_BATCHES = -(-N_TRAIN // BATCH)


def start_script(tmp_path, *args):
    return subprocess.Popen([sys.executable, str(SCRIPT)] + SCRIPT_ARGS + list(args), cwd=str(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process):
    """The script's return code (-9 when it killed itself)."""
    _, stderr = process.communicate(timeout=HANG)
    if process.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(stderr.decode()[-3000:])
    return process.returncode


def run_script(tmp_path, *args):
    return finish(start_script(tmp_path, *args))


def assert_same_checkpoint(path_a, path_b):
    """Parameters, best parameters, update-rule state, generators and loop: identical."""
    (arrays_a, meta_a), (arrays_b, meta_b) = io.load(path_a), io.load(path_b)
    for group_a, group_b in zip(arrays_a, arrays_b):
        assert len(group_a) == len(group_b)
        for a, b in zip(group_a, group_b):
            assert a.dtype == b.dtype and numpy.array_equal(a, b)
    assert meta_a["generators"] == meta_b["generators"]
    for loop in (meta_a["loop"], meta_b["loop"]):
        loop.pop("train_seconds")
        for record in loop["history"]:
            record.pop("seconds")
    assert meta_a["loop"] == meta_b["loop"]


@pytest.mark.slow
def test_killed_runs_resume_bit_for_bit(tmp_path):
    """One training run of 5 epochs (40 steps), killed 4 times with SIGKILL at different
    moments and resumed each time, ends with the parameters, optimizer state,
    random generators and history of a run never stopped."""
    reference = start_script(tmp_path, "--out", "reference.npz", "--checkpoint", "reference-checkpoint.npz")

    resumed = ["--out", "resumed.npz", "--checkpoint", "checkpoint.npz", "--resume"]
    kills = [
        ["--kill-at-step", "5"],    # epoch 1, before any checkpoint: the next run starts afresh
        ["--kill-at-step", "13"],   # mid epoch 2, after the epoch-1 checkpoint
        ["--kill-in-save", "2"],    # while writing the epoch-3 checkpoint, before its rename
        ["--kill-at-step", "16"],   # after the last step of epoch 4, before its validation
    ]
    progress = []
    for kill in kills:
        assert run_script(tmp_path, *(resumed + kill)) == -signal.SIGKILL
        progress.append(io.load(tmp_path / "checkpoint.npz")[1]["loop"]["iteration"]
                        if (tmp_path / "checkpoint.npz").exists() else 0)
    assert progress == [0, 8, 16, 24]  # each kill lost only the steps since the last epoch
    assert run_script(tmp_path, *resumed) == 0
    assert finish(reference) == 0

    reference, _ = io.load(tmp_path / "reference.npz")
    final, _ = io.load(tmp_path / "resumed.npz")
    assert len(reference) == len(final) == 4
    for a, b in zip(reference, final):
        assert numpy.array_equal(a, b)
    assert_same_checkpoint(tmp_path / "reference-checkpoint.npz", tmp_path / "checkpoint.npz")
    # the kill inside a save left a temporary file; the next run's load removed it
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.npz", "reference-checkpoint.npz",
                                            "reference.npz", "resumed.npz"]


# --- in process ------------------------------------------------------------------------

def tiny_data(seed=0, nan_at=None):
    rng = numpy.random.RandomState(seed)

    def one(n):
        x = rng.randn(n, 5).astype("float32")
        return [x, (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype("int64")]
    sets = [one(N_TRAIN), one(17), one(13)]
    if nan_at is not None:
        sets[0][0][nan_at, 0] = numpy.nan
    return sets


def train(checkpoint=None, resume=None, n_epochs=4, data=None, hidden=8, dropout_rate=0.3,
          optimizer="adam", batch_size=BATCH, **options):
    """A tiny MLP with dropout; returns (parameter values, result)."""
    x, t = T.matrix("x"), T.lvector("t")
    mlp = MLP(numpy.random.RandomState(1), x, 5, hidden, 2, dropout_rate=dropout_rate)
    options.setdefault("learning_rate", 0.02)
    result = optimize(dataset=load_data(data or tiny_data()), inputs=[x, t], cost=mlp.loss(t),
                      params=flatten(mlp.params), errors=mlp.errors(t), updates=mlp.updates,
                      optimizer=optimizer, n_epochs=n_epochs, batch_size=batch_size, test_batches=2,
                      checkpoint=checkpoint, resume=resume, progress=False, verbose=False, **options)
    return [p.get_value() for p in flatten(mlp.params)], result


def load_script():
    spec = importlib.util.spec_from_file_location("train_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def signal_after_steps(monkeypatch, step, signals=1):
    """Send this process SIGINT `signals` times right after training step `step` returns."""
    def ctrl_c():
        for _ in range(signals):
            os.kill(os.getpid(), signal.SIGINT)
    monkeypatch.setattr(training, "compile_training",
                        load_script().after_step(training.compile_training, step, ctrl_c))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The reference: 4 epochs never stopped, and its final checkpoint."""
    path = tmp_path_factory.mktemp("reference") / "checkpoint.npz"
    values, result = train(checkpoint=path)
    return values, result, path


@pytest.mark.usefixtures("default_sigint")
def test_ctrl_c_mid_epoch_saves_the_position_and_resume_is_exact(tmp_path, monkeypatch, uninterrupted):
    values, result, reference = uninterrupted
    path = tmp_path / "checkpoint.npz"
    signal_after_steps(monkeypatch, 11)                    # epoch 2, minibatch 3 of 8
    _, stopped = train(checkpoint=path)
    assert stopped.stopped == "interrupted"
    loop = io.load(path)[1]["loop"]
    assert (loop["epoch"], loop["minibatch"], loop["iteration"]) == (2, 3, 11)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler put back

    monkeypatch.undo()
    resumed_values, resumed = train(checkpoint=path, resume=path)
    assert resumed.stopped == "n_epochs" and resumed.iterations == result.iterations == 4 * N_BATCHES
    for a, b in zip(values, resumed_values):
        assert numpy.array_equal(a, b)
    assert [r["valid_error"] for r in resumed.history] == [r["valid_error"] for r in result.history]
    assert_same_checkpoint(reference, path)


@pytest.mark.usefixtures("default_sigint")
def test_second_ctrl_c_stops_inside_the_step_and_keeps_the_last_complete_checkpoint(
        tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    signal_after_steps(monkeypatch, 11, signals=2)
    _, stopped = train(checkpoint=path)
    assert stopped.stopped == "interrupted"
    loop = io.load(path)[1]["loop"]
    assert (loop["epoch"], loop["minibatch"], loop["iteration"]) == (1, N_BATCHES, N_BATCHES)


def test_checkpoint_every_n_epochs_and_at_the_end(tmp_path, monkeypatch):
    saved = []
    save = TrainingState.save

    def record(self, path, loop, best_values):
        saved.append((loop["epoch"], loop["minibatch"]))
        return save(self, path, loop, best_values)
    monkeypatch.setattr(TrainingState, "save", record)
    train(checkpoint=tmp_path / "c.npz", checkpoint_every=2, n_epochs=5)
    assert saved == [(2, N_BATCHES), (4, N_BATCHES), (5, N_BATCHES)]


@pytest.mark.parametrize("optimizer", ["momentum", "rmsprop_graves", "adadelta", "adam"])
@pytest.mark.slow
def test_every_update_rule_resumes_exactly(tmp_path, optimizer):
    """Two epochs, then two more from the checkpoint, equal four in one go: each kind of
    rule state (velocities, running averages of gradients, squares and steps, adam's
    moments and step counter) is saved and restored."""
    def run(n_epochs, path, resume=None):
        x, t = T.matrix("x"), T.lvector("t")
        model = LogisticRegression(None, x, 5, 2)
        optimize(dataset=load_data(tiny_data()), inputs=[x, t], cost=model.loss(t),
                 params=flatten(model.params), errors=model.errors(t), optimizer=optimizer,
                 n_epochs=n_epochs, batch_size=BATCH, checkpoint=path, resume=resume,
                 progress=False, verbose=False, **({"learning_rate": 0.05} if optimizer != "adadelta" else {}))
        return [p.get_value() for p in flatten(model.params)]
    whole = run(4, tmp_path / "whole.npz")
    run(2, tmp_path / "split.npz")
    split = run(4, tmp_path / "split.npz", resume=tmp_path / "split.npz")
    assert all(numpy.array_equal(a, b) for a, b in zip(whole, split))
    state = io.load(tmp_path / "split.npz")[0][2]
    expected = {"momentum": 2, "rmsprop_graves": 6, "adadelta": 4, "adam": 5}[optimizer]
    assert len(state) == expected
    assert all(numpy.any(a != 0) for a in state)  # the state moved, and was carried over


def test_non_finite_cost_saves_the_state_before_the_bad_step(tmp_path):
    """NaN in minibatch 3's inputs: training stops naming epoch 1, minibatch 3; the
    parameters in memory are the best ones, the checkpoint holds the finite state
    before that step, positioned to retry it."""
    path = tmp_path / "checkpoint.npz"
    data = tiny_data(nan_at=2 * BATCH + 1)
    with pytest.raises(NonFiniteCostError, match=r"epoch 1, minibatch 3/8") as caught:
        train(checkpoint=path, data=data)
    assert (caught.value.epoch, caught.value.minibatch) == (1, 3)
    assert str(path) in str(caught.value)
    arrays, meta = io.load(path)
    params, best, state = arrays
    assert all(numpy.isfinite(a).all() for a in params + state)
    assert (meta["loop"]["epoch"], meta["loop"]["minibatch"], meta["loop"]["iteration"]) == (1, 2, 2)
    # resuming with the same data meets the same bad minibatch, deterministically
    with pytest.raises(NonFiniteCostError, match=r"epoch 1, minibatch 3/8"):
        train(checkpoint=path, resume=path, data=data)


def test_non_finite_gradient_with_a_finite_cost_is_not_applied():
    """d sqrt(sum W^2) / dW is 0/0 at W = 0: the cost is finite, the gradient NaN. The
    step is refused and the parameters stay finite."""
    x, t = T.matrix("x"), T.lvector("t")
    model = LogisticRegression(None, x, 5, 2)
    cost = model.loss(t) + T.sqrt(T.sum(model.W ** 2))
    with pytest.raises(NonFiniteCostError, match=r"gradient became NaN or infinite.*epoch 1, minibatch 1/"):
        optimize(dataset=load_data(tiny_data()), inputs=[x, t], cost=cost, params=flatten(model.params),
                 errors=model.errors(t), optimizer="sgd", n_epochs=2, batch_size=BATCH,
                 progress=False, verbose=False)
    assert numpy.array_equal(model.W.get_value(), numpy.zeros((5, 2), dtype=model.W.dtype))


# --- checkpoints that do not fit ------------------------------------------------------

@pytest.fixture(scope="module")
def checkpoint_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("fit") / "checkpoint.npz"
    train(checkpoint=path, n_epochs=1)
    return path


@pytest.mark.parametrize("change, word", [
    ({"optimizer": "rmsprop"}, "optimizer"),
    ({"hidden": 9}, "shape"),
    ({"batch_size": 5}, "batch_size"),
    ({"data": tiny_data()[:2] + [[a[:10] for a in tiny_data()[2]]]}, "set_sizes"),
    ({"dropout_rate": 0}, "random generators"),
])
def test_a_checkpoint_of_another_run_is_refused(checkpoint_file, change, word):
    with pytest.raises(CheckpointError, match=word):
        train(resume=checkpoint_file, **change)


def test_resuming_needs_a_checkpoint(tmp_path):
    model_file = tmp_path / "model.npz"
    io.save(model_file, [numpy.zeros(3)])
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        train(resume=model_file)
    with pytest.raises(FileNotFoundError, match="no checkpoint there"):
        train(resume=tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="checkpoint=PATH"):
        train(resume=True)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        train(checkpoint=tmp_path / "no" / "such" / "folder.npz")
