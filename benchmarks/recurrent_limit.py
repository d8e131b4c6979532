#!/usr/bin/env python
"""The physical limit of a recurrent training step on this CPU: its matrix products' FLOPs
against one core's single-precision GEMM rate, measured.

A training step of compare.py's recurrent workloads (embedding -> LSTM or GRU -> mean
over the steps -> softmax 2) does six products of the same size, whatever the library:

    forward   x W (the input part, all steps at once)      and h_{t-1} U at every step
    backward  dA U^T at every step (dh_{t-1}),  dU = sum_t h_{t-1}^T dA_t,
              dW = x^T dA,  dx = dA W^T (into the word vectors)

each 2 n_examples n_steps n_in_or_units (gates n_units) FLOPs, gates = 4 (LSTM) or
3 (GRU; its h_{t-1} U is two products, [z, r] then g, of the same total size).
Everything else (gates' arithmetic, the embedding's gradient, the update rule) is
elementwise.  So a step can take no less than FLOPs / GEMM rate.  Two rates:

    peak      a large product (2048 x 2048 x 2048), one thread: the best OpenBLAS does here
    shapes    the step's own products at their sizes (per-step products of n_examples
              rows are smaller and slower), timed one by one: the floor a library
              using this BLAS can reach, if all its elementwise work were free

Columns: the step's GEMM GFLOP, the floor in ms at each rate, the examples a second
that floor allows, and (with --dl) DL's own step, timed as compare.py times it,
with the share of it the products take, its minor page faults a step and the share of
its time spent in the kernel (DL_MALLOC_TUNING=0 shows them without DL's heap reserve).

    python benchmarks/recurrent_limit.py --native-openblas [--dl] [--workloads lstm64]
"""
import argparse
import os
import time

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--native-openblas", action="store_true",
                    help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (benchmarks/README.md)")
parser.add_argument("--dl", action="store_true", help="also time DL's training step at each shape")
parser.add_argument("--repeats", type=int, default=10, help="timed calls of each product or step (median)")
parser.add_argument("--workloads", default="", help="only these, e.g. lstm64,gru64 (default: all six)")
args = parser.parse_args()
if args.native_openblas:
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(name, None)
os.environ["OPENBLAS_NUM_THREADS"] = "1"  # one core: the rate of one thread

import resource  # noqa: E402
import statistics  # noqa: E402

import numpy  # noqa: E402

from _table import print_table  # noqa: E402

# (workload, cell, n_examples, n_steps, n_embedding = n_units): compare.py's workloads
SHAPES = [("lstm16", "lstm", 16, 100, 128), ("lstm64", "lstm", 64, 100, 128), ("lstm32x400", "lstm", 32, 400, 64),
          ("gru16", "gru", 16, 100, 128), ("gru64", "gru", 64, 100, 128), ("gru32x400", "gru", 32, 400, 64)]
GATES = {"lstm": 4, "gru": 3}


def seconds(call, repeats):
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def product_seconds(m, k, n, repeats, count=1):
    """One (m x k) (k x n) float32 product, `count` times in a row (the per-step loop)."""
    rng = numpy.random.RandomState(0)
    a, b = rng.rand(m, k).astype("float32"), rng.rand(k, n).astype("float32")
    out = numpy.empty((m, n), "float32")

    def run():
        for _ in range(count):
            numpy.dot(a, b, out)
    return seconds(run, repeats)


def step_products(gates, n_examples, n_steps, n_units):
    """The step's products as (m, k, n, count): the hoisted ones once, the recurrent ones a step each."""
    rows, width = n_examples * n_steps, gates * n_units
    return [(rows, n_units, width, 1),                # x W
            (n_examples, n_units, width, n_steps),    # h_{t-1} U
            (n_examples, width, n_units, n_steps),    # dA U^T
            (n_units, rows, width, 1),                # dU = h^T dA
            (n_units, rows, width, 1),                # dW = x^T dA
            (rows, width, n_units, 1)]                # dx = dA W^T


def dl_step_seconds(cell, n_examples, n_steps, n_units, repeats):
    """DL's training step on compare.py's model at these sizes (random word ids, all real)."""
    from DL.backend import T, while_training
    from DL.models.EmbeddingLayer import EmbeddingLayer
    from DL.models.GRU import GRU
    from DL.models.HiddenLayer import HiddenLayer
    from DL.models.LSTM import LSTM
    from DL.models.base import Model
    from DL.optimizers import training
    from DL.pooling import mean_pool
    from DL import updates
    from DL.utils import flatten, load_data
    rng = numpy.random.RandomState(1)
    ids = rng.randint(0, 10000, (2 * n_examples, n_steps)).astype("int64")
    data = (ids, numpy.ones(ids.shape, "float32"), rng.randint(0, 2, 2 * n_examples).astype("int64"))
    x, mask, t = T.lmatrix("ids"), T.matrix("mask"), T.lvector("t")
    embedding = EmbeddingLayer(rng, x, 10000, n_units)
    layer = (LSTM if cell == "lstm" else GRU)(rng, embedding.output, mask, n_units)
    classifier = HiddenLayer(rng, mean_pool(layer.output, mask), n_units, 2, activation="softmax")
    model = Model()
    model.layers, model.outputActivation = [embedding, layer, classifier], "softmax"
    model.output, model.output_deterministic = classifier.output, classifier.output_deterministic
    train = training.compile_training(load_data([data] * 3), [x, mask, t], model.loss(t), flatten(model.params),
                                      model.errors(t), n_examples, updates.get("adadelta"), {}, model.updates,
                                      None, None, guard=True)[0]
    with while_training() as heap:
        for _ in range(3):  # the first call (it loads the compiled code), and the reserve settling
            heap.run(train, 0)
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        step = seconds(lambda: heap.run(train, 0), repeats)
        after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - start
    return step, (after.ru_minflt - before.ru_minflt) / (repeats + 1), (after.ru_stime - before.ru_stime) / wall


peak_gflops = 2 * 2048 ** 3 / product_seconds(2048, 2048, 2048, 3) / 1e9
rows = []
for name, cell, n_examples, n_steps, n_units in SHAPES:
    if args.workloads and name not in args.workloads.split(","):
        continue
    products = step_products(GATES[cell], n_examples, n_steps, n_units)
    gflop = sum(2 * m * k * n * count for m, k, n, count in products) / 1e9
    at_shapes = sum(product_seconds(m, k, n, args.repeats, count) for m, k, n, count in products)
    floor_peak = gflop / peak_gflops
    row = [name, "%d x %d x %d" % (n_examples, n_steps, n_units), "%.2f" % gflop,
           "%.1f" % (1000 * floor_peak), "%.1f (%.0f GFLOP/s)" % (1000 * at_shapes, gflop / at_shapes),
           "%.0f" % (n_examples / at_shapes)]
    if args.dl:
        step, faults, system = dl_step_seconds(cell, n_examples, n_steps, n_units, args.repeats)
        row += ["%.1f" % (1000 * step), "%.0f" % (n_examples / step), "%.0f %%" % (100 * at_shapes / step),
                "%.0f" % faults, "%.1f %%" % (100 * system)]
    rows.append(row)
print("one core, float32: peak GEMM rate %.1f GFLOP/s (2048 x 2048 x 2048)" % peak_gflops)
header = ["workload", "examples x steps x units", "GEMM GFLOP a step", "floor at peak, ms",
          "floor at the step's shapes, ms", "examples/s at that floor"]
if args.dl:
    header += ["DL's step, ms", "DL examples/s", "products' share of DL's step", "page faults a step",
               "system time"]
print_table(header, rows)
