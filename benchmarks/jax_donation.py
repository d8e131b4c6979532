#!/usr/bin/env python
"""A JAX step with and without donating the updated values (DL.engine.jax_linker, item 5).

DL's JAX functions donate the values they update (parameters, optimizer state) to
the program, so XLA writes the new values into the old memory: by default in graphs
without a loop, everywhere with `DL_JAX_DONATE=1`, nowhere with `DL_JAX_DONATE=0`
(new memory at every step, as PyTensor's JAX linker does).  This script trains a
case of benchmarks/startup.py (default the MLP 784-500-10, adadelta, minibatches
of 20) in fresh child processes, one at a time, alternating

    JAX donated      DL_MODE=JAX DL_JAX_DONATE=1
    JAX not donated  DL_MODE=JAX DL_JAX_DONATE=0
    NUMBA            DL_MODE=NUMBA (DL's default engine, for scale)

for --rounds rounds, each child on the same warm caches (a first, untimed round
fills them).  A child takes --settle untimed steps (JAX's first few dozen run
slower), then times --steps steps; the table gives each child's 10th, 50th and 90th
percentile of a step in ms, and under it the median over the rounds of each
side's median and the ratios.

    python benchmarks/jax_donation.py --native-openblas
    python benchmarks/jax_donation.py --case lstm --steps 100 --rounds 2
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

from _child import cache_env, run_child
from _table import print_table
from startup import BUILT, build

SIDES = {"JAX donated": ("JAX", "1"), "JAX not donated": ("JAX", "0"), "NUMBA": ("NUMBA", None)}


def measure(case, mode, settle, steps):
    """In this fresh child: the 10th, 50th and 90th percentile of a training step, in ms."""
    import numpy
    from DL.backend import T, floatX, shared, while_training
    from DL.optimizers.compiling import compile_functions
    dataset, inputs, cost, params, errors, rule, options, batch_size, extra = build(case, numpy, T, shared, floatX)
    functions = compile_functions(dataset, inputs, cost, params, errors, batch_size=batch_size, rule=rule,
                                  rule_options=options, extra_updates=extra, mode=mode)
    full_batches = functions.sizes[0] // batch_size  # one minibatch shape: JAX traces no other
    times = []
    with while_training():  # as optimize trains
        for step in range(settle + steps):
            start = time.perf_counter()
            functions.train(step % full_batches)
            times.append(time.perf_counter() - start)
    return dict(zip(("p10", "p50", "p90"), (1000 * numpy.percentile(times[settle:], [10, 50, 90])).tolist()))


def child(side, case, cache, args):
    mode, donate = SIDES[side]
    env = cache_env(cache, args.native_openblas)
    env["DL_MODE"] = mode
    env.pop("DL_JAX_DONATE", None)
    if donate is not None:
        env["DL_JAX_DONATE"] = donate
    return run_child(__file__, ":".join([case, mode, str(args.settle), str(args.steps)]), env)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=BUILT, default="mlp")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settle", type=int, default=100, help="untimed steps first")
    parser.add_argument("--steps", type=int, default=300, help="timed steps")
    parser.add_argument("--native-openblas", action="store_true",
                        help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for the children (benchmarks/README.md)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, mode, settle, steps = args.child.split(":")
        print(json.dumps(measure(case, mode, int(settle), int(steps))))
        return

    print("machine: %d cores, load average %s (at the start)" % (os.cpu_count(), " ".join(
        "%.1f" % v for v in os.getloadavg())))
    print("command: python " + " ".join(sys.argv))
    rows, medians = [], {side: [] for side in SIDES}
    with tempfile.TemporaryDirectory(prefix="dl-donation-") as cache:
        for side in SIDES:  # fills the caches: compile time is not what this measures
            child(side, args.case, cache, args)
        for round_ in range(1, args.rounds + 1):
            for side in SIDES:
                ms = child(side, args.case, cache, args)
                medians[side].append(ms["p50"])
                rows.append([str(round_), side] + ["%.3f" % ms[p] for p in ("p10", "p50", "p90")])
                print("  round %d, %s: %.3f ms" % (round_, side, ms["p50"]), flush=True)
    print()
    print_table(["round", "side", "p10 ms", "p50 ms", "p90 ms"], rows)
    typical = {side: statistics.median(values) for side, values in medians.items()}
    print()
    print("median over the rounds: " + ", ".join("%s %.3f ms" % item for item in typical.items()))
    print("not donated / donated: %.2f; JAX donated / NUMBA: %.2f; JAX not donated / NUMBA: %.2f" % (
        typical["JAX not donated"] / typical["JAX donated"], typical["JAX donated"] / typical["NUMBA"],
        typical["JAX not donated"] / typical["NUMBA"]))


if __name__ == "__main__":
    main()
