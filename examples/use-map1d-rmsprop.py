#!/usr/bin/env python
"""The USE on the 1-D map, trained with RMSprop (the Graves 2013 form of the original package).

The task and the model of use-map1d-softmax.py (a corridor of 5 cells,
left/right steps, the cell observed; 100 state units and deep sub-networks of
50), trained with `rmsprop_graves`: running averages of the gradient and its
square normalize each step, with momentum.  --rule picks another update rule
of DL.updates to compare (see benchmarks/optimizer_study.py for a study).

    python examples/use-map1d-rmsprop.py
    python examples/use-map1d-rmsprop.py --rule rmsprop --learning-rate 0.001
    python examples/use-map1d-rmsprop.py --epochs 2          # a quick look

Prints a row per step of one test walk (observed cell, its prediction one step
before, the action) and the test error.
"""
import argparse

import numpy

from DL import viz
from DL.backend import theano, T
from DL.datasets import map1d, seeded_sets
from DL.models.USE import USE
from DL.optimizers import optimize
from DL.utils import flatten, load_data

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, default=100, help="at most this many epochs (default 100)")
parser.add_argument("--rule", default="rmsprop_graves", help="update rule of DL.updates (default rmsprop_graves)")
parser.add_argument("--learning-rate", type=float, default=1e-3, help="step size (default 1e-3)")
parser.add_argument("--n-train", type=int, default=200, help="training walks; a quarter as many to validate and test")
parser.add_argument("--seed", type=int, default=1234, help="seed of the walks and of the weights")
args = parser.parse_args()

walks = seeded_sets(map1d, sizes=(args.n_train, args.n_train // 4, args.n_train // 4), seed=args.seed,
                    n_obs=5, n_steps=20)

o, a = T.tensor3("o"), T.tensor3("a")  # (n_examples, 20, 5) one-hot cells, (n_examples, 20, 2) steps
use = USE(rng=numpy.random.RandomState(args.seed), obs=o, act=a, n_obs=5, n_act=2, n_hidden=100,
          ff_obs=[50], ff_filt=[50], ff_trans=[50], ff_act=[50], ff_pred=[50])

result = optimize(dataset=load_data(walks), inputs=[o, a], cost=use.loss() + 1e-4 * use.L2_sqr,
                  params=flatten(use.params), errors=use.errors(), optimizer=args.rule,
                  learning_rate=args.learning_rate, n_epochs=args.epochs, batch_size=20, patience=5000)

y = theano.function([o, a], use.output_deterministic)(walks[2][0][:1], walks[2][1][:1])[0]
for t, (observed, action) in enumerate(zip(walks[2][0][0], walks[2][1][0])):
    print(viz.prediction_row(observed, y[t - 1] if t else numpy.zeros(5), action))
print("test error: %.3f %%" % (100 * result.test_loss))
