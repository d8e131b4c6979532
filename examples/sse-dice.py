#!/usr/bin/env python
"""The supervised state estimator (SSE) names which die it holds.

Three dice carry the symbols 0..5 in different arrangements.  The SSE sees the
symbol on top, rolls the die north, south, east or west, sees the next top
face, ... and after each observation says which die it thinks it holds.  The
exact Bayes filter over die and orientation (DL.datasets.bayes_posterior) is
the best possible answer; the script prints both after the last roll.

--dice pairs (the default): the dice pair their opposite faces differently, so
two symbols seen one after the other (always neighbours) can rule a die out.
--dice original: the original project's first three dice; two are mirror
images, told apart only by the directions of the rolls, which this additive
SSE does not learn in a short training (benchmarks/state_estimators.py).

    python examples/sse-dice.py
    python examples/sse-dice.py --dice original
    python examples/sse-dice.py --epochs 2          # a quick look

It prints, for one test sequence, a row per step: the observed symbol, the
SSE's distribution over the dice, the Bayes posterior, and the roll then
taken; then the accuracy after the last roll and the test error over all steps.
"""
import argparse

import numpy

from DL import viz
from DL.backend import theano, T
from DL.datasets import bayes_posterior, dice, seeded_sets
from DL.datasets._dice import DICE, DICE_BY_PAIRS, ROLLS
from DL.models.SSE import SSE
from DL.optimizers.adam import adam
from DL.utils import flatten, load_data

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, default=40, help="at most this many epochs (default 40)")
parser.add_argument("--dice", choices=["pairs", "original"], default="pairs", help="which three dice (default pairs)")
parser.add_argument("--n-rolls", type=int, default=8, help="rolls in a sequence (default 8)")
parser.add_argument("--n-train", type=int, default=10000, help="training sequences; a tenth as many to validate and test")
parser.add_argument("--n-hidden", type=int, default=60, help="state units (default 60)")
parser.add_argument("--learning-rate", type=float, default=0.003, help="Adam's step size (default 0.003)")
parser.add_argument("--seed", type=int, default=1234, help="seed of the sequences and of the weights")
args = parser.parse_args()
faces = DICE_BY_PAIRS if args.dice == "pairs" else DICE[:3]

# [train, valid, test], each [top symbols (n, T, 6), rolls (n, T, 4), which die (n, T)]
sequences = seeded_sets(dice, sizes=(args.n_train, args.n_train // 10, args.n_train // 10), seed=args.seed,
                        n_steps=args.n_rolls + 1, faces=faces)

o = T.tensor3("o")   # observations: one-hot top symbol
a = T.tensor3("a")   # actions: one-hot roll, taken after seeing o_t
t = T.imatrix("t")   # which die, at every step
sse = SSE(rng=numpy.random.RandomState(args.seed), obs=o, act=a, n_obs=6, n_act=len(ROLLS), n_pred=len(faces),
          n_hidden=args.n_hidden, activation="relu")

result = adam(dataset=load_data(sequences), inputs=[o, a, t], cost=sse.loss(t), params=flatten(sse.params),
              errors=sse.errors(t), learning_rate=args.learning_rate, n_epochs=args.epochs, batch_size=20)

test_obs, test_act, test_labels = sequences[2]
y = theano.function([o, a], sse.output_deterministic)(test_obs, test_act)
bayes = bayes_posterior(faces, test_obs.argmax(-1), test_act)
print("holding die %d" % test_labels[0, 0])
for observed, guess, best, action in zip(test_obs[0], y[0], bayes[0], test_act[0]):
    print("observed %s | SSE %s | Bayes %s | roll %s" % (viz.spark(observed), viz.spark(guess),
                                                         viz.spark(best), ROLLS[action.argmax()]))
print("correct after %d rolls: SSE %.1f %%, Bayes filter %.1f %%"
      % (args.n_rolls, 100 * numpy.mean(y[:, -1].argmax(-1) == test_labels[:, -1]),
         100 * numpy.mean(bayes[:, -1].argmax(-1) == test_labels[:, -1])))
print("test error: %.3f %%" % (100 * result.test_loss))
