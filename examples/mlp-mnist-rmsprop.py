#!/usr/bin/env python
"""An MLP 784-500-10 (tanh, softmax) on MNIST, trained with RMSprop.

RMSprop in the form of Tieleman and Hinton (2012), DL's `rmsprop_tieleman`
(`rmsprop` is the original package's rule, Graves' form), divides each step
by a running root mean square of recent gradients:

    r <- rho r + (1 - rho) g^2,    w <- w - learning_rate g / sqrt(r + epsilon)

Defaults: minibatches of 100 and no penalty, as in Zeiler's Adadelta paper
(2012) for MNIST; benchmarks/mnist_accuracy.py measures them over 20 epochs.

    python examples/mlp-mnist-rmsprop.py --epochs 20
    python examples/mlp-mnist-rmsprop.py --epochs 1 --subset 1000     # a quick look
"""
import numpy

from DL import datasets
from DL.backend import theano, T
from DL.models.MLP import MLP
from DL.optimizers.rmsprop import rmsprop_tieleman
from DL.utils import flatten, load_data

from _common import first_examples, report, training_arguments

parser = training_arguments(__doc__, epochs=20, batch_size=100, L2=0.0)
parser.add_argument("--n-hidden", type=int, default=500, help="hidden units (default 500)")
parser.add_argument("--learning-rate", type=float, default=0.001, help="step size (default 0.001)")
parser.add_argument("--rho", type=float, default=0.9, help="decay of the running mean square (default 0.9)")
parser.add_argument("--epsilon", type=float, default=1e-6, help="keeps the division finite (default 1e-6)")
args = parser.parse_args()

mnist = first_examples(datasets.mnist(), args.subset)  # [train, valid, test], each [x, t]
dataset = load_data(mnist)                              # to shared variables, once

x = T.matrix("x")   # (n_examples, 784) pixels in [0, 1]
t = T.ivector("t")  # (n_examples,) digits
mlp = MLP(rng=numpy.random.RandomState(args.seed), input=x,
          n_in=28 * 28, n_hidden=args.n_hidden, n_out=10)
cost = mlp.loss(t) + args.L1 * mlp.L1 + args.L2 * mlp.L2_sqr

result = rmsprop_tieleman(dataset=dataset, inputs=[x, t], cost=cost, params=flatten(mlp.params),
                          errors=mlp.errors(t), learning_rate=args.learning_rate, rho=args.rho,
                          epsilon=args.epsilon, n_epochs=args.epochs, batch_size=args.batch_size,
                          patience=args.patience)

if args.plot:
    from DL import viz  # only when asked: it draws with matplotlib
    viz.plot_history(result.history, args.plot)

predict = theano.function([x], mlp.pred)
report(predict, mnist, result.test_loss)
