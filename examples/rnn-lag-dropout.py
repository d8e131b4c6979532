#!/usr/bin/env python
"""An Elman RNN trained with variational dropout on the real-valued lag task.

Dropout inside a recurrence works when it drops the same units at every step
of a sequence (Gal and Ghahramani 2016): the RNN draws one mask per sequence,
outside the scan, and applies it to the hidden state wherever it goes (the
next step and the output).  Each sequence of a minibatch gets its own mask;
a new minibatch, new masks.  Predictions (`rnn.pred`, `rnn.errors`) use
every unit.  The random draws are updates of the training function:
`rnn.updates` (the shared `train` passes them).

The task is rnn-lag-real's: targets are inputs delayed by one and two steps.

    python examples/rnn-lag-dropout.py                        # test mse 0.024 (measured)
    python examples/rnn-lag-dropout.py --epochs 2 --sequences 60    # a quick look
"""
import numpy

from DL import datasets
from DL.backend import theano, T
from DL.models.RNN import RNN

from _lag import lag_arguments, train

parser = lag_arguments(__doc__, epochs=60, n_hidden=100)
parser.add_argument("--dropout-rate", type=float, default=0.2,
                    help="probability of dropping a hidden unit for a whole sequence (default 0.2)")
parser.set_defaults(L2=0.0)
args = parser.parse_args()
lag = datasets.lag_real(n_sequences=args.sequences, seed=args.seed)  # [train, valid, test], each [x, t]

x = T.tensor3("x")  # (n_examples, n_timesteps, 5)
t = T.tensor3("t")  # (n_examples, n_timesteps, 3)
rnn = RNN(rng=numpy.random.RandomState(args.seed), input=x, n_in=5, n_hidden=args.n_hidden, n_out=3,
          dropout_rate=args.dropout_rate, activation="tanh", outputActivation="linear")
result = train(rnn, x, t, lag, args)

# The training path draws new masks at each call; the prediction path has none.
training_output = theano.function([x], rnn.output, updates=rnn.updates)
predict = theano.function([x], rnn.pred)
first = lag[2][0][:1]
print("training output at the last step, two calls:", training_output(first)[0, -1].round(2),
      training_output(first)[0, -1].round(2))
print("prediction at the last step, two calls:     ", predict(first)[0, -1].round(2), predict(first)[0, -1].round(2))
print("test mse: %.5f" % result.test_loss)
