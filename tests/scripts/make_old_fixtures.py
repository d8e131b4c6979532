"""Write tests/fixtures/old/: files made by DL as it was at commit 3dc36f1 (before
issue 13's layer rewrite), which tests/test_old_files.py loads with today's code.

    python tests/scripts/make_old_fixtures.py        (run once, at 3dc36f1; keep the output)

For MLP, DBN, RNN, LSTM and USE (tiny sizes): `NAME.npz`, a `DL.io.save` of
parameters (the fresh ones from seed 1234 plus fixed noise, as if trained);
`expected.npz` holds, per model, the fixed inputs, the deterministic output
with those parameters, the flat initial parameters seed 1234 draws (the order
of the draws), and for MLP and RNN the training output with dropout (the seed
of the dropout stream).  `mlp-checkpoint.npz` is an `optimize(...,
checkpoint=...)` file of a tiny MLP with dropout after 1 epoch of adam;
`expected.npz` holds the parameters of that run resumed for a second epoch.
"""
import os
import shutil
import sys
import tempfile

import numpy

from DL import io
from DL.backend import T, function
from DL.models.DBN import DBN
from DL.models.LSTM import LSTM
from DL.models.MLP import MLP
from DL.models.RNN import RNN
from DL.models.USE import USE
from DL.optimizers import optimize
from DL.utils import flatten, load_data

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "old")
SEED = 1234


def inputs(rng):
    """The fixed inputs of every model, as (symbolic, numeric) pairs by name."""
    f = "float32"
    mask = numpy.ones((2, 4), f)
    mask[1, 3] = 0
    obs = numpy.eye(3, dtype=f)[rng.randint(3, size=(2, 4))]
    act = numpy.eye(2, dtype=f)[rng.randint(2, size=(2, 4))]
    return {"x2": (T.matrix("x"), rng.randn(3, 4).astype(f)),
            "x3": (T.tensor3("x"), rng.randn(2, 4, 3).astype(f)),
            "mask": (T.matrix("mask"), mask),
            "obs": (T.tensor3("obs"), obs), "act": (T.tensor3("act"), act)}


def builders(data):
    """name -> (build(rng, params, dropout_rate), input names)."""
    x2, x3, mask = data["x2"][0], data["x3"][0], data["mask"][0]
    obs, act = data["obs"][0], data["act"][0]
    return {
        "mlp": (lambda rng, params, rate=0: MLP(rng, x2, 4, 5, 3, dropout_rate=rate, params=params), ["x2"]),
        "dbn": (lambda rng, params, rate=0: DBN(rng, x2, 4, 2, [5, 3], dropout_rate=rate,
                                                outputActivation="sigmoid", params=params), ["x2"]),
        "rnn": (lambda rng, params, rate=0: RNN(rng, x3, 3, 4, 2, dropout_rate=rate, params=params, mask=mask),
                ["x3", "mask"]),
        "lstm": (lambda rng, params, rate=0: LSTM(rng, x3, mask, 3, params=params), ["x3", "mask"]),
        "use": (lambda rng, params, rate=0: USE(rng, obs, act, 3, 2, 4, dropout_rate=rate, ff_obs=[3],
                                                ff_filt=[2], ff_pred=[3], params=params), ["obs", "act"]),
    }


def perturbed(params, rng):
    """The nesting of `params` with numeric values moved by fixed noise."""
    if isinstance(params, (list, tuple)):
        return [perturbed(p, rng) for p in params]
    value = params.get_value()
    return (value + 0.1 * rng.randn(*value.shape)).astype(value.dtype)


def tiny_data(seed=0):
    rng = numpy.random.RandomState(seed)

    def one(n):
        x = rng.randn(n, 5).astype("float32")
        return [x, (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype("int64")]
    return [one(45), one(17), one(13)]


def train_mlp(checkpoint=None, resume=None, n_epochs=1):
    x, t = T.matrix("x"), T.lvector("t")
    mlp = MLP(numpy.random.RandomState(1), x, 5, 8, 2, dropout_rate=0.3)
    optimize(dataset=load_data(tiny_data()), inputs=[x, t], cost=mlp.loss(t), params=flatten(mlp.params),
             errors=mlp.errors(t), updates=mlp.updates, optimizer="adam", learning_rate=0.02,
             n_epochs=n_epochs, batch_size=6, test_batches=2, checkpoint=checkpoint, resume=resume,
             progress=False, verbose=False)
    return [p.get_value() for p in flatten(mlp.params)]


def main():
    os.makedirs(HERE, exist_ok=True)
    data = inputs(numpy.random.RandomState(0))
    expected = {}
    for name, (build, names) in builders(data).items():
        fresh = build(numpy.random.RandomState(SEED), None)
        for i, p in enumerate(flatten(fresh.params)):
            expected["%s/init/%d" % (name, i)] = p.get_value()
        params = perturbed(fresh.params, numpy.random.RandomState(7))
        io.save(os.path.join(HERE, name + ".npz"), params)
        loaded, _ = io.load(os.path.join(HERE, name + ".npz"))
        model = build(numpy.random.RandomState(SEED), loaded)
        symbolic = [data[n][0] for n in names]
        numeric = [data[n][1] for n in names]
        expected["%s/output_deterministic" % name] = function(
            symbolic, model.output_deterministic, on_unused_input="ignore")(*numeric)
        if name in ("mlp", "rnn"):
            dropped = build(numpy.random.RandomState(SEED), None, 0.5)
            expected["%s/output_dropout" % name] = function(
                symbolic, dropped.output, updates=dropped.updates, on_unused_input="ignore")(*numeric)
    for key, (_, value) in data.items():
        expected["inputs/" + key] = value

    checkpoint = os.path.join(HERE, "mlp-checkpoint.npz")
    train_mlp(checkpoint=checkpoint, n_epochs=1)
    folder = tempfile.mkdtemp()
    try:
        copy = os.path.join(folder, "checkpoint.npz")
        shutil.copy(checkpoint, copy)
        for i, value in enumerate(train_mlp(resume=copy, n_epochs=2)):
            expected["checkpoint/resumed/%d" % i] = value
    finally:
        shutil.rmtree(folder)
    numpy.savez(os.path.join(HERE, "expected.npz"), **expected)
    print("wrote", sorted(os.listdir(HERE)), file=sys.stderr)


if __name__ == "__main__":
    main()
