#!/usr/bin/env python
"""Seconds from process start to the end of the first training step (issue 16 item 3).

Three cases, each in a fresh Python process, built as the examples build them
and trained by `compile_functions` with the examples' rules (what optimize runs):

    mlp    examples/mlp-mnist-adadelta.py (make mnist): MLP 784-500-10 tanh,
           adadelta, minibatches of 20
    lstm   examples/lstm-imdb.py: word ids (16, 100) -> embedding 10000 x 128 ->
           LSTM 128 -> mean over real words -> dropout -> softmax, adadelta
    use    examples/use-map1d-binary.py: USE, 5 observations, 2 actions, 50 relu
           state units, 20 steps, SGD with momentum, minibatches of 20

build() also makes two cases benchmarks/engines.py measures (--cases gru lenet here):

    gru    the lstm case with a GRU 128 in place of the LSTM
    lenet  DL.models.LeNet (the deeplearning.net tutorial's) on flat MNIST-shaped
           rows (784 floats), SGD learning rate 0.1, minibatches of 500

The data are random arrays of the examples' shapes and sizes: compiling depends
on the graph, not on the values, and reading the real files is not start-up.

    cold   a new, empty engine cache (PYTENSOR_FLAGS=base_compiledir=<tmp>: C
           modules and PyTensor's Numba cache; NUMBA_CACHE_DIR=<tmp>/numba-internal)
    warm   a second process with the same cache folder

Columns: importing DL; building the model and compiling the three functions,
and of that the time in PyTensor's graph rewrites; the first training step
(where the Numba linker compiles machine code); the sum from process start (as
the parent launched it) to the end of that step; and a later step, in ms.

--graph-cache on off runs each case with DL's cache of rewritten graphs
(DL.engine.graph_cache; a cold run stores them, a warm one loads them) and
without it (DL_GRAPH_CACHE=0: rewritten in every process, as before).

    python benchmarks/startup.py
    python benchmarks/startup.py --cases mlp --modes default JAX
    python benchmarks/startup.py --graph-cache on off
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from _child import child_env
from _table import print_table

CASES = ("mlp", "lstm", "use")  # the default
BUILT = CASES + ("gru", "lenet")  # every case build() makes


def build(case, numpy, T, shared, floatX):
    """(dataset, inputs, cost, params, errors, rule, options, batch size, extra updates) of one case."""
    from DL.utils import flatten
    rng = numpy.random.RandomState(0)

    def sets(*makers):
        return [[shared(make(n)) for make in makers] for n in (1000, 200, 200)]

    if case == "mlp":
        from DL.models.MLP import MLP
        x, t = T.matrix("x"), T.ivector("t")
        model = MLP(rng=rng, input=x, n_in=784, n_hidden=500, n_out=10)
        data = sets(lambda n: rng.rand(n, 784).astype(floatX), lambda n: rng.randint(0, 10, n).astype(floatX))
        return (data, [x, t], model.loss(t), flatten(model.params), model.errors(t), "adadelta", {}, 20, [])
    if case == "lenet":
        from DL.models.LeNet import LeNet
        x, t = T.matrix("x"), T.ivector("t")
        model = LeNet(rng=rng, input=x)
        data = sets(lambda n: rng.rand(n, 784).astype(floatX), lambda n: rng.randint(0, 10, n).astype("int32"))
        return (data, [x, t], model.loss(t), flatten(model.params), model.errors(t), "sgd", {"learning_rate": 0.1},
                500, model.updates)
    if case in ("lstm", "gru"):
        from DL.backend import RandomStreams
        from DL.dropout import dropout
        from DL.losses import nll_multiclass, pred_error, pred_multiclass
        from DL.models import GRU, EmbeddingLayer, HiddenLayer, LSTM
        from DL.pooling import mean_pool
        x, t, mask = T.lmatrix("x"), T.lvector("t"), T.matrix("mask")
        embedding = EmbeddingLayer(rng=rng, input=x, n_in=10000, n_out=128)
        layer = {"lstm": LSTM, "gru": GRU}[case]  # (a GRU's input size defaults to its n_units, as the LSTM's is)
        recurrent = layer(rng=rng, input=embedding.output, mask=mask, n_units=128, activation="tanh")
        pooled = mean_pool(recurrent.output, mask)
        srng = RandomStreams(0)
        classifier = HiddenLayer(rng=rng, input=None, n_in=128, n_out=2, activation="softmax")
        probabilities = classifier.apply(dropout(srng, 0.5, pooled), train=True)
        prediction = pred_multiclass(classifier.apply(pooled, train=False))
        data = sets(lambda n: rng.randint(1, 10000, (n, 100)).astype("int64"),
                    lambda n: rng.randint(0, 2, n).astype("int64"), lambda n: numpy.ones((n, 100), floatX))
        params = flatten([embedding.params, recurrent.params, classifier.params])
        return (data, [x, t, mask], nll_multiclass(probabilities, t), params, pred_error(prediction, t),
                "adadelta", {}, 16, srng.updates())
    from DL.models.USE import USE
    o, a = T.tensor3("o"), T.tensor3("a")
    model = USE(rng=rng, obs=o, act=a, n_obs=5, n_act=2, n_hidden=50, activation="relu",
                outputActivation="sigmoid")
    data = sets(lambda n: (rng.rand(n, 20, 5) > 0.5).astype(floatX),
                lambda n: (rng.rand(n, 20, 2) > 0.5).astype(floatX))
    return (data, [o, a], model.loss() + 1e-4 * model.L2_sqr, flatten(model.params), model.errors(), "sgd",
            {"learning_rate": 0.01, "momentum": 0.2}, 20, [])


def measure(case, mode, launched):
    """In this fresh process: seconds since launch after importing, compiling and the first step."""
    seconds = {}
    start = time.time()
    import numpy
    from DL.backend import T, floatX, shared
    from DL.optimizers.compiling import compile_functions
    seconds["import"] = time.time() - start
    start = time.time()
    dataset, inputs, cost, params, errors, rule, options, batch_size, extra = build(case, numpy, T, shared, floatX)
    functions = compile_functions(dataset, inputs, cost, params, errors, batch_size=batch_size, rule=rule,
                                  rule_options=options, extra_updates=extra,
                                  mode=None if mode == "default" else mode)
    seconds["compile"] = time.time() - start
    from pytensor.compile.debug import profiling
    seconds["rewrites"] = profiling.total_graph_rewrite_time
    start = time.time()
    functions.train(0)
    seconds["first step"] = time.time() - start
    seconds["to first step"] = time.time() - launched
    start = time.time()
    for i in range(1, 11):
        functions.train(i % 10)
    seconds["step ms"] = (time.time() - start) / 10 * 1000
    return seconds


def run_child(case, mode, cache, graph_cache="on"):
    env = dict(child_env(cache), DL_GRAPH_CACHE="1" if graph_cache == "on" else "0")
    launched = time.time()
    completed = subprocess.run([sys.executable, __file__, "--child", case, mode, repr(launched)], env=env,
                               capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit("the %s %s run failed:\n%s" % (case, mode, completed.stderr[-3000:]))
    return json.loads(completed.stdout.strip().splitlines()[-1])


HEADER = ["case", "mode", "graph cache", "cache", "import s", "build + compile s", "of which rewrites s", "first step s",
          "process start to end of first step s", "later step ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", choices=BUILT, default=list(CASES))
    parser.add_argument("--modes", nargs="+", default=["default"], help="'default' (DL's), NUMBA, CVM, JAX, ...")
    parser.add_argument("--graph-cache", nargs="+", choices=["on", "off"], default=["on"],
                        help="DL's cache of rewritten graphs on (default), off, or both")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, mode, launched = args.child
        print(json.dumps(measure(case, mode, float(launched))))
        return
    import pytensor
    print("pytensor %s; %d cores; load average at start %s; command: python %s"
          % (pytensor.__version__, os.cpu_count(), " ".join("%.1f" % v for v in os.getloadavg()),
             " ".join(sys.argv)))
    rows = []
    for case in args.cases:
        for mode in args.modes:
            for graph_cache in args.graph_cache:
                with tempfile.TemporaryDirectory(prefix="dl-startup-") as cache:
                    for state in ("cold", "warm"):
                        s = run_child(case, mode, cache, graph_cache)
                        rows.append([case, mode, graph_cache, state, "%.1f" % s["import"], "%.1f" % s["compile"],
                                     "%.1f" % s["rewrites"], "%.1f" % s["first step"], "%.1f" % s["to first step"],
                                     "%.1f" % s["step ms"]])
                        print("  %s %s graph cache %s %s: %.1f s" % (case, mode, graph_cache, state,
                                                                     s["to first step"]), flush=True)
    print("load average at the end %s" % " ".join("%.1f" % v for v in os.getloadavg()))
    print_table(HEADER, rows)


if __name__ == "__main__":
    main()
