"""A convolutional net with batch normalization and dropout, killed and resumed,
ends bit for bit where a run never stopped ends: parameters, batch normalization's
running statistics, the update rule's state, the dropout generators and the history.

The runs are this module run as a script in subprocesses that SIGKILL themselves
(tests/scripts/train.py's --kill-at-step: no handler runs, as in a power cut).
The net: 8 x 8 one-channel images -> conv 4@3x3 (ReLU, dropout) -> BatchNorm ->
max pool 2x2 -> softmax 2; 45 training images, minibatches of 6 (8 an epoch, the
last partial), adam, 4 epochs.

    python tests/test_cnn_resume.py --out final.npz --checkpoint c.npz --resume [--kill-at-step N]
"""
import argparse
import signal
import subprocess
import sys

import numpy
import pytest

from DL import io
from DL.backend import T
from DL.models.BatchNorm import BatchNorm
from DL.models.ConvLayer import ConvLayer
from DL.models.HiddenLayer import HiddenLayer
from DL.models.PoolLayer import PoolLayer
from DL.models.base import Model, as_tensor
from DL.optimizers import optimize, training
from DL.utils import flatten, load_data
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

EPOCHS, N_BATCHES = 4, 8
SIDE = 8  # pixels of an image's side


class TinyCNN(Model):
    """conv 4@3x3 (ReLU, dropout 0.3) -> BatchNorm -> max pool 2x2 -> softmax 2, on (n, 1, 8, 8)."""

    def __init__(self, rng, input):
        self.conv = ConvLayer(rng, None, 1, 4, 3, dropout_rate=0.3)
        self.norm = BatchNorm(None, 4, momentum=0.3)
        self.pool = PoolLayer(None, 2)
        self.outputLayer = HiddenLayer(rng, None, 4 * 3 * 3, 2, activation="softmax")
        self.layers = [self.conv, self.norm, self.outputLayer]
        self.connect(input)

    def check_input(self, input):
        return as_tensor(input, "TinyCNN: input", (4,), "(n_examples, 1, 8, 8)")

    def apply(self, x, mask=None, train=False):
        h = self.pool.apply(self.norm.apply(self.conv.apply(x, train=train), train=train))
        return self.outputLayer.apply(h.flatten(2))


def images(rng, n):
    """(x (n, 1, 8, 8) float32, t (n,)): is the upper half brighter than the lower?"""
    x = rng.rand(n, 1, SIDE, SIDE).astype("float32")
    return [x, (x[:, 0, :SIDE // 2].sum((1, 2)) > x[:, 0, SIDE // 2:].sum((1, 2))).astype("int64")]


def train(args):
    """Train TinyCNN as the flags say; save its parameters and running statistics to --out."""
    if args.kill_at_step:
        script = load_train_script()
        training.compile_training = script.after_step(training.compile_training, args.kill_at_step, script.die)
    rng = numpy.random.RandomState(1)
    sets = [images(rng, n) for n in (45, 17, 13)]
    x, t = T.tensor4("x"), T.lvector("t")
    model = TinyCNN(rng, x)
    optimize(dataset=load_data(sets), inputs=[x, t], cost=model.loss(t), params=flatten(model.params),
             errors=model.errors(t), updates=model.updates, optimizer="adam", learning_rate=0.02,
             n_epochs=EPOCHS, batch_size=6, test_batches=2, checkpoint=args.checkpoint,
             resume=args.resume or None, progress=False, verbose=False)
    io.save(args.out, [variable.get_value() for variable in flatten(model.variables)])


def load_train_script():
    from test_checkpoint import load_script
    return load_script()


# --- the test -----------------------------------------------------------------------

def run(tmp_path, *flags):
    """Run this module as a script in `tmp_path`; its return code (-9: it killed itself)."""
    process = subprocess.run([sys.executable, __file__] + list(flags), cwd=str(tmp_path), capture_output=True,
                             timeout=HANG)  # a bound on a hang: cold compiles of the convolutions take minutes
    if process.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(process.stderr.decode()[-3000:])
    return process.returncode


@pytest.mark.slow
def test_a_killed_cnn_with_batch_norm_and_dropout_resumes_bit_for_bit(tmp_path):
    from test_checkpoint import assert_same_checkpoint
    assert run(tmp_path, "--out", "reference.npz", "--checkpoint", "reference-checkpoint.npz") == 0
    resumed = ["--out", "resumed.npz", "--checkpoint", "checkpoint.npz", "--resume"]
    progress = []
    for step in (5, 13, 16):  # before any checkpoint; mid epoch 2; after epoch 2's last step
        assert run(tmp_path, *resumed, "--kill-at-step", str(step)) == -signal.SIGKILL
        progress.append(io.load(tmp_path / "checkpoint.npz")[1]["loop"]["iteration"]
                        if (tmp_path / "checkpoint.npz").exists() else 0)
    assert progress == [0, 8, 16]  # each kill lost only the steps since the last epoch's checkpoint
    assert run(tmp_path, *resumed) == 0

    reference, _ = io.load(tmp_path / "reference.npz")
    final, _ = io.load(tmp_path / "resumed.npz")
    # conv W, b; gamma, beta, running mean, running variance; softmax W, b
    assert len(reference) == len(final) == 8
    for a, b in zip(reference, final):
        assert a.dtype == b.dtype and numpy.array_equal(a, b)
    running_mean, running_var = reference[4:6]
    assert numpy.all(running_mean != 0) and numpy.all(running_var != 1)  # the statistics moved
    state = io.load(tmp_path / "checkpoint.npz")[0][2]
    assert any(numpy.array_equal(running_var, saved) for saved in state)  # and the checkpoint holds them
    assert_same_checkpoint(tmp_path / "reference-checkpoint.npz", tmp_path / "checkpoint.npz")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--checkpoint")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--kill-at-step", type=int)
    train(parser.parse_args())
