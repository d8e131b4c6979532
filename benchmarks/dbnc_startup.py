#!/usr/bin/env python
"""How long a DBNC takes to start and to train an epoch on MNIST (issue 15 item 5, issue 16).

Two configurations, each in a fresh process:

    original   the original package's dbnc-mnist.py: ff_sizes [[10, 10, 500], [10, 10, 500]],
               50 columns (50 columns x 2 stages x 3 layers = 300 dense layers), dropout 0.1,
               SGD 0.01 with momentum 0.2, L2 1e-4, minibatches of 50
    5 columns  examples/dbnc-mnist.py's default: ff_sizes [[100]], 5 columns, no dropout,
               the same rule and minibatches

Columns are batched (all columns at one depth one product), so the first has 6
products where the per-column code had 300 dense layers.  For each the table
gives: building the model's graph; compiling optimize()'s three functions
(`compile_functions`: train, validate, test over a minibatch index); the
first call of the train function (where PyTensor's Numba linker compiles
machine code) and of the validation function; one epoch of training (all 1000
minibatches of the 50000 training digits), a pass over the 10000 validation
digits, and the validation error after that epoch.

    cache    'warm': the user's engine cache (whatever earlier runs left in it);
             'cold': a new, empty one (PYTENSOR_FLAGS=base_compiledir=<tmp>, NUMBA_CACHE_DIR)

    DL_DATA_DIR=/work/shared/data python benchmarks/dbnc_startup.py
    python benchmarks/dbnc_startup.py --configs original --cache cold warm

Each time is printed as "wall (CPU)" seconds of this process: the machine these
figures come from is shared, so wall-clock times move with its load; CPU times
move less.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

from _child import child_env
from _table import print_table

CONFIGS = {
    "original": dict(ff_sizes=[[10, 10, 500], [10, 10, 500]], n_parallel=50, dropout_rate=0.1),
    "5 columns": dict(ff_sizes=[[100]], n_parallel=5, dropout_rate=0.0),
}
BATCH_SIZE, LEARNING_RATE, MOMENTUM, L2 = 50, 0.01, 0.2, 1e-4


class Clock(object):
    """Wall-clock and CPU seconds of each named step: `with clock("epoch"): ...`."""

    def __init__(self):
        self.seconds = {}

    def __call__(self, name):
        self.name = name
        return self

    def __enter__(self):
        self.start = (time.time(), time.process_time())

    def __exit__(self, *exc):
        self.seconds[self.name] = (time.time() - self.start[0], time.process_time() - self.start[1])


def measure(config):
    """In this (fresh) process: the (wall, CPU) seconds of each step, as a dict."""
    clock = Clock()
    with clock("import"):
        import numpy
        from DL import datasets, updates
        from DL.backend import T
        from DL.models.DBNC import DBNC
        from DL.optimizers.training import compile_functions, set_error
        from DL.utils import flatten, load_data
    mnist = datasets.mnist()
    dataset = load_data(mnist)

    with clock("graph"):
        x, t = T.matrix("x"), T.ivector("t")
        dbnc = DBNC(numpy.random.RandomState(1234), x, 28 * 28, 10, **CONFIGS[config])
        cost = dbnc.loss(t) + L2 * dbnc.L2_sqr
    with clock("compile"):
        train, error_functions, _ = compile_functions(
            dataset, [x, t], cost, flatten(dbnc.params), dbnc.errors(t), BATCH_SIZE,
            updates.get("momentum"), dict(learning_rate=LEARNING_RATE, momentum=MOMENTUM),
            extra_updates=dbnc.updates)
    with clock("first train"):
        train(0)
    with clock("first valid"):
        error_functions["valid"](0)
    with clock("epoch"):
        for i in range(len(mnist[0][0]) // BATCH_SIZE):
            train(i)
    with clock("valid pass"):
        error = set_error(error_functions["valid"], len(mnist[1][0]), BATCH_SIZE)
    return dict(clock.seconds, **{"valid error": error})


def run_child(config, cache):
    start = time.time()
    completed = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", config], env=child_env(cache),
                               capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit("the %s run failed:\n%s" % (config, completed.stderr[-3000:]))
    seconds = json.loads(completed.stdout.strip().splitlines()[-1])
    seconds["process"] = (time.time() - start, None)
    return seconds


STEPS = ["graph", "compile", "first train", "first valid", "epoch", "valid pass"]
HEADER = ["configuration", "cache", "graph s", "compile s", "first train call s", "first valid call s",
          "epoch s", "valid pass s", "valid error after 1 epoch", "whole process s"]


def row(config, cache_state, s):
    """Each step as 'wall (CPU)' seconds: on a shared machine the CPU time is the steadier."""
    return ([config, cache_state] + ["%.1f (%.1f)" % tuple(s[step]) for step in STEPS]
            + ["%.2f %%" % (100 * s["valid error"]), "%.0f" % s["process"][0]])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--cache", nargs="+", default=["warm"], choices=["warm", "cold"],
                        help="'warm': the user's engine cache; 'cold': a new empty one (default: warm)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return

    from DL.backend import config, theano  # to report the version; the children do the work
    print("DBNC on MNIST; %s %s, default linker %s; %s cores, load average %s (a shared machine)"
          % (theano.__name__, theano.__version__, config.linker, os.cpu_count(),
             " ".join("%.1f" % v for v in os.getloadavg())))
    print("command: python " + shlex.join(sys.argv))
    rows = []
    for name in args.configs:
        with tempfile.TemporaryDirectory(prefix="dl-dbnc-cache-") as folder:
            for cache_state in args.cache:
                rows.append(row(name, cache_state, run_child(name, folder if cache_state == "cold" else None)))
                print("  %s, %s cache: done" % (name, cache_state), flush=True)
    print()
    print_table(HEADER, rows)


if __name__ == "__main__":
    main()
