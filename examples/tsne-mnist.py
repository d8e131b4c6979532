#!/usr/bin/env python
"""A t-SNE map of what an MLP's hidden layer learned about MNIST digits.

Train an MLP 784-500-10 briefly (RMSprop), compute its hidden layer

    h = tanh(x W_h + b_h)        x (n_examples, 784) -> h (n_examples, 500)

for the first --points test digits (no dropout: the deterministic path), and
draw h in two dimensions with t-SNE, one colour per digit.  Digits the network
tells apart form separate islands; islands that touch show what it confuses.

It prints how often a digit's 5 nearest neighbours share its label, in the
raw pixels, in the hidden layer and in the map: training should raise it.

    python examples/tsne-mnist.py --epochs 5 --out tsne-mnist.png
    python examples/tsne-mnist.py --epochs 1 --subset 1000 --points 200   # a quick look
"""
import numpy

from DL import datasets, viz
from DL.backend import theano, T
from DL.models.MLP import MLP
from DL.optimizers.rmsprop import rmsprop_tieleman
from DL.utils import flatten, load_data

from _common import first_examples, training_arguments

parser = training_arguments(__doc__, epochs=5, batch_size=20, L2=1e-4)
parser.add_argument("--n-hidden", type=int, default=500, help="hidden units (default 500)")
parser.add_argument("--learning-rate", type=float, default=0.001, help="RMSprop's step size (default 0.001)")
parser.add_argument("--points", type=int, default=2000,
                    help="map the first N test digits (default 2000; fewer if the test set is smaller)")
parser.add_argument("--perplexity", type=float, default=30.0, help="t-SNE's perplexity (default 30)")
parser.add_argument("--out", metavar="PATH", default="tsne-mnist.png", help="the map (default tsne-mnist.png)")
args = parser.parse_args()

mnist = first_examples(datasets.mnist(), args.subset)  # [train, valid, test], each [x, t]
dataset = load_data(mnist)

x = T.matrix("x")   # (n_examples, 784) pixels in [0, 1]
t = T.ivector("t")  # (n_examples,) digits
mlp = MLP(rng=numpy.random.RandomState(args.seed), input=x,
          n_in=28 * 28, n_hidden=args.n_hidden, n_out=10)
cost = mlp.loss(t) + args.L1 * mlp.L1 + args.L2 * mlp.L2_sqr

result = rmsprop_tieleman(dataset=dataset, inputs=[x, t], cost=cost, params=flatten(mlp.params),
                          errors=mlp.errors(t), learning_rate=args.learning_rate, n_epochs=args.epochs,
                          batch_size=args.batch_size, patience=args.patience)
if args.plot:
    viz.plot_history(result.history, args.plot)

hidden = theano.function([x], mlp.hiddenLayer.apply(x, train=False))  # (n, 784) -> (n, n_hidden)
test_x, test_t = mnist[2]
pixels, digits = test_x[:args.points], test_t[:args.points]
features = hidden(pixels)

title = "MLP hidden layer (%d units), %d MNIST test digits" % (args.n_hidden, len(digits))
points = viz.embedding_map(features, digits, args.out, perplexity=args.perplexity, seed=args.seed,
                           title=title)
for name, space in (("pixels", pixels), ("hidden layer", features), ("t-SNE map", points)):
    print("5 nearest neighbours with the same digit, %-12s: %.1f %%"
          % (name, 100 * viz.neighbour_agreement(space, digits, k=5)))
print("test error: %.3f %%" % (100 * result.test_loss))
print("map written to %s" % args.out)
