#!/usr/bin/env python
"""Test error of the MLP 784-500-10 (tanh, softmax) on MNIST, against issue 2's targets.

    rmsprop_tieleman,   at most 1.9 % test error within 20 epochs.  Settings of
    adadelta            Zeiler's Adadelta paper (2012) for MNIST: minibatches
                        of 100, no penalty; each rule at its usual defaults
                        (RMSprop 0.001, rho 0.9; Adadelta 1.0, rho 0.95, 1e-6).
    sgd                 the deeplearning.net tutorial's settings (learning rate
                        0.01, L2 1e-4, minibatches of 20, no momentum): at most
                        2.2 %.  The tutorial allows up to 1000 epochs; the
                        table says how many this run used.

Every run: the same initial weights (--seed), cost = NLL (+ the L2 penalty),
early stopping as optimize() does it by default (patience 10000 minibatches,
doubled on each clear improvement; validation once an epoch), and the
parameters of the best validation error restored before testing.  Test error
is over all 10000 test digits.

    python benchmarks/mnist_accuracy.py                         # all three, 20 epochs each
    python benchmarks/mnist_accuracy.py --runs sgd --epochs 150
    python benchmarks/mnist_accuracy.py --epochs 20 sgd=150     # a budget per run
"""
import argparse
import os
import platform
import sys
import time

# Minibatches of 20 are too small for BLAS threads to help, and on a shared
# machine OpenBLAS's waiting threads made each step up to 50 times slower
# (measured here: 0.7 ms against 39 ms of CPU a step).  Set the variable to
# choose otherwise.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy  # noqa: E402  (after the thread setting, which numpy reads on import)

from DL import datasets  # noqa: E402
from DL.backend import T, config, theano  # noqa: E402
from DL.models.MLP import MLP  # noqa: E402
from DL.optimizers import optimize  # noqa: E402
from DL.utils import flatten, load_data  # noqa: E402

RUNS = {  # name: (target test error in %, minibatch size, L2 weight, the update rule's settings)
    "rmsprop_tieleman": (1.9, 100, 0.0, dict(optimizer="rmsprop_tieleman", learning_rate=0.001, rho=0.9, epsilon=1e-6)),
    "adadelta": (1.9, 100, 0.0, dict(optimizer="adadelta", learning_rate=1.0, rho=0.95, epsilon=1e-6)),
    "sgd": (2.2, 20, 1e-4, dict(optimizer="sgd", learning_rate=0.01, momentum=0.0)),
}


def epoch_budgets(items, runs):
    """'20' sets every run's budget, 'sgd=150' one run's: {name: epochs}."""
    budgets = dict.fromkeys(runs, 20)
    for item in items:
        name, _, value = item.rpartition("=")
        if name and name not in RUNS:
            raise SystemExit("--epochs: unknown run %r; the runs are %s" % (name, ", ".join(RUNS)))
        if not value.isdigit() or int(value) < 1:
            raise SystemExit("--epochs: %r is not a positive number of epochs (N or NAME=N)" % item)
        for run in ([name] if name else runs):
            budgets[run] = int(value)
    return {run: budgets[run] for run in runs}


def train(name, epochs, dataset, seed, patience, verbose):
    """Train a fresh MLP with run `name`; one row of the table."""
    target, batch_size, L2, rule = RUNS[name]
    x = T.matrix("x")
    t = T.ivector("t")
    mlp = MLP(rng=numpy.random.RandomState(seed), input=x, n_in=28 * 28, n_hidden=500, n_out=10)
    result = optimize(dataset=dataset, inputs=[x, t], cost=mlp.loss(t) + L2 * mlp.L2_sqr,
                      params=flatten(mlp.params), errors=mlp.errors(t), n_epochs=epochs,
                      batch_size=batch_size, patience=patience, progress=sys.stderr.isatty(),
                      verbose=verbose, **rule)
    test_error = 100 * result.test_loss
    return dict(run=name, batch="%d" % batch_size, L2="%g" % L2,
                epochs="%d of %d (%s)" % (result.epochs, epochs, result.stopped),
                best_epoch=next((r["epoch"] for r in result.history if r["iteration"] == result.best_iteration), "-"),
                valid="%.2f %%" % (100 * result.best_valid_error), test="%.2f %%" % test_error,
                target="<= %.1f %%" % target, verdict="pass" if test_error <= target else "FAIL",
                train_s="%.0f" % result.train_seconds, compile_s="%.1f" % result.compile_seconds)


COLUMNS = [("run", "optimizer"), ("batch", "batch"), ("L2", "L2"),
           ("epochs", "epochs run (stopped by)"), ("best_epoch", "best epoch"),
           ("valid", "best valid error"), ("test", "test error"), ("target", "target"),
           ("verdict", "pass/fail"), ("train_s", "train s"), ("compile_s", "compile s")]


def print_table(rows):
    widths = [max(len(title), *(len(str(row[key])) for row in rows)) for key, title in COLUMNS]
    print("| " + " | ".join(title.ljust(w) for (_, title), w in zip(COLUMNS, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(row[key]).ljust(w) for (key, _), w in zip(COLUMNS, widths)) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", choices=list(RUNS), default=list(RUNS),
                        help="which runs, in order (default: all)")
    parser.add_argument("--epochs", nargs="+", default=["20"], metavar="N|NAME=N",
                        help="epoch budget for every run, or for one (sgd=150); default 20")
    parser.add_argument("--patience", type=int, default=10000,
                        help="minibatches before early stopping may stop (default 10000, optimize's)")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--quiet", action="store_true", help="no line per validation")
    args = parser.parse_args()
    budgets = epoch_budgets(args.epochs, args.runs)

    print("MLP 784-500-10 on MNIST; %s %s, floatX %s, linker %s; Python %s; %s cores, load average %s; "
          "OPENBLAS_NUM_THREADS=%s" % (theano.__name__, theano.__version__, config.floatX, config.linker,
                                       platform.python_version(), os.cpu_count(),
                                       " ".join("%.1f" % v for v in os.getloadavg()),
                                       os.environ.get("OPENBLAS_NUM_THREADS", "(unset)")))
    print("command: python " + " ".join(sys.argv))
    dataset = load_data(datasets.mnist())
    rows = []
    for name in args.runs:
        start = time.time()
        rows.append(train(name, budgets[name], dataset, args.seed, args.patience, not args.quiet))
        print("%s finished in %.0f s" % (name, time.time() - start), flush=True)
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
