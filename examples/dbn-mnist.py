#!/usr/bin/env python
"""A deep feed-forward net (DBN: hidden layers 200-200-200, tanh, softmax) on MNIST.

`layer_sizes` lists the hidden layers; they are trained jointly by
backpropagation with RMSprop.  --dropout-rate drops hidden units in training
only (pass `dbn.updates`, the random draws, to the optimizer).

    python examples/dbn-mnist.py --epochs 20
    python examples/dbn-mnist.py --layer-sizes 500 500 --dropout-rate 0.2
    python examples/dbn-mnist.py --epochs 1 --subset 1000     # a quick look
"""
import numpy

from DL import datasets
from DL.backend import theano, T
from DL.models.DBN import DBN
from DL.optimizers.rmsprop import rmsprop_tieleman
from DL.utils import flatten, load_data

from _common import first_examples, report, training_arguments

parser = training_arguments(__doc__, epochs=20, batch_size=20, L2=1e-4)
parser.add_argument("--layer-sizes", type=int, nargs="+", default=[200, 200, 200],
                    help="hidden layer sizes (default 200 200 200)")
parser.add_argument("--dropout-rate", type=float, default=0.0,
                    help="probability of dropping a hidden unit in training (default 0)")
parser.add_argument("--learning-rate", type=float, default=0.001, help="RMSprop's step size (default 0.001)")
args = parser.parse_args()

mnist = first_examples(datasets.mnist(), args.subset)  # [train, valid, test], each [x, t]
dataset = load_data(mnist)                              # to shared variables, once

x = T.matrix("x")   # (n_examples, 784) pixels in [0, 1]
t = T.ivector("t")  # (n_examples,) digits
dbn = DBN(rng=numpy.random.RandomState(args.seed), input=x, n_in=28 * 28, n_out=10,
          layer_sizes=args.layer_sizes, dropout_rate=args.dropout_rate)
cost = dbn.loss(t) + args.L1 * dbn.L1 + args.L2 * dbn.L2_sqr

result = rmsprop_tieleman(dataset=dataset, inputs=[x, t], cost=cost, params=flatten(dbn.params),
                          errors=dbn.errors(t), updates=dbn.updates, learning_rate=args.learning_rate,
                          n_epochs=args.epochs, batch_size=args.batch_size, patience=args.patience)

if args.plot:
    from DL import viz  # only when asked: it draws with matplotlib
    viz.plot_history(result.history, args.plot)

predict = theano.function([x], dbn.pred)
report(predict, mnist, result.test_loss)
