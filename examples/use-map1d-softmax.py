#!/usr/bin/env python
"""The USE on the 1-D map, with deep sub-networks and a softmax over the cells.

An agent steps left or right in a corridor of 5 cells with walls at both ends
and observes the cell it is in (one-hot).  The unsupervised state estimator
predicts the distribution of each next observation; once one cell has been
seen, the rest of the walk follows from the actions.

As in the original package's example: 100 state units, a hidden layer of 50
in each sub-network (ff_obs, ff_filt, ff_trans, ff_act, ff_pred), SGD with
momentum 0.2, L2 1e-4.

    python examples/use-map1d-softmax.py
    python examples/use-map1d-softmax.py --epochs 2          # a quick look

It prints, for one test walk, a row per step: the observed cell, the predicted
distribution of it made one step before, and the action then taken ([1 0]
left, [0 1] right); then the test error (the fraction of wrong cells).
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
parser.add_argument("--epochs", type=int, default=200, help="at most this many epochs (default 200)")
parser.add_argument("--n-hidden", type=int, default=100, help="state units (default 100)")
parser.add_argument("--ff-size", type=int, default=50, help="units of each sub-network's hidden layer")
parser.add_argument("--n-train", type=int, default=200, help="training walks; a quarter as many to validate and test")
parser.add_argument("--learning-rate", type=float, default=0.01, help="SGD step size (default 0.01)")
parser.add_argument("--seed", type=int, default=1234, help="seed of the walks and of the weights")
args = parser.parse_args()

n_obs, n_act = 5, 2
walks = seeded_sets(map1d, sizes=(args.n_train, args.n_train // 4, args.n_train // 4), seed=args.seed,
                    n_obs=n_obs, n_steps=20)  # [train, valid, test], each [observations, actions]

o = T.tensor3("o")  # observations (n_examples, 20, 5), one-hot cells
a = T.tensor3("a")  # actions (n_examples, 20, 2); a_t is taken after seeing o_t
deep = [args.ff_size]
use = USE(rng=numpy.random.RandomState(args.seed), obs=o, act=a, n_obs=n_obs, n_act=n_act,
          n_hidden=args.n_hidden, ff_obs=deep, ff_filt=deep, ff_trans=deep, ff_act=deep, ff_pred=deep)

result = sgd(dataset=load_data(walks), inputs=[o, a], cost=use.loss() + 1e-4 * use.L2_sqr,
             params=flatten(use.params), errors=use.errors(), learning_rate=args.learning_rate,
             momentum=0.2, n_epochs=args.epochs, batch_size=20, patience=5000)

distribution = theano.function([o, a], use.output_deterministic)
observations, actions = walks[2][0][0], walks[2][1][0]
y = distribution(observations[None], actions[None])[0]
before = numpy.vstack([numpy.zeros(n_obs), y[:-1]])  # row t: the distribution of o_t, predicted at t - 1
for observed, predicted, action in zip(observations, before, actions):
    print(viz.prediction_row(observed, predicted, action))
print("test error: %.3f %%" % (100 * result.test_loss))
