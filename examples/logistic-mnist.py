#!/usr/bin/env python
"""Multiclass logistic regression on MNIST, as in the deeplearning.net tutorial.

    p(y = k | x) = softmax(x W + b)_k

trained by stochastic gradient descent with the tutorial's settings: learning
rate 0.13, minibatches of 600, no penalty (about 7.5 % test error after some
70 epochs).

    python examples/logistic-mnist.py --epochs 75
    python examples/logistic-mnist.py --epochs 1 --subset 1000 --batch-size 20   # a quick look
"""
import numpy

from DL import datasets
from DL.backend import theano, T
from DL.models.LogisticRegression import LogisticRegression
from DL.optimizers.sgd import sgd
from DL.utils import flatten, load_data

from _common import first_examples, report, training_arguments

parser = training_arguments(__doc__, epochs=75, batch_size=600, L2=0.0)
parser.add_argument("--learning-rate", type=float, default=0.13, help="step size (default 0.13)")
args = parser.parse_args()

mnist = first_examples(datasets.mnist(), args.subset)  # [train, valid, test], each [x, t]
dataset = load_data(mnist)                              # to shared variables, once

x = T.matrix("x")   # (n_examples, 784) pixels in [0, 1]
t = T.ivector("t")  # (n_examples,) digits
classifier = LogisticRegression(rng=numpy.random.RandomState(args.seed), input=x, n_in=28 * 28, n_out=10)
cost = classifier.loss(t) + args.L1 * classifier.L1 + args.L2 * classifier.L2_sqr

result = sgd(dataset=dataset, inputs=[x, t], cost=cost, params=flatten(classifier.params),
             errors=classifier.errors(t), learning_rate=args.learning_rate, momentum=0,
             n_epochs=args.epochs, batch_size=args.batch_size, patience=args.patience)

if args.plot:
    from DL import viz  # only when asked: it draws with matplotlib
    viz.plot_history(result.history, args.plot)

predict = theano.function([x], classifier.pred)
report(predict, mnist, result.test_loss)
