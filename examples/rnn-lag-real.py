#!/usr/bin/env python
"""An Elman RNN with linear outputs reproduces inputs one and two steps late.

Inputs x_t are 5 standard normal numbers; the targets at step t are

    (x_{t-1}[3], x_{t-1}[2], x_{t-2}[0]) + noise of standard deviation 0.01

(0 where the delay reaches before the start).  Mean squared error over every
step, RMSprop.  Predicting 0 everywhere gives an mse of about 0.8.

    python examples/rnn-lag-real.py                       # test mse 0.0053 (measured)
    python examples/rnn-lag-real.py --epochs 2 --sequences 60   # a quick look
"""
import numpy

from DL import datasets
from DL.backend import theano, T
from DL.models.RNN import RNN

from _lag import lag_arguments, train

args = lag_arguments(__doc__, epochs=60, n_hidden=50).parse_args()
lag = datasets.lag_real(n_sequences=args.sequences, seed=args.seed)  # [train, valid, test], each [x, t]

x = T.tensor3("x")  # (n_examples, n_timesteps, 5)
t = T.tensor3("t")  # (n_examples, n_timesteps, 3)
rnn = RNN(rng=numpy.random.RandomState(args.seed), input=x, n_in=5, n_hidden=args.n_hidden, n_out=3,
          activation="tanh", outputActivation="linear")
result = train(rnn, x, t, lag, args)

predict = theano.function([x], rnn.pred)
print("first test sequence, output 2 predicted:", predict(lag[2][0][:1])[0, :, 2].round(2))
print("first test sequence, output 2 true:     ", lag[2][1][0, :, 2].round(2))
print("test mse: %.5f" % result.test_loss)
