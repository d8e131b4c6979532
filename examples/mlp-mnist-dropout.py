#!/usr/bin/env python
"""An MLP 784-500-10 (tanh, softmax) with dropout on its hidden units, on MNIST.

Training drops each hidden unit with probability --dropout-rate and scales the
survivors by 1 / (1 - rate) (inverted dropout), so predictions use every unit
unscaled: `mlp.output` is the training path, `mlp.pred` never drops a unit.
The random draws are updates of the training function: pass `mlp.updates`.

    python examples/mlp-mnist-dropout.py --epochs 20
    python examples/mlp-mnist-dropout.py --epochs 1 --subset 1000     # a quick look
"""
import numpy

from DL import datasets
from DL.backend import theano, T
from DL.models.MLP import MLP
from DL.optimizers.rmsprop import rmsprop_tieleman
from DL.utils import flatten, load_data

from _common import first_examples, report, training_arguments

parser = training_arguments(__doc__, epochs=20, batch_size=20, L2=0.0)
parser.add_argument("--n-hidden", type=int, default=500, help="hidden units (default 500)")
parser.add_argument("--dropout-rate", type=float, default=0.5,
                    help="probability of dropping a hidden unit in training (default 0.5)")
parser.add_argument("--learning-rate", type=float, default=0.001, help="RMSprop's step size (default 0.001)")
args = parser.parse_args()

mnist = first_examples(datasets.mnist(), args.subset)  # [train, valid, test], each [x, t]
dataset = load_data(mnist)                              # to shared variables, once

x = T.matrix("x")   # (n_examples, 784) pixels in [0, 1]
t = T.ivector("t")  # (n_examples,) digits
mlp = MLP(rng=numpy.random.RandomState(args.seed), input=x, n_in=28 * 28,
          n_hidden=args.n_hidden, n_out=10, dropout_rate=args.dropout_rate)
cost = mlp.loss(t) + args.L1 * mlp.L1 + args.L2 * mlp.L2_sqr

result = rmsprop_tieleman(dataset=dataset, inputs=[x, t], cost=cost, params=flatten(mlp.params),
                          errors=mlp.errors(t), updates=mlp.updates, learning_rate=args.learning_rate,
                          n_epochs=args.epochs, batch_size=args.batch_size, patience=args.patience)

if args.plot:
    from DL import viz  # only when asked: it draws with matplotlib
    viz.plot_history(result.history, args.plot)

# The training output draws a new dropout mask at each call; the prediction does not.
distribution = theano.function([x], mlp.output, updates=mlp.updates)
first_digit = mnist[2][0][:1]
print("training output, two calls:", distribution(first_digit).round(2), distribution(first_digit).round(2))

predict = theano.function([x], mlp.pred)
report(predict, mnist, result.test_loss)
