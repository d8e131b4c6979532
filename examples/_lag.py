"""What the rnn-lag examples share: their flags, and training an RNN with RMSprop.

    parser = lag_arguments(__doc__, epochs=100, n_hidden=50)
    result = train(rnn, x, t, lag, args)  # optimize() on [x, t], rnn.loss(t) + L2

Every example's last line is its result: `test error: X %` or `test mse: X`.
"""
import argparse

from DL.optimizers import optimize
from DL.utils import flatten, load_data


def lag_arguments(description, epochs, n_hidden):
    """A parser with the flags every lag example takes; add the example's own."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=epochs, help="at most this many epochs (default %d)" % epochs)
    parser.add_argument("--sequences", type=int, default=2000,
                        help="sequences of 11 steps, 4/6 of them for training (default 2000)")
    parser.add_argument("--n-hidden", type=int, default=n_hidden, help="recurrent units (default %d)" % n_hidden)
    parser.add_argument("--learning-rate", type=float, default=0.005, help="RMSprop's step size (default 0.005)")
    parser.add_argument("--L2", type=float, default=1e-4, help="weight of the L2 penalty (default 1e-4)")
    parser.add_argument("--seed", type=int, default=1234, help="seed of the data, the weights and any dropout")
    return parser


def train(rnn, x, t, lag, args):
    """RMSprop on rnn.loss(t) + L2 over `lag` ([train, valid, test], each [x, t]), minibatches of 20.

    Early stopping keeps the parameters of the best validation error; patience
    is long enough that --epochs decides when training ends."""
    return optimize(dataset=load_data(lag), inputs=[x, t], cost=rnn.loss(t) + args.L2 * rnn.L2_sqr,
                    params=flatten(rnn.params), errors=rnn.errors(t), metric=rnn.metric, updates=rnn.updates,
                    n_epochs=args.epochs, batch_size=20, patience=10 ** 6, optimizer="rmsprop_tieleman",
                    learning_rate=args.learning_rate)
