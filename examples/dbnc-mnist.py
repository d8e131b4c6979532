#!/usr/bin/env python
"""A column DBN on MNIST: parallel nets per stage, pooled by a max over columns.

Each stage holds `--n-parallel` ForwardFeed columns of the same sizes; the
stage's output is, unit by unit, the largest of its columns' outputs.  The
original package's settings were two stages [10, 10, 500] of 50 columns with
dropout 0.1 and SGD (its note: slow to compile, no better than a DBN).  DL
computes all columns at one depth as one batched product, so those 300 dense
layers are 6 products and compile in seconds (benchmarks/dbnc_startup.py
times them); benchmarks/state_estimators.py compares DBNC and DBN at equal
weights.

    python examples/dbnc-mnist.py --epochs 20
    python examples/dbnc-mnist.py --ff-sizes 10,10,500 10,10,500 --n-parallel 50 --dropout-rate 0.1
    python examples/dbnc-mnist.py --epochs 1 --subset 1000     # a quick look
"""
import numpy

from DL import datasets
from DL.backend import theano, T
from DL.models.DBNC import DBNC
from DL.optimizers.sgd import sgd
from DL.utils import flatten, load_data

from _common import first_examples, report, training_arguments


def sizes(text):
    """'10,10,500' -> [10, 10, 500]: the layer sizes of one stage's columns."""
    return [int(size) for size in text.split(",")]


parser = training_arguments(__doc__, epochs=20, batch_size=50, L2=1e-4)
parser.add_argument("--ff-sizes", type=sizes, nargs="+", default=[[100]], metavar="N,N,...",
                    help="each stage's column layer sizes (default: one stage, 100)")
parser.add_argument("--n-parallel", type=int, default=5, help="columns per stage (default 5)")
parser.add_argument("--dropout-rate", type=float, default=0.0, help="dropout of hidden units (default 0)")
parser.add_argument("--learning-rate", type=float, default=0.01, help="SGD step size (default 0.01)")
parser.add_argument("--momentum", type=float, default=0.2, help="classic momentum (default 0.2)")
args = parser.parse_args()

mnist = first_examples(datasets.mnist(), args.subset)  # [train, valid, test], each [x, t]

x = T.matrix("x")   # (n_examples, 784) pixels in [0, 1]
t = T.ivector("t")  # (n_examples,) digits
dbnc = DBNC(rng=numpy.random.RandomState(args.seed), input=x, n_in=28 * 28, n_out=10,
            ff_sizes=args.ff_sizes, n_parallel=args.n_parallel, dropout_rate=args.dropout_rate)
cost = dbnc.loss(t) + args.L1 * dbnc.L1 + args.L2 * dbnc.L2_sqr

result = sgd(dataset=load_data(mnist), inputs=[x, t], cost=cost, params=flatten(dbnc.params),
             errors=dbnc.errors(t), updates=dbnc.updates, learning_rate=args.learning_rate,
             momentum=args.momentum, n_epochs=args.epochs, batch_size=args.batch_size, patience=args.patience)

if args.plot:
    from DL import viz  # only when asked: it draws with matplotlib
    viz.plot_history(result.history, args.plot)

predict = theano.function([x], dbnc.pred)
report(predict, mnist, result.test_loss)
