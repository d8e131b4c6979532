#!/usr/bin/env python
"""An Elman RNN sorts each step into one of three classes from inputs one and two steps back.

Inputs x_t are 5 standard normal numbers; the class at step t says where
d = x_{t-1}[3] - x_{t-2}[0] lies:

    class 1 if d > 0.5,   class 2 if d < -0.5,   class 0 otherwise (and for t < 2)

Softmax outputs over the 3 classes at every step, cross-entropy, RMSprop.
Always answering the most common class gives about 55 % error.

    python examples/rnn-lag-softmax.py                      # 4.3 % test error (measured)
    python examples/rnn-lag-softmax.py --epochs 2 --sequences 60   # a quick look
"""
import numpy

from DL import datasets
from DL.backend import theano, T
from DL.models.RNN import RNN

from _lag import lag_arguments, train

args = lag_arguments(__doc__, epochs=100, n_hidden=50).parse_args()
lag = datasets.lag_softmax(n_sequences=args.sequences, seed=args.seed)  # [train, valid, test], each [x, t]

x = T.tensor3("x")  # (n_examples, n_timesteps, 5)
t = T.lmatrix("t")  # (n_examples, n_timesteps) class ids (the float data is cast per minibatch)
rnn = RNN(rng=numpy.random.RandomState(args.seed), input=x, n_in=5, n_hidden=args.n_hidden, n_out=3,
          activation="tanh", outputActivation="softmax")
result = train(rnn, x, t, lag, args)

probabilities = theano.function([x], rnn.output_deterministic)(lag[2][0][:1])[0]
print("first test sequence, classes predicted:", probabilities.argmax(axis=-1))
print("first test sequence, classes true:     ", lag[2][1][0].astype(int))
print("test error: %.3f %%" % (100 * result.test_loss))
