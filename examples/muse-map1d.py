#!/usr/bin/env python
"""The multiplicative USE (MUSE) on the 1-D map.

The corridor of use-map1d-softmax.py: 5 cells, left/right steps, the cell
observed.  In the MUSE the observation gates the filter and the action gates
the transform: each action applies its own (factored) matrix to the state,
which is what a step along a corridor is.  Trained with Adam.

    python examples/muse-map1d.py
    python examples/muse-map1d.py --n-fact 5
    python examples/muse-map1d.py --epochs 2          # a quick look

Prints a row per step of one test walk (observed cell, its prediction one step
before, the action) and the test error.
"""
import argparse

import numpy

from DL import viz
from DL.backend import theano, T
from DL.datasets import map1d, seeded_sets
from DL.models.MUSE import MUSE
from DL.optimizers.adam import adam
from DL.utils import flatten, load_data

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, default=100, help="at most this many epochs (default 100)")
parser.add_argument("--n-hidden", type=int, default=20, help="state units (default 20)")
parser.add_argument("--n-fact", type=int, default=None, help="factors of each gated unit (default n_hidden)")
parser.add_argument("--learning-rate", type=float, default=0.01, help="Adam's step size (default 0.01)")
parser.add_argument("--seed", type=int, default=1234, help="seed of the walks and of the weights")
args = parser.parse_args()

walks = seeded_sets(map1d, sizes=(200, 50, 50), seed=args.seed, n_obs=5, n_steps=20)

o = T.tensor3("o")  # (n_examples, 20, 5) one-hot cells
a = T.tensor3("a")  # (n_examples, 20, 2) left/right, a_t taken after seeing o_t
muse = MUSE(rng=numpy.random.RandomState(args.seed), obs=o, act=a, n_obs=5, n_act=2,
            n_hidden=args.n_hidden, n_fact=args.n_fact)

result = adam(dataset=load_data(walks), inputs=[o, a], cost=muse.loss(), params=flatten(muse.params),
              errors=muse.errors(), learning_rate=args.learning_rate, n_epochs=args.epochs, batch_size=20)

observations, actions = walks[2][0][:1], walks[2][1][:1]
y = theano.function([o, a], muse.output_deterministic)(observations, actions)[0]
for t in range(observations.shape[1]):
    predicted = y[t - 1] if t > 0 else numpy.zeros(5)  # y_{t-1} is the prediction of o_t
    print(viz.prediction_row(observations[0, t], predicted, actions[0, t]))
print("test error: %.3f %%" % (100 * result.test_loss))
