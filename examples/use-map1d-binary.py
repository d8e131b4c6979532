#!/usr/bin/env python
"""The USE on the 1-D map, predicting each observation unit as a bit (sigmoid outputs).

An agent steps left or right in a corridor of 5 cells with walls at both ends
and observes the cell it is in.  The unsupervised state estimator (USE)
predicts every next observation from the observations and actions so far;
once it has seen a cell, the rest of the walk follows from the actions.

Each unit of the observation is predicted on its own (sigmoid, binary
cross-entropy), as in the original package's example, whose settings these
are: 50 relu units, SGD with momentum 0.2, L2 1e-4.  `--encoding binary`
observes the cell's number in bits instead of a one-hot vector.

    python examples/use-map1d-binary.py
    python examples/use-map1d-binary.py --encoding binary
    python examples/use-map1d-binary.py --epochs 2          # a quick look

It prints, for one test walk, a row per step: the observation, the prediction
of it made one step before, and the action then taken ([1 0] left, [0 1]
right); then the test error (the fraction of wrong bits).
"""
import argparse

import numpy

from DL import viz
from DL.backend import theano, T
from DL.datasets import map1d, seeded_sets
from DL.models.USE import USE
from DL.optimizers.sgd import sgd
from DL.utils import flatten, load_data

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, default=500, help="at most this many epochs (default 500)")
parser.add_argument("--encoding", choices=["onehot", "binary"], default="onehot", help="observations (default onehot)")
parser.add_argument("--n-hidden", type=int, default=50, help="state units (default 50)")
parser.add_argument("--n-train", type=int, default=200, help="training walks; a quarter as many to validate and test")
parser.add_argument("--learning-rate", type=float, default=0.01, help="SGD step size (default 0.01)")
parser.add_argument("--seed", type=int, default=1234, help="seed of the walks and of the weights")
args = parser.parse_args()

# [train, valid, test], each [observations (n, 20, n_obs), actions (n, 20, 2)]
walks = seeded_sets(map1d, sizes=(args.n_train, args.n_train // 4, args.n_train // 4), seed=args.seed,
                    n_obs=5, n_steps=20, encoding=args.encoding)
n_obs = walks[0][0].shape[-1]

o = T.tensor3("o")  # observations
a = T.tensor3("a")  # actions: a_t is taken after seeing o_t
use = USE(rng=numpy.random.RandomState(args.seed), obs=o, act=a, n_obs=n_obs, n_act=2,
          n_hidden=args.n_hidden, activation="relu", outputActivation="sigmoid")

result = sgd(dataset=load_data(walks), inputs=[o, a], cost=use.loss() + 1e-4 * use.L2_sqr,
             params=flatten(use.params), errors=use.errors(), learning_rate=args.learning_rate,
             momentum=0.2, n_epochs=args.epochs, batch_size=20, patience=5000)

predict = theano.function([o, a], use.output_deterministic)
observations, actions = walks[2][0][0], walks[2][1][0]
y = predict(observations[None], actions[None])[0]
predicted = numpy.vstack([numpy.zeros(n_obs), y[:-1]])  # row t: the prediction of o_t, made at t - 1
for row in zip(observations, predicted, actions):
    print(viz.prediction_row(*row))
print("test error: %.3f %%" % (100 * result.test_loss))
