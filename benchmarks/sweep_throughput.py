#!/usr/bin/env python
"""How much a study gains from DL.sweep: 24 small trainings, one process vs 2 Dask workers.

The same 24 trials (an MLP 32-256-4 on seeded Gaussian clusters, rmsprop; 4
learning rates x 6 seeds; 30 epochs each, no early stop: a few seconds) run twice in this
session:

    sequential   a loop calling fn in this process, one trial after another
    DL.sweep     DL.sweep.run(fn, space, store=<tmp>, workers=2): a LocalCluster
                 of 2 worker processes (its start-up is counted)

Printed: the wall time of each, the throughput ratio (sequential time over
DL.sweep time; issue 12's target: at least 1.7x on 2 cores), and the overhead
per trial once the workers are warm: on each worker, the time between the end
of fn in one trial and its start in the next (returning the outcome, the driver
recording it, Dask handing over the next trial), which is the trial's wall time
minus fn's own time (target: under 0.5 s).  The first trial of each worker
(imports, first compile) is left out of the overhead and counted in the ratio.
The last column says how many cores each way actually received: on a machine
shared with other sessions (Linux's CFS autogroups share the CPU between
sessions, not processes) 2 workers may receive no more than 1 process does,
and the ratio then measures the neighbours, not DL.sweep.

    python benchmarks/sweep_throughput.py
    python benchmarks/sweep_throughput.py --epochs 10 --workers 2
"""
import argparse
import os
import resource
import tempfile
import time

import numpy

import DL.sweep
from DL.backend import T, floatX
from DL.models.MLP import MLP
from DL.optimizers import optimize
from DL.utils import flatten, load_data

EPOCHS = 30
N_HIDDEN = 256
N_TRAIN = 8000
space = {"learning_rate": [0.001, 0.003, 0.01, 0.03], "seed": [0, 1, 2, 3, 4, 5]}


def clusters(seed, sizes=None, n_in=32, n_classes=4):
    """[train, valid, test]: points around n_classes seeded centres in n_in dimensions, and their classes."""
    sizes = sizes or (N_TRAIN, N_TRAIN // 8, N_TRAIN // 8)
    rng = numpy.random.RandomState(seed)
    centres = rng.normal(0, 1, (n_classes, n_in))
    sets = []
    for n in sizes:
        t = rng.randint(n_classes, size=n).astype("int32")
        sets.append([(centres[t] + rng.normal(0, 1.5, (n, n_in))).astype(floatX), t])
    return sets


def fn(config):
    x, t = T.matrix("x"), T.ivector("t")
    mlp = MLP(rng=numpy.random.RandomState(config["seed"]), input=x, n_in=32, n_hidden=N_HIDDEN, n_out=4)
    result = optimize(dataset=load_data(clusters(100 + config["seed"])), inputs=[x, t], cost=mlp.loss(t),
                      params=flatten(mlp.params), errors=mlp.errors(t), optimizer="rmsprop",
                      learning_rate=config["learning_rate"], n_epochs=EPOCHS, batch_size=20, patience=10 ** 9,
                      progress=False, verbose=False)
    return {"valid_error": result.valid_loss, "test_error": result.test_loss}


def _children_cpu():
    """CPU seconds of this process's ended child processes (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def warm_overheads(records):
    """Per worker, in order of start: the gaps between one fn's end and the next fn's start."""
    by_worker = {}
    for record in records:
        by_worker.setdefault(record["worker"], []).append(record)
    gaps = []
    for runs in by_worker.values():
        runs.sort(key=lambda r: r["started"])
        gaps += [later["started"] - earlier["finished"] for earlier, later in zip(runs, runs[1:])]
    return numpy.array(gaps)


def main():
    global EPOCHS, N_HIDDEN, N_TRAIN
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs of every trial (default %d)" % EPOCHS)
    parser.add_argument("--n-hidden", type=int, default=N_HIDDEN, help="hidden units (default %d)" % N_HIDDEN)
    parser.add_argument("--n-train", type=int, default=N_TRAIN, help="training points (default %d)" % N_TRAIN)
    parser.add_argument("--workers", type=int, default=2, help="DL.sweep's LocalCluster workers (default 2)")
    args = parser.parse_args()
    EPOCHS, N_HIDDEN, N_TRAIN = args.epochs, args.n_hidden, args.n_train
    configs = DL.sweep.configs(space)
    # Warm the compile cache on disk first (one trial per learning rate, a graph each), so
    # that neither way pays for a cold compile; each worker still loads it once per graph.
    for learning_rate in space["learning_rate"]:
        fn(dict(configs[0], learning_rate=learning_rate))

    start, cpu = time.time(), time.process_time()
    fn_seconds = []
    for config in configs:
        begin = time.time()
        fn(config)
        fn_seconds.append(time.time() - begin)
    sequential, sequential_cpu = time.time() - start, time.process_time() - cpu

    with tempfile.TemporaryDirectory() as store:
        start, cpu = time.time(), _children_cpu()
        study = DL.sweep.run(fn, space, store=store, workers=args.workers, name="sweep_throughput",
                             verbose=False, plot=False)
        swept = time.time() - start
    swept_cpu = _children_cpu() - cpu  # (the workers, reaped when the cluster closed)
    assert len(study.done) == len(configs), [r["traceback"] for r in study.failed]
    gaps = warm_overheads(study.records)
    trial_seconds = numpy.array([r["seconds"] for r in study.records])

    print("%d trials of %d epochs; load average (1, 5, 15 min) at the end: %.1f %.1f %.1f on %d cores"
          % ((len(configs), EPOCHS) + os.getloadavg() + (os.cpu_count(),)))
    print("| run | wall time | fn time per trial (mean, min-max) | cores received (CPU s / wall s) |")
    print("|---|---|---|---|")
    print("| sequential, 1 process | %.1f s | %.2f s (%.2f-%.2f) | %.2f |"
          % (sequential, numpy.mean(fn_seconds), min(fn_seconds), max(fn_seconds), sequential_cpu / sequential))
    print("| DL.sweep, %d workers (cluster start-up included) | %.1f s | %.2f s (%.2f-%.2f) | %.2f |"
          % (args.workers, swept, trial_seconds.mean(), trial_seconds.min(), trial_seconds.max(),
             swept_cpu / swept))
    print("throughput ratio (sequential / DL.sweep): %.2fx (target >= 1.7x)" % (sequential / swept))
    print("overhead per warm trial (fn end to next fn start on a worker): mean %.3f s, max %.3f s over %d "
          "(target < 0.5 s)" % (gaps.mean(), gaps.max(), len(gaps)))


if __name__ == "__main__":
    main()
