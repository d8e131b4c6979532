#!/usr/bin/env python
"""Train an MLP on MNIST and save its parameters; mlp-mnist-load.py reads them back.

DL.io.save writes the nested `mlp.params` and a few facts about the model
(its sizes, the test error measured here) to an .npz file, atomically and
without pickles.  A model rebuilt with `params=` predicts exactly the same.

    python examples/mlp-mnist-save.py --epochs 20 --out mlp-mnist.npz
    python examples/mlp-mnist-load.py --model mlp-mnist.npz
"""
import numpy

from DL import datasets, io
from DL.backend import theano, T
from DL.models.MLP import MLP
from DL.optimizers import optimize
from DL.updates import rules
from DL.utils import flatten, load_data

from _common import first_examples, report, training_arguments

parser = training_arguments(__doc__, epochs=20, batch_size=20, L2=1e-4)
parser.add_argument("--n-hidden", type=int, default=500, help="hidden units (default 500)")
parser.add_argument("--activation", default="tanh", help="hidden units' activation (default tanh)")
parser.add_argument("--optimizer", default="rmsprop_tieleman", choices=sorted(rules),
                    help="update rule, with its default settings (default rmsprop_tieleman)")
parser.add_argument("--out", default="mlp-mnist.npz", help="where to save (default mlp-mnist.npz)")
args = parser.parse_args()

mnist = first_examples(datasets.mnist(), args.subset)  # [train, valid, test], each [x, t]
dataset = load_data(mnist)                              # to shared variables, once

x = T.matrix("x")   # (n_examples, 784) pixels in [0, 1]
t = T.ivector("t")  # (n_examples,) digits
shape = dict(n_in=28 * 28, n_hidden=args.n_hidden, n_out=10, activation=args.activation)
mlp = MLP(rng=numpy.random.RandomState(args.seed), input=x, **shape)
cost = mlp.loss(t) + args.L1 * mlp.L1 + args.L2 * mlp.L2_sqr

result = optimize(dataset=dataset, inputs=[x, t], cost=cost, params=flatten(mlp.params),
                  errors=mlp.errors(t), optimizer=args.optimizer, n_epochs=args.epochs,
                  batch_size=args.batch_size, patience=args.patience)

if args.plot:
    from DL import viz  # only when asked: it draws with matplotlib
    viz.plot_history(result.history, args.plot)

# optimize() restored the best validation parameters; those are what we save.
io.save(args.out, mlp.params, test_error=result.test_loss, subset=args.subset,
        optimizer=args.optimizer, epochs=result.epochs, **shape)
print("saved the parameters to", args.out)

predict = theano.function([x], mlp.pred)
report(predict, mnist, result.test_loss)
