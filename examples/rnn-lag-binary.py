#!/usr/bin/env python
"""An Elman RNN learns two bits a step that compare inputs one and two steps back.

Inputs x_t are 5 standard normal numbers; the targets at step t are

    bit 0 = x_{t-1}[3] > x_{t-2}[0]
    bit 1 = x_{t-1}[4] * x_{t-1}[2] > x_{t-2}[0]

(0 for t < 2), so the network must remember two steps.  Sigmoid outputs,
binary cross-entropy over every step, RMSprop.  Guessing gives about 40 % error.

    python examples/rnn-lag-binary.py                     # about 3 % test error
    python examples/rnn-lag-binary.py --epochs 2 --sequences 60   # a quick look
"""
import argparse

import numpy

from DL import datasets
from DL.backend import theano, T
from DL.models.RNN import RNN
from DL.optimizers import optimize
from DL.utils import flatten, load_data

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, default=100, help="at most this many epochs (default 100)")
parser.add_argument("--sequences", type=int, default=2000, help="sequences of 11 steps, 4/6 for training (default 2000)")
parser.add_argument("--n-hidden", type=int, default=50, help="recurrent units (default 50)")
parser.add_argument("--learning-rate", type=float, default=0.005, help="RMSprop's step size (default 0.005)")
parser.add_argument("--L2", type=float, default=1e-4, help="weight of the L2 penalty (default 1e-4)")
parser.add_argument("--seed", type=int, default=1234, help="seed of the data and the weights")
args = parser.parse_args()

lag = datasets.lag_binary(n_sequences=args.sequences, seed=args.seed)  # [train, valid, test], each [x, t]
dataset = load_data(lag)

x = T.tensor3("x")  # (n_examples, n_timesteps, 5)
t = T.tensor3("t")  # (n_examples, n_timesteps, 2) bits, as floats
rnn = RNN(rng=numpy.random.RandomState(args.seed), input=x, n_in=5, n_hidden=args.n_hidden, n_out=2,
          activation="tanh", outputActivation="sigmoid")

result = optimize(dataset=dataset, inputs=[x, t], cost=rnn.loss(t) + args.L2 * rnn.L2_sqr,
                  params=flatten(rnn.params), errors=rnn.errors(t), n_epochs=args.epochs,
                  batch_size=20, patience=10 ** 6, optimizer="rmsprop", learning_rate=args.learning_rate)

predict = theano.function([x], rnn.pred)
print("first test sequence, bit 0 predicted:", predict(lag[2][0][:1])[0, :, 0].astype(int))
print("first test sequence, bit 0 true:     ", lag[2][1][0, :, 0].astype(int))
print("test error: %.3f %%" % (100 * result.test_loss))
