#!/usr/bin/env python
"""What DL's float32 default saves, and what casting float64 inputs costs (issue 15).

DL computes in float32 unless the user's engine flags choose floatX; a script's
own `theano.function` (DL.backend's) takes float64 and int64 arrays and casts
them on the way in (allow_input_downcast).  The other way to run scripts written
when Theano's floatX was float64 would be to compute in float64.  On the MLP
784-500-10 (tanh, softmax) of the MNIST examples, in one process per floatX:

  epoch s      one epoch of SGD (lr 0.01, batch 20) over the 50000 training digits
  predict s    one call of a compiled prediction (model.pred) on the 10000 test
               digits, given float32 arrays, then given float64 arrays

Medians of --repeats calls for predict; epochs are single runs.

    python benchmarks/input_dtypes.py
    python benchmarks/input_dtypes.py --repeats 9
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def worker(repeats):
    import numpy
    from DL import datasets
    from DL.backend import T, floatX, theano
    from DL.models.MLP import MLP
    from DL.optimizers import optimize
    from DL.utils import flatten, load_data

    mnist = datasets.mnist()
    x, t = T.matrix("x"), T.ivector("t")
    mlp = MLP(rng=numpy.random.RandomState(0), input=x, n_in=784, n_hidden=500, n_out=10)
    result = optimize(dataset=load_data(mnist), inputs=[x, t], cost=mlp.loss(t), params=flatten(mlp.params),
                      errors=mlp.errors(t), n_epochs=1, batch_size=20, patience=10 ** 9, optimizer="sgd",
                      learning_rate=0.01, progress=False, verbose=False)
    predict = theano.function([x], mlp.pred)
    images = {dtype: numpy.asarray(mnist[2][0], dtype=dtype) for dtype in ("float32", "float64")}
    predict(images["float32"])  # the first call compiles
    seconds = {}
    for dtype, array in images.items():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            predict(array)
            times.append(time.perf_counter() - start)
        seconds[dtype] = statistics.median(times)
    print(json.dumps({"floatX": floatX, "epoch": result.train_seconds, "test_error": result.test_loss,
                      "predict_float32": seconds["float32"], "predict_float64": seconds["float64"]}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="calls of predict per input dtype (default 5)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.repeats)
    rows = []
    for floatX in ("float32", "float64"):
        env = dict(os.environ, PYTENSOR_FLAGS="floatX=" + floatX, THEANO_FLAGS="floatX=%s,blas.ldflags=" % floatX)
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", "--repeats", str(args.repeats)],
                              env=env, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print("| floatX | epoch s | test error | predict s, float32 input | predict s, float64 input |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| %s | %.1f | %.2f %% | %.4f | %.4f |" % (row["floatX"], row["epoch"], 100 * row["test_error"],
                                                       row["predict_float32"], row["predict_float64"]))


if __name__ == "__main__":
    main()
