#!/usr/bin/env python
"""Load an MLP saved by mlp-mnist-save.py and test it on MNIST.

DL.io.load gives back the nested parameters and the facts saved with them;
the MLP rebuilt with `params=` predicts exactly as the saved one did, so the
test error printed here is the one the saving run printed.

    python examples/mlp-mnist-save.py --epochs 20 --out mlp-mnist.npz
    python examples/mlp-mnist-load.py --model mlp-mnist.npz
"""
import numpy

from DL import datasets, io
from DL.backend import theano, T
from DL.models.MLP import MLP

from _common import data_arguments, first_examples, report

parser = data_arguments(__doc__)
parser.add_argument("--model", default="mlp-mnist.npz", help="the saved file (default mlp-mnist.npz)")
args = parser.parse_args()

params, meta = io.load(args.model)
print("loaded %s: an MLP %d-%d-%d trained with %s for %d epochs; its test error was %.3f %%"
      % (args.model, meta["n_in"], meta["n_hidden"], meta["n_out"], meta["optimizer"],
         meta["epochs"], 100 * meta["test_error"]))
if args.subset != meta["subset"]:
    print("note: the model was tested on --subset %s; this run uses --subset %s"
          % (meta["subset"], args.subset))

x = T.matrix("x")   # (n_examples, 784) pixels in [0, 1]
t = T.ivector("t")  # (n_examples,) digits
mlp = MLP(rng=numpy.random.RandomState(0), input=x, n_in=meta["n_in"], n_hidden=meta["n_hidden"],
          n_out=meta["n_out"], activation=meta["activation"], params=params)

mnist = first_examples(datasets.mnist(), args.subset)
test_x, test_t = mnist[2]
test_error = theano.function([x, t], mlp.errors(t))
predict = theano.function([x], mlp.pred)
report(predict, mnist, float(test_error(test_x, test_t.astype("int32"))))
