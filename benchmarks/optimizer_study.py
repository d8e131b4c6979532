#!/usr/bin/env python
"""Which update rule trains the state estimators best?  (The original package's to-do.)

Six rules of DL.updates (sgd, momentum, rmsprop_tieleman, rmsprop_graves = rmsprop, adadelta, adam)
train three estimators on their tasks with a fixed budget of epochs, from
several seeds each:

    USE   the 1-D map (5 cells, one-hot), next-observation error
    SSE   the dice (3 dice told apart by neighbouring symbols, 8 rolls), error
          naming the die after the last roll
    EUSE  the 1-D map observed as cell ids (9 cells), next-observation error

Printed: a table per model of the final validation error (mean and spread over
seeds), the test error, and the time (wall-clock seconds of training, and
epochs) until the validation error first reached the threshold; and a PNG of
the validation curves (mean over seeds) of every rule and model.

    python benchmarks/optimizer_study.py                         # ~15 min on 2 busy cores
    python benchmarks/optimizer_study.py --seeds 2 --epochs 10 --models use
    python benchmarks/optimizer_study.py --plot /tmp/study.png

Each rule runs at one learning rate, a usual value for it (RULES below);
a study of learning rates would multiply the budget.
"""
import argparse
import os
import time

import numpy

from DL.backend import T
from DL.datasets import dice, map1d, seeded_sets
from DL.datasets._dice import DICE_BY_PAIRS
from DL.models.EUSE import EUSE
from DL.models.SSE import SSE
from DL.models.USE import USE
from DL.optimizers import optimize
from DL.utils import flatten, load_data

# rule: its options (learning rates are the usual starting points for each)
RULES = {
    "sgd": dict(optimizer="sgd", learning_rate=0.1),
    "momentum": dict(optimizer="momentum", learning_rate=0.02, momentum=0.9),
    "rmsprop_tieleman": dict(optimizer="rmsprop_tieleman", learning_rate=0.003),
    "rmsprop_graves": dict(optimizer="rmsprop_graves", learning_rate=0.001),
    "adadelta": dict(optimizer="adadelta", learning_rate=1.0),
    "adam": dict(optimizer="adam", learning_rate=0.003),
}


def use_task(seed):
    """USE on the 1-D map: (cost, errors, params, inputs, sets)."""
    sets = seeded_sets(map1d, sizes=(200, 100, 100), seed=seed, n_obs=5, n_steps=12)
    o, a = T.tensor3("o"), T.tensor3("a")
    use = USE(numpy.random.RandomState(seed), o, a, n_obs=5, n_act=2, n_hidden=20)
    return use.loss(), use.errors(), use.params, [o, a], sets


def sse_task(seed):
    # the dice whose neighbouring symbols tell them apart: learnable in this budget (the
    # original project's set has mirror-image dice, which no rule separates here)
    sets = seeded_sets(dice, sizes=(1000, 200, 200), seed=seed, n_steps=9, faces=DICE_BY_PAIRS)
    o, a, t = T.tensor3("o"), T.tensor3("a"), T.imatrix("t")
    sse = SSE(numpy.random.RandomState(seed), o, a, n_obs=6, n_act=4, n_pred=3, n_hidden=40,
              ff_filt=[40], ff_trans=[40], activation="relu")
    return sse.loss(t), T.mean(T.neq(sse.pred[:, -1], t[:, -1])), sse.params, [o, a, t], sets


def euse_task(seed):
    sets = seeded_sets(map1d, sizes=(200, 100, 100), seed=seed, n_obs=9, n_steps=12, encoding="ids")
    o, a = T.imatrix("o"), T.tensor3("a")
    euse = EUSE(numpy.random.RandomState(seed), o, a, n_obs=9, e_obs=4, n_act=2, n_hidden=20)
    return euse.loss(), euse.errors(), euse.params, [o, a], sets


TASKS = {"use": use_task, "sse": sse_task, "euse": euse_task}


def run(task, rule, seed, epochs):
    """One training: the validation curve, the final errors, the training time."""
    cost, errors, params, inputs, sets = TASKS[task](seed)
    result = optimize(dataset=load_data(sets), inputs=inputs, cost=cost, params=flatten(params), errors=errors,
                      n_epochs=epochs, batch_size=20, patience=10 ** 9, progress=False, verbose=False,
                      **RULES[rule])
    curve = [record["valid_error"] for record in result.history]
    seconds = [record["seconds"] for record in result.history]
    return dict(curve=curve, seconds=seconds, valid=curve[-1], test=result.test_loss,
                train_seconds=result.train_seconds)


def time_to(threshold, runs):
    """Mean seconds and epochs until the validation error first reached `threshold`, over the runs that did."""
    reached = []
    for r in runs:
        first = next((i for i, error in enumerate(r["curve"]) if error <= threshold), None)
        if first is not None:  # validation runs once an epoch
            reached.append((r["seconds"][first], first + 1))
    if not reached:
        return "not reached"
    seconds, epochs = numpy.mean(reached, axis=0)
    return "%.1f s, %.0f epochs (%d/%d seeds)" % (seconds, epochs, len(reached), len(runs))


def table(task, results, threshold):
    print("\n%s (threshold %.0f %% validation error)" % (task.upper(), 100 * threshold))
    print("| rule | final valid error | test error (best valid) | time to threshold | train time |")
    print("|---|---|---|---|---|")
    for rule, runs in results.items():
        valid = numpy.array([r["valid"] for r in runs])
        test = numpy.array([r["test"] for r in runs])
        print("| %s | %.1f ± %.1f %% | %.1f ± %.1f %% | %s | %.0f s |"
              % (rule, 100 * valid.mean(), 100 * valid.std(), 100 * test.mean(), 100 * test.std(),
                 time_to(threshold, runs), numpy.mean([r["train_seconds"] for r in runs])))


def plot(all_results, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.2 * len(all_results), 3.6), dpi=100)
    FigureCanvasAgg(figure)
    for i, (task, results) in enumerate(all_results.items()):
        axes = figure.add_subplot(1, len(all_results), i + 1)
        for rule, runs in results.items():
            curves = numpy.array([r["curve"] for r in runs])
            epochs = numpy.arange(1, curves.shape[1] + 1)
            axes.plot(epochs, 100 * curves.mean(axis=0), label=rule)
            axes.fill_between(epochs, 100 * curves.min(axis=0), 100 * curves.max(axis=0), alpha=0.15)
        axes.set_title(task.upper())
        axes.set_xlabel("epoch")
        axes.set_ylabel("validation error (%)")
        axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    figure.savefig(path)
    print("\nvalidation curves (mean over seeds, band: min to max): %s" % path)


THRESHOLDS = {"use": 0.02, "sse": 0.1, "euse": 0.05}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=sorted(TASKS), default=["use", "sse", "euse"])
    parser.add_argument("--rules", nargs="+", choices=list(RULES), default=list(RULES))
    parser.add_argument("--seeds", type=int, default=3, help="runs per model and rule (default 3)")
    parser.add_argument("--epochs", type=int, default=20, help="the fixed budget of every run (default 20)")
    parser.add_argument("--plot", default=os.path.join("benchmarks", "out", "optimizer_study.png"),
                        help="where to write the PNG (default benchmarks/out/optimizer_study.png)")
    args = parser.parse_args()

    start = time.time()
    all_results = {}
    for task in args.models:
        all_results[task] = {rule: [run(task, rule, seed, args.epochs) for seed in range(args.seeds)]
                             for rule in args.rules}
        table(task, all_results[task], THRESHOLDS[task])
    plot(all_results, args.plot)
    print("%d runs of %d epochs in %.0f s" % (len(args.models) * len(args.rules) * args.seeds, args.epochs,
                                               time.time() - start))


if __name__ == "__main__":
    main()
