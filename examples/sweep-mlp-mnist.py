#!/usr/bin/env python
"""A study: update rule x learning rate x 3 seeds, an MLP 784-100-10 on a MNIST subset.

2 rules x 3 learning rates x 3 seeds = 18 trainings, run by DL.sweep on Dask:
a LocalCluster of one worker per core by default, or a cluster started with
`dask scheduler` / `dask worker`.  Every trial is recorded in the store as it
ends, so the study can be stopped and run again; it then runs only what is
missing.  At the end: the table (mean ± spread over the seeds), results.csv and
curves.png (the validation curves, mean over seeds) in the store.

    python examples/sweep-mlp-mnist.py                                  # ~18 x 10 s on 2 cores
    python examples/sweep-mlp-mnist.py --subset 1000 --epochs 3         # a quick look
    python examples/sweep-mlp-mnist.py --scheduler tcp://HOST:8786      # on a Dask cluster
    python -m DL.sweep examples/sweep-mlp-mnist.py --store runs/mnist   # the same study from the shell

Each trial trains in its own folder of the store (DL.sweep.trial_dir()) with a
checkpoint there, so a trial whose worker dies resumes where it was.
"""
import argparse
import os

import numpy

import DL.sweep
from DL import datasets
from DL.backend import T
from DL.models.MLP import MLP
from DL.optimizers import optimize
from DL.utils import flatten, load_data

# The budget is part of each config, so a study with another budget makes other trials.
space = {"optimizer": ["sgd", "adam"], "learning_rate": [0.001, 0.01, 0.1], "seed": [0, 1, 2],
         "subset": [3000],  # training examples; validation and test take a fifth as many
         "epochs": [10]}
_mnist = {}  # each worker reads MNIST once


def mnist_subset(n):
    """The first n training and n/5 validation and test examples of MNIST."""
    if n not in _mnist:
        sizes = (n, n // 5, n // 5)
        _mnist[n] = [[array[:size] for array in data_set] for data_set, size in zip(datasets.mnist(), sizes)]
    return _mnist[n]


def fn(config):
    """One training; its errors, time and validation curve."""
    x, t = T.matrix("x"), T.ivector("t")  # (n_examples, 784) pixels, (n_examples,) digits
    mlp = MLP(rng=numpy.random.RandomState(config["seed"]), input=x, n_in=28 * 28, n_hidden=100, n_out=10)
    result = optimize(dataset=load_data(mnist_subset(config["subset"])), inputs=[x, t],
                      cost=mlp.loss(t) + 1e-4 * mlp.L2_sqr, params=flatten(mlp.params), errors=mlp.errors(t),
                      optimizer=config["optimizer"], learning_rate=config["learning_rate"],
                      n_epochs=config["epochs"], batch_size=20, progress=False, verbose=False,
                      checkpoint=os.path.join(DL.sweep.trial_dir(), "checkpoint.npz"), resume=True)
    return {"valid_error": result.valid_loss, "test_error": result.test_loss, "epochs_run": result.epochs,
            "train_seconds": result.train_seconds, "history": result.history}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default=os.path.join("runs", "sweep-mlp-mnist"),
                        help="the study's folder (default runs/sweep-mlp-mnist)")
    parser.add_argument("--scheduler", default=None, help="a Dask scheduler, tcp://HOST:8786 (default: "
                        "$DL_SCHEDULER, else a LocalCluster)")
    parser.add_argument("--workers", type=int, default=None, help="LocalCluster workers (default: one per core)")
    parser.add_argument("--subset", type=int, default=space["subset"][0],
                        help="training examples (default %d)" % space["subset"][0])
    parser.add_argument("--epochs", type=int, default=space["epochs"][0],
                        help="epochs of every run (default %d)" % space["epochs"][0])
    args = parser.parse_args()
    space.update(subset=[args.subset], epochs=[args.epochs])
    DL.sweep.run(fn, space, store=args.store, scheduler=args.scheduler, workers=args.workers,
                 name="sweep-mlp-mnist")
