#!/usr/bin/env python
"""An Elman RNN with linear outputs reproduces inputs one and two steps late.

Inputs x_t are 5 standard normal numbers; the targets at step t are

    (x_{t-1}[3], x_{t-1}[2], x_{t-2}[0]) + noise of standard deviation 0.01

(0 where the delay reaches before the start).  Mean squared error over every
step, RMSprop.  Predicting 0 everywhere gives an mse of about 0.8.

    python examples/rnn-lag-real.py                       # test mse about 0.006
    python examples/rnn-lag-real.py --epochs 2 --sequences 60   # a quick look
"""
import argparse

import numpy

from DL import datasets
from DL.backend import theano, T
from DL.models.RNN import RNN
from DL.optimizers import optimize
from DL.utils import flatten, load_data

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, default=60, help="at most this many epochs (default 60)")
parser.add_argument("--sequences", type=int, default=2000, help="sequences of 11 steps, 4/6 for training (default 2000)")
parser.add_argument("--n-hidden", type=int, default=50, help="recurrent units (default 50)")
parser.add_argument("--learning-rate", type=float, default=0.005, help="RMSprop's step size (default 0.005)")
parser.add_argument("--L2", type=float, default=1e-4, help="weight of the L2 penalty (default 1e-4)")
parser.add_argument("--seed", type=int, default=1234, help="seed of the data and the weights")
args = parser.parse_args()

lag = datasets.lag_real(n_sequences=args.sequences, seed=args.seed)  # [train, valid, test], each [x, t]
dataset = load_data(lag)

x = T.tensor3("x")  # (n_examples, n_timesteps, 5)
t = T.tensor3("t")  # (n_examples, n_timesteps, 3)
rnn = RNN(rng=numpy.random.RandomState(args.seed), input=x, n_in=5, n_hidden=args.n_hidden, n_out=3,
          activation="tanh", outputActivation="linear")

result = optimize(dataset=dataset, inputs=[x, t], cost=rnn.loss(t) + args.L2 * rnn.L2_sqr,
                  params=flatten(rnn.params), errors=rnn.errors(t), n_epochs=args.epochs,
                  batch_size=20, patience=10 ** 6, optimizer="rmsprop", learning_rate=args.learning_rate)

predict = theano.function([x], rnn.pred)
print("first test sequence, output 2 predicted:", predict(lag[2][0][:1])[0, :, 2].round(2))
print("first test sequence, output 2 true:     ", lag[2][1][0, :, 2].round(2))
print("test mse: %.5f" % result.test_loss)
