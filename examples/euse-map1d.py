#!/usr/bin/env python
"""The embedded USE (EUSE) on the 1-D map, observing cell ids through an embedding.

The corridor of use-map1d-softmax.py, but the observations are integer cell
ids `(n_examples, n_steps)`: an EmbeddingLayer turns each into `e_obs` numbers
before the filter, and the softmax output predicts the next id.  With many
distinct observations (symbols, words) ids and a small embedding replace wide
one-hot vectors.  --n-obs makes the corridor longer.

    python examples/euse-map1d.py
    python examples/euse-map1d.py --n-obs 12 --e-obs 4
    python examples/euse-map1d.py --epochs 2          # a quick look

Prints a row per step of one test walk (observed cell, its prediction one step
before, the action) and the test error.
"""
import argparse

import numpy

from DL import viz
from DL.backend import theano, T
from DL.datasets import map1d, seeded_sets
from DL.models.EUSE import EUSE
from DL.optimizers.adam import adam
from DL.utils import flatten, load_data, onehot_array

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, default=100, help="at most this many epochs (default 100)")
parser.add_argument("--n-obs", type=int, default=5, help="cells of the corridor (default 5)")
parser.add_argument("--e-obs", type=int, default=3, help="numbers in each cell's embedding (default 3)")
parser.add_argument("--n-hidden", type=int, default=30, help="state units (default 30)")
parser.add_argument("--seed", type=int, default=1234, help="seed of the walks and of the weights")
args = parser.parse_args()

walks = seeded_sets(map1d, sizes=(200, 50, 50), seed=args.seed, n_obs=args.n_obs, n_steps=20, encoding="ids")

o = T.imatrix("o")  # (n_examples, 20) cell ids
a = T.tensor3("a")  # (n_examples, 20, 2) left/right, a_t taken after seeing o_t
euse = EUSE(rng=numpy.random.RandomState(args.seed), obs=o, act=a, n_obs=args.n_obs, e_obs=args.e_obs,
            n_act=2, n_hidden=args.n_hidden, ff_pred=[args.n_hidden])

result = adam(dataset=load_data(walks), inputs=[o, a], cost=euse.loss(), params=flatten(euse.params),
              errors=euse.errors(), learning_rate=0.01, n_epochs=args.epochs, batch_size=20)

ids, actions = walks[2][0][0].astype("int32"), walks[2][1][0]
y = theano.function([o, a], euse.output_deterministic)(ids[None], actions[None])[0]
shown = numpy.vstack([numpy.zeros(args.n_obs), y[:-1]])  # row t: the prediction of o_t, made at t - 1
for observed, predicted, action in zip(onehot_array(ids, args.n_obs), shown, actions):
    print(viz.prediction_row(observed, predicted, action))
print("test error: %.3f %%" % (100 * result.test_loss))
