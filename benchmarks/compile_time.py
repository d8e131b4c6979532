#!/usr/bin/env python
"""Seconds to compile the MLP 784-500-10's three functions, with a cold and a warm cache.

optimize() compiles three functions over a minibatch index: train (cost,
gradients, the update rule), validate and test (error rate); see
`compile_functions` in DL/optimizers/training.py.  This script times that
step in fresh processes:

    cold   a new, empty engine cache (PYTENSOR_FLAGS=base_compiledir=<tmp>,
           which holds both the C modules and the numba cache, and
           NUMBA_CACHE_DIR=<tmp>/numba-internal)
    warm   a second process with the same cache folder

PyTensor's default linker here is numba, which compiles each function's
machine code lazily, on its first call; so the table shows the first call of
each function as well, and the sum of the two, which is the time a user waits
before training starts.  A later call shows the per-minibatch cost once
compiled.  Issue 2's target: under 5 s with a warm cache.

    python benchmarks/compile_time.py                     # the default mode
    python benchmarks/compile_time.py --modes default CVM # also the C virtual machine
"""
import argparse
import json
import os
import sys
import time

from _child import cold_then_warm, child_env
from _table import print_table

RULE = "rmsprop_tieleman"
FUNCTIONS = ("train", "valid", "test")


def measure(mode):
    """In this (fresh) process: time importing, compiling and the first calls; a dict."""
    start = time.time()
    import numpy
    from DL import updates
    from DL.backend import T, shared
    from DL.models.MLP import MLP
    from DL.optimizers.training import compile_functions
    from DL.utils import flatten
    seconds = {"import": time.time() - start}

    # Compiling depends on the graph, not on the data: a few random minibatches will do.
    random = numpy.random.RandomState(0)
    dataset = [[shared(random.rand(100, 784).astype("float32")),
                shared(random.randint(0, 10, 100).astype("float32"))] for _ in range(3)]
    x, t = T.matrix("x"), T.ivector("t")
    mlp = MLP(rng=random, input=x, n_in=784, n_hidden=500, n_out=10)

    start = time.time()
    train, error_functions, _ = compile_functions(
        dataset, [x, t], mlp.loss(t) + 1e-4 * mlp.L2_sqr, flatten(mlp.params), mlp.errors(t),
        batch_size=20, rule=updates.get(RULE), rule_options={},
        mode=None if mode == "default" else mode)
    seconds["compile"] = time.time() - start
    compiled = {"train": train, "valid": error_functions["valid"], "test": error_functions["test"]}
    for name in FUNCTIONS:
        start = time.time()
        compiled[name](0)
        seconds["first " + name] = time.time() - start
    start = time.time()
    for i in range(1, 5):
        compiled["train"](i)
    seconds["train call ms"] = (time.time() - start) / 4 * 1000
    return seconds


def row(mode, cache_state, s):
    first = sum(s["first " + name] for name in FUNCTIONS)
    return [mode, cache_state, "%.1f" % s["import"], "%.2f" % s["compile"],
            " / ".join("%.2f" % s["first " + name] for name in FUNCTIONS),
            "%.2f" % (s["compile"] + first), "%.2f" % s["train call ms"], "%.1f" % s["process"]]


HEADER = ["mode", "cache", "import s", "compile_functions s", "first call s (train / valid / test)",
          "compile + first calls s", "later train call ms", "whole process s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", default=["default"],
                        help="compile modes: 'default' (the engine's: numba here), NUMBA, CVM, C, ...")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return

    from DL.backend import config, theano  # to report the version; the children do the work
    print("MLP 784-500-10, rule %s, minibatches of 20; %s %s, default linker %s; %s cores, "
          "load average %s" % (RULE, theano.__name__, theano.__version__, config.linker,
                               os.cpu_count(), " ".join("%.1f" % v for v in os.getloadavg())))
    print("command: python " + " ".join(sys.argv))
    rows = []
    for mode in args.modes:
        for cache_state, seconds in cold_then_warm(__file__, mode, child_env, "dl-compile-cache-"):
            rows.append(row(mode, cache_state, seconds))
            print("  %s, %s cache: done" % (mode, cache_state), flush=True)
    print()
    print_table(HEADER, rows)


if __name__ == "__main__":
    main()
