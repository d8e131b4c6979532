"""What the MNIST examples share: their command-line flags, a subset for quick
runs, and what they print at the end.

The last line every example prints is `test error: 1.234 %`, so scripts and
tests can read the result.
"""
import argparse


def _at_least(minimum):
    def parse(text):
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError("must be an integer >= %d, got %s" % (minimum, text))
        return value
    return parse


def data_arguments(description):
    """A parser with --subset, the flag every MNIST example takes."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subset", type=_at_least(5), default=None, metavar="N",
                        help="use only the first N training examples and N/5 validation and "
                             "test examples (quick runs); default: all of MNIST")
    return parser


def training_arguments(description, epochs=20, batch_size=20, L2=1e-4):
    """A parser with the flags of a training run; add the model's and the rule's own."""
    parser = data_arguments(description)
    parser.add_argument("--epochs", type=_at_least(1), default=epochs,
                        help="at most this many epochs; early stopping may end sooner (default %d)" % epochs)
    parser.add_argument("--batch-size", type=_at_least(1), default=batch_size,
                        help="examples per minibatch (default %d)" % batch_size)
    parser.add_argument("--patience", type=_at_least(1), default=10000,
                        help="minibatches to train at least before early stopping (default 10000)")
    parser.add_argument("--L1", type=float, default=0.0, help="weight of the L1 penalty (default 0)")
    parser.add_argument("--L2", type=float, default=L2, help="weight of the L2 penalty (default %g)" % L2)
    parser.add_argument("--seed", type=int, default=1234, help="seed of the weight initialization")
    parser.add_argument("--plot", metavar="PATH", default=None,
                        help="save the training curves to PATH (e.g. history.png)")
    return parser


def first_examples(mnist, n):
    """The first n training examples and the first n/5 validation and test examples."""
    if n is None:
        return mnist
    sizes = (n, n // 5, n // 5)
    return [[array[:size] for array in data_set] for data_set, size in zip(mnist, sizes)]


def report(predict, mnist, test_error):
    """Predictions for the first 10 test digits, then the test error line."""
    test_x, test_t = mnist[2]
    print("predict:", predict(test_x[:10]))
    print("answer: ", test_t[:10])
    print("test error: %.3f %%" % (100 * test_error))
